"""The line a screen shows while one of its store calls waits (another process may hold the lock)."""

from __future__ import annotations

from textual.widgets import Static

WAITING = "Waiting for the store… (another process may be writing to it)"


class StoreWaiting(Static):
    """One line above the footer; the keys keep working while it shows."""

    DEFAULT_CSS = """
    StoreWaiting {
        dock: bottom;
        offset-y: -1;
        height: 1;
        width: 100%;
        padding: 0 1;
        background: $warning;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self) -> None:
        super().__init__(WAITING, id="store-waiting", markup=False)
