"""Benchmark: `Vault.audit` against listing every secret name of the same store, in one run.

"Listing every secret name" is one Vault-style read: a read transaction and one query that returns
(function name, secret name) for every secret, system ones included, through the ORM session as
every Vault listing is written (`s.exec(select(...)).all()`). That is the floor of issue 5: the
audit must stay within 2x of it. Two leaner ways to list the same names are timed too and their
ratios printed, so nobody has to take the headline on trust: SQLAlchemy Core rows, and the
driver's own tuples (the plumbing the audit's main query uses).

Runs are interleaved (floor, audit, floor, audit, ...) so that both see the same machine load.
On SQLite, which runs inside this process, times are this process's CPU time, so that other jobs
on a shared machine do not blur them (`--wall` for wall-clock); on PostgreSQL, whose work happens
in the server's processes, they are wall-clock. Two regimes: "as shipped"
(the cycle collector on, as in the app; `Vault.audit` pauses it while it builds its rows, a plain
listing does not) is the headline; "collector off for both" (what `timeit` does) is printed too,
to show what the audit's own pause is worth. Not a test: run it by hand; it exits 1 when the
headline ratio (of medians) is over the limit.

    python tests/bench/bench_audit.py                     # 1,000 functions x 50 secrets, SQLite
    python tests/bench/bench_audit.py --store /tmp/b.db   # kept, reused by the next run
    python tests/bench/bench_audit.py --store postgresql+psycopg://postgres@127.0.0.1:54329/bench
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import select

from faas_tui.demo import demo_data, demo_deployments
from faas_tui.store.audit import driver_rows
from faas_tui.store.crypto import KdfParams
from faas_tui.store.models import Function, Secret
from faas_tui.store.transactions import Transactions
from faas_tui.store.vault import Vault

PASSPHRASE = "bench passphrase"
LIMIT = 2.0
NAMES_QUERY = select(Function.name, Secret.name).join(Function)


def reads(vault: Vault) -> Transactions:
    """Read sessions exactly like the Vault's own (one snapshot; REPEATABLE READ on PostgreSQL)."""
    return Transactions(vault.engine, read_only=True)


def names_orm(vault: Vault) -> list[Any]:
    """The floor: every (function, secret name) pair, as a Vault method would list them."""
    with reads(vault).read() as s:
        return list(s.exec(NAMES_QUERY).all())


def names_core(vault: Vault) -> list[Any]:
    with reads(vault).read() as s:
        return list(s.connection().execute(NAMES_QUERY))


def names_driver(vault: Vault) -> list[Any]:
    with reads(vault).read() as s:
        return driver_rows(s.connection(), NAMES_QUERY)


FLOORS: dict[str, Callable[[Vault], list[Any]]] = {
    "names, ORM rows (floor)": names_orm,
    "names, Core rows": names_core,
    "names, driver tuples": names_driver,
}


def build_store(store: str, functions: int, per_function: int) -> None:
    """Fill a new store like `faas-tui demo --no-tui`: populate, then deploy every other function."""
    weak_kdf = KdfParams(salt=os.urandom(16), memory_kib=8 * 1024, iterations=1, lanes=1)
    with Vault.create(store, PASSPHRASE, kdf=weak_kdf) as vault:
        data = demo_data(functions, per_function)
        vault.populate(data)
        for name in demo_deployments(data):
            vault.deploy(name)


def measure(
    vault: Vault, runs: int, *, collector: bool, clock: Callable[[], float]
) -> dict[str, list[float]]:
    """Times of every floor and of the audit, interleaved, after one warm-up round."""
    actions: dict[str, Callable[[], object]] = {
        label: (lambda f=f: f(vault)) for label, f in FLOORS.items()
    }
    actions["audit"] = vault.audit
    times: dict[str, list[float]] = {label: [] for label in actions}
    for round_ in range(runs + 1):
        for label, action in actions.items():
            gc.collect()
            if not collector:
                gc.disable()
            start = clock()
            action()
            elapsed = clock() - start
            gc.enable()
            if round_:
                times[label].append(elapsed)
    return times


def report(title: str, times: dict[str, list[float]]) -> float:
    """Print the times and the audit's ratios; returns the ratio to the floor (of medians)."""
    print(title)
    audit = times.pop("audit")
    print(f"  {'audit':26s} min {min(audit) * 1e3:6.0f} ms   median {_median_ms(audit):6.0f} ms")
    ratios = []
    for label, floor in times.items():
        ratio = statistics.median(audit) / statistics.median(floor)
        ratios.append(ratio)
        print(
            f"  {label:26s} min {min(floor) * 1e3:6.0f} ms   median {_median_ms(floor):6.0f} ms"
            f"   audit / this: {ratio:.2f}x (medians), {min(audit) / min(floor):.2f}x (minima)"
        )
    return ratios[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--store", help="an existing or new store (default: a temporary SQLite)")
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--secrets-per-function", type=int, default=50)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--wall", action="store_true", help="wall-clock times even on SQLite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="faas-tui-bench-") as folder:
        store = args.store or str(Path(folder) / "store.db")
        if not Vault.exists(store):
            start = time.perf_counter()
            build_store(store, args.functions, args.secrets_per_function)
            print(f"built the store in {time.perf_counter() - start:.1f} s")
        with Vault.open(store, passphrase=PASSPHRASE, read_only=True) as vault:
            secrets = len(names_orm(vault))
            rows = len(vault.audit())
            print(f"{secrets} secrets (system ones included), {rows} audit rows, {args.runs} runs")
            cpu = reads(vault).sqlite and not args.wall
            clock = time.process_time if cpu else time.perf_counter
            print(f"times: {'CPU time of this process' if cpu else 'wall clock'}")
            shipped = measure(vault, args.runs, collector=True, clock=clock)
            quiet = measure(vault, args.runs, collector=False, clock=clock)
    headline = report("as shipped (cycle collector on):", shipped)
    report("collector off for both (timeit-style):", quiet)
    verdict = "ok" if headline <= LIMIT else "TOO SLOW"
    print(
        f"headline: audit = {headline:.2f}x listing every secret name (limit {LIMIT:.0f}x): {verdict}"
    )
    return 0 if headline <= LIMIT else 1


def _median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1e3


if __name__ == "__main__":
    sys.exit(main())
