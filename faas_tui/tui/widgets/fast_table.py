"""A row-cursor DataTable that takes a whole row list at once (the dashboard, a function's secrets).

Only Textual's public DataTable API is used (`add_row`, `clear`, `rows`), so any Textual in the
range pyproject.toml pins works. The big lists (the audit, the event log) add their rows in chunks
between frames: see big_table.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text


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
                self.add_row(*cells)
            return
        if len(keys) != len(rows):
            raise ValueError("give one key per row")
        if len(set(keys)) != len(keys):
            raise ValueError("two rows have the same key")
        taken = next((key for key in keys if key in self.rows), None)
        if taken is not None:
            raise ValueError(f"the row key {taken!r} already exists")
        for key, cells in zip(keys, rows, strict=True):
            self.add_row(*cells, key=key)
