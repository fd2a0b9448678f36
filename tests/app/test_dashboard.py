"""The functions dashboard: the table, `/` filter, `n` new function, `enter` open, `d` delete,
`?` keys and the command palette."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static

from app._support import build_app, fill, screen_name, settle
from faas_tui.store.vault import Vault


def rows(app) -> list[list[str]]:
    table = app.screen.query_one("#functions", DataTable)
    return [[str(cell).strip() for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_table_lists_name_secrets_last_deploy_and_pending(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
        assert rows(app) == [
            ["billing", "3", "#1 · 2025-03-01 12:00 UTC", "1"],
            ["hubspot-sync", "2", "never", "2"],
            ["mailer", "1", "#1 · 2025-03-01 12:00 UTC", "0"],
        ]
        status = str(app.screen.query_one("#dash-status", Static).render())
        assert "3 functions" in status and "6 secrets" in status


async def test_slash_focuses_the_filter_which_narrows_the_list(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#filter", Input)
        await pilot.press(*"ail")
        assert [row[0] for row in rows(app)] == ["mailer"]
        assert "showing 1 of 3" in str(app.screen.query_one("#dash-status", Static).render())
        await pilot.press("escape")  # clears the filter and returns to the table
        assert len(rows(app)) == 3
        assert app.focused is app.screen.query_one("#functions", DataTable)


async def test_enter_in_the_filter_opens_the_match(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"hub", "enter")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        assert app.screen.function == "hubspot-sync"


async def test_enter_opens_the_function_under_the_cursor(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        assert app.screen.function == "mailer"
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"


async def test_a_mouse_click_on_a_row_opens_it(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.click("#functions", offset=(3, 2))  # header row, then billing, hubspot-sync
        await pilot.click("#functions", offset=(3, 2))
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        assert app.screen.function == "hubspot-sync"


async def test_new_function_checks_the_name_then_creates_it(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert screen_name(app) == "NewFunctionModal"
        assert app.focused is app.screen.query_one("#function-name", Input)
        await pilot.press(*"Bad_Name")
        hint = str(app.screen.query_one("#function-name-problem", Static).render())
        assert "lowercase" in hint or "a-z" in hint
        await pilot.press("ctrl+s")
        assert screen_name(app) == "NewFunctionModal"  # refused, still open
        await fill(pilot, "#function-name", "reports")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
        assert "reports" in [row[0] for row in rows(app)]
        table = app.screen.query_one("#functions", DataTable)
        assert table.get_row_at(table.cursor_row)[0] == "reports"
    assert [f.name for f in seeded.list_functions()] == [
        "billing",
        "hubspot-sync",
        "mailer",
        "reports",
    ]


async def test_new_function_reports_a_duplicate_inline(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await fill(pilot, "#function-name", "billing")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "NewFunctionModal"
        assert "already exists" in str(app.screen.query_one("#new-function-problem").render())
        await pilot.press("escape")
        assert screen_name(app) == "DashboardScreen"


async def test_deleting_a_function_needs_its_name_typed(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "d")  # mailer
        assert screen_name(app) == "ConfirmDeleteModal"
        assert "mailer" in str(app.screen.query_one(".dialog-title").render())
        await pilot.press("enter")  # nothing typed: refused
        assert screen_name(app) == "ConfirmDeleteModal"
        await fill(pilot, "#confirm-name", "mailer")
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
        assert [row[0] for row in rows(app)] == ["billing", "hubspot-sync"]
    assert "mailer" not in [f.name for f in seeded.list_functions()]


async def test_question_mark_lists_the_keys_of_the_screen(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert screen_name(app) == "HelpModal"
        table = app.screen.query_one("#help-keys", DataTable)
        listed = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert {"Open", "New function", "Filter", "Audit", "Delete"} <= listed
        assert {"Show the event log", "Lock the store", "Show the keys of this screen"} <= listed
        await pilot.press("escape")
        assert screen_name(app) == "DashboardScreen"


async def test_command_palette_offers_every_action_of_the_screen(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Open", "New function", "Filter", "Audit", "Show the event log"} <= titles
        assert {"Lock the store", "Show the keys of this screen", "Quit"} <= titles
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert screen_name(app) == "CommandPalette"
        await pilot.press(*"audit", "enter")
        await settle(pilot)
        assert screen_name(app) == "AuditScreen"
