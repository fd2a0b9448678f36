"""The first frame: the unlock screen is the app's first screen, composed as it is first drawn
(its size classes, texts and hidden fields set before mounting), and stays at rest under the
dashboard once unlocked."""

from __future__ import annotations

from conftest import PASSPHRASE
from textual.widgets import Input, LoadingIndicator, Static

from app._support import build_app, fill, screen_name, settle
from faas_tui.store.vault import Vault
from faas_tui.tui.screens.unlock import UnlockScreen, size_classes


async def test_the_first_screen_is_the_prompt_with_the_classes_of_its_size(
    store: str, seeded: Vault
) -> None:
    for size, classes in (((100, 30), {"-wide", "-tall"}), ((60, 20), {"-narrow", "-short"})):
        app = build_app(store)
        async with app.run_test(size=size) as pilot:
            first = app.screen_stack[0]
            assert isinstance(first, UnlockScreen) and len(app.screen_stack) == 1
            assert classes <= set(first.classes)
            await settle(pilot)
            assert app.screen is first and classes <= set(first.classes)


def test_a_screen_built_outside_an_app_leaves_its_size_classes_to_textual() -> None:
    assert size_classes(UnlockScreen()) == []


async def test_the_prompt_is_composed_as_first_drawn(store: str) -> None:
    app = build_app(store)  # no store yet: the create-store prompt, from the first frame on
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert str(screen.query_one("#unlock-title", Static).render()) == "Create the store"
        assert screen.query_one("#confirm", Input).display
        assert not screen.query_one("#operator", Input).display
        assert not screen.query_one("#unlock-busy", LoadingIndicator).display
        assert not screen.query_one("#unlock-message", Static).display
        assert screen.active_bindings["enter"].binding.description == "Create"
        await settle(pilot)
        assert app.focused is screen.query_one("#passphrase", Input)


async def test_once_unlocked_the_first_screen_rests_under_the_dashboard(
    store: str, seeded: Vault
) -> None:
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        first = app.screen
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
        assert app.screen_stack[0] is first and len(app.screen_stack) == 2
        assert isinstance(first, UnlockScreen) and not first.busy
        assert not first.query_one("#unlock-busy", LoadingIndicator).display
        assert first.query_one("#passphrase", Input).value == ""
        await pilot.press("l")  # lock: a new prompt replaces the dashboard, the first stays
        await settle(pilot)
        assert len(app.screen_stack) == 2 and app.screen is not first
        assert isinstance(app.screen, UnlockScreen)
