"""A terminal closed (SIGHUP) or a polite kill (SIGTERM) while `faas-tui demo` is still filling its
throw-away store: the command unwinds, exits 128 + the signal, and the folder is gone."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from polling import poll
from reliability._support import faas_tui_argv


def demo_folders(temp: Path) -> list[Path]:
    return sorted(temp.glob("faas-tui-demo-*"))


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_quit_signal_while_the_demo_fills_removes_its_folder(
    tmp_path: Path, signum: signal.Signals
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAAS_TUI_")}
    env.update({"TMPDIR": str(temp), "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path)})
    proc = subprocess.Popen(
        [*faas_tui_argv(), "demo", "--no-tui", "--functions", "2000"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        poll(
            lambda: proc.poll() is not None or list(temp.glob("faas-tui-demo-*/store.db*")),
            timeout=60,
            what="the demo store never appeared",
            every=0.01,
        )
        assert proc.poll() is None, proc.communicate()  # still filling it
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signum, err.decode()
    assert b"Traceback" not in err
    assert b"filled" not in out  # it was stopped while filling
    assert demo_folders(temp) == []
