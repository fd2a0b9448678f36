"""Benchmark: `faas-tui secrets list FUNCTION` on a big store against the same on a one-secret store.

Issue 2's goal: unlocking costs one Argon2id derivation and nothing else that grows with the store,
so listing one function's secrets in a store of 1,000 functions x 50 secrets stays within 1.5x of
listing it in a store holding a single secret. Both stores are filled by `faas-tui demo --no-tui`
(real Argon2id parameters), and the timed command is the installed console script in a
subprocess, as a user runs it. Runs are interleaved (small, big, small, big, ...) so that both
see the same machine load; the medians are compared.

Also printed, for context: the time to fill the big store, one Argon2id derivation with the
store's parameters, and the interpreter start plus imports that every command pays.

Not a test: run it by hand; it exits 1 when the ratio is over the goal.

    python tests/bench/bench_store.py                    # 1,000 x 50, 9 runs each
    python tests/bench/bench_store.py --keep /tmp/bench  # reuse the stores in /tmp/bench
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.5
PASSPHRASE = "bench passphrase"
FUNCTION = "fn-0000"  # the first function `demo` generates, in both stores


def faas_tui() -> list[str]:
    script = shutil.which("faas-tui")
    return [script] if script else [sys.executable, "-m", "faas_tui"]


def bench_env(store: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAAS_TUI_")}
    return env | {"FAAS_TUI_STORE": str(store), "FAAS_TUI_PASSPHRASE": PASSPHRASE}


def fill(store: Path, functions: int, secrets: int) -> float:
    """Create and fill a store with `faas-tui demo --no-tui`; returns the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [
            *faas_tui(),
            "demo",
            "--no-tui",
            "--functions",
            str(functions),
            "--secrets-per-function",
            str(secrets),
            "--store",
            str(store),
        ],
        env=bench_env(store),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def time_command(store: Path, *args: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run([*faas_tui(), *args], env=bench_env(store), capture_output=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0 or proc.stderr:
        raise SystemExit(f"{' '.join(args)} on {store} failed: {proc.stderr.decode().strip()}")
    return elapsed


def time_startup() -> float:
    """The interpreter plus the imports every command that opens a store pays."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import faas_tui.cli, faas_tui.store.vault"], check=True)
    return time.perf_counter() - started


def time_argon2(store: Path) -> float:
    """One Argon2id derivation with the parameters stored in the passphrase slot."""
    from sqlmodel import Session, select

    from faas_tui.store import crypto, database
    from faas_tui.store.models import KeySlot

    engine = database.make_engine(database.to_url(str(store)))
    with Session(engine) as s:
        slot = s.exec(select(KeySlot).where(KeySlot.kind == "passphrase")).one()
    engine.dispose()
    params = crypto.KdfParams(
        slot.salt or b"", slot.kdf_memory_kib or 0, slot.kdf_iterations or 0, slot.kdf_lanes or 0
    )
    started = time.perf_counter()
    crypto.derive_passphrase_key(PASSPHRASE, params)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--secrets-per-function", type=int, default=50)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", type=Path, help="a folder to keep (and reuse) the stores in")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="faas-tui-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    big = folder / f"big-{args.functions}x{args.secrets_per_function}.db"
    small = folder / "small-1x1.db"
    try:
        if not small.exists():
            fill(small, 1, 1)
        fill_time = None
        if not big.exists():
            fill_time = fill(big, args.functions, args.secrets_per_function)
        total = args.functions * args.secrets_per_function

        for store in (small, big):  # warm the page cache and the interpreter's files
            time_command(store, "secrets", "list", FUNCTION)
        small_times, big_times = [], []
        for _ in range(args.runs):
            small_times.append(time_command(small, "secrets", "list", FUNCTION))
            big_times.append(time_command(big, "secrets", "list", FUNCTION))
        argon2 = statistics.median(time_argon2(small) for _ in range(3))
        startup = statistics.median(time_startup() for _ in range(3))

        small_median = statistics.median(small_times)
        big_median = statistics.median(big_times)
        ratio = big_median / small_median
        print(f"stores in {folder}")
        if fill_time is not None:
            print(
                f"fill (faas-tui demo --no-tui): {fill_time:.1f} s for {args.functions:,} "
                f"functions x {args.secrets_per_function} secrets ({total:,} secrets, "
                f"{big.stat().st_size / 1e6:.0f} MB)"
            )
        print(f"start-up and imports:        {startup * 1000:6.0f} ms")
        print(f"unlock (Argon2id, one run):  {argon2 * 1000:6.0f} ms")
        print(f"secrets list, 1 secret:      {small_median * 1000:6.0f} ms (median of {args.runs})")
        print(
            f"secrets list, {total:,} secrets: {big_median * 1000:6.0f} ms (median of {args.runs})"
        )
        verdict = "ok" if ratio <= GOAL else "MISSED"
        print(f"ratio big/small: {ratio:.2f}x (goal <= {GOAL}x): {verdict}")
        return 0 if ratio <= GOAL else 1
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
