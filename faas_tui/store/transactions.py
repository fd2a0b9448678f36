"""Read and write sessions on a store: one snapshot per read, one locked transaction per change.

Writers are serialised (BEGIN IMMEDIATE on SQLite, a row lock on PostgreSQL). A change that removed
a ciphertext scrubs its copies once it commits: a WAL checkpoint on SQLite, a table rewrite on
PostgreSQL. Database errors become the tool's one-line errors here, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy import exc as sa_exc
from sqlmodel import Session, select

from faas_tui.core import constants
from faas_tui.core.errors import ConflictError, ReadOnlyError, StoreError, damaged_store
from faas_tui.core.messages import store_busy
from faas_tui.store import database
from faas_tui.store.models import StoreMeta

VACUUM_LOCK_WAIT_MS = 2000  # PostgreSQL: how long a scrub may make readers queue behind it
VERSIONS_REMOVED = "faas_tui.versions_removed"  # Session.info: a ciphertext row was deleted


class Transactions:
    """The sessions of one engine. `read()` sees one snapshot; `write()` holds the writer lock."""

    def __init__(self, engine: Engine, *, read_only: bool) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.read_only = read_only
        self._writer = engine.execution_options(**{database.WRITE_OPTION: True})
        # Reads see one snapshot (SQLite's read transactions already do); on PostgreSQL, READ
        # COMMITTED would let a reader see a secret's version row, then a writer's commit that
        # removed that version: a false "missing from the store" under load.
        self._reader = (
            engine if self.sqlite else engine.execution_options(isolation_level="REPEATABLE READ")
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with Session(self._reader, expire_on_commit=False) as s, s.begin():
                yield s
        except sa_exc.SQLAlchemyError as exc:
            raise store_failure(exc) from None

    @contextmanager
    def write(self, *, scrub: bool = False, dry_run: bool = False) -> Iterator[Session]:
        """One write transaction. `scrub` wipes the deleted rows' copies afterwards; a session
        whose `info[VERSIONS_REMOVED]` was set (a version was collected) asks for it too."""
        if self.read_only:
            raise ReadOnlyError("the store is open read-only (--read-only): changes are disabled")
        try:
            with Session(self._writer, expire_on_commit=False) as s:
                s.begin()
                try:
                    self._lock(s)
                    yield s
                    if dry_run:
                        s.rollback()
                    else:
                        s.commit()
                except BaseException:
                    s.rollback()
                    raise
                scrub = scrub or s.info.get(VERSIONS_REMOVED, False)
        except sa_exc.SQLAlchemyError as exc:
            raise store_failure(exc) from None
        if scrub and not dry_run:
            if self.sqlite:
                checkpoint(self.engine)
            else:
                vacuum(self.engine)

    def _lock(self, s: Session) -> None:
        """Serialise writers on PostgreSQL (SQLite already holds BEGIN IMMEDIATE's lock)."""
        if not self.sqlite:
            wait_ms = int(constants.BUSY_TIMEOUT_S * 1000)
            s.execute(text(f"SET LOCAL lock_timeout = '{wait_ms}ms'"))
            s.exec(select(StoreMeta.id).where(StoreMeta.id == 1).with_for_update())


def checkpoint(engine: Engine) -> None:
    """Move the WAL into the database and truncate it, so deleted ciphertexts leave no copy."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except sa_exc.OperationalError:
        pass  # a busy reader: the next checkpoint will do it; secure_delete already zeroed pages


def vacuum(engine: Engine) -> None:
    """PostgreSQL: rewrite the tables that hold ciphertexts and wrapped keys, so a deleted
    version or a replaced key slot is in no table file any more (a plain VACUUM leaves dead
    bytes in free space and in TOAST). Outside the transaction and best effort: a short lock
    wait, then the next delete retries. WAL segments, replicas and backups keep old
    ciphertexts until they are recycled; the README's threat model says so."""
    try:
        with engine.connect() as conn:
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            auto.exec_driver_sql(f"SET lock_timeout = '{VACUUM_LOCK_WAIT_MS}ms'")
            try:
                auto.exec_driver_sql("VACUUM FULL secret_version, key_slot")
            finally:
                auto.exec_driver_sql("RESET lock_timeout")
    except sa_exc.SQLAlchemyError:
        pass  # busy readers, or not the tables' owner: the committed change stands


def db_reason(exc: BaseException) -> str:
    """The database's own one-line reason, without the SQL statement or its parameters."""
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def store_failure(exc: sa_exc.SQLAlchemyError) -> Exception:
    """The tool's error for a database error: busy, a clash, a damaged file, or a failure."""
    reason = db_reason(exc)
    if "locked" in reason or "busy" in reason or "lock timeout" in reason:
        return ConflictError(store_busy(constants.BUSY_TIMEOUT_S))
    if isinstance(exc, sa_exc.IntegrityError):
        return ConflictError(f"the change clashes with the store: {reason}")
    damaged = damaged_store("the store's file", reason)
    if damaged is not None:
        return damaged
    return StoreError(f"the store failed: {reason}")
