"""How a store is opened: private files, the engine, SQLite pragmas.

SQLite gets WAL, synchronous=FULL, secure_delete and a busy timeout; every write transaction starts
with BEGIN IMMEDIATE, so concurrent writers wait for each other instead of failing half-way.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from faas_tui.core import constants
from faas_tui.core.errors import StoreError
from faas_tui.store.location import (  # noqa: F401 - re-exported for the Vault
    display_store,
    sqlite_path,
    store_file_exists,
    to_url,
)

WRITE_OPTION = "faas_tui_write"
CONNECT_TIMEOUT_S = 10  # PostgreSQL: how long to wait for the server to answer a new connection
ENGINES_KEPT = 16  # stores whose engine a process keeps (the most recently opened)


def prepare_private_file(path: Path) -> None:
    """Create the store folder 0700 and the database file 0600 before SQLite touches them.

    A folder that already exists (the user's home, a project folder) keeps its mode: the files
    in it are private either way, and chmod-ing someone's $HOME would be a nasty surprise.
    """
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
            os.chmod(folder, 0o700)  # whatever the umask
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
            os.close(fd)
    except OSError as exc:  # a parent that is a file, a read-only or virtual file system, …
        raise StoreError(f"cannot create the store at {path}: {exc.strerror or exc}") from None
    make_private(path)


def make_private(path: Path) -> None:
    """Force 0600 on the database and its -wal/-shm, when we own them."""
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        _chmod_if_owned(candidate, 0o600)


def _chmod_if_owned(path: Path, mode: int) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != mode:
        os.chmod(path, mode)


class _Engines:
    """This process's engines, one per store URL, the most recently used kept.

    SQLAlchemy's advice is one engine per database per process: its connection pool and its cache
    of compiled statements then serve every Vault opened on the store (the app locking and
    unlocking, a script opening it again), where a new engine compiles every statement anew.
    A Vault's `close` disposes the engine's idle connections, not the engine. A forked child
    starts with none: it must not share its parent's connections.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_url: OrderedDict[str, Engine] = OrderedDict()

    def get(self, url: str) -> Engine:
        with self._lock:
            engine = self._by_url.pop(url, None) or make_engine(url)
            self._by_url[url] = engine
            while len(self._by_url) > ENGINES_KEPT:
                self._by_url.popitem(last=False)[1].dispose()
            return engine

    def forget(self) -> None:
        """After a fork: a fresh lock (the parent's may have been held) and no engines."""
        self._lock = threading.Lock()
        self._by_url = OrderedDict()


_engines = _Engines()
os.register_at_fork(after_in_child=_engines.forget)


def engine_for(url: str) -> Engine:
    """The engine of the store at `url`: this process's, made on first use (see _Engines)."""
    return _engines.get(url)


def make_engine(url: str) -> Engine:
    """An engine that never puts statement parameters (ciphertexts, names) into error text."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        assert path is not None
        engine = create_engine(
            url,
            hide_parameters=True,
            connect_args={"timeout": constants.BUSY_TIMEOUT_S, "check_same_thread": False},
        )
        _configure_sqlite(engine, path)
        return engine
    # pool_pre_ping: a connection the server dropped (a restart) is replaced when next checked
    # out; connect_timeout (libpq waits forever by default): an unreachable server is an error.
    connect_args = {} if "connect_timeout=" in url else {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        return create_engine(
            url, hide_parameters=True, pool_pre_ping=True, connect_args=connect_args
        )
    except ModuleNotFoundError:
        raise StoreError(
            "PostgreSQL support is not installed: pip install 'faas-tui[postgres]'"
        ) from None


def _configure_sqlite(engine: Engine, path: Path) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(constants.BUSY_TIMEOUT_S * 1000)}")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
        make_private(path)

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
