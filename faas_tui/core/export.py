"""The audit as data: its field list and a row as a dict, CSV or JSON, for `faas-tui audit` and the
app's export alike. Metadata only: an AuditRow holds no value. Pure Python."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from faas_tui.core.records import AuditRow

AUDIT_FIELDS = (
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
EXPORT_FORMATS = ("csv", "json")


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z (`2025-03-01T14:05:00Z`); naive times, as SQLite returns them, are
    taken as UTC already."""
    if moment is None:
        return None
    in_utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return in_utc.isoformat(timespec="seconds").replace("+00:00", "Z")


def audit_record(row: AuditRow) -> dict[str, Any]:
    """One audit row as a dict of AUDIT_FIELDS: times in ISO 8601, flags as a list."""
    return {
        "function": row.function,
        "name": row.name,
        "kind": str(row.kind),
        "format": row.format.value if row.format else None,
        "version": row.version,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "age_days": row.age_days,
        "deployed_version": row.deployed_version,
        "flags": list(row.flags),
    }


def audit_records(rows: Iterable[AuditRow]) -> list[dict[str, Any]]:
    return [audit_record(row) for row in rows]


def records_json(records: Sequence[dict[str, Any]]) -> str:
    """The records as an indented JSON array (no trailing newline)."""
    return json.dumps(list(records), indent=2, ensure_ascii=False)


def write_audit_csv(handle: IO[str], records: Iterable[dict[str, Any]]) -> None:
    """A header of AUDIT_FIELDS (also with no rows), then one line per record; the flags in one
    cell, `;`-separated."""
    writer = csv.DictWriter(handle, fieldnames=AUDIT_FIELDS)
    writer.writeheader()
    for record in records:
        writer.writerow(record | {"flags": ";".join(record["flags"])})
