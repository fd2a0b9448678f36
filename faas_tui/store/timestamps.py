"""Stored times read fast: as UTC text from the database, parsed once per distinct value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, func, type_coerce


def utc(moment: datetime) -> datetime:
    """Every stored time is an aware UTC datetime (SQLModel refuses naive ones)."""
    return moment.astimezone(UTC)


def utc_text(column: Any, sqlite: bool) -> Any:
    """A time column as UTC text, `YYYY-MM-DD HH:MM:SS.ffffff`, for `stored_time` to parse.

    SQLite stores just that. PostgreSQL is asked to format it: a timestamptz would arrive as a
    datetime in the session's time zone, slow to hash and to convert 50,000 times.
    """
    if sqlite:
        return type_coerce(column, String)
    moment = func.timezone("UTC", column)
    return type_coerce(func.to_char(moment, "YYYY-MM-DD HH24:MI:SS.US"), String)


def stored_time(raw: str | datetime) -> datetime:
    """A time column read as `utc_text` gives it (or as a datetime, as a driver may)."""
    if isinstance(raw, datetime):
        return raw.astimezone(UTC) if raw.tzinfo else raw.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(raw + "+00:00")  # 5x faster than parse, then .replace()
    except ValueError:
        return stored_time(datetime.fromisoformat(raw))  # text that carries its own offset
