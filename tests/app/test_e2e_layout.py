"""End to end in a real terminal (tmux) at 80x24 and 60x20: the Audit and Event log show full
names and the highlighted row's fields; at 60x20 Tab reaches the Add modal's Create button."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import PASSPHRASE, faas_tui_command

from app._support import seeded_vault

pytestmark = [
    pytest.mark.e2e,
    # CI installs tmux: there, a missing tmux fails the test instead of skipping it
    pytest.mark.skipif(
        shutil.which("tmux") is None and not os.environ.get("CI"), reason="tmux is not installed"
    ),
]
POLL_S = 0.05
LONG_KEY = "a" * 100


class Pane:
    """The app in a private tmux server, at a fixed size."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", *args], capture_output=True, text=True, env=self.env, check=True
        )
        return done.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "app", *(["-l"] if literal else []), *keys)

    def text(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def poll(self, shown: Callable[[str], bool], timeout: float) -> bool:
        """Whether the screen comes to satisfy `shown` within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if shown(self.text()):
                return True
            time.sleep(POLL_S)
        return False

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        if not self.poll(lambda screen: text in screen, timeout):
            raise AssertionError(f"{text!r} never appeared:\n{self.text()}")
        return self.text()


@contextmanager
def app_at(tmp_path: Path, width: int, height: int) -> Iterator[Pane]:
    """`faas-tui` on a seeded store in a width x height tmux window, unlocked, on the dashboard."""
    store = str(tmp_path / "store.db")
    seeded_vault(store).close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAAS_TUI_", "TMUX"))}
    env |= {"TERM": "xterm-256color", "HOME": str(tmp_path), "TMUX_TMPDIR": str(tmp_path)}
    env["FAAS_TUI_STORE"] = store
    command = " ".join([*faas_tui_command(), "; sleep 60"])
    pane = Pane(env)
    pane.tmux("new-session", "-d", "-s", "app", "-x", str(width), "-y", str(height), command)
    try:
        pane.wait_for("Unlock the store")
        pane.keys(PASSPHRASE, literal=True)
        pane.keys("Enter")
        pane.wait_for("3 functions")
        yield pane
    finally:
        subprocess.run(["tmux", "kill-server"], env=env, capture_output=True)


def buttons_line(screen: str) -> str | None:
    """The modal's button row (Create then Cancel), not the footer's `^s Create`."""
    for line in screen.splitlines():
        if "Create" in line and "Cancel" in line and "^s" not in line:
            return line
    return None


def test_audit_and_event_log_show_full_names_at_80x24(tmp_path: Path) -> None:
    with app_at(tmp_path, 80, 24) as pane:
        pane.keys("a")
        pane.wait_for("sorted by Function")
        # full names, once the table has sized its columns (it does so when idle)
        screen = pane.wait_for("STRIPE_WEBHOOK_SECRET")
        assert "SYSTEM_STORAGE_TOKEN" in screen
        pane.keys("Down")
        screen = pane.wait_for("STRIPE_API_KEY  in billing")
        for label in ("Version 2", "Deployed version 1", "Age ", "Updated ", "Created "):
            assert label in screen, label
        assert all(len(line) <= 80 for line in screen.splitlines())
        pane.keys("Escape")
        pane.wait_for("3 functions")  # the dashboard's status line
        pane.keys("L")
        pane.wait_for("press v to verify")
        pane.wait_for("STRIPE_WEBHOOK_SECRET")  # the whole name, in the table
        assert "· Hash" in pane.wait_for("Name STRIPE_API_KEY")


def test_tab_reaches_create_in_the_add_modal_at_60x20(tmp_path: Path) -> None:
    with app_at(tmp_path, 60, 20) as pane:
        pane.keys("Enter")  # billing
        pane.wait_for("DATABASE_URL")
        pane.keys("n")
        pane.wait_for("Add a secret")
        pane.keys(LONG_KEY, literal=True)  # as a burst, right away: it lands in the Key field
        screen = pane.wait_for("A" * 40)  # the preview of the stored name
        # the dialog is taller than the terminal: its title and its buttons never show together
        assert not ("Add a secret" in screen and buttons_line(screen) is not None)
        pane.keys("Tab", "Tab", "Tab")  # Format, Value, then Create: focus scrolls it into view
        shown = pane.poll(lambda text: buttons_line(text) is not None, timeout=30.0)
        assert shown, f"Tab never brought Create into view:\n{pane.text()}"
        pane.keys("Enter")  # Create, with no value yet: the modal stays and says why
        # the problem line did not push Create away (once the scroll that follows it is done)
        said = pane.poll(
            lambda text: "value is empty" in text and buttons_line(text) is not None, timeout=30.0
        )
        assert said, f"no problem line with Create in view:\n{pane.text()}"
