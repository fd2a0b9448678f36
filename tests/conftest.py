"""Shared fixtures: a store on every backend this machine runs, an unlocked Vault, the CLI (in
this process, or as the installed console script).

PostgreSQL tests run when FAAS_TUI_TEST_PG_URL names a server database that we may create
databases on (`.ci/run` starts one); each test gets a fresh database, dropped afterwards.
Hypothesis tests try `examples(N)` cases: N on a developer's machine, half in CI (see `examples`).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from faas_tui.store.crypto import KdfParams
from faas_tui.store.vault import Vault

PASSPHRASE = "correct horse battery"
PG_URL = os.environ.get("FAAS_TUI_TEST_PG_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# Hypothesis profiles. "full" (a developer's run) tries every test's N examples; "ci" (CI=true,
# as .ci/run sets) tries half of them with the same strategies and no deadline (a loaded CI
# machine makes timings noisy). Each CI run draws new examples, so over runs the same ground is
# covered. HYPOTHESIS_PROFILE=full or =ci chooses explicitly.
settings.register_profile("full")  # Hypothesis's defaults
settings.register_profile("ci", deadline=None)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "full"
)
settings.load_profile(HYPOTHESIS_PROFILE)


def examples(full: int) -> int:
    """How many examples a Hypothesis test tries: `full`, or half of it under the "ci" profile."""
    return full if HYPOTHESIS_PROFILE == "full" else max(10, full // 2)


def fast_kdf() -> KdfParams:
    """Weak Argon2id parameters so unit tests do not spend 0.2 s per unlock.

    Only tests use this (the in-process CLI passes it as `main(kdf=…)`); the console script and
    the app always create stores with the defaults (64 MiB, t=3).
    """
    return KdfParams(salt=os.urandom(16), memory_kib=8 * 1024, iterations=1, lanes=1)


class _PostgresDatabases:
    """The test server's databases of this test process. A test's database is emptied when the
    test ends (its schema dropped and made again, and anyone still connected sent away: ~20 ms)
    and handed to the next test, instead of dropped and another created (0.1-0.5 s on a busy
    machine, most of a PostgreSQL test's setup). The session drops them all at its end."""

    def __init__(self) -> None:
        self._spare: list[str] = []
        self._made: list[str] = []

    def take(self, template: str | None) -> str:
        if template is None and self._spare:
            return self._spare.pop()
        name = f"t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        self._admin(f'CREATE DATABASE "{name}"{copy}')
        self._made.append(name)
        return name

    def give_back(self, name: str) -> None:
        self._admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
            "DROP SCHEMA public CASCADE",
            "CREATE SCHEMA public",
            database=name,
        )
        self._spare.append(name)

    def drop_all(self) -> None:
        for name in self._made:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._made.clear()
        self._spare.clear()

    @staticmethod
    def _admin(*statements: str, database: str | None = None) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        assert PG_URL is not None
        engine = create_engine(
            database_url(database) if database else PG_URL,
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
        )
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            engine.dispose()


_DATABASES = _PostgresDatabases()


def database_url(name: str) -> str:
    """The test server's URL for the database `name`."""
    from sqlalchemy.engine import make_url

    assert PG_URL is not None
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _postgres_database(template: str | None = None) -> Generator[str, None, None]:
    """A database on the test server that holds nothing (a copy of the database `template`, when
    given; nobody may be connected to that one), emptied for another test when the generator is
    closed."""
    if not PG_URL:
        pytest.skip("no PostgreSQL server: set FAAS_TUI_TEST_PG_URL (.ci/run does)")
    name = _DATABASES.take(template)
    try:
        yield database_url(name)
    finally:
        _DATABASES.give_back(name)


def pytest_sessionfinish() -> None:
    if PG_URL:
        _DATABASES.drop_all()


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


class ExecAttempted(BaseException):  # noqa: N818 - not an error of the tool: a misused fixture
    """`faas-tui run` reached its exec inside the test process: use the `cli_process` fixture."""


def _refuse_exec(*args: object) -> None:
    raise ExecAttempted("`run` execs its command: call it through cli_process, not in-process")


@dataclass
class Cli:
    """`faas_tui.cli.main` in this process against one store: the environment patched (and
    restored), stdin the given bytes (not a terminal, and no terminal to prompt on), stdout and
    stderr captured, and weak Argon2id parameters for new passphrases (`main(kdf=…)`)."""

    store: str
    env: dict[str, str]
    kdf: Callable[[], KdfParams] = fast_kdf

    def __call__(
        self, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
    ) -> CliResult:
        from faas_tui.cli import main, prompts

        full_env = {**self.env, **(env or {})}
        data = input.encode() if isinstance(input, str) else input or b""
        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            for name in list(os.environ):
                if name not in full_env:
                    patch.delenv(name)
            for name, value in full_env.items():
                patch.setenv(name, value)
            patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
            patch.setattr(sys, "stdout", out)
            patch.setattr(sys, "stderr", err)
            patch.setattr(prompts, "has_terminal", lambda: False)
            patch.setattr(os, "execvpe", _refuse_exec)
            try:
                code = main(list(args), kdf=self.kdf)
            except SystemExit as exc:  # argparse: a usage error (2), --help or --version (0)
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        return CliResult(code, out.getvalue(), err.getvalue())


@dataclass
class CliProcess:
    """The installed `faas-tui` console script in a subprocess against one store: for `run`
    (it execs), real terminals and exit statuses. Same call signature as Cli."""

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


def cli_env(store: str, tmp_path: Path) -> dict[str, str]:
    """The CLI's environment on one store: the passphrase set, a private home and state folder
    (so tests never touch the user's record of store generations), no other FAAS_TUI_ variable of
    the machine running the tests."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FAAS_TUI_")} | {
        "FAAS_TUI_STORE": store,
        "FAAS_TUI_PASSPHRASE": PASSPHRASE,
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),  # the record of store generations
    }


def cli_on(store: str, tmp_path: Path) -> Cli:
    """The in-process CLI on one store (any backend)."""
    return Cli(store, cli_env(store, tmp_path))


def cli_process_on(store: str, tmp_path: Path) -> CliProcess:
    """The console script on one store (any backend)."""
    return CliProcess(store, cli_env(store, tmp_path))


@pytest.fixture
def cli(sqlite_store: str, tmp_path: Path) -> Cli:
    """The in-process CLI on a fresh SQLite store path (not created yet: call `cli("init")`)."""
    return cli_on(sqlite_store, tmp_path)


@pytest.fixture
def cli_process(sqlite_store: str, tmp_path: Path) -> CliProcess:
    """The console script on the same store path as `cli`, for what needs a real process."""
    return cli_process_on(sqlite_store, tmp_path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` run first (stable order otherwise): with several xdist workers the
    long ones then overlap each other and the many short ones, and no worker is left finishing a
    long test alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
