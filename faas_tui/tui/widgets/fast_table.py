"""A row-cursor DataTable that takes a whole row list at once (the dashboard, a function's secrets).

Only Textual's public DataTable API is used (`add_row`, `clear`, `rows`), so any Textual in the
range pyproject.toml pins works. DataTable measures every new cell through Rich when idle; a
plain string cell is first parsed as markup, so string cells are stored as `PlainCell`: plain text
(a name with brackets stays as typed) that measures itself in constant time and still compares
equal to its string. The big lists (the audit, the event log) add their rows in chunks between
frames: see big_table.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text


class PlainCell(Text):
    """One line of plain text in a table cell; equal to its string, measured without parsing."""

    def __init__(self, text: str) -> None:
        super().__init__(text, end="", no_wrap=True)
        self._width = cell_len(text)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self._width, self._width)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.plain == other
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, as Text is


def plain(cells: Sequence[Cell]) -> list[Cell]:
    """The row with its strings as PlainCell (Text cells keep their styles)."""
    return [PlainCell(cell) if isinstance(cell, str) else cell for cell in cells]


class FastTable(DataTable[Cell]):
    """A row-cursor DataTable with batch `set_rows` / `append_rows`."""

    def __init__(self, *, id: str | None = None, zebra_stripes: bool = True) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=zebra_stripes)

    def set_rows(self, rows: Sequence[Sequence[Cell]], keys: Sequence[str] | None = None) -> None:
        """Replace every row (the columns stay)."""
        self.clear()
        self.append_rows(rows, keys)

    def append_rows(
        self, rows: Sequence[Sequence[Cell]], keys: Sequence[str] | None = None
    ) -> None:
        """Add rows at the bottom; `keys` (one per row) must be new, or None for generated keys.

        A bad key list raises ValueError before any row is added.
        """
        if keys is None:
            for cells in rows:
                self.add_row(*plain(cells))
            return
        if len(keys) != len(rows):
            raise ValueError("give one key per row")
        if len(set(keys)) != len(keys):
            raise ValueError("two rows have the same key")
        taken = next((key for key in keys if key in self.rows), None)
        if taken is not None:
            raise ValueError(f"the row key {taken!r} already exists")
        for key, cells in zip(keys, rows, strict=True):
            self.add_row(*plain(cells), key=key)
