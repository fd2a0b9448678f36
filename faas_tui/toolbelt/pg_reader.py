"""The lean reader of a PostgreSQL store: psycopg on one kept connection under lean_reader's checks.

No SQLAlchemy and no ORM: every statement is prepared on first use (prepare_threshold=0) and runs in
autocommit, a single statement being its own snapshot; multi-statement reads run in one
REPEATABLE READ READ ONLY transaction in pipeline mode (statements that do not depend on each other
travel together: re-verifying after a write costs two or three round trips, not twelve). A lost connection (a server restart) is reopened once by the
reader; after a fork the child opens its own and never touches the parent's socket.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus

from faas_tui.core import constants
from faas_tui.core.errors import ConflictError, NotFoundError, StoreError
from faas_tui.core.messages import no_store, store_busy
from faas_tui.toolbelt.lean_reader import Disconnected, LeanReader, Row, Statement

SCHEME = "postgresql+psycopg://"  # the store URLs this reader opens (SQLAlchemy's spelling)
CONNECT_TIMEOUT_S = 10  # libpq's connect_timeout, unless the URL sets one
BEGIN_SQL = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
_PG_SQL: dict[str, str] = {}  # lean_reader's statement -> psycopg's spelling of it
# Connections inherited through a fork: kept referenced so that their finalizer never closes the
# socket the parent process still uses (closing would end the parent's session).
_INHERITED: list[psycopg.Connection[Any]] = []


class PgReader(LeanReader):
    """An unlocked, read-only connection to one PostgreSQL store. Safe to share between threads."""

    def __init__(
        self,
        url: str,
        *,
        key_file: str | os.PathLike[str] | None = None,
        passphrase: str | None = None,
    ) -> None:
        try:
            driver = PgDriver(url)
        except Disconnected as exc:
            if 'database "' in exc.reason and "does not exist" in exc.reason:  # as the Vault says
                raise NotFoundError(no_store(display_url(url))) from None
            raise StoreError(
                f"cannot connect to the store {display_url(url)} ({exc.reason}): check that the "
                "server is running and the URL is right"
            ) from None
        super().__init__(driver, key_file=key_file, passphrase=passphrase)


def conninfo(url: str) -> str:
    """The libpq connection URI of a `postgresql+psycopg://` store URL (same user, host, database,
    password and query parameters: libpq reads the rest of the URL as SQLAlchemy does)."""
    if not url.startswith(SCHEME):
        raise ValueError("not a postgresql+psycopg:// URL")
    return "postgresql://" + url[len(SCHEME) :]


def display_url(url: str) -> str:
    """The URL for messages and repr: the password replaced by ***, as the Vault shows it."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class PgDriver:
    """One psycopg connection in autocommit, read-only, with prepared statements."""

    def __init__(self, url: str) -> None:
        self.location = display_url(url)
        self._conninfo = conninfo(url)
        self._pid = os.getpid()
        self._closed = False
        self._pipelined = False  # inside snapshot(): statements join its pipeline
        self._con = self._connect()
        self._cur = self._con.cursor(binary=True)  # bytea arrives as raw bytes, not hex text

    def _connect(self) -> psycopg.Connection[Any]:
        params = psycopg.conninfo.conninfo_to_dict(self._conninfo)
        params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
        wait_ms = int(constants.BUSY_TIMEOUT_S * 1000)
        ours = f"-c default_transaction_read_only=on -c lock_timeout={wait_ms}"
        given = params.get("options")
        params["options"] = f"{ours} {given}" if given else ours
        try:
            con = psycopg.connect(
                psycopg.conninfo.make_conninfo(**params),  # type: ignore[arg-type]
                autocommit=True,
                prepare_threshold=0,
            )
        except psycopg.Error as exc:
            raise Disconnected(_reason(exc)) from None
        return con

    def _cursor(self) -> psycopg.Cursor[Any]:
        if self._closed:
            raise StoreError("this client is closed")
        if os.getpid() != self._pid:  # forked: leave the parent's socket alone, open our own
            self._pid = os.getpid()
            _INHERITED.append(self._con)
            self._open()
        return self._cur

    def _open(self) -> None:
        self._con = self._connect()
        self._cur = self._con.cursor(binary=True)

    def one(self, sql: str, params: tuple[Any, ...]) -> Row | None:
        cur = self._cursor()
        try:
            row: Row | None = cur.execute(_pg_sql(sql), params).fetchone()
        except psycopg.Error as exc:
            raise self._error(exc) from None
        return row

    def all(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        cur = self._cursor()
        try:
            return cur.execute(_pg_sql(sql), params).fetchall()
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        """The statements pipelined: sent together, their rows back in one round trip (inside a
        snapshot, whose pipeline they join; else in a snapshot of their own)."""
        if not self._pipelined:
            with self.snapshot():
                return self.batch(statements)
        con = self._con
        try:
            cursors = [con.cursor(binary=True) for _ in statements]
            for cur, (sql, params) in zip(cursors, statements, strict=True):
                cur.execute(_pg_sql(sql), params)
            return [cur.fetchall() for cur in cursors]
        except psycopg.Error as exc:
            raise self._error(exc) from None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One REPEATABLE READ READ ONLY transaction in pipeline mode: its BEGIN travels with the
        first statements and its COMMIT with the final sync, so the snapshot costs no round trip
        of its own (psycopg's transaction() would sync around both)."""
        cur = self._cursor()
        con = self._con
        failed: Exception | None = None
        try:
            with con.pipeline():
                self._pipelined = True
                cur.execute(BEGIN_SQL, prepare=False)
                try:
                    yield
                except Exception as exc:  # raised below: psycopg logs an error of its own
                    failed = exc  # (a lost connection, an aborted pipeline) met while one is in flight
                self._pipelined = False
                if failed is None:
                    cur.execute("COMMIT", prepare=False)
        except psycopg.Error as exc:
            failed = failed or self._error(exc)
        finally:
            self._pipelined = False
            if not con.broken and con.info.transaction_status != TransactionStatus.IDLE:
                with suppress(psycopg.Error):  # an error aborted the snapshot: end it
                    con.execute("ROLLBACK", prepare=False)
        if failed is not None:
            raise failed

    def reconnect(self) -> None:
        if self._closed:
            raise StoreError("this client is closed")
        old = self._con
        self._open()
        with suppress(psycopg.Error):  # it was broken already
            old.close()

    def close(self) -> None:
        self._closed = True
        if os.getpid() == self._pid:
            self._con.close()

    def _error(self, exc: psycopg.Error) -> Exception:
        """psycopg's one-line reason as the tool's error; never the statement or its parameters."""
        reason = _reason(exc)
        if isinstance(exc, pg_errors.LockNotAvailable | pg_errors.QueryCanceled):
            return ConflictError(store_busy(constants.BUSY_TIMEOUT_S))
        if self._con.broken or self._con.closed or isinstance(exc, psycopg.OperationalError):
            return Disconnected(reason)  # a server restart, a dropped socket: reconnect once
        if isinstance(exc, pg_errors.UndefinedTable):
            return NotFoundError(no_store(self.location))
        return StoreError(f"the store failed: {reason}")


def _pg_sql(sql: str) -> str:
    """The statement with psycopg's placeholders: `?` becomes `%s`, a literal `%` doubles."""
    found = _PG_SQL.get(sql)
    if found is None:
        found = _PG_SQL[sql] = sql.replace("%", "%%").replace("?", "%s")
    return found


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
