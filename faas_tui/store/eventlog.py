"""The event log's hash chain: each row's hash covers its fields and the previous row's hash."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from faas_tui.store.crypto import encode_aad

GENESIS = "0" * 64


def event_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    function: str | None,
    name: str | None,
) -> str:
    """SHA-256 over the previous hash and the row's length-prefixed fields, as 64 hex digits.

    A missing function or name is encoded apart from an empty one, so that NULL → '' is an edit
    too; the time is always UTC with microseconds, however the backend hands it back.
    """
    moment = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    fields = encode_aad(
        "event",
        seq,
        moment.isoformat(timespec="microseconds"),
        actor,
        action,
        _optional(function),
        _optional(name),
    )
    return hashlib.sha256(prev_hash.encode("ascii") + fields).hexdigest()


def _optional(text: str | None) -> str:
    """None → '', anything else → '=' + text: injective, so NULL and '' hash differently."""
    return "" if text is None else "=" + text
