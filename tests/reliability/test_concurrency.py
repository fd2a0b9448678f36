"""Several writers and runtime readers at once, on each backend: nothing lost, nothing torn.

Writers add their own secrets and update shared ones through the Vault (and one through the CLI);
readers read through Vault.read_secret and the runtime SecretClient. Every value carries a hash of
itself, so a torn or mixed-up read cannot pass. At the end, rows, versions and events are counted
against what the writers say they did. A writer that waits too long fails with one clear line.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from conftest import PASSPHRASE, fast_kdf
from sqlalchemy import create_engine, text

from faas_tui.core import constants
from faas_tui.core.errors import ConflictError
from faas_tui.core.values import SecretFormat
from faas_tui.store.location import sqlite_path, to_url
from faas_tui.store.vault import Vault
from reliability import _load
from reliability._support import (
    assert_one_error_line,
    backend_of,
    checked_value,
    clean_env,
    dump_store,
    record_figure,
    run_cli,
    value_is_intact,
    worker_processes,
)

WRITERS = 4
READERS = 4  # half through Vault.read_secret, half through the runtime SecretClient
# The nine processes overlap for 2.5 s (was 5 s): every writer and reader still runs beside all
# the others (on 2 cores at load 8: 11-17 writes and 640-2,100 verified reads); a longer window
# repeats the same interleavings while both cores are taken from the rest of the suite
HOLD_S = 2.5
MAX_OPS_PER_WRITER = 400


@pytest.mark.slow
def test_writers_and_readers_at_once_lose_nothing_and_never_see_a_torn_value(
    store_url: str, tmp_path: Path
) -> None:
    with Vault.create(store_url, PASSPHRASE, kdf=fast_kdf()) as vault:
        vault.add_function(_load.FUNCTION)
        for i, name in enumerate(_load.SHARED):
            vault.add_secret(_load.FUNCTION, name, checked_value("seed", i), SecretFormat.JSON)
        events_before = vault.verify_log()

    ctx = worker_processes()
    start = ctx.Barrier(WRITERS + READERS + 1)
    processes = []
    for w in range(WRITERS):
        out = str(tmp_path / f"writer{w}.json")
        args = (store_url, PASSPHRASE, f"w{w}", start, HOLD_S, MAX_OPS_PER_WRITER, out)
        processes.append(ctx.Process(target=_load.writer, args=args))
    for r in range(READERS):
        out = str(tmp_path / f"reader{r}.json")
        args = (store_url, PASSPHRASE, f"r{r}", start, HOLD_S, r % 2 == 1, out)
        processes.append(ctx.Process(target=_load.reader, args=args))
    for proc in processes:
        proc.start()
    cli_adds: list[str] = []
    cli_problems: list[str] = []
    try:
        start.wait(timeout=120)
        cli = threading.Thread(
            target=_cli_writer, args=(store_url, tmp_path, HOLD_S, cli_adds, cli_problems)
        )
        cli.start()
        for proc in processes:
            proc.join(timeout=HOLD_S + 60)
        cli.join(timeout=HOLD_S + 60)
    finally:
        for proc in processes:
            if proc.is_alive():
                proc.kill()
    assert all(proc.exitcode == 0 for proc in processes), [p.exitcode for p in processes]

    reports = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*.json"))]
    writers = [r for r in reports if r["role"] == "writer"]
    readers = [r for r in reports if r["role"] == "reader"]
    assert len(writers) == WRITERS and len(readers) == READERS
    problems = [e for r in reports for e in r["errors"]] + cli_problems
    assert problems == [], problems[:5]
    assert sum(r["torn"] for r in readers) == 0
    assert all(r["ops"] > 0 for r in reports), [(r["ident"], r["ops"]) for r in reports]

    with Vault.open(store_url, passphrase=PASSPHRASE) as vault:
        assert vault.check().ok
        stored = {info.name: info for info in vault.list_secrets(_load.FUNCTION)}
        added = [name for r in writers for name in r["added"]] + cli_adds
        assert set(stored) == set(_load.SHARED) | set(added)  # no lost or phantom secret
        for r in writers:
            for name, value in r["values"].items():
                assert vault.read_secret_text(_load.FUNCTION, name)[0] == value
        for name in _load.SHARED:
            updates = sum(r["updates"].get(name, 0) for r in writers)
            assert stored[name].version == 1 + updates, name  # no lost update
            assert value_is_intact(vault.read_secret(_load.FUNCTION, name))
        writes = sum(r["ops"] for r in writers) + len(cli_adds)
        assert vault.verify_log() == events_before + writes  # one event per write, chain intact
    if sqlite_path(to_url(store_url)) is not None:
        _assert_sqlite_integrity(store_url)
    record_figure(
        "load",
        backend_of(store_url),
        1,
        writers=WRITERS + 1,
        readers=READERS,
        seconds=HOLD_S,
        writes=writes,
        reads=sum(r["ops"] for r in readers),
        longest_write_s=round(max(r["longest_wait_s"] for r in writers), 2),
        longest_read_s=round(max(r["longest_wait_s"] for r in readers), 2),
        errors=0,
    )


def _cli_writer(
    store: str, tmp_path: Path, hold_s: float, added: list[str], problems: list[str]
) -> None:
    """`faas-tui secrets add` in a loop beside the Vault writers: exit 0, nothing on stderr."""
    home = tmp_path / "cli-home"
    home.mkdir(exist_ok=True)
    env = clean_env(store, PASSPHRASE, home)
    deadline = time.time() + hold_s
    seq = 0
    while time.time() < deadline:
        seq += 1
        name = f"CLI_{seq}"
        value = checked_value("cli", seq).encode()
        result = run_cli("secrets", "add", _load.FUNCTION, name, "--json", env=env, input=value)
        if result.code != 0 or result.err.strip():
            problems.append(f"cli add {name}: exit {result.code}: {result.err.strip()}")
        else:
            added.append(name)


def _assert_sqlite_integrity(store: str) -> None:
    path = sqlite_path(to_url(store))
    assert path is not None
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


# --- a writer that waits too long fails with one clear line --------------------------------------


class _HeldLock:
    """Another client holding the store's write lock, as a long-running writer would."""

    def __init__(self, store: str) -> None:
        self.url = to_url(store)
        self._sqlite = sqlite_path(self.url)

    def __enter__(self) -> _HeldLock:
        if self._sqlite is not None:
            self._con = sqlite3.connect(self._sqlite, isolation_level=None)
            self._con.execute("BEGIN IMMEDIATE")
        else:
            self._engine = create_engine(self.url)
            self._conn = self._engine.connect()
            self._conn.execute(text("SELECT id FROM store_meta WHERE id = 1 FOR UPDATE"))
        return self

    def __exit__(self, *_: object) -> None:
        if self._sqlite is not None:
            self._con.execute("ROLLBACK")
            self._con.close()
        else:
            self._conn.rollback()
            self._conn.close()
            self._engine.dispose()


