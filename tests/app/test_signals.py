"""The app process's signals, with real signals in a child process: the first SIGHUP or SIGTERM
quits, every later one is ignored by the kernel (never its default, terminate), and a SIGCONT
without a suspension does not restart the terminal driver (after a hangup it hung the exit)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import asyncio, os, signal
    from faas_tui.tui.signals import ProcessSignals

    calls = []
    signal.signal(signal.SIGTSTP, lambda *a: calls.append("driver suspends"))
    signal.signal(signal.SIGCONT, lambda *a: calls.append("driver resumes"))
    signals = ProcessSignals()
    signals.install()

    async def main():
        quitting = asyncio.Event()

        def quit(signum):
            calls.append(f"quit {signum}")
            quitting.set()

        signals.attach(quit)
        os.kill(os.getpid(), signal.SIGCONT)  # stray: no suspension before it
        await asyncio.sleep(0)
        os.kill(os.getpid(), signal.SIGTSTP)
        os.kill(os.getpid(), signal.SIGCONT)
        os.kill(os.getpid(), signal.SIGHUP)
        os.kill(os.getpid(), signal.SIGHUP)  # a second hangup: ignored
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(quitting.wait(), 30)
        os.kill(os.getpid(), signal.SIGCONT)  # quitting: nothing resumes
        signals.detach()

    asyncio.run(main())
    os.kill(os.getpid(), signal.SIGHUP)  # after the app, during the caller's cleanup
    ignored = [signal.getsignal(s) == signal.SIG_IGN for s in (signal.SIGHUP, signal.SIGTERM)]
    print(calls, signals.received, ignored, signal.getsignal(signal.SIGCONT) == signal.SIG_DFL)
    """
)


def run_child(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_quit_signals_quit_once_and_a_stray_sigcont_restarts_nothing() -> None:
    expected = ["driver suspends", "driver resumes", "quit 1"]
    assert run_child(CHILD) == f"{expected} 1 [True, True] True"


def test_a_quit_signal_before_the_app_runs_quits_it_as_soon_as_it_does() -> None:
    code = textwrap.dedent(
        """
        import asyncio, os, signal
        from faas_tui.tui.signals import ProcessSignals

        signals = ProcessSignals()
        signals.install()
        os.kill(os.getpid(), signal.SIGTERM)  # while the app is still starting
        calls = []

        async def main():
            signals.attach(calls.append)

        asyncio.run(main())
        print(calls)
        """
    )
    assert run_child(code) == "[15]"
