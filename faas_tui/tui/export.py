"""Writing what the Audit screen shows to CSV or JSON: the metadata columns of SPEC §2, no values."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from faas_tui.core.errors import ValidationError
from faas_tui.core.records import AuditRow
from faas_tui.tui.formatting import utc

FIELDS = (
    "function",
    "name",
    "kind",
    "format",
    "version",
    "created_at",
    "updated_at",
    "age_days",
    "deployed_version",
    "flags",
)
FORMATS = ("csv", "json")


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the CLI's JSON output writes times."""
    return utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def audit_record(row: AuditRow) -> dict[str, Any]:
    """One audit row as the CLI's `audit --format json` writes it. AuditRow holds no value."""
    return {
        "function": row.function,
        "name": row.name,
        "kind": row.kind,
        "format": row.format.value if row.format else None,
        "version": row.version,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "age_days": row.age_days,
        "deployed_version": row.deployed_version,
        "flags": list(row.flags),
    }


def format_for(path: str) -> str:
    """`json` for a .json path, otherwise `csv`."""
    return "json" if path.lower().endswith(".json") else "csv"


def write_audit(path: str | os.PathLike[str], rows: Sequence[AuditRow], fmt: str) -> Path:
    """Write the rows to a new or replaced file; refuses a folder or a missing parent folder."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown export format {fmt!r}: use csv or json")
    target = Path(path).expanduser()
    if target.is_dir():
        raise ValidationError(f"{target} is a folder: give a file name")
    if not target.parent.is_dir():
        raise ValidationError(f"no folder {target.parent}: create it first")
    records = [audit_record(row) for row in rows]
    try:
        with target.open("w", encoding="utf-8", newline="") as handle:
            if fmt == "json":
                json.dump(records, handle, indent=2)
                handle.write("\n")
            else:
                writer = csv.DictWriter(handle, fieldnames=FIELDS)
                writer.writeheader()
                for record in records:
                    writer.writerow(record | {"flags": ";".join(record["flags"])})
    except OSError as exc:
        raise ValidationError(f"cannot write {target}: {exc.strerror}") from None
    return target
