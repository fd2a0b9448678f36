"""Keys typed in one burst (a paste, a slow SSH link delivering them together) land where they were
typed: across the create-store fields, into a modal a key just opened, back on the list after
leaving a filter. Each burst is queued whole before the app handles any of it."""

from __future__ import annotations

from pathlib import Path

from conftest import PASSPHRASE
from textual.widgets import Input

from app._support import build_app, screen_name, seeded_vault, settle, typed
from faas_tui.store.vault import Vault

NEW = "a brand new passphrase"


async def test_a_burst_on_the_create_store_screen_fills_both_fields_and_creates(
    store: str,
) -> None:
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.creating
        await typed(pilot, NEW, "<enter>", NEW, "<enter>")
        assert screen_name(app) == "DashboardScreen", app.screen.query("#unlock-message")
    with Vault.open(store, passphrase=NEW) as vault:
        assert vault.list_functions() == []


async def test_a_burst_on_the_unlock_screen_unlocks(store: str) -> None:
    seeded_vault(store).close()
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await typed(pilot, PASSPHRASE, "<enter>")
        assert screen_name(app) == "DashboardScreen"


async def test_n_then_a_name_in_one_burst_types_into_the_modal_n_opened(
    store: str, seeded: Vault
) -> None:
    folder = str(Path(store).parent)
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await typed(pilot, "nbilling-two", "<enter>", folder, "<enter>")
        assert screen_name(app) == "DashboardScreen"
    assert seeded.get_function("billing-two").source_dir == folder


async def test_a_burst_into_the_add_modal_lands_in_key_then_value(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await typed(pilot, "<enter>", "n", "burst key", "<tab>", "<tab>", "v4lue", "<ctrl+s>")
        assert screen_name(app) == "FunctionScreen"
    assert seeded.read_secret("billing", "BURST_KEY") == "v4lue"


async def test_back_from_a_function_opened_through_the_filter_keys_go_to_the_list(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await typed(pilot, "<slash>", "mail", "<enter>")
        assert screen_name(app) == "FunctionScreen" and app.screen.function == "mailer"
        await typed(pilot, "<escape>", "a")
        assert screen_name(app) == "AuditScreen"  # `a` was a key, not a letter in the filter
        await typed(pilot, "<escape>")
        assert app.screen.query_one("#filter", Input).value == "mail"


async def test_keys_typed_while_unlocking_go_to_the_dashboard_that_follows(store: str) -> None:
    seeded_vault(store).close()
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await typed(pilot, PASSPHRASE, "<enter>", "n", "typed-ahead", "<ctrl+s>")
        assert screen_name(app) == "DashboardScreen"
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        assert "typed-ahead" in [info.name for info in vault.list_functions()]
