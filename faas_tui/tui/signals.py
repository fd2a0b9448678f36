"""The app process's signals: SIGHUP and SIGTERM quit like ctrl+q and nothing cuts the cleanup
short; a stray SIGCONT (sent with the hangup when the terminal's shell exits) restarts nothing.

Why not asyncio's `add_signal_handler`: removing it resets the signal to its default (terminate),
so a second hangup after the app stopped but before the demo store was removed killed the
process. Why SIGCONT: Textual's terminal driver resumes its terminal mode on any SIGCONT, even
without a suspension; after a hangup that starts a writer thread on the dead terminal, which
fails, and the app's exit then waits on it forever (the demo store was never removed).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from contextlib import suppress
from types import FrameType
from typing import Any

QUIT_SIGNALS = (signal.SIGHUP, signal.SIGTERM)  # a closed terminal, a polite kill: quit cleanly
Handler = Callable[[int, FrameType | None], Any]


class ProcessSignals:
    """The quit signals from `install()` until the process ends; the terminal driver's
    suspend/resume signals while the app runs (`attach` … `detach`)."""

    def __init__(self) -> None:
        self.received: int | None = None  # the first quit signal, once one came
        self._quit: Callable[[int], object] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._suspended = False  # the driver suspended the app (SIGTSTP) and awaits SIGCONT
        self._driver_stop: Handler | None = None
        self._driver_continue: Handler | None = None

    def install(self) -> None:
        """Own SIGHUP and SIGTERM before the app starts, so one during its startup is not lost.
        They stay owned until the process ends: the caller's cleanup runs after the app."""
        for signum in QUIT_SIGNALS:
            signal.signal(signum, self._on_quit_signal)

    def attach(self, quit: Callable[[int], object]) -> None:
        """The app runs (call from its on_mount, in the event loop): a quit signal now calls
        `quit(signum)` there, and Textual's SIGTSTP/SIGCONT handlers resume only a suspension."""
        self._loop = asyncio.get_running_loop()
        self._quit = quit
        stop, resume = signal.getsignal(signal.SIGTSTP), signal.getsignal(signal.SIGCONT)
        if callable(stop) and callable(resume):
            self._driver_stop, self._driver_continue = stop, resume
            signal.signal(signal.SIGTSTP, self._on_stop)
            signal.signal(signal.SIGCONT, self._on_continue)
        if self.received is not None:  # it came while the app was starting
            quit(self.received)

    def detach(self) -> None:
        """The app has stopped (call from its on_unmount): nothing resumes its terminal mode any
        more, and a quit signal from now on is only ignored."""
        self._loop = self._quit = None
        if self._driver_stop is not None:
            signal.signal(signal.SIGTSTP, signal.SIG_DFL)
            signal.signal(signal.SIGCONT, signal.SIG_DFL)
            self._driver_stop = self._driver_continue = None

    def _on_quit_signal(self, signum: int, frame: FrameType | None) -> None:
        # From the first one on, every quit signal is ignored by the kernel itself: there is no
        # moment at which one has its default action (terminate) before the process ends.
        for other in QUIT_SIGNALS:
            signal.signal(other, signal.SIG_IGN)
        if self.received is not None:
            return
        self.received = signum
        loop, quit = self._loop, self._quit
        if loop is None or quit is None:
            return  # not started yet (attach quits at once) or already stopped
        with suppress(RuntimeError):  # the loop closed meanwhile: the app has stopped anyway
            loop.call_soon_threadsafe(quit, signum)

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None and self._driver_stop is not None:
            self._suspended = True
            self._driver_stop(signum, frame)

    def _on_continue(self, signum: int, frame: FrameType | None) -> None:
        if self._suspended and self.received is None and self._driver_continue is not None:
            self._suspended = False
            self._driver_continue(signum, frame)
