"""The Add a secret modal: live name preview, the format toggle, JSON checked as typed with line and
column, generate and copy, the focus order, and after Create the value is in no widget anywhere."""

from __future__ import annotations

from textual.widgets import Button, DataTable, Input, RadioSet, Static, TextArea

from app._support import (
    CANARY,
    ClipboardRecorder,
    FakeClock,
    all_text,
    build_app,
    burst,
    fill,
    screen_name,
    settle,
)
from faas_tui.core.values import SecretFormat
from faas_tui.store.vault import Vault
from faas_tui.tui.app import FaasApp


async def open_add(pilot) -> None:
    await settle(pilot)
    await pilot.press("enter")  # billing
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)


def problem(app) -> str:
    return str(app.screen.query_one("#value-problem", Static).render())


def names(app) -> list[str]:
    table = app.screen.query_one("#secrets", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_preview_normalises_the_typed_key(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        assert screen_name(app) == "AddSecretModal"
        assert app.focused is app.screen.query_one("#key", Input)
        await pilot.press(*"hubspot api key")
        preview = str(app.screen.query_one("#name-preview").render())
        assert "HUBSPOT_API_KEY" in preview and "✓" in preview
        await fill(pilot, "#key", "1abc")
        assert "cannot start with a digit" in str(app.screen.query_one("#name-preview").render())
        await fill(pilot, "#key", "system token")
        assert "reserved" in str(app.screen.query_one("#name-preview").render())
        await fill(pilot, "#key", "stripe-api.key")
        assert "already exists" in str(app.screen.query_one("#name-preview").render())


async def test_focus_order_is_key_format_value_create_cancel(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        order = []
        for _ in range(5):
            order.append(app.focused)
            await pilot.press("tab")
        screen = app.screen
        assert order == [
            screen.query_one("#key", Input),
            screen.query_one("#format", RadioSet),
            screen.query_one("#value", TextArea),
            screen.query_one("#save", Button),
            screen.query_one("#cancel", Button),
        ]
        assert str(screen.query_one("#save", Button).label) == "Create"


async def test_invalid_json_keeps_the_modal_open_with_line_and_column(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        await fill(pilot, "#key", "app config")
        await pilot.press("ctrl+t")
        assert app.screen.query_one("#fmt-json").value
        await fill(pilot, "#value", '{\n  "a": 1,\n}')
        await pilot.pause()
        assert "line 3, column 1" in problem(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "AddSecretModal"
        assert "line 3, column 1" in str(app.screen.query_one("#save-problem").render())
        await fill(pilot, "#value", "[1, 2]")
        await pilot.pause()
        assert "must be an object" in problem(app) and "array" in problem(app)
        await fill(pilot, "#value", '{"a": 1}')
        await pilot.pause()
        assert "valid JSON object" in problem(app)
    assert "APP_CONFIG" not in [s.name for s in seeded.list_secrets("billing")]


async def test_after_create_the_value_is_in_no_widget_of_any_screen(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        await pilot.press(*"hubspot api key", "tab", "tab")
        assert app.focused is app.screen.query_one("#value", TextArea)
        await pilot.press(*CANARY)
        assert CANARY in all_text(app)  # the walk sees the value while it is typed
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        assert "HUBSPOT_API_KEY" in names(app)
        table = app.screen.query_one("#secrets", DataTable)
        assert table.get_row_at(table.cursor_row)[0] == "HUBSPOT_API_KEY"
        assert CANARY not in all_text(app)
        assert CANARY not in app.clipboard
        assert CANARY not in "".join(n.message for n in app._notifications)
        await pilot.press("1")  # the Overview tab shows the new name, never the value
        assert CANARY not in all_text(app)
    assert seeded.read_secret("billing", "HUBSPOT_API_KEY") == CANARY


async def test_create_with_the_mouse(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.click("#add-secret")
        await settle(pilot)
        assert screen_name(app) == "AddSecretModal"
        await fill(pilot, "#key", "token")
        await fill(pilot, "#value", "v" * 10)
        await pilot.click("#save")
        await settle(pilot)
        assert "TOKEN" in names(app)


async def test_ctrl_g_generates_a_strong_value_and_ctrl_y_copies_then_clears_it(
    store: str, seeded: Vault
) -> None:
    recorder = ClipboardRecorder()
    clock = FakeClock()
    app = build_app(store, seeded, local_clipboard=recorder, clipboard_clear_after=0.2, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        await fill(pilot, "#key", "signing key")
        await pilot.press("ctrl+g")
        generated = app.screen.query_one("#value", TextArea).text
        assert len(generated) >= 43
        await pilot.press("ctrl+y")
        assert app.clipboard == generated and recorder.copies[-1] == generated
        notices = [n.message for n in app._notifications]
        assert any("local clipboard" in n and "cleared in 0.2 s" in n for n in notices), notices
        clock.advance(0.1)
        await app.tick()
        assert app.clipboard == generated  # not yet due
        clock.advance(0.2)
        await app.tick()
        assert app.clipboard == "" and recorder.copies[-1] == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert generated not in all_text(app)
    assert seeded.read_secret("billing", "SIGNING_KEY") == generated


def test_by_default_a_copied_value_is_cleared_after_30_s_and_the_app_locks_after_10_min(
    store: str,
) -> None:
    app = FaasApp(store)
    assert app.copier.clear_after == 30.0 and app.idle_lock_seconds == 600.0


async def test_ctrl_g_in_json_mode_makes_an_object(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        await fill(pilot, "#key", "creds")
        await pilot.press("ctrl+t", "ctrl+g")
        await pilot.pause()
        assert "valid JSON object" in problem(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
    assert seeded.get_secret("billing", "CREDS").format is SecretFormat.JSON


async def test_escape_cancels_and_stores_nothing(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        await fill(pilot, "#key", "never saved")
        await fill(pilot, "#value", CANARY)
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        assert CANARY not in all_text(app)
    assert "NEVER_SAVED" not in [s.name for s in seeded.list_secrets("billing")]


async def test_an_empty_value_or_bad_name_is_refused_inline(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        await pilot.press("ctrl+s")
        assert screen_name(app) == "AddSecretModal"
        assert "Key:" in str(app.screen.query_one("#save-problem").render())
        await fill(pilot, "#key", "fine name")
        await pilot.press("ctrl+s")
        assert screen_name(app) == "AddSecretModal"
        assert "empty" in str(app.screen.query_one("#save-problem").render())
        assert app.focused is app.screen.query_one("#value", TextArea)


async def test_ctrl_s_right_after_a_paste_saves_the_whole_value(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        await fill(pilot, "#key", "pasted")
        app.screen.query_one("#value", TextArea).focus()
        await burst(pilot, "pasted-value-0123456789", "ctrl+s")
        assert screen_name(app) == "FunctionScreen"
    assert seeded.read_secret("billing", "PASTED") == "pasted-value-0123456789"


async def test_one_line_shows_the_current_problem_and_a_refused_saves_reason_goes_stale(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        await fill(pilot, "#key", "conf")
        await pilot.press("ctrl+t")
        await fill(pilot, "#value", '{"a": }')
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "AddSecretModal"
        shown = [
            str(line.render())
            for line in app.screen.query("#value-problem, #save-problem").results(Static)
            if line.display and str(line.render())
        ]
        assert len(shown) == 1 and "line 1" in shown[0]  # the error once, not twice
        await pilot.press("end")
        app.screen.query_one("#value", TextArea).load_text('{"a": 1}')
        await settle(pilot)
        assert str(app.screen.query_one("#save-problem").render()) == ""  # not stale
        assert "valid JSON object" in problem(app)
        await fill(pilot, "#value", '{"a": }')
        await settle(pilot)
        assert "line 1" in problem(app)  # the live check follows the typing again
