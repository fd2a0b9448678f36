"""Benchmark: uncached runtime reads under two writing operators, beside a floor reader and with
the CPU seconds of every process, so that lock waits can be told apart from sharing the cores.

Not a test: run it by hand. The scene is tests/reliability/test_readers_under_writers.py's (a
runtime reads one secret with `use_cache=False` in a loop for HOLD seconds, first alone, then while
two operators update, add and delete secrets of a 500-secret function). Each round runs it twice:
with the toolbelt's reader and with a floor reader (one prepared point select + AES-GCM decrypt on
a kept connection: psycopg on PostgreSQL, sqlite3 on SQLite), which takes no lock and checks
nothing. A floor that loses as much under the writers as the toolbelt does shows that the readers
lose CPU, not lock waits. Per phase it prints reads, the worst read, and CPU seconds (from /proc)
of the reader, the writers, the PostgreSQL server's processes (all of them, when the server runs on
this machine) and the machine as a whole (other work included).

    python tests/bench/bench_readers_under_writers.py                     # both backends, 3 rounds
    python tests/bench/bench_readers_under_writers.py --backend postgres --rounds 5
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: reliability, conftest

from conftest import PASSPHRASE  # noqa: E402
from reliability import _busy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/bench: bench_toolbelt
from bench_toolbelt import floor_material, pg_database  # noqa: E402

from faas_tui.store.vault import Vault  # noqa: E402

OPERATORS = 2
ROW_SQL = "SELECT nonce, ciphertext FROM secret_version WHERE id = ?"
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def floor_reader(
    store: str, floor: tuple[str, str, int], start: Any, hold_s: float, stop: Any, out: str
) -> None:
    """The floor: a prepared point select of the value's row and its decrypt, in a loop."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key_hex, aad_hex, row_id = floor
    aead, aad = AESGCM(bytes.fromhex(key_hex)), bytes.fromhex(aad_hex)
    if store.startswith("postgresql"):
        import psycopg

        con: Any = psycopg.connect(libpq(store), autocommit=True, prepare_threshold=0)
        cur, sql = con.cursor(binary=True), ROW_SQL.replace("?", "%s")
    else:
        import sqlite3

        con = sqlite3.connect(f"file:{store}?mode=ro", uri=True, isolation_level=None)
        cur, sql = con, ROW_SQL
    expected = aead.decrypt(*cur.execute(sql, (row_id,)).fetchone(), aad)
    reads, worst, errors = 0, 0.0, []
    start.wait(timeout=120)
    cpu = time.process_time()
    deadline = time.monotonic() + hold_s
    while (now := time.monotonic()) < deadline:
        nonce, ciphertext = cur.execute(sql, (row_id,)).fetchone()
        if aead.decrypt(nonce, ciphertext, aad) != expected:
            errors.append("a read returned another value")
        worst = max(worst, time.monotonic() - now)
        reads += 1
    cpu = time.process_time() - cpu
    stop.set()
    con.close()
    Path(out).write_text(json.dumps({"reads": reads, "worst_s": worst, "cpu_s": cpu, "errors": errors}))


