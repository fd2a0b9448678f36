"""Unlock: first run creates the store (passphrase twice), a wrong passphrase says so and lets the
user retry, key files unlock without a prompt, and the demo shows its passphrase after a lock."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import PASSPHRASE
from textual.widgets import Input, LoadingIndicator, Static

from app._support import build_app, burst, fill, screen_name, seeded_vault, settle, wait_for
from faas_tui.core.kinds import Role
from faas_tui.store.vault import Vault


def message(app) -> str:
    return str(app.screen.query_one("#unlock-message", Static).render())


async def test_first_run_asks_twice_and_explains_a_mismatch(store: str) -> None:
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert screen_name(app) == "UnlockScreen"
        assert app.screen.query_one("#confirm", Input).display
        await pilot.press(*PASSPHRASE, "enter")  # typed key by key once
        assert app.focused is app.screen.query_one("#confirm", Input)
        await fill(pilot, "#confirm", "something else")
        await pilot.press("enter")
        await settle(pilot)
        assert "differ" in message(app)
        assert screen_name(app) == "UnlockScreen"
        assert not Vault.exists(store)
        await fill(pilot, "#confirm", PASSPHRASE)  # retype the confirmation only
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
        assert app.vault is not None
    assert Vault.exists(store)


async def test_first_run_refuses_a_short_passphrase(store: str) -> None:
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await fill(pilot, "#passphrase", "short")
        await fill(pilot, "#confirm", "short")
        await pilot.press("enter")
        await settle(pilot)
        assert "at least 8 characters" in message(app)
        assert screen_name(app) == "UnlockScreen"


async def test_wrong_passphrase_says_so_and_lets_the_user_retry(store: str) -> None:
    seeded_vault(store).close()
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#confirm", Input).display
        await fill(pilot, "#passphrase", "not the passphrase")
        await pilot.press("enter")
        await settle(pilot)
        assert message(app) == "Wrong passphrase. Try again."
        field = app.screen.query_one("#passphrase", Input)
        assert field.value == "" and app.focused is field
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
        assert app.screen.query_one("#functions").row_count == 3


async def test_unlocking_shows_a_loading_indicator_while_the_worker_runs(store: str) -> None:
    seeded_vault(store).close()
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        busy = app.screen.query_one("#unlock-busy", LoadingIndicator)
        assert not busy.display
        await fill(pilot, "#passphrase", PASSPHRASE)
        app.screen.unlock()
        assert busy.display and app.screen.query_one("#passphrase", Input).disabled
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"


async def test_a_key_file_unlocks_without_a_passphrase_and_a_lock_holds_until_enter(
    store: str, tmp_path: Path
) -> None:
    vault = seeded_vault(store)
    key_file = tmp_path / "app.key"
    vault.add_key_file(key_file, role=Role.EDITOR)  # a headless operator key
    vault.close()
    app = build_app(store, key_file=str(key_file))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
        await pilot.press("l")
        await settle(pilot)
        await wait_for(lambda: screen_name(app) == "UnlockScreen")
        assert app.vault is None
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
        assert app.vault is not None


async def test_a_bad_key_file_is_reported_in_one_line(store: str, tmp_path: Path) -> None:
    seeded_vault(store).close()
    missing = tmp_path / "nope.key"
    app = build_app(store, key_file=str(missing))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert screen_name(app) == "UnlockScreen"
        text = message(app)
        assert text and "\n" not in text and "Traceback" not in text


async def test_read_only_cannot_create_a_store(store: str) -> None:
    app = build_app(store, read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await fill(pilot, "#passphrase", PASSPHRASE)
        await fill(pilot, "#confirm", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert "--read-only" in message(app)
    assert not os.path.exists(store) or not Vault.exists(store)


async def test_enter_right_after_fast_typing_submits_the_whole_passphrase(store: str) -> None:
    seeded_vault(store).close()
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await burst(pilot, PASSPHRASE, "enter")
        assert screen_name(app) == "DashboardScreen"
