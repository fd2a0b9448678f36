"""Uncached runtime reads while two operators write, on each backend: writers never stall readers.

A runtime reads one secret with `use_cache=False` in a loop, first alone, then while two operators
update, add and delete secrets of a 500-secret function. It prints both read counts and the worst
read. The goals (at least half the idle rate, worst read under 50 ms on PostgreSQL) are printed;
the assertions are looser, so a loaded 2-core machine does not make the test flaky, but a writer
that locks readers out (a table rewrite on every delete did) still fails it.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import PASSPHRASE

from reliability import _busy
from reliability._support import backend_of, record_figure, worker_processes

# Each phase holds 2.5 s (was 4 s): under two operators that is still a few thousand reads and
# dozens of writes of the 500-secret function, and a writer that locks readers out for a table
# rewrite stalls one read by far more than the 1 s the test allows.
HOLD_S = 2.5
OPERATORS = 2


def test_uncached_reads_keep_going_while_two_operators_write(
    store_url: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "runtime.key"
    _busy.fill_store(store_url, key_file)

    idle = _run(store_url, key_file, tmp_path / "idle", operators=0)
    busy = _run(store_url, key_file, tmp_path / "busy", operators=OPERATORS)

    backend = backend_of(store_url)
    ratio = busy["reads"] / max(idle["reads"], 1)
    worst_ms = busy["worst_s"] * 1000
    print(
        f"\n{backend}: uncached reads in {HOLD_S:g} s: idle {idle['reads']}, under {OPERATORS} "
        f"writing operators {busy['reads']} ({ratio:.2f} of idle; goal >= 0.5), worst read "
        f"{worst_ms:.1f} ms (idle {idle['worst_s'] * 1000:.1f} ms; goal < 50 ms); operator writes "
        f"{busy['writes']}; the reader had {idle['cpu_s'] / HOLD_S:.0%} of a core alone, "
        f"{busy['cpu_s'] / HOLD_S:.0%} under writers; reads per CPU-second "
        f"{idle['reads'] / max(idle['cpu_s'], 1e-9):.0f} vs {busy['reads'] / max(busy['cpu_s'], 1e-9):.0f}"
    )
    record_figure(
        "readers",
        backend,
        1,
        seconds=HOLD_S,
        idle=idle["reads"],
        busy=busy["reads"],
        writes=busy["writes"],
        worst_ms=round(worst_ms, 1),
        secrets=_busy.BUSY_SECRETS,
    )
    assert idle["errors"] == busy["errors"] == [], (idle["errors"] + busy["errors"])[:5]
    assert busy["writes"] > 0 and idle["reads"] > 0
    # Loose bounds (see the docstring): readers behind an exclusive lock fall far below these.
    assert ratio >= 0.25, (idle["reads"], busy["reads"])
    assert busy["worst_s"] < 1.0, busy["worst_s"]


def _run(store: str, key_file: Path, folder: Path, *, operators: int) -> dict[str, object]:
    """One phase: the runtime reading for HOLD_S seconds, with `operators` writing meanwhile."""
    folder.mkdir()
    ctx = worker_processes()
    start = ctx.Barrier(operators + 2)
    stop = ctx.Event()
    processes = [
        ctx.Process(
            target=_busy.runtime,
            args=(store, str(key_file), start, HOLD_S, stop, str(folder / "runtime.json")),
        )
    ]
    for i in range(operators):
        out = str(folder / f"operator{i}.json")
        processes.append(
            ctx.Process(target=_busy.operator, args=(store, PASSPHRASE, f"op{i}", start, stop, out))
        )
    for proc in processes:
        proc.start()
    try:
        start.wait(timeout=120)
        for proc in processes:
            proc.join(timeout=HOLD_S + 60)
    finally:
        stop.set()
        for proc in processes:
            if proc.is_alive():
                proc.kill()
    assert [proc.exitcode for proc in processes] == [0] * len(processes)
    reader = json.loads((folder / "runtime.json").read_text())
    writers = [json.loads((folder / f"operator{i}.json").read_text()) for i in range(operators)]
    return {
        "reads": reader["reads"],
        "worst_s": reader["worst_s"],
        "cpu_s": reader["cpu_s"],
        "writes": sum(w["ops"] for w in writers),
        "errors": reader["errors"] + [e for w in writers for e in w["errors"]],
    }
