"""The function screen: Settings first, the Secrets section (names only), Overview with the deploy
state, pending changes and cache note, system secrets from the link and `s`, deploy, copy."""

from __future__ import annotations

from textual.widgets import DataTable, Static, TabbedContent

from app._support import (
    VALUES,
    ClipboardRecorder,
    all_text,
    build_app,
    link_offset,
    screen_name,
    settle,
)
from faas_tui.store.vault import Vault


async def open_billing(pilot) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def secret_rows(app) -> list[list[str]]:
    table = app.screen.query_one("#secrets", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_opens_on_settings_with_names_and_never_values(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing(pilot)
        assert app.screen.query_one("#fn-tabs", TabbedContent).active == "settings"
        assert app.focused is app.screen.query_one("#secrets", DataTable)
        assert secret_rows(app) == [
            ["DATABASE_URL", "Plaintext", "v1", "2025-03-01 12:00 UTC", "deployed"],
            ["STRIPE_API_KEY", "Plaintext", "v2", "2025-03-01 12:00 UTC", "pending"],
            ["STRIPE_WEBHOOK_SECRET", "Plaintext", "v1", "2025-03-01 12:00 UTC", "deployed"],
        ]
        assert "system secrets" in str(app.screen.query_one("#secrets-help").render())
        text = all_text(app)
        assert not [value for value in VALUES if value in text]


async def test_one_and_two_switch_tabs_and_overview_shows_the_deploy_state(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing(pilot)
        await pilot.press("down")  # STRIPE_API_KEY
        await pilot.press("1")
        assert app.screen.query_one("#fn-tabs", TabbedContent).active == "overview"
        assert "Deployment #1" in str(app.screen.query_one("#deploy-state", Static).render())
        pending = str(app.screen.query_one("#pending", Static).render())
        assert "STRIPE_API_KEY" in pending
        assert "cached readers may see the old value until 2025-03-01 12:05 UTC" in pending
        usage = str(app.screen.query_one("#usage", Static).render())
        assert "env.STRIPE_API_KEY" in usage
        assert 'client.read_secret("STRIPE_API_KEY")' in usage
        await pilot.press("2")
        assert app.screen.query_one("#fn-tabs", TabbedContent).active == "settings"


async def test_system_secrets_from_the_link_and_from_s(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing(pilot)
        await pilot.click("#secrets-help", offset=link_offset(app, "#secrets-help"))
        await settle(pilot)
        assert screen_name(app) == "SystemSecretsScreen"
        table = app.screen.query_one("#system-secrets", DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert names == ["SYSTEM_API_TOKEN", "SYSTEM_STORAGE_TOKEN"]
        assert [str(c.label) for c in table.columns.values()] == ["Name", "Description", "Scopes"]
        assert "functions:invoke" in str(table.get_row_at(0)[2])
        warning = str(app.screen.query_one("#system-warning", Static).render())
        assert "may change without notice" in warning
        await pilot.press("escape")
        assert screen_name(app) == "FunctionScreen"
        await pilot.press("s")
        await settle(pilot)
        assert screen_name(app) == "SystemSecretsScreen"


async def test_capital_d_deploys_and_clears_pending(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert [row[4] for row in secret_rows(app)] == ["deployed"] * 3
        summary = str(app.screen.query_one("#fn-summary", Static).render())
        assert summary.startswith("Deployment #2") and "pending" not in summary
        await pilot.press("escape")
        await settle(pilot)
        table = app.screen.query_one("#functions", DataTable)
        assert [str(c) for c in table.get_row_at(0)][2].startswith("#2")
    assert seeded.get_function("billing").deployed == 2


async def test_c_copies_the_usage_snippet_of_the_selected_name(store: str, seeded: Vault) -> None:
    recorder = ClipboardRecorder()
    app = build_app(store, seeded, local_clipboard=recorder)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing(pilot)
        await pilot.press("down", "c")
        await settle(pilot)
        copied = app.clipboard  # what went out through OSC 52
        assert 'client.read_secret("STRIPE_API_KEY")' in copied
        assert "env.STRIPE_API_KEY" in copied
        assert recorder.copies == [copied]
        notes = [n.message for n in app._notifications]
        assert any("OSC 52" in n and "local clipboard" in n for n in notes)


async def test_copy_says_when_only_the_terminal_clipboard_was_used(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded, local_clipboard=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing(pilot)
        await pilot.press("c")
        await settle(pilot)
        notes = [n.message for n in app._notifications]
        assert any("OSC 52" in n and "local" not in n for n in notes)


async def test_set_source_folder_from_the_function_screen(
    store: str, seeded: Vault, tmp_path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing(pilot)
        await pilot.press("f")
        assert screen_name(app) == "SourceFolderModal"
        app.screen.query_one("#source-path").value = str(code)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        assert str(code) in str(app.screen.query_one("#source", Static).render())
    assert seeded.get_function("billing").source_dir == str(code)


async def test_the_reused_function_screen_shows_each_function_fresh(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing(pilot)
        await pilot.press("down", "down", "1")  # billing, third row, Overview tab
        await pilot.press("escape", "down", "down", "enter")  # mailer
        await settle(pilot)
        assert app.screen.function == "mailer"
        assert app.screen.query_one("#fn-tabs", TabbedContent).active == "settings"
        assert secret_rows(app) == [
            ["SENDGRID_API_KEY", "Plaintext", "v1", "2025-03-01 12:00 UTC", "deployed"]
        ]
        assert str(app.screen.query_one("#fn-title", Static).render()) == "mailer"
        summary = str(app.screen.query_one("#fn-summary", Static).render())
        assert summary == "Deployment #1 · 1 secret"


async def test_help_and_palette_list_every_key_of_the_function_screen(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        await pilot.press("question_mark")
        assert screen_name(app) == "HelpModal"
        table = app.screen.query_one("#help-keys", DataTable)
        listed = {
            str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)
        }
        assert listed["Delete a secret"] == "d / del"  # one row for both keys (delete shows as del)
        for action, key in (
            ("Add a secret", "n"),
            ("Update a value", "u"),
            ("System secrets", "s"),
            ("Deploy the function", "D"),
            ("Copy the usage snippet", "c"),
            ("Overview", "1"),
            ("Settings", "2"),
        ):
            assert listed[action] == key, (action, listed)
            assert action in titles
