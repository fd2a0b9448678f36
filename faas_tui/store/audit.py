"""The audit: every secret of every store function with its flags, plus MISSING names. No values.

Nothing is decrypted (REUSED_VALUE compares keyed fingerprints). Its speed comes from four things
kept in this file: one query that reads the driver's plain tuples, times read as UTC text and
parsed once per distinct value, flags as bit masks mapped to shared tuples, and the cycle
collector paused while tens of thousands of rows are built.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, func
from sqlmodel import Session, select

from faas_tui.core.audit_flags import (
    FLAG_SETS,
    MISSING,
    PENDING_REDEPLOY,
    REUSED_VALUE,
    STALE,
    SYSTEM,
    UNREFERENCED,
)
from faas_tui.core.errors import StoreError
from faas_tui.core.kinds import SecretKind
from faas_tui.core.names import SYSTEM_PREFIX
from faas_tui.core.records import AuditRow
from faas_tui.core.references import scan_folder
from faas_tui.core.values import SecretFormat
from faas_tui.store.models import Binding, Function, Secret
from faas_tui.store.queries import active_deployment_ids
from faas_tui.store.timestamps import stored_time, utc_text
from faas_tui.store.transactions import Transactions

_function_of = itemgetter(0)
_function_then_name = itemgetter(0, 1)
_fingerprint_of = itemgetter(8)
_USER, _SYSTEM_KIND = SecretKind.USER.value, SecretKind.SYSTEM.value  # plain str: a hot loop


def audit(
    tx: Transactions,
    moment: datetime,
    stale_days: int,
    verify: Callable[[Session], object] | None = None,
) -> list[AuditRow]:
    """Rows sorted by function, then name, a function's MISSING rows after its stored ones.
    `verify` checks the rows' signatures in the same snapshot first (it raises to refuse)."""
    # Tens of thousands of new tuples in one go: the cycle collector would rescan them (and
    # the whole heap) several times over, for about a quarter of the audit's time, and find
    # nothing to collect: they hold no cycles.
    with _gc_paused():
        return _audit(tx, moment, stale_days, verify)


def _audit(
    tx: Transactions,
    moment: datetime,
    stale_days: int,
    verify: Callable[[Session], object] | None,
) -> list[AuditRow]:
    stale_before = _days_before(moment, stale_days)
    with tx.read() as s:
        if verify is not None:
            verify(s)
        conn = s.connection()
        functions: dict[int, str] = dict(conn.execute(select(Function.id, Function.name)).all())
        sources = conn.execute(
            select(Function.id, Function.source_dir).where(Function.source_dir.is_not(None))
        ).all()
        rows = driver_rows(conn, _audit_query(tx.sqlite))
    rows.sort(key=_function_then_name)
    uses = Counter(map(_fingerprint_of, rows))
    reused = {fingerprint for fingerprint, n in uses.items() if n > 1}
    scans = {fid: scan_folder(source) for fid, source in sources if Path(source).is_dir()}
    formats = {fmt.value: fmt for fmt in SecretFormat}
    # Secrets created or updated together share their time: parse it, age it once.
    times: dict[Any, tuple[datetime, int, int]] = {}
    by_function: dict[int, list[AuditRow]] = {}
    for fid, group in groupby(rows, _function_of):
        function, scan = functions[fid], scans.get(fid)
        entries = by_function[fid] = []
        for _, name, kind, fmt, version, created, updated, deployed, fingerprint in group:
            known = times.get(updated)
            if known is None:
                moment_updated = stored_time(updated)
                known = times[updated] = (
                    moment_updated,
                    max((moment - moment_updated).days, 0),
                    STALE if moment_updated < stale_before else 0,
                )
            updated_at, age_days, mask = known
            if kind == _USER:
                if deployed != version:  # None when never deployed
                    mask |= PENDING_REDEPLOY
                if scan is not None and not scan.mentions(name):
                    mask |= UNREFERENCED  # never for system secrets: unused is the aim
            elif kind == _SYSTEM_KIND:
                mask |= SYSTEM
            if fingerprint in reused:
                mask |= REUSED_VALUE
            entries.append(
                AuditRow(
                    function,
                    name,
                    kind,
                    formats.get(fmt) or SecretFormat(fmt),
                    version,
                    updated_at if created is None else stored_time(created),
                    updated_at,
                    age_days,
                    deployed,
                    FLAG_SETS[mask],
                )
            )
    result: list[AuditRow] = []
    for fid in sorted(functions, key=functions.__getitem__):
        entries = by_function.get(fid, [])
        result += entries
        if fid in scans:
            stored = {entry.name for entry in entries}
            result += (
                _missing_row(functions[fid], name) for name in sorted(scans[fid].reads - stored)
            )
    return result


def _audit_query(sqlite: bool) -> Select[Any]:
    """Per secret, what the audit shows, its live bound version and its fingerprint. No value.

    Times come as UTC text, and created_at as NULL when it equals updated_at: most secrets are
    never updated, so most rows need one time parsed instead of two.
    """
    return (
        select(
            Secret.function_id,
            Secret.name,
            Secret.kind,
            Secret.format,
            Secret.version,
            utc_text(func.nullif(Secret.created_at, Secret.updated_at), sqlite),
            utc_text(Secret.updated_at, sqlite),
            Binding.version,
            Secret.fingerprint,
        )
        .select_from(Secret)
        .outerjoin(
            Binding,
            (Binding.secret_id == Secret.id) & Binding.deployment_id.in_(active_deployment_ids()),
        )
    )


def driver_rows(conn: Connection, statement: Select[Any]) -> list[Any]:
    """Run a statement through SQLAlchemy, but take the driver's plain tuples.

    Compiling, parameters and execute errors stay SQLAlchemy's; only SQLAlchemy's Row objects are
    skipped, which for 50,000 rows cost as much as the query. For columns that need no result
    processing only (no ORM types: times are read through `utc_text`).
    """
    result = conn.execute(statement)
    try:
        return list(result.cursor.fetchall())
    except conn.dialect.loaded_dbapi.Error as exc:
        raise StoreError(f"the store failed: {str(exc).strip().splitlines()[0]}") from None
    finally:
        result.close()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (reference counting still frees everything at once).

    Process-wide, so it is restored only if it was on: another thread may have paused it too.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _days_before(moment: datetime, days: int) -> datetime:
    """`moment` minus `days` days; the earliest time when that is before year 1."""
    try:
        return moment - timedelta(days=days)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def _missing_row(function: str, name: str) -> AuditRow:
    """A name the function's code reads that the store does not hold."""
    kind = SecretKind.SYSTEM if name.startswith(SYSTEM_PREFIX) else SecretKind.USER
    return AuditRow(function, name, kind, None, None, None, None, None, None, (MISSING,))
