"""Benchmark of the app (issue 3, "Speed"): prints medians and ratios, asserts nothing.

1. First frame: process start to the passphrase prompt on a 100x30 pseudo-terminal, `faas-tui`
   against a bare Textual app (Header, Static, Input, DataTable, Footer) in the same run. Goal ≤ 1.3x.
2. Unlock to dashboard: enter on the passphrase to the function list on screen, a 1,000 x 50 store
   against a one-function store (same KDF). Goal ≤ 1.5x.
3. Filtering the 1,000-function list and opening a function of 50 secrets (goal: one frame).

    python tests/bench/bench_app.py [--runs 7] [--functions 1000] [--secrets 50] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from pathlib import Path

PASSPHRASE = "bench passphrase"
MARKER = b"Passphrase"
BARE_APP = textwrap.dedent(
    """
    from textual.app import App
    from textual.widgets import DataTable, Footer, Header, Input, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("Unlock the store")
            yield Input(placeholder="Passphrase", password=True)
            yield DataTable()
            yield Footer()

    Bare().run()
    """
)


def first_frame_seconds(argv: list[str], env: dict[str, str], timeout: float = 30.0) -> float:
    """Seconds from spawning argv on a 100x30 pty until the marker text is written."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    seen = b""
    try:
        while MARKER not in seen:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                raise TimeoutError(f"no prompt from {argv[0]} within {timeout}s")
            seen = seen[-64:] + os.read(master, 65536)
        return time.perf_counter() - start
    finally:
        proc.kill()
        proc.wait()
        os.close(master)


def bench_first_frame(workdir: Path, runs: int) -> None:
    from faas_tui.store.crypto import KdfParams
    from faas_tui.store.vault import Vault

    store = workdir / "frame.db"
    if not store.exists():
        Vault.create(str(store), PASSPHRASE, kdf=KdfParams.fresh()).close()
    bare = workdir / "bare_app.py"
    bare.write_text(BARE_APP)
    script = shutil.which("faas-tui")
    faas = [script] if script else [sys.executable, "-m", "faas_tui"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAAS_TUI_")}
    env |= {"TERM": "xterm-256color", "FAAS_TUI_STORE": str(store)}
    bare_times, faas_times = [], []
    for _ in range(runs):  # alternate, so both see the same machine load
        bare_times.append(first_frame_seconds([sys.executable, str(bare)], env))
        faas_times.append(first_frame_seconds(faas, env))
    b, f = statistics.median(bare_times), statistics.median(faas_times)
    print(f"first frame: bare Textual {b * 1000:.0f} ms, faas-tui {f * 1000:.0f} ms")
    print(f"  ratio {f / b:.2f}x (goal <= 1.3x)")


def make_store(path: Path, functions: int, secrets: int) -> None:
    from faas_tui.demo import demo_data
    from faas_tui.store.crypto import KdfParams
    from faas_tui.store.vault import Vault

    if path.exists():
        return
    with Vault.create(str(path), PASSPHRASE, kdf=KdfParams.fresh()) as vault:
        vault.populate(demo_data(functions, secrets))


async def unlock_seconds(store: Path, expected_rows: int, runs: int) -> list[float]:
    """Enter on the passphrase until the dashboard shows every function, `runs` times."""
    from textual.widgets import Input

    from faas_tui.tui.app import make_app
    from faas_tui.tui.screens.dashboard import DashboardScreen

    app = make_app(str(store), local_clipboard=None)
    times: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(runs):
            await pilot.pause()
            app.screen.query_one("#passphrase", Input).value = PASSPHRASE
            start = time.perf_counter()
            app.screen.unlock()
            while not (
                isinstance(app.screen, DashboardScreen)
                and app.screen.query_one("#functions").row_count == expected_rows
            ):
                await asyncio.sleep(0.002)
            await pilot.pause()  # the frame that shows the list
            times.append(time.perf_counter() - start)
            await app.lock()
    return times


async def responsiveness(store: Path, runs: int) -> tuple[float, float]:
    """Median seconds to refilter the big list, and to open a function of 50 secrets."""
    from textual.widgets import Input

    from faas_tui.store.vault import Vault
    from faas_tui.tui.app import make_app
    from faas_tui.tui.screens.dashboard import DashboardScreen
    from faas_tui.tui.screens.function import FunctionScreen

    vault = Vault.open(str(store), passphrase=PASSPHRASE)
    app = make_app(str(store), vault=vault, local_clipboard=None)
    filters, opens = [], []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        field = dashboard.query_one("#filter", Input)
        for i in range(runs):
            for text in ("fn-0", "fn-00", ""):
                field.value = text
                start = time.perf_counter()
                dashboard._fill()
                filters.append(time.perf_counter() - start)
            info = vault.list_functions()[i * 11]
            start = time.perf_counter()
            app.open_function(info.name, info)
            while not (isinstance(app.screen, FunctionScreen) and app.screen.secrets):
                await asyncio.sleep(0.001)
            opens.append(time.perf_counter() - start)
            await pilot.pause()
            await app.workers.wait_for_complete()
            app.pop_screen()
            await pilot.pause()
    vault.close()
    return statistics.median(filters), statistics.median(opens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--secrets", type=int, default=50)
    parser.add_argument("--workdir", type=Path, default=None, help="reuse stores between runs")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="faas-tui-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    bench_first_frame(workdir, args.runs)

    small, big = workdir / "one.db", workdir / f"big-{args.functions}x{args.secrets}.db"
    make_store(small, 1, args.secrets)
    started = time.perf_counter()
    make_store(big, args.functions, args.secrets)
    print(f"(stores ready in {time.perf_counter() - started:.1f} s)")
    one = statistics.median(asyncio.run(unlock_seconds(small, 1, args.runs)))
    many = statistics.median(asyncio.run(unlock_seconds(big, args.functions, args.runs)))
    print(
        f"unlock to list: 1 function {one * 1000:.0f} ms, "
        f"{args.functions} x {args.secrets} {many * 1000:.0f} ms"
    )
    print(f"  ratio {many / one:.2f}x (goal <= 1.5x)")
    filter_s, open_s = asyncio.run(responsiveness(big, args.runs))
    print(
        f"filter {args.functions} functions: median {filter_s * 1000:.1f} ms; "
        f"open a function of {args.secrets} secrets: median {open_s * 1000:.1f} ms "
        "(one frame at 60 Hz is 16.7 ms)"
    )


if __name__ == "__main__":
    main()
