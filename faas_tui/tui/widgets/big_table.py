"""A DataTable that takes many rows without freezing: it adds them in chunks between frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.message import Message

from faas_tui.tui.widgets.fast_table import Cell, FastTable

# Rows added per step: DataTable measures every new cell through Rich when idle (about 0.1 ms a
# row of ten columns), so a step of this many stays well under 100 ms and keys stay live.
CHUNK = 250
# Screens show at most this many rows (after their filter and sort) and say how many are hidden:
# past that, filling takes seconds (about 0.4 ms a row) and a filter finds a row sooner anyway.
DISPLAY_LIMIT = 2000


class BigTable(FastTable):
    """`replace_rows` shows a new row list; rows arrive in chunks and `Filled` says when done."""

    @dataclass
    class Progress(Message):
        """Rows added so far out of the total being shown."""

        table: BigTable
        done: int
        total: int

        @property
        def control(self) -> BigTable:
            return self.table

    @dataclass
    class Filled(Message):
        """Every row of the last `replace_rows` call is in the table."""

        table: BigTable
        total: int

        @property
        def control(self) -> BigTable:
            return self.table

    def __init__(self, *, id: str | None = None, chunk: int = CHUNK) -> None:
        super().__init__(id=id)
        self._chunk = chunk
        self._pending: Sequence[Sequence[Cell]] = ()
        self._next = 0
        self._generation = 0

    @property
    def filling(self) -> bool:
        return self._next < len(self._pending)

    def replace_rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        """Show these rows instead of the current ones (the first chunk is added at once)."""
        self._generation += 1
        self.clear()
        self._pending = rows
        self._next = 0
        self._add_chunk(self._generation)

    def _add_chunk(self, generation: int) -> None:
        if generation != self._generation:
            return  # a newer replace_rows call took over
        end = min(self._next + self._chunk, len(self._pending))
        self.append_rows(self._pending[self._next : end])
        self._next = end
        total = len(self._pending)
        if end < total:
            self.post_message(self.Progress(self, end, total))
            self.set_timer(0.001, lambda: self._add_chunk(generation))
        else:
            self.post_message(self.Filled(self, total))
