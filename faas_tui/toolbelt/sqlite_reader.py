"""The lean reader of a SQLite store: stdlib `sqlite3` opened read-only under lean_reader's checks.

No SQLAlchemy: this is a function's cold start. The SQL, the integrity checks and the decryption are
lean_reader's; this module only opens the file and runs statements on one kept connection.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from faas_tui.core import constants
from faas_tui.core.constants import SCHEMA_VERSION  # noqa: F401 - the schema it reads (tests)
from faas_tui.core.errors import ConflictError, NotFoundError, StoreError, damaged_store
from faas_tui.core.messages import no_store, store_busy
from faas_tui.toolbelt.lean_reader import LeanReader, Row, Statement


class SqliteReader(LeanReader):
    """An unlocked, read-only connection to one SQLite store. Safe to share between threads."""

    def __init__(
        self,
        path: str,
        *,
        key_file: str | os.PathLike[str] | None = None,
        passphrase: str | None = None,
    ) -> None:
        super().__init__(SqliteDriver(path), key_file=key_file, passphrase=passphrase)


class SqliteDriver:
    """One read-only sqlite3 connection, reopened after a fork (a SQLite handle must not cross one)."""

    def __init__(self, path: str) -> None:
        self.location = path
        self._pid = os.getpid()
        self._con: sqlite3.Connection | None = self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            empty = os.stat(self.location).st_size == 0
        except FileNotFoundError:
            empty = True
        except OSError as exc:
            raise StoreError(f"cannot open the store {self.location}: {exc.strerror}") from None
        if empty:
            raise NotFoundError(no_store(self.location))
        try:
            return sqlite3.connect(
                "file:" + _uri_path(self.location) + "?mode=ro",
                uri=True,
                timeout=constants.BUSY_TIMEOUT_S,
                isolation_level=None,  # autocommit; snapshots use an explicit BEGIN
                check_same_thread=False,  # the reader's lock guards it
            )
        except sqlite3.Error as exc:
            raise _store_error(exc, self.location) from None

    def _connection(self) -> sqlite3.Connection:
        if self._con is None:
            raise StoreError("this client is closed")
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._con = self._connect()
        return self._con

    def one(self, sql: str, params: tuple[Any, ...]) -> Row | None:
        try:
            row: Row | None = self._connection().execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise _store_error(exc, self.location) from None
        return row

    def all(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        try:
            return self._connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _store_error(exc, self.location) from None

    def batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        """A file has no round trips to save: the statements one after the other."""
        return [self.all(sql, params) for sql, params in statements]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        con = self._connection()
        try:
            con.execute("BEGIN")
        except sqlite3.Error as exc:
            raise _store_error(exc, self.location) from None
        try:
            yield
        finally:
            if con.in_transaction:
                con.execute("COMMIT")  # read-only: nothing to roll back

    def reconnect(self) -> None:
        """A file is never disconnected; nothing to do."""

    def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            con.close()


def _store_error(exc: sqlite3.Error, location: str) -> Exception:
    """sqlite3's one-line reason as the tool's error; never the statement or its parameters."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "no such table" in reason:
        return NotFoundError(no_store(location))
    damaged = damaged_store(location, reason)
    if damaged is not None:
        return damaged
    if "locked" in reason or "busy" in reason:
        return ConflictError(store_busy(constants.BUSY_TIMEOUT_S))
    return StoreError(f"the store failed: {reason}")


def _uri_path(path: str) -> str:
    """An absolute path for a `file:` URI: characters with a meaning in URIs percent-encoded."""
    absolute = os.path.abspath(path)
    return "//" + absolute.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
