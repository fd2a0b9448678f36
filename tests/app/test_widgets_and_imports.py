"""The app's plumbing: FastTable's batch path matches DataTable.add_row, the first frame does not
import SQLAlchemy or the Vault, the stylesheets are found, and the clipboard falls back cleanly."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pyperclip
import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from app._support import FIXED
from faas_tui.tui.clipboard import LOCAL, OSC52, Clipboard
from faas_tui.tui.resources import styles_dir
from faas_tui.tui.widgets.fast_table import FastTable


class TwoTables(App[None]):
    def compose(self) -> ComposeResult:
        for table_id in ("fast", "slow"):
            table = FastTable(id=table_id)
            table.add_columns("a", "b")
            yield table


async def test_fast_rows_equal_add_row() -> None:
    rows = [(f"name-{i}", Text(str(i))) for i in range(50)]
    keys = [row[0] for row in rows]
    app = TwoTables()
    async with app.run_test() as pilot:
        fast = app.query_one("#fast", FastTable)
        slow = app.query_one("#slow", FastTable)
        fast.set_rows(rows[:20], keys[:20])
        fast.append_rows(rows[20:], keys[20:])
        for row, key in zip(rows, keys, strict=True):
            slow.add_row(*row, key=key)
        await pilot.pause()
        assert fast.row_count == slow.row_count == 50
        for i in range(50):
            assert fast.get_row_at(i) == slow.get_row_at(i)
            assert fast.get_row_index(keys[i]) == slow.get_row_index(keys[i]) == i
        fast.move_cursor(row=49)
        assert fast.coordinate_to_cell_key(fast.cursor_coordinate).row_key.value == "name-49"
        with pytest.raises(ValueError):
            fast.append_rows([("x", Text("y"))], ["name-3"])


def test_first_frame_imports_neither_sqlalchemy_nor_the_vault() -> None:
    code = (
        "import sys, faas_tui.tui.app, faas_tui.tui.screens.unlock, faas_tui.cli;"
        "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'faas_tui.store.vault', 'pyperclip')"
        " if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_stylesheets_are_found() -> None:
    names = {path.name for path in styles_dir().glob("*.tcss")}
    assert {"app.tcss", "unlock.tcss", "dashboard.tcss", "modals.tcss"} <= names


class FakeApp:
    def __init__(self) -> None:
        self.copied: list[str] = []

    def copy_to_clipboard(self, text: str) -> None:
        self.copied.append(text)


def test_clipboard_falls_back_to_osc52_when_there_is_no_local_clipboard() -> None:
    calls: list[str] = []

    def broken(text: str) -> None:
        calls.append(text)
        raise pyperclip.PyperclipException("no clipboard mechanism")

    app = FakeApp()
    clipboard = Clipboard(app.copy_to_clipboard, local=broken)
    assert clipboard.copy("snippet", now=FIXED) == OSC52
    assert clipboard.copy("again", now=FIXED) == OSC52  # no second attempt at the local one
    assert calls == ["snippet"] and app.copied == ["snippet", "again"]
    working = Clipboard(FakeApp().copy_to_clipboard, local=lambda text: None)
    assert working.copy("x", now=FIXED) == f"{OSC52} and {LOCAL}"


def test_a_sensitive_copy_is_cleared_when_the_clock_says_so() -> None:
    app = FakeApp()
    clipboard = Clipboard(app.copy_to_clipboard, local=None, clear_after=30)
    clipboard.copy("value", now=FIXED, sensitive=True)
    clipboard.clear_if_due(FIXED + timedelta(seconds=29))
    assert app.copied == ["value"]
    clipboard.clear_if_due(FIXED + timedelta(seconds=30))
    assert app.copied == ["value", ""]
    clipboard.clear_if_due(FIXED + timedelta(seconds=90))
    assert app.copied == ["value", ""]  # cleared once
