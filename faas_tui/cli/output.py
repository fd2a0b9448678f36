"""What the commands print on stdout: aligned tables, JSON arrays, counted nouns. Times in JSON are
ISO 8601 UTC (`…Z`); in tables, `YYYY-MM-DD HH:MM`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from faas_tui.core.export import iso, records_json

__all__ = ["iso", "plural", "print_error", "print_json", "print_table"]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Columns padded to their widest cell; headers in capitals; `-` for nothing."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    print("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


def print_json(items: Sequence[dict[str, Any]]) -> None:
    print(records_json(items))


def plural(count: int, word: str) -> str:
    """`1 secret`, `2 secrets`."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def print_error(message: str) -> None:
    """The one line a failed command prints on stderr."""
    print(f"error: {message}", file=sys.stderr)
