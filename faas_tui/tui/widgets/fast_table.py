"""A DataTable that takes a whole row list at once, for lists of thousands (the dashboard, the audit).

`DataTable.add_row` re-validates the cursor and recomputes the column order for every row, and on
the next idle DataTable measures every new cell through Rich; for 50,000 audit rows that freezes
the screen for seconds. `append_rows` does the bookkeeping once per batch and sizes the columns
from the cells' text lengths (every row here is one line of plain text). It relies on DataTable
internals, so it checks they exist and otherwise falls back to `add_row`; tests compare both.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets._data_table import Row, RowKey

Cell = str | Text
_INTERNALS = ("_row_locations", "_data", "_update_count", "_highlight_cursor")


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
        """Add rows at the bottom; `keys` (one per row) must be new, or None for generated keys."""
        if keys is not None and len(keys) != len(rows):
            raise ValueError("give one key per row")
        if not rows:
            return
        if not all(hasattr(self, name) for name in _INTERNALS):
            for index, cells in enumerate(rows):  # pragma: no cover - a future Textual
                self.add_row(*cells, key=keys[index] if keys else None)
            return
        was_empty = self.row_count == 0
        columns = self.ordered_columns
        widths = [column.content_width for column in columns]
        start = self.row_count
        for offset, cells in enumerate(rows):
            row_key = RowKey(keys[offset] if keys is not None else None)
            if row_key in self._row_locations:
                raise ValueError(f"the row key {row_key.value!r} already exists")
            self._row_locations[row_key] = start + offset
            self._data[row_key] = {
                column.key: cell for column, cell in zip(columns, cells, strict=True)
            }
            self.rows[row_key] = Row(row_key, 1, None, False)
            for index, cell in enumerate(cells):
                width = cell.cell_len if isinstance(cell, Text) else cell_len(cell)
                if width > widths[index]:
                    widths[index] = width
        for column, width in zip(columns, widths, strict=True):
            column.content_width = width
        # Not added to `_new_rows`: the widths are known, so the idle pass only resizes.
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()
