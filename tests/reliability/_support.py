"""Helpers shared by the reliability tests: table dumps, self-checking values, figures, the CLI."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from faas_tui.store import database

FIGURES_ENV = "RELIABILITY_FIGURES"  # not FAAS_TUI_*: tests clear those


# What a load test's processes import, once, in the server they are forked from.
WORKER_PRELOAD = [
    "conftest",
    "faas_tui.cli",
    "faas_tui.cli.parser",
    "faas_tui.store.vault",
    "faas_tui.toolbelt",
    "psycopg",
    "sqlalchemy.dialects.postgresql.psycopg",
    "reliability._load",
    "reliability._busy",
]


def worker_processes() -> BaseContext:
    """Where load tests start their writer and reader processes: forked from a small server that
    has imported the store once (the "forkserver" start method), so each starts in milliseconds
    instead of importing SQLAlchemy and the store again (about 0.5 s of CPU each under "spawn").
    Each is still a separate process with its own engines and connections; their arguments are
    all they get, as with spawn (the server's environment is the one it started with)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)
    return context


def backend_of(url: str) -> str:
    """`sqlite` or `postgres`, for figures and messages."""
    return "postgres" if url.startswith("postgresql") else "sqlite"


def record_figure(metric: str, backend: str, count: int, **detail: Any) -> None:
    """Append one figure to the JSON-lines file named by RELIABILITY_FIGURES (when set).

    The README's table is made from these lines by `python tests/reliability/figures.py FILE`.
    Lines are short and written with O_APPEND, so pytest-xdist workers can share the file.
    """
    target = os.environ.get(FIGURES_ENV)
    if not target:
        return
    line = json.dumps({"metric": metric, "backend": backend, "count": count, **detail}) + "\n"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


# --- whole-store dumps, to prove a refused change changed nothing ---------------------------


_dump_engines: dict[str, Engine] = {}


def dump_store(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store's schema, in primary-key order (bytes, times too).

    One engine per store, kept (tests dump before and after every hostile case) so its SQL is
    compiled once; it holds no connection between dumps (NullPool). `forget_dump_engines` ends it.
    """
    import faas_tui.store.models  # noqa: F401 - registers the store's tables

    engine = _dump_engines.get(url)
    if engine is None:
        engine = _dump_engines[url] = create_engine(database.to_url(url), poolclass=NullPool)
    result: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            name = table.name
            order = list(table.primary_key.columns) or list(table.columns)
            result[name] = [tuple(row) for row in conn.execute(select(table).order_by(*order))]
    return result


def forget_dump_engines() -> None:
    """Dispose of the engines `dump_store` kept (after each test: its stores are gone)."""
    while _dump_engines:
        _dump_engines.popitem()[1].dispose()


def count_rows(url: str) -> dict[str, int]:
    return {name: len(rows) for name, rows in dump_store(url).items()}


# --- self-checking values: a torn or mixed-up read cannot pass the check ----------------------


def checked_value(writer: str, seq: int, pad: int = 64) -> str:
    """A JSON object that carries the SHA-256 of its own other fields."""
    body = {
        "writer": writer,
        "seq": seq,
        "pad": hashlib.sha256(f"{writer}{seq}".encode()).hexdigest()[:pad],
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return json.dumps({**body, "sha": digest}, sort_keys=True)


def value_is_intact(value: str | dict[str, Any]) -> bool:
    """Whether a value read back is one that `checked_value` wrote, whole."""
    try:
        parsed = json.loads(value) if isinstance(value, str) else dict(value)
        digest = parsed.pop("sha")
        return digest == hashlib.sha256(json.dumps(parsed, sort_keys=True).encode()).hexdigest()
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


# --- the installed command line, in a session of its own (no controlling terminal) ------------


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float


def faas_tui_argv() -> list[str]:
    import shutil

    script = shutil.which("faas-tui")
    return [script] if script else [sys.executable, "-m", "faas_tui"]


def run_cli(
    *args: str,
    env: dict[str, str],
    input: bytes = b"",
    timeout: float = 120,
    cwd: str | Path | None = None,
) -> Run:
    """Run `faas-tui ARGS` with no terminal, so a prompt can never wait for a person."""
    started = time.monotonic()
    proc = subprocess.run(
        [*faas_tui_argv(), *args],
        input=input,
        capture_output=True,
        env=env,
        timeout=timeout,
        start_new_session=True,
        cwd=cwd,
    )
    return Run(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
        time.monotonic() - started,
    )


def cli_child(args: list[str], env: dict[str, str], output: str) -> None:
    """`faas-tui ARGS` in a process started by `worker_processes()`, for tests that SIGKILL a
    command mid-change: the console script's `main` in a session of its own (no terminal to
    prompt on), stdin empty, the environment `env`, stdout and stderr to OUTPUT.out and
    OUTPUT.err, the command's exit code as the process's. New passphrases get the tests' weak
    Argon2id parameters (`main(kdf=…)`), as in-process CLI tests do."""
    from conftest import fast_kdf

    from faas_tui.cli import main

    os.setsid()
    os.environ.clear()
    os.environ.update(env)
    for fd, suffix in ((1, ".out"), (2, ".err")):
        os.dup2(os.open(output + suffix, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
    sys.exit(main(args, kdf=fast_kdf))


def clean_env(store: str, passphrase: str, home: Path) -> dict[str, str]:
    """The caller's environment without FAAS_TUI_* settings, pointed at one store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAAS_TUI_")}
    env.update(
        {
            "FAAS_TUI_STORE": store,
            "FAAS_TUI_PASSPHRASE": passphrase,
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "xdg"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def assert_one_error_line(run: Run, codes: tuple[int, ...] = (1, 2)) -> None:
    """A refusal: the expected exit code, exactly one `error:` line, no traceback, no crash."""
    lines = [line for line in run.err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert run.code in codes, (run.code, run.err)
    assert "Traceback" not in run.err + run.out
    assert len(errors) == 1, run.err
    assert "unexpected" not in errors[0], errors[0]
