"""Writing what the Audit screen shows to a CSV or JSON file: the audit's metadata, never a value.

The fields and their conversion are faas_tui/core/export.py's, shared with `faas-tui audit`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from faas_tui.core.errors import ValidationError
from faas_tui.core.export import EXPORT_FORMATS, audit_records, records_json, write_audit_csv
from faas_tui.core.records import AuditRow


def format_for(path: str) -> str:
    """`json` for a .json path, otherwise `csv`."""
    return "json" if path.lower().endswith(".json") else "csv"


def write_audit(path: str | os.PathLike[str], rows: Sequence[AuditRow], fmt: str) -> Path:
    """Write the rows to a new or replaced file; refuses a folder or a missing parent folder."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"unknown export format {fmt!r}: use csv or json")
    target = Path(path).expanduser()
    if target.is_dir():
        raise ValidationError(f"{target} is a folder: give a file name")
    if not target.parent.is_dir():
        raise ValidationError(f"no folder {target.parent}: create it first")
    records = audit_records(rows)
    try:
        with target.open("w", encoding="utf-8", newline="") as handle:
            if fmt == "json":
                handle.write(records_json(records) + "\n")
            else:
                write_audit_csv(handle, records)
    except OSError as exc:
        raise ValidationError(f"cannot write {target}: {exc.strerror}") from None
    return target
