"""Benchmark of the app in a real terminal (tmux): prints medians and ratios, asserts nothing.

1. First frame: process start to the passphrase prompt on screen in a fresh 100x30 tmux window,
   `faas-tui` against a bare Textual app (Header, Static, Input, DataTable, Footer), alternating,
   median of N runs, with the spread (min/quartiles/max) and the ratio of each pair. Goal <= 1.3x. (A bare pty never answers Textual's terminal queries, so both
   sides would wait about a second for a timeout; tmux answers them as a user's terminal does.)
2. Unlock to dashboard, also in tmux: enter on the passphrase to the function list on screen, a
   1,000 x 50 store against a one-function store (same KDF). Goal <= 1.5x.
3. In-process (Pilot): filtering the 1,000-function list and opening a function of 50 secrets,
   each until the table is filled and measured (goal: one frame).

    python tests/bench/bench_app.py [--runs 7] [--functions 1000] [--secrets 50] [--workdir DIR]
                                    [--first-frame]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

PASSPHRASE = "bench passphrase"
PROMPT = "Passphrase"
SIZE = (100, 30)
POLL_S = 0.003
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


class Terminal:
    """A private tmux server; each program runs in a fresh session of a fixed size."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("tmux") is None:
            raise SystemExit("bench_app.py needs tmux (apt-get install tmux)")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("FAAS_TUI_", "TMUX"))}
        self.env |= {"TERM": "xterm-256color", "TMUX_TMPDIR": str(workdir)}
        self.count = 0
        # a session that keeps the server up, so no run pays for starting it
        self.tmux("new-session", "-d", "-s", "keep", "-x", "20", "-y", "5", "sleep 100000")

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", *args], env=self.env, capture_output=True, text=True)
        return done.stdout

    def pane(self, session: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", session)

    def start(self, argv: list[str], env: dict[str, str]) -> str:
        self.count += 1
        session = f"run{self.count}"
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        command = f"env {exports} {' '.join(argv)}"
        width, height = SIZE
        self.tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height), command)
        return session

    def wait_for(self, session: str, shown: Callable[[str], bool], timeout: float = 60.0) -> None:
        deadline = time.perf_counter() + timeout
        while not shown(self.pane(session)):
            if time.perf_counter() > deadline:
                raise TimeoutError(
                    f"{session}: not on screen within {timeout} s:\n{self.pane(session)}"
                )
            time.sleep(POLL_S)

    def stop(self, session: str) -> None:
        self.tmux("kill-session", "-t", session)

    def close(self) -> None:
        self.tmux("kill-server")


def first_frame_seconds(term: Terminal, argv: list[str], env: dict[str, str]) -> float:
    """Seconds from starting argv in a fresh tmux session until the prompt is on screen."""
    start = time.perf_counter()
    session = term.start(argv, env)
    try:
        term.wait_for(session, lambda pane: PROMPT in pane)
        return time.perf_counter() - start
    finally:
        term.stop(session)


def faas_command() -> list[str]:
    """The console script of this interpreter's environment (what a venv or pipx user runs), so
    a version manager's shim on PATH (pyenv's is a bash script) is not timed with it."""
    beside = Path(sys.executable).parent / "faas-tui"
    script = str(beside) if beside.is_file() else shutil.which("faas-tui")
    return [script] if script else [sys.executable, "-m", "faas_tui"]


def bench_first_frame(term: Terminal, workdir: Path, runs: int) -> None:
    from faas_tui.store.crypto import KdfParams
    from faas_tui.store.vault import Vault

    store = workdir / "frame.db"
    if not store.exists():
        Vault.create(str(store), PASSPHRASE, kdf=KdfParams.fresh()).close()
    bare = workdir / "bare_app.py"
    bare.write_text(BARE_APP)
    env = {"FAAS_TUI_STORE": str(store)}
    first_frame_seconds(term, [sys.executable, str(bare)], env)  # warm the file cache
    first_frame_seconds(term, faas_command(), env)
    bare_times, faas_times = [], []
    for _ in range(runs):  # alternate, so both see the same machine load
        bare_times.append(first_frame_seconds(term, [sys.executable, str(bare)], env))
        faas_times.append(first_frame_seconds(term, faas_command(), env))
    b, f = statistics.median(bare_times), statistics.median(faas_times)
    ratios = sorted(ft / bt for bt, ft in zip(bare_times, faas_times, strict=True))
    print(f"first frame (tmux {SIZE[0]}x{SIZE[1]}, median of {runs}): ", end="")
    print(f"bare Textual {b * 1000:.0f} ms, faas-tui {f * 1000:.0f} ms")
    print(f"  ratio {f / b:.2f}x (goal <= 1.3x)")
    print(
        f"  spread: bare {spread(bare_times)}, faas-tui {spread(faas_times)}; ratio of each "
        f"pair from {ratios[0]:.2f}x to {ratios[-1]:.2f}x, median {statistics.median(ratios):.2f}x"
    )


