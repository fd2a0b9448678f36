"""SVG snapshots of every screen and modal at 100x30 (and a few at 80x24 and with NO_COLOR), on a
fixed clock and fixed data, with cursor blinking off. Update with `--snapshot-update`, then look."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from app._support import build_app, fill, seeded_vault, settle, wait_for
from app.test_roles import AUDITOR_PASSPHRASE, store_with_operators
from conftest import PASSPHRASE
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from faas_tui.store.vault import Vault

SIZE = (100, 30)
SMALL = (80, 24)
Step = str | Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A relative store path, so the unlock screen shows the same text on every machine."""
    monkeypatch.chdir(tmp_path)
    return "store.db"


@pytest.fixture
def seeded(store: str) -> Iterator[Vault]:
    vault = seeded_vault(store)
    try:
        yield vault
    finally:
        vault.close()


def typed(selector: str, text: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def step(pilot: Pilot[Any]) -> None:
        await fill(pilot, selector, text)

    return step


def drive(*steps: Step) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Press keys (or run steps), wait for workers, then stop every cursor from blinking."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for step in steps:
            if isinstance(step, str):
                await pilot.press(step)
            else:
                await step(pilot)
            await settle(pilot)
        for screen in pilot.app.screen_stack:
            for widget in screen.query("Input, TextArea").results():
                assert isinstance(widget, Input | TextArea)
                widget.cursor_blink = False
        await settle(pilot)

    return run_before


def test_unlock_first_run(snap_compare, store: str) -> None:
    app = build_app(store)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive(typed("#passphrase", "x" * 8)))


def test_unlock_mismatch(snap_compare, store: str) -> None:
    app = build_app(store)
    steps = drive(typed("#passphrase", PASSPHRASE), typed("#confirm", "other words"), "enter")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_unlock_wrong_passphrase(snap_compare, store: str, seeded: Vault) -> None:
    seeded.close()
    app = build_app(store)
    steps = drive(typed("#passphrase", "wrong passphrase"), "enter")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_unlock_demo_after_lock(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded, demo=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("l"))


async def operators_read(pilot: Pilot[Any]) -> None:
    """Wait until the unlock screen has read the store's operators (after its warm-up)."""
    await wait_for(lambda: getattr(pilot.app.screen, "operators", None) is not None)


def test_unlock_several_operators(snap_compare, store: str) -> None:
    """The operator field, prefilled from --operator, above the passphrase."""
    store_with_operators(store)
    app = build_app(store, operator="carol")
    steps = drive(operators_read, typed("#passphrase", "x" * 10))
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_function_as_auditor(snap_compare, store: str) -> None:
    """The header names the operator and role; no change key in the footer, buttons greyed."""
    store_with_operators(store)
    app = build_app(store, operator="carol")
    steps = drive(operators_read, typed("#passphrase", AUDITOR_PASSPHRASE), "enter", "enter")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_dashboard(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive())


def test_dashboard_filtered(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("slash", typed("#filter", "ing")))


def test_dashboard_small(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SMALL, run_before=drive())


def test_dashboard_no_color(
    snap_compare, store: str, seeded: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive())


def test_dashboard_read_only(snap_compare, store: str, seeded: Vault) -> None:
    seeded.close()
    vault = Vault.open(store, passphrase=PASSPHRASE, read_only=True)
    try:
        app = build_app(store, vault, read_only=True)
        assert snap_compare(app, terminal_size=SIZE, run_before=drive("enter"))
    finally:
        vault.close()


def test_new_function_modal(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    steps = drive("n", typed("#function-name", "Reports"))
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_help_modal(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("question_mark"))


def test_function_settings(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("enter"))


def test_function_settings_small(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SMALL, run_before=drive("enter"))


def test_function_overview(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("enter", "down", "1"))


def test_add_secret_preview(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    steps = drive("enter", "n", typed("#key", "hubspot api key"))
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_add_secret_invalid_json(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    steps = drive(
        "enter", "n", typed("#key", "app config"), "ctrl+t", typed("#value", '{\n  "a": 1,\n}')
    )
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_add_secret_small(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    steps = drive("enter", "n", typed("#key", "hubspot api key"))
    assert snap_compare(app, terminal_size=SMALL, run_before=steps)


def test_update_value_modal(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("enter", "down", "u"))


def test_delete_modal(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    steps = drive("enter", "down", "down", "d", typed("#confirm-name", "STRIPE_WEB"), "enter")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_delete_function_modal(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("d"))


def test_system_secrets(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("enter", "s"))


def test_source_folder_modal(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("enter", "f"))


def test_import_plan(snap_compare, store: str, seeded: Vault) -> None:
    Path("prod.env").write_text("DATABASE_URL=postgres://u:p@db/billing\nnew-key=value\n")
    app = build_app(store, seeded)
    steps = drive("enter", "i", typed("#import-path", "prod.env"), "enter")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_audit(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("a"))


def test_audit_filtered_and_sorted(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    steps = drive("a", typed("#audit-filter", "billing"), "enter", "s", "S")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)


def test_export_modal(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("a", "e"))


def test_event_log(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive("L"))


# --- a real terminal's sizes: 80x24 and 60x20 (the detail panes, dialogs that scroll) ---------

TINY = (60, 20)
LONG_KEY = "a" * 100  # a 100-character name: the Add modal must keep Create and Cancel reachable


@pytest.mark.parametrize("size", [SMALL, TINY], ids=["80x24", "60x20"])
def test_audit_sizes(snap_compare, store: str, seeded: Vault, size: tuple[int, int]) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=size, run_before=drive("a", "down"))


@pytest.mark.parametrize("size", [SMALL, TINY], ids=["80x24", "60x20"])
def test_event_log_sizes(snap_compare, store: str, seeded: Vault, size: tuple[int, int]) -> None:
    app = build_app(store, seeded)
    assert snap_compare(app, terminal_size=size, run_before=drive("L"))


def test_add_secret_tiny(snap_compare, store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    steps = drive("enter", "n", typed("#key", "hubspot api key"))
    assert snap_compare(app, terminal_size=TINY, run_before=steps)


@pytest.mark.parametrize("size", [SMALL, TINY], ids=["80x24", "60x20"])
def test_add_secret_long_name(
    snap_compare, store: str, seeded: Vault, size: tuple[int, int]
) -> None:
    app = build_app(store, seeded)
    steps = drive("enter", "n", typed("#key", LONG_KEY))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_add_secret_long_name_tabbed_to_create(snap_compare, store: str, seeded: Vault) -> None:
    """At 60x20, Tab from the Key reaches Create and scrolls it into view."""
    app = build_app(store, seeded)
    steps = drive("enter", "n", typed("#key", LONG_KEY), "tab", "tab", "tab")
    assert snap_compare(app, terminal_size=TINY, run_before=steps)