def libpq(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def cpu_seconds(pid: int) -> float | None:
    """user + system CPU seconds of one process, or None when it is gone (or not Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, over all cores."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    return (sum(values) - values[3] - values[4]) / TICK, sum(values) / TICK


def server_pids() -> list[int]:
    """The PostgreSQL server's processes on this machine (none when it runs elsewhere)."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == "postgres":
                        found.append(int(entry))
            except OSError:
                pass
    return found


class CpuMeter:
    """CPU seconds of named processes and the machine between start() and stop(), sampled (the
    processes exit right after their hold, so the last sample before that is their figure)."""

    def __init__(self, named: dict[str, list[int]]) -> None:
        self.named = named
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        for pid in {p for pids in self.named.values() for p in pids}:
            seconds = cpu_seconds(pid)
            if seconds is not None:
                self.first[pid] = self.last[pid] = seconds
        self.machine = machine_seconds()
        self.machine_last = self.machine
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            for pid in self.first:
                seconds = cpu_seconds(pid)
                if seconds is not None:
                    self.last[pid] = seconds
            self.machine_last = machine_seconds()

    def stop(self) -> dict[str, float]:
        self._done.set()
        self._thread.join()
        result = {
            name: sum(self.last[p] - self.first[p] for p in pids if p in self.first)
            for name, pids in self.named.items()
        }
        busy = self.machine_last[0] - self.machine[0]
        total = self.machine_last[1] - self.machine[1]
        result["machine cores busy"] = busy / total * (os.cpu_count() or 1) if total else 0.0
        return result


def phase(
    store: str, key_file: Path, floor: tuple[str, str, int] | None, operators: int, hold_s: float
) -> dict[str, Any]:
    """One reader (the toolbelt's, or the floor when given) for hold_s, with `operators` writing."""
    folder = Path(tempfile.mkdtemp(prefix="phase-"))
    ctx = multiprocessing.get_context("spawn")
    start, stop = ctx.Barrier(operators + 2), ctx.Event()
    out = str(folder / "reader.json")
    if floor is None:
        reader = ctx.Process(target=_busy.runtime, args=(store, str(key_file), start, hold_s, stop, out))
    else:
        reader = ctx.Process(target=floor_reader, args=(store, floor, start, hold_s, stop, out))
    writers = [
        ctx.Process(
            target=_busy.operator,
            args=(store, PASSPHRASE, f"op{i}", start, stop, str(folder / f"op{i}.json")),
        )
        for i in range(operators)
    ]
    for proc in (reader, *writers):
        proc.start()
    named = {"reader": [reader.pid or 0], "writers": [w.pid or 0 for w in writers]}
    start.wait(timeout=120)  # every process has its connection now
    if store.startswith("postgresql"):
        named["server"] = server_pids()
    meter = CpuMeter(named)
    meter.start()
    for proc in (reader, *writers):
        proc.join(timeout=hold_s + 60)
    cpu = meter.stop()
    result = json.loads(Path(out).read_text())
    ops = [json.loads((folder / f"op{i}.json").read_text()) for i in range(operators)]
    errors = result["errors"] + [e for o in ops for e in o["errors"]]
    if errors:
        raise SystemExit(f"errors: {errors[:3]}")
    return {**result, "writes": sum(o["ops"] for o in ops), "cpu": cpu}


def make_store(url: str, folder: Path) -> tuple[Path, tuple[str, str, int]]:
    """The reliability test's store; the runtime's key file and the floor's key, AAD and row."""
    key_file = folder / f"runtime-{uuid.uuid4().hex[:6]}.key"
    _busy.fill_store(url, key_file)
    with Vault.open(url, passphrase=PASSPHRASE) as vault:
        key, aad, row_id = floor_material(vault, _busy.READ_FUNCTION, _busy.READ_NAME)
    return key_file, (key.hex(), aad.hex(), row_id)


def describe(label: str, idle: dict[str, Any], busy: dict[str, Any], hold_s: float) -> float:
    ratio = busy["reads"] / max(idle["reads"], 1)
    cpu = "  ".join(
        f"{name} {idle['cpu'].get(name, 0):.2f}/{busy['cpu'][name]:.2f}" for name in busy["cpu"]
    )
    print(
        f"  {label:8} reads {idle['reads']:6} -> {busy['reads']:6} ({ratio:.2f} of idle), worst "
        f"{idle['worst_s'] * 1e3:5.1f} -> {busy['worst_s'] * 1e3:5.1f} ms, writes {busy['writes']:3}; "
        f"CPU s in {hold_s:g} s idle/busy: {cpu}"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hold", type=float, default=4.0, help="seconds per phase (default 4)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg", default=os.environ.get("FAAS_TUI_TEST_PG_URL", ""), metavar="URL")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends and not args.pg:
        raise SystemExit("PostgreSQL needs --pg URL or FAAS_TUI_TEST_PG_URL")
    print(f"reads under {OPERATORS} writing operators ({_busy.BUSY_SECRETS}-secret function), {args.hold:g} s a phase")
    with tempfile.TemporaryDirectory(prefix="faas-tui-bench-") as folder:
        for backend in backends:
            if backend == "postgres":
                with pg_database(args.pg) as url:
                    rounds(url, Path(folder), args.rounds, args.hold)
            else:
                rounds(str(Path(folder) / "store" / "store.db"), Path(folder), args.rounds, args.hold)
    return 0


def rounds(url: str, folder: Path, count: int, hold_s: float) -> None:
    backend = "postgres" if url.startswith("postgresql") else "sqlite"
    key_file, floor = make_store(url, folder)
    ratios: dict[str, list[float]] = {"toolbelt": [], "floor": []}
    for number in range(1, count + 1):
        print(f"{backend}, round {number}")
        for label, reader in (("toolbelt", None), ("floor", floor)):
            idle = phase(url, key_file, reader, 0, hold_s)
            busy = phase(url, key_file, reader, OPERATORS, hold_s)
            ratios[label].append(describe(label, idle, busy, hold_s))
    print(
        f"{backend}: median ratio under writers: toolbelt {statistics.median(ratios['toolbelt']):.2f}, "
        f"floor {statistics.median(ratios['floor']):.2f} (goal for the toolbelt >= 0.5)"
    )


if __name__ == "__main__":
    sys.exit(main())
