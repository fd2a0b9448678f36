"""The event log's hash chain: each row's hash covers its fields and the previous row's hash."""

from __future__ import annotations

import hashlib
from datetime import datetime

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
    fields = encode_aad("event", seq, at.isoformat(), actor, action, function or "", name or "")
    return hashlib.sha256(prev_hash.encode("ascii") + fields).hexdigest()
