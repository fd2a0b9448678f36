"""Shared fixtures: a store on every backend this machine runs, an unlocked Vault, the CLI.

PostgreSQL tests run when FAAS_TUI_TEST_PG_URL names a server database that we may create
databases on (`.ci/run` starts one); each test gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faas_tui.store.crypto import KdfParams
from faas_tui.store.vault import Vault

PASSPHRASE = "correct horse battery"
PG_URL = os.environ.get("FAAS_TUI_TEST_PG_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def fast_kdf() -> KdfParams:
    """Weak Argon2id parameters so unit tests do not spend 0.2 s per unlock.

    Only tests use this; the CLI and the app always create stores with the defaults (64 MiB, t=3).
    """
    return KdfParams(salt=os.urandom(16), memory_kib=8 * 1024, iterations=1, lanes=1)


def _postgres_database() -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if not PG_URL:
        pytest.skip("no PostgreSQL server: set FAAS_TUI_TEST_PG_URL (.ci/run does)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A not-yet-created store: a SQLite path under tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "store" / "store.db")
    else:
        yield from _postgres_database()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> str:
    return str(tmp_path / "store" / "store.db")


@pytest.fixture
def vault(store_url: str) -> Iterator[Vault]:
    """An unlocked, empty store (fast KDF) on each backend."""
    v = Vault.create(store_url, PASSPHRASE, kdf=fast_kdf())
    try:
        yield v
    finally:
        v.close()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@dataclass
class Cli:
    """Runs the installed `faas-tui` console script in a subprocess against one store."""

    store: str
    env: dict[str, str]

    def __call__(
        self, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
    ) -> CliResult:
        full_env = {**self.env, **(env or {})}
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.run(
            [*faas_tui_command(), *args],
            input=data if data is not None else b"",
            capture_output=True,
            env=full_env,
            timeout=120,
        )
        return CliResult(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def faas_tui_command() -> list[str]:
    """The installed console script, or `python -m faas_tui` when it is not on PATH."""
    script = shutil.which("faas-tui")
    return [script] if script else [sys.executable, "-m", "faas_tui"]


def cli_on(store: str, tmp_path: Path) -> Cli:
    """The CLI on one store (any backend), with the passphrase set and a private home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAAS_TUI_")} | {
        "FAAS_TUI_STORE": store,
        "FAAS_TUI_PASSPHRASE": PASSPHRASE,
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
    }
    return Cli(store, env)


@pytest.fixture
def cli(sqlite_store: str, tmp_path: Path) -> Cli:
    """The CLI on a fresh SQLite store path (not created yet: call `cli("init")`)."""
    return cli_on(sqlite_store, tmp_path)
