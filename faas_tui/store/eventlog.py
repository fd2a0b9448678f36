"""The event log: its hash chain, the one way to append events, and the chain's verification.

Each row's hash covers its fields and the previous row's hash; the store manifest, keyed by the
data key, covers the last row, so a cut tail or a recomputed chain is caught too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import insert
from sqlmodel import Session, select

from faas_tui.core.errors import IntegrityError
from faas_tui.store import crypto
from faas_tui.store.crypto import encode_aad
from faas_tui.store.models import Event
from faas_tui.store.timestamps import stored_time, utc_text

GENESIS = "0" * 64

EventFields = tuple[Any, Any, Any, Any, Any, Any, Any, Any]


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


def head(s: Session) -> tuple[int, str]:
    """The last row's number and hash; (0, GENESIS) for an empty log."""
    last = s.exec(select(Event.seq, Event.hash).order_by(Event.seq.desc()).limit(1)).first()
    return (last[0], last[1]) if last else (0, GENESIS)


class Stamp(NamedTuple):
    """Who made a change, and when."""

    actor: str
    at: datetime


def append(
    s: Session,
    stamp: Stamp,
    action: str,
    function: str | None = None,
    names: Iterable[str | None] = (None,),
) -> None:
    """One event per name (one event without a name by default), chained in memory and
    inserted in one statement."""
    s.flush()
    seq, prev = head(s)
    actor, at = stamp
    events = []
    for name in names:
        seq += 1
        digest = event_hash(prev, seq, at, actor, action, function, name)
        events.append(
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "function": function,
                "name": name,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    if events:
        s.execute(insert(Event), events)


def rows(s: Session) -> list[Event]:
    """The whole log, oldest first."""
    return list(s.exec(select(Event).order_by(Event.seq)).all())


def verify_chain(s: Session, sqlite: bool) -> int:
    """Recompute the hash chain; the number of rows, or IntegrityError naming the first broken."""
    prev = GENESIS
    count = 0
    rows = s.connection().execute(
        select(
            Event.seq,
            utc_text(Event.at, sqlite),
            Event.actor,
            Event.action,
            Event.function,
            Event.name,
            Event.prev_hash,
            Event.hash,
        ).order_by(Event.seq)
    )
    for row in rows:
        count += 1
        problem = _chain_problem(count, prev, tuple(row))
        if problem:
            raise IntegrityError(f"the event log is broken: {problem}")
        prev = row[7]
    return count


def _chain_problem(expected_seq: int, prev: str, row: EventFields) -> str | None:
    """Why an event row does not continue the chain after `prev`, or None when it does."""
    seq, at, actor, action, function, name, prev_hash, digest = row
    if seq != expected_seq:
        if seq < expected_seq:
            return f"row {seq} is out of sequence (expected row {expected_seq})"
        if expected_seq == 1:
            return f"row 1 is missing: the log starts at row {seq}"
        return f"row {expected_seq} is missing: row {expected_seq - 1} is followed by row {seq}"
    if prev_hash != prev:
        return f"row {seq} does not point to the hash of the row before it"
    try:
        expected = event_hash(prev, seq, stored_time(at), actor, action, function, name)
    except (TypeError, ValueError):
        expected = ""  # an unreadable time or field: edited
    if not crypto.same(str(digest).encode(), expected.encode()):
        return f"row {seq} was edited: its hash does not match its fields"
    return None


def _optional(text: str | None) -> str:
    """None → '', anything else → '=' + text: injective, so NULL and '' hash differently."""
    return "" if text is None else "=" + text