def spread(times: list[float]) -> str:
    """The fastest, the quartiles and the slowest run, in ms."""
    if len(times) < 2:
        return f"{times[0] * 1000:.0f} ms"
    q1, _, q3 = statistics.quantiles(times, n=4)
    return f"{min(times) * 1000:.0f}/{q1 * 1000:.0f}/{q3 * 1000:.0f}/{max(times) * 1000:.0f} ms"


def make_store(path: Path, functions: int, secrets: int) -> None:
    from faas_tui.demo import demo_data
    from faas_tui.store.crypto import KdfParams
    from faas_tui.store.vault import Vault

    if path.exists():
        return
    with Vault.create(str(path), PASSPHRASE, kdf=KdfParams.fresh()) as vault:
        vault.populate(demo_data(functions, secrets))


def unlock_seconds(term: Terminal, store: Path, functions: int, runs: int) -> list[float]:
    """Enter on the passphrase until the dashboard says how many functions it lists, in tmux."""
    listed = f"{functions} function" if functions == 1 else f"{functions} functions"
    times: list[float] = []
    for _ in range(runs + 1):  # the first run warms the file cache and is left out
        session = term.start(faas_command(), {"FAAS_TUI_STORE": str(store)})
        try:
            term.wait_for(session, lambda pane: PROMPT in pane)
            term.tmux("send-keys", "-t", session, "-l", PASSPHRASE)
            term.wait_for(session, lambda pane: "•" * len(PASSPHRASE) in pane)
            start = time.perf_counter()
            term.tmux("send-keys", "-t", session, "Enter")
            term.wait_for(session, lambda pane: listed in pane)
            times.append(time.perf_counter() - start)
        finally:
            term.stop(session)
    return times[1:]


async def responsiveness(store: Path, runs: int) -> tuple[float, float, float]:
    """Medians: refiltering the big list (the call, then until the table is measured and idle),
    and opening a function of 50 secrets until its list is on screen."""
    from textual.widgets import Input

    from faas_tui.store.vault import Vault
    from faas_tui.tui.app import FaasApp
    from faas_tui.tui.screens.dashboard import DashboardScreen
    from faas_tui.tui.screens.function import FunctionScreen

    vault = Vault.open(str(store), passphrase=PASSPHRASE)
    app = FaasApp(str(store), vault=vault, local_clipboard=None)
    calls, idles, opens = [], [], []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        field = dashboard.query_one("#filter", Input)
        functions = vault.list_functions()
        for i in range(runs):
            for text in ("fn-0", "fn-00", ""):
                field.value = text
                await pilot.pause()
                start = time.perf_counter()
                dashboard._fill()
                calls.append(time.perf_counter() - start)
                await pilot.pause()
                idles.append(time.perf_counter() - start)
            info = functions[(i * 11) % len(functions)]
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
    return statistics.median(calls), statistics.median(idles), statistics.median(opens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--secrets", type=int, default=50)
    parser.add_argument("--workdir", type=Path, default=None, help="reuse stores between runs")
    parser.add_argument("--first-frame", action="store_true", help="measure the first frame only")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="faas-tui-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    term = Terminal(workdir)
    try:
        bench_first_frame(term, workdir, args.runs)
        if args.first_frame:
            return
        small, big = workdir / "one.db", workdir / f"big-{args.functions}x{args.secrets}.db"
        make_store(small, 1, args.secrets)
        started = time.perf_counter()
        make_store(big, args.functions, args.secrets)
        print(f"(stores ready in {time.perf_counter() - started:.1f} s)")
        one = statistics.median(unlock_seconds(term, small, 1, args.runs))
        many = statistics.median(unlock_seconds(term, big, args.functions, args.runs))
    finally:
        term.close()
    print(
        f"unlock to list (tmux, median of {args.runs}): 1 function {one * 1000:.0f} ms, "
        f"{args.functions} x {args.secrets} {many * 1000:.0f} ms"
    )
    print(f"  ratio {many / one:.2f}x (goal <= 1.5x)")
    call_s, idle_s, open_s = asyncio.run(responsiveness(big, args.runs))
    print(
        f"filter {args.functions} functions: median {call_s * 1000:.1f} ms for the refill, "
        f"{idle_s * 1000:.1f} ms until the table is measured; open a function of "
        f"{args.secrets} secrets: median {open_s * 1000:.1f} ms (one frame at 60 Hz is 16.7 ms)"
    )


if __name__ == "__main__":
    main()
