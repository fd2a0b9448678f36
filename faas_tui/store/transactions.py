"""Read and write sessions on a store: one snapshot per read, one locked transaction per change.

Writers are serialised (BEGIN IMMEDIATE on SQLite, a row lock on PostgreSQL). A change that removed
a ciphertext on SQLite truncates the WAL once it commits (secure_delete already zeroed the pages).
On PostgreSQL the change deletes the rows and nothing more: MVCC keeps the old tuples until a vacuum,
and a table rewrite on every delete would stall every reader; autovacuum, or `faas-tui compact`
(`compact` here), reclaims them. Database errors become the tool's one-line errors here only.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy import Engine, text
from sqlalchemy import exc as sa_exc
from sqlmodel import Session, SQLModel, select

from faas_tui.core import constants
from faas_tui.core.errors import ConflictError, ReadOnlyError, StoreError, damaged_store
from faas_tui.core.messages import store_busy
from faas_tui.store import database
from faas_tui.store.models import StoreMeta

VACUUM_LOCK_WAIT_MS = 2000  # PostgreSQL: how long `compact` may make readers queue behind it
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
        """One write transaction. `scrub` truncates SQLite's WAL afterwards, so the deleted rows
        leave no copy in it; a session whose `info[VERSIONS_REMOVED]` was set (a version was
        collected) asks for it too. PostgreSQL never scrubs here (see the module's docstring)."""
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
        if scrub and not dry_run and self.sqlite:
            checkpoint(self.engine)

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


class Compacted(NamedTuple):
    """What `compact` did: the store's size on disk before and after, in bytes."""

    before: int
    after: int


def compact(engine: Engine) -> Compacted:
    """Reclaim the space of deleted rows and drop their old bytes from the store's files.

    SQLite: VACUUM (the database rewritten) and a WAL truncate. PostgreSQL: VACUUM FULL of the
    store's tables, which holds an exclusive lock while it rewrites them, so readers wait for the
    duration: an admin runs it at a quiet time. Neither reaches WAL archives, replicas or backups.
    """
    try:
        if engine.dialect.name == "sqlite":
            before = _sqlite_size(engine)
            connection = engine.raw_connection()
            try:
                connection.execute("VACUUM")  # type: ignore[attr-defined]
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
            finally:
                connection.close()
            return Compacted(before, _sqlite_size(engine))
        before = _pg_size(engine)
        vacuum(engine)
        return Compacted(before, _pg_size(engine))
    except sa_exc.SQLAlchemyError as exc:
        raise store_failure(exc) from None
    except sqlite3.Error as exc:
        raise StoreError(f"the store failed: {db_reason(exc)}") from None


def vacuum(engine: Engine) -> None:
    """PostgreSQL: rewrite the store's tables (VACUUM FULL), so a deleted version or a replaced key
    slot is in no table file any more (a plain VACUUM leaves dead bytes in free space and in TOAST).
    A short lock wait, then a one-line "busy" error: queued behind a long transaction, the request
    for the exclusive lock would itself make every new reader wait."""
    tables = sorted(SQLModel.metadata.tables)
    with engine.connect() as conn:
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        not_owned = (
            auto.execute(
                text(
                    "SELECT c.relname FROM unnest(CAST(:tables AS text[])) AS t "
                    "JOIN pg_class AS c ON c.oid = to_regclass(t) "
                    "WHERE NOT pg_has_role(current_user, c.relowner, 'USAGE')"
                ),
                {"tables": [_quoted(t) for t in tables]},
            )
            .scalars()
            .all()
        )
        if not_owned:
            raise StoreError(
                f"compact must run as the owner of the store's tables ({', '.join(not_owned)} "
                "belong to another role): connect as the role that created the store"
            )
        auto.exec_driver_sql(f"SET lock_timeout = '{VACUUM_LOCK_WAIT_MS}ms'")
        try:
            auto.exec_driver_sql("VACUUM FULL " + ", ".join(_quoted(t) for t in tables))
        finally:
            auto.exec_driver_sql("RESET lock_timeout")


def _quoted(table: str) -> str:
    return '"' + table.replace('"', '""') + '"'


def _pg_size(engine: Engine) -> int:
    tables = [_quoted(t) for t in SQLModel.metadata.tables]
    with engine.connect() as conn:
        total = conn.execute(
            text(
                "SELECT COALESCE(SUM(pg_total_relation_size(to_regclass(t))), 0) "
                "FROM unnest(CAST(:tables AS text[])) AS t"
            ),
            {"tables": tables},
        ).scalar()
    return int(total or 0)


def _sqlite_size(engine: Engine) -> int:
    path = database.sqlite_path(str(engine.url))
    assert path is not None
    return sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))


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
    if isinstance(exc, sa_exc.OperationalError) and (
        exc.connection_invalidated or reason.startswith("connection ")
    ):
        return StoreError(
            f"lost the connection to the store's server ({reason}): check that the server is "
            "running, then retry"
        )
    damaged = damaged_store("the store's file", reason)
    if damaged is not None:
        return damaged
    return StoreError(f"the store failed: {reason}")
