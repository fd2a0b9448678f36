"""Shared by the Pilot and snapshot tests: a seeded store on a fixed clock, the app built the way
the CLI builds it, waiting for workers, and a walk over every widget's text for canary checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import PASSPHRASE, fast_kdf
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static, TextArea
from textual.worker import WorkerState

from faas_tui.core.values import SecretFormat
from faas_tui.store.vault import Vault
from faas_tui.tui.app import FaasApp

FIXED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
RUNNING = (WorkerState.PENDING, WorkerState.RUNNING)
CANARY = "c4n4ry-7f3a9"

# Deterministic sample data; values are never shown, but fixed so tests can look for them.
SAMPLE: dict[str, dict[str, tuple[str, SecretFormat]]] = {
    "billing": {
        "STRIPE_API_KEY": ("sk_test_value_one", SecretFormat.PLAINTEXT),
        "STRIPE_WEBHOOK_SECRET": ("whsec_value_two", SecretFormat.PLAINTEXT),
        "DATABASE_URL": ("postgres://u:p@db/billing", SecretFormat.PLAINTEXT),
    },
    "hubspot-sync": {
        "HUBSPOT_API_KEY": ("hs_value_three", SecretFormat.PLAINTEXT),
        "HUBSPOT_APP_CONFIG": ('{"client_id": "abc"}', SecretFormat.JSON),
    },
    "mailer": {"SENDGRID_API_KEY": ("sg_value_four", SecretFormat.PLAINTEXT)},
}
VALUES = [value for items in SAMPLE.values() for value, _ in items.values()]


def fixed_clock() -> datetime:
    return FIXED


class FakeClock:
    """A clock the test moves: the app's idle lock and clipboard clearing read it."""

    def __init__(self, start: datetime = FIXED) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def wait_for(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll until `predicate()` is true (the app keeps running meanwhile); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {predicate}")
        await asyncio.sleep(0.02)


def seeded_vault(store: str, *, read_only: bool = False) -> Vault:
    """A store with three functions: billing deployed then changed (pending), mailer deployed."""
    vault = Vault.create(store, PASSPHRASE, kdf=fast_kdf(), clock=fixed_clock, actor="ops")
    vault.populate(SAMPLE)
    vault.deploy("billing")
    vault.deploy("mailer")
    vault.update_secret("billing", "STRIPE_API_KEY", "sk_test_value_one_b")
    if read_only:
        vault.close()
        return Vault.open(
            store, passphrase=PASSPHRASE, read_only=True, clock=fixed_clock, actor="ops"
        )
    return vault


class ClipboardRecorder:
    """Stands in for the local clipboard (pyperclip) and remembers what it was given."""

    def __init__(self) -> None:
        self.copies: list[str] = []

    def __call__(self, text: str) -> None:
        self.copies.append(text)


def build_app(store: str, vault: Vault | None = None, **options: Any) -> FaasApp:
    """The app as `faas-tui` builds it, on a fixed clock, a fast KDF and a recorded clipboard."""
    options.setdefault("local_clipboard", ClipboardRecorder())
    options.setdefault("clock", fixed_clock)
    return FaasApp(store, vault=vault, kdf=fast_kdf(), **options)


async def settle(pilot: Pilot[Any]) -> None:
    """Let queued keys be routed, workers finish and the screen catch up with their messages."""
    app = pilot.app
    await pilot.pause()
    for _ in range(5):  # a worker's message may start another worker, a key another key
        # a screen just pushed starts its store call when mounted: wait for that first
        await wait_for(lambda: not getattr(app, "keys_pending", False) and app.screen.is_mounted)
        if not any(worker.state in RUNNING for worker in app.workers):
            break
        await app.workers.wait_for_complete()
        await pilot.pause()
    await wait_for(lambda: not getattr(app, "keys_pending", False))
    await wait_for(lambda: tables_measured(app))
    await pilot.pause()


def tables_measured(app: FaasApp) -> bool:
    """Every table of every screen on the stack (a modal shows the one under it) has all its rows
    and has measured them (a DataTable sizes its columns when idle; until then a picture of it
    shows empty columns)."""
    tables = (table for screen in app.screen_stack for table in screen.query(DataTable).results())
    for table in tables:
        if getattr(table, "filling", False):
            return False
        header = table.header_height if table.show_header else 0
        if table.virtual_size.height < table.row_count + header:
            return False
    return True


def widget_texts(widget: Widget) -> Iterator[str]:
    """Every text a widget holds or shows: values, renders, table cells, undo history."""
    if isinstance(widget, Input):
        yield widget.value
    if isinstance(widget, TextArea):
        yield widget.text
        yield repr(widget.history._undo_stack)
        yield repr(widget.history._redo_stack)
    if isinstance(widget, Static):
        yield str(widget.render())
    if isinstance(widget, DataTable):
        for row in range(widget.row_count):
            yield " ".join(str(cell) for cell in widget.get_row_at(row))
    with suppress(Exception):  # a few widgets render only once laid out
        yield str(widget.render())


def all_text(app: FaasApp) -> str:
    """The text of every widget on every screen of the stack (for "the value is nowhere")."""
    parts: list[str] = []
    for screen in app.screen_stack:
        for widget in [screen, *screen.walk_children(with_self=False)]:
            parts.extend(widget_texts(widget))
    return "\n".join(parts)


def screen_name(app: FaasApp) -> str:
    return type(app.screen).__name__


async def fill(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Put text in a field of the current screen and focus it (typing key by key is slow)."""
    field = pilot.app.screen.query_one(selector)
    if isinstance(field, TextArea):
        field.load_text(text)
    else:
        assert isinstance(field, Input)
        field.value = text
        field.cursor_position = len(text)
    field.focus()
    await pilot.pause()


def link_offset(app: FaasApp, selector: str) -> tuple[int, int]:
    """Where, inside the widget, the first clickable link (`@click` markup) is drawn."""
    widget = app.screen.query_one(selector)
    region = widget.region
    for y in range(region.y, region.bottom):
        for x in range(region.x, region.right):
            if "@click" in app.screen.get_style_at(x, y).meta:
                return x - region.x, y - region.y
    raise AssertionError(f"no link in {selector}")


async def burst(pilot: Pilot[Any], text: str, *keys: str) -> None:
    """Queue keys as a paste or a fast typist does: all of them before any is handled."""
    await typed(pilot, text, *(f"<{key}>" for key in keys))


async def typed(pilot: Pilot[Any], *parts: str) -> None:
    """Queue a burst of text and named keys (`"<enter>"`), all before any is handled."""
    from textual import events
    from textual.keys import _character_to_key

    app = pilot.app
    for part in parts:
        if part.startswith("<") and part.endswith(">") and len(part) > 2:
            pairs = [(part[1:-1], None)]
        else:
            pairs = [(c if c.isalnum() else _character_to_key(c), c) for c in part]
        for key, char in pairs:
            event = events.Key(key, char)
            event.set_sender(app)
            app.post_message(event)
    await settle(pilot)
