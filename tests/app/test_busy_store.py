"""A write never runs on the UI thread: while another process holds the store's write lock the app
keeps answering keys, shows that it waits for the store, and the change lands once the lock goes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from textual.widgets import Input

from app._support import build_app, fill, screen_name, settle, wait_for
from faas_tui.store.vault import Vault
from faas_tui.tui.widgets.store_waiting import StoreWaiting


@contextmanager
def write_locked(store: str) -> Iterator[sqlite3.Connection]:
    """Another connection holding SQLite's write lock (as another faas-tui writing would)."""
    db = sqlite3.connect(store, isolation_level=None, check_same_thread=False)
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    finally:
        db.execute("ROLLBACK")
        db.close()


def waiting_shown(app) -> bool:
    return any(widget.display for widget in app.screen.query(StoreWaiting))


async def test_deploy_waits_for_a_locked_store_without_freezing_the_app(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # billing
        await settle(pilot)
        with write_locked(store):
            await pilot.press("D")
            await wait_for(lambda: waiting_shown(app))
            assert "Waiting for the store" in str(app.screen.query_one(StoreWaiting).render())
            await pilot.press("question_mark")  # the app still answers keys
            await wait_for(lambda: screen_name(app) == "HelpModal")
            await pilot.press("escape")
            await wait_for(lambda: screen_name(app) == "FunctionScreen")
            assert seeded.get_function("billing").deployed == 1  # nothing landed yet
        await wait_for(lambda: any("Deployed billing" in n.message for n in app._notifications))
        await settle(pilot)
        assert not waiting_shown(app)
    assert seeded.get_function("billing").deployed == 2


async def test_the_add_modal_waits_for_a_locked_store_and_then_closes(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "n")
        await settle(pilot)
        await fill(pilot, "#key", "late key")
        await fill(pilot, "#value", "late-value")
        with write_locked(store):
            await pilot.press("ctrl+s")
            await wait_for(lambda: waiting_shown(app))
            assert screen_name(app) == "AddSecretModal"
            await pilot.press("ctrl+s")  # a second save while waiting does not store twice
            field = app.screen.query_one("#key", Input)
            assert field.value == "late key"
        await wait_for(lambda: screen_name(app) == "FunctionScreen")
        await settle(pilot)
    assert seeded.read_secret("billing", "LATE_KEY") == "late-value"
    assert seeded.get_secret("billing", "LATE_KEY").version == 1


async def test_a_new_function_waits_for_a_locked_store(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, "#function-name", "waiter")
        with write_locked(store):
            await pilot.press("ctrl+s")
            await wait_for(lambda: waiting_shown(app))
            await pilot.press("escape")  # the modal answers: the change still waits, it says
            await wait_for(lambda: any("Still waiting" in n.message for n in app._notifications))
            assert screen_name(app) == "NewFunctionModal"
        await wait_for(lambda: screen_name(app) == "DashboardScreen")
        await settle(pilot)
    assert "waiter" in [info.name for info in seeded.list_functions()]