def test_a_writer_waits_for_the_lock_then_fails_with_one_clear_line(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "BUSY_TIMEOUT_S", 1.0)
    before = dump_store(store)
    with Vault.open(store, passphrase=PASSPHRASE) as vault, _HeldLock(store):
        started = time.monotonic()
        with pytest.raises(ConflictError) as refused:
            vault.add_secret("billing", "API_KEY", "value")
        waited = time.monotonic() - started
    message = str(refused.value)
    assert "\n" not in message and "busy" in message and "1 s" in message
    assert "database is locked" not in message and "lock timeout" not in message
    assert 0.8 <= waited < 10, waited  # it waited for the holder, within its bound
    assert dump_store(store) == before


def test_a_writer_that_waits_gets_through_when_the_holder_finishes(store: str) -> None:
    result: list[object] = []
    with Vault.open(store, passphrase=PASSPHRASE) as vault:

        def write() -> None:
            try:
                result.append(vault.add_secret("billing", "API_KEY", "value").version)
            except Exception as exc:  # reported by the assertion below
                result.append(exc)

        with _HeldLock(store):
            worker = threading.Thread(target=write)
            worker.start()
            time.sleep(1.0)  # the writer is waiting now
            assert result == []
        worker.join(timeout=30)
        assert result == [1]
        assert vault.read_secret("billing", "API_KEY") == "value"


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # PostgreSQL: in-process above
def test_the_cli_reports_a_busy_store_in_one_line_after_its_bound(
    store: str, env: dict[str, str]
) -> None:
    """No 'database is locked' and no traceback reach the user; exit 1 after the 10 s bound."""
    before = dump_store(store)
    with _HeldLock(store):
        result = run_cli("secrets", "add", "billing", "API_KEY", env=env, input=b"value")
    assert_one_error_line(result, codes=(1,))
    assert "busy" in result.err and "database is locked" not in result.err
    assert constants.BUSY_TIMEOUT_S - 1 <= result.seconds < constants.BUSY_TIMEOUT_S + 30
    assert dump_store(store) == before
