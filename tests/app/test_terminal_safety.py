"""What a person at a terminal relies on: nothing the app offers writes a screen to disk, a closed
terminal (SIGHUP) or SIGTERM quits as ctrl+q does, Textual's Keys panel closes with escape, the
selected radio button shows without colour, toasts stay off a modal's buttons, and the footer of
the create-store screen names what enter does."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from textual.widgets import Footer, RadioButton

from app._support import CANARY, build_app, fill, screen_name, settle, wait_for
from faas_tui.store.vault import Vault

TOAST = "Toast"  # Textual's notification widget, by its CSS type name (the class is private)


async def open_add(pilot) -> None:
    await settle(pilot)
    await pilot.press("enter", "n")
    await settle(pilot)


async def test_no_screenshot_of_a_typed_value_is_offered_or_written(
    store: str, seeded: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / "Downloads").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        await fill(pilot, "#key", "shot")
        await fill(pilot, "#value", CANARY)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Screenshot" not in titles and "Quit" in titles
        app.action_screenshot()
        app.deliver_screenshot()
        with pytest.raises(PermissionError):
            app.save_screenshot(path=str(tmp_path))
        await pilot.pause()
        assert any("Screenshots are off" in n.message for n in app._notifications)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".svg"]
    assert written == []


async def test_sighup_clears_a_copied_value_and_quits(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        await fill(pilot, "#value", CANARY)
        await pilot.press("ctrl+y")
        assert app.clipboard == CANARY
        app.quit_on_signal(signal.SIGHUP)
        await pilot.pause()
    assert app.clipboard == ""
    assert app.return_code == 128 + signal.SIGHUP


async def test_escape_closes_textuals_keys_panel_and_stays_on_the_screen(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        app.action_show_help_panel()
        await wait_for(lambda: bool(app.screen.query("HelpPanel")))
        await pilot.press("escape")
        await settle(pilot)
        assert not app.screen.query("HelpPanel")
        assert screen_name(app) == "FunctionScreen"  # escape closed the panel, nothing else
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"


async def test_the_selected_format_shows_without_colour(
    store: str, seeded: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        on = app.screen.query_one("#fmt-plaintext", RadioButton)
        off = app.screen.query_one("#fmt-json", RadioButton)
        assert on.value and not off.value
        on_style = on.get_component_rich_style("toggle--label")
        off_style = off.get_component_rich_style("toggle--label")
        assert on_style.underline and not off_style.underline


async def test_a_toast_does_not_cover_the_modal_buttons(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_add(pilot)
        await fill(pilot, "#value", "some value")
        await pilot.press("ctrl+y")  # "Copied the value…"
        await wait_for(lambda: bool(app.screen.query(TOAST)))
        await pilot.pause()
        # the row of buttons (the whole width of the dialog) and the footer
        buttons = [app.screen.query_one(sel).region for sel in ("#value-dialog .buttons", Footer)]
        toasts = [toast.region for toast in app.screen.query(TOAST)]
        assert toasts and all(not t.overlaps(b) for t in toasts for b in buttons)


async def test_the_create_store_footer_says_create_like_the_button(store: str) -> None:
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.creating
        shown = {
            key: active.binding.description
            for key, active in app.screen.active_bindings.items()
            if active.binding.show
        }
        assert shown["enter"] == "Create"
        assert str(app.screen.query_one("#unlock-button").label) == "Create"
        assert app.screen.query_one(Footer)


async def test_the_key_field_keeps_what_was_typed_and_the_preview_shows_the_stored_name(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_add(pilot)
        hint = str(app.screen.query_one("#name-preview").render())
        assert "uppercased as you type" not in hint and "capitals" in hint
        await pilot.press(*"db url")
        assert app.screen.query_one("#key").value == "db url"
        assert "DB_URL" in str(app.screen.query_one("#name-preview").render())
