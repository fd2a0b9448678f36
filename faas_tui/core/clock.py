"""The one clock of the domain. Pass a `Clock` in (tests pin time); never call `datetime.now` elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
