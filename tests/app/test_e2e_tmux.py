"""End to end: the installed `faas-tui` in a real terminal (tmux): unlock, add a secret, delete one,
quit; the value never shows in the pane or its history once it is saved. Keys sent in one burst
land where typed, a closed terminal removes the demo store, a locked store does not freeze it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import PASSPHRASE, faas_tui_command
from polling import poll

from app._support import seeded_vault
from faas_tui.store.vault import Vault

pytestmark = [
    pytest.mark.e2e,
    # CI installs tmux (.ci/run): there, a missing tmux fails the test instead of skipping it
    pytest.mark.skipif(
        shutil.which("tmux") is None and not os.environ.get("CI"), reason="tmux is not installed"
    ),
]
VALUE = "e2e-value-" + uuid.uuid4().hex[:12]


class Tmux:
    def __init__(self, session: str, env: dict[str, str], store: str) -> None:
        self.session = session
        self.env = env
        self.store = store

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", *args], capture_output=True, text=True, env=self.env, check=True
        )
        return done.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", self.session, *(["-l"] if literal else []), *keys)

    def pane(self, history: bool = False) -> str:
        """The visible screen, or (history) all of the scrollback with its escape sequences."""
        extra = ["-e", "-S", "-", "-E", "-"] if history else []
        return self.run("capture-pane", "-p", "-t", self.session, *extra)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        return self._wait(lambda pane: text in pane, timeout, f"{text!r} never appeared")

    def wait_gone(self, text: str, timeout: float = 30.0) -> str:
        return self._wait(lambda pane: text not in pane, timeout, f"{text!r} stayed")

    def _wait(self, shown: Callable[[str], bool], timeout: float, failure: str) -> str:
        """The pane, once `shown(pane)` holds; fails with the last pane after `timeout`."""
        seen: list[str] = []

        def looked() -> bool:
            seen[:] = [self.pane()]
            return shown(seen[0])

        poll(looked, timeout, what=lambda: f"{failure}:\n{seen[0]}")
        return seen[0]


@contextmanager
def terminal(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Tmux]:
    """`faas-tui ARGS` in a private tmux server, 100x30; the pane stays after it exits."""
    store = str(tmp_path / "store" / "store.db")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("FAAS_TUI_", "TMUX"))}
    full_env |= {"TERM": "xterm-256color", "HOME": str(tmp_path), **(env or {})}
    full_env["TMUX_TMPDIR"] = str(tmp_path)  # a private tmux server
    session = "faas-e2e"
    if os.environ.get("CI"):  # the console script as `pip install .` put it on PATH
        assert shutil.which("faas-tui"), "faas-tui is not installed"
    command = " ".join([*faas_tui_command(), *args, "; echo EXITED=$?; sleep 60"])
    tmux = Tmux(session, full_env, store)
    tmux.run("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
    try:
        yield tmux
    finally:
        subprocess.run(["tmux", "kill-server"], env=full_env, capture_output=True)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    """The app on a seeded store, asking for its passphrase."""
    store = str(tmp_path / "store" / "store.db")
    seeded_vault(store).close()
    with terminal(tmp_path, env={"FAAS_TUI_STORE": store}) as tmux:
        yield tmux


def test_demo_opens_on_sample_data_and_removes_its_throw_away_store_on_quit(
    tmp_path: Path,
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    with terminal(tmp_path, "demo", env={"TMPDIR": str(temp)}) as tmux:
        pane = tmux.wait_for("hubspot-sync")
        assert "billing" in pane and "image-resizer" in pane
        assert [p.name for p in temp.iterdir() if p.name.startswith("faas-tui-demo-")]
        tmux.keys("C-q")
        tmux.wait_for("EXITED=0")
        assert not [p for p in temp.iterdir() if p.name.startswith("faas-tui-demo-")]


def test_unlock_add_delete_quit_in_a_real_terminal(tmux: Tmux) -> None:
    tmux.wait_for("Unlock the store")
    tmux.keys(PASSPHRASE, literal=True)
    tmux.keys("Enter")
    tmux.wait_for("hubspot-sync")
    tmux.keys("Enter")  # billing
    tmux.wait_for("STRIPE_WEBHOOK_SECRET")
    tmux.keys("n")
    tmux.wait_for("Value, Plaintext")
    tmux.keys("e2e key", literal=True)
    tmux.wait_for("E2E_KEY")
    tmux.keys("Tab", "Tab")
    tmux.keys(VALUE, literal=True)
    tmux.wait_for(VALUE)  # visible while typed, in the modal only
    tmux.keys("C-s")
    pane = tmux.wait_gone("Value, Plaintext")  # the modal closed
    assert "E2E_KEY" in tmux.wait_for("E2E_KEY")
    assert VALUE not in pane
    tmux.keys("Down", "Down", "d")  # STRIPE_WEBHOOK_SECRET, bound by deployment #1
    tmux.wait_for("You cannot undo this action")
    tmux.keys("STRIPE_WEBHOOK_SECRET", literal=True)
    tmux.keys("Enter")
    tmux.wait_gone("You cannot undo this action")
    tmux.wait_gone("STRIPE_WEBHOOK_SECRET")
    tmux.keys("C-q")
    tmux.wait_for("EXITED=0")
    assert VALUE not in tmux.pane(history=True)
    with Vault.open(tmux.store, passphrase=PASSPHRASE) as vault:  # what the user did is stored
        assert vault.read_secret("billing", "E2E_KEY") == VALUE
        assert "STRIPE_WEBHOOK_SECRET" not in [s.name for s in vault.list_secrets("billing")]


def test_a_burst_on_the_create_store_screen_creates_the_store(tmp_path: Path) -> None:
    store = str(tmp_path / "new" / "store.db")
    with terminal(tmp_path, env={"FAAS_TUI_STORE": store}) as tmux:
        tmux.wait_for("Create the store")
        tmux.keys(PASSPHRASE, "Enter", PASSPHRASE, "Enter")  # one write, as a slow link sends it
        pane = tmux.wait_for("No functions yet")
        assert "passphrases differ" not in pane
        tmux.keys("C-q")
        tmux.wait_for("EXITED=0")
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        assert vault.list_functions() == []


def test_n_and_a_name_in_one_burst_create_the_function(tmux: Tmux) -> None:
    tmux.wait_for("Unlock the store")
    tmux.keys(PASSPHRASE, "Enter", "n", "fresh-fn", "Enter", "Enter")
    tmux.wait_for("Created function fresh-fn")
    tmux.keys("C-q")
    tmux.wait_for("EXITED=0")
    with Vault.open(tmux.store, passphrase=PASSPHRASE) as vault:
        assert "fresh-fn" in [info.name for info in vault.list_functions()]


def _demo_folders(temp: Path) -> list[Path]:
    return [p for p in temp.iterdir() if p.name.startswith("faas-tui-demo-")]


def test_closing_the_terminal_removes_the_demo_store(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    with terminal(tmp_path, "demo", env={"TMPDIR": str(temp)}) as tmux:
        tmux.wait_for("hubspot-sync")
        assert _demo_folders(temp)
        tmux.run("kill-session", "-t", tmux.session)  # the terminal goes: SIGHUP
        poll(lambda: not _demo_folders(temp), what="the demo folder removed after SIGHUP")


def test_sigterm_quits_like_ctrl_q(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    with terminal(tmp_path, "demo", env={"TMPDIR": str(temp)}) as tmux:
        tmux.wait_for("hubspot-sync")
        shell = tmux.run("display-message", "-p", "-t", tmux.session, "#{pane_pid}").strip()
        children = subprocess.run(
            ["pgrep", "-P", shell], capture_output=True, text=True, check=True
        ).stdout.split()
        for pid in children:
            os.kill(int(pid), 15)
        tmux.wait_for(f"EXITED={128 + 15}")
        assert not _demo_folders(temp)


def test_a_locked_store_shows_waiting_and_the_app_still_answers(tmux: Tmux) -> None:
    tmux.wait_for("Unlock the store")
    tmux.keys(PASSPHRASE, "Enter")
    tmux.wait_for("hubspot-sync")
    tmux.keys("Enter")  # billing
    tmux.wait_for("STRIPE_WEBHOOK_SECRET")
    db = sqlite3.connect(tmux.store, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")  # another process writing
        tmux.keys("D")
        tmux.wait_for("Waiting for the store")
        tmux.keys("?")
        tmux.wait_for("Keys on this screen")  # the app answers while the write waits
        tmux.keys("Escape")
        tmux.wait_gone("Keys on this screen")
    finally:
        db.execute("ROLLBACK")
        db.close()
    tmux.wait_for("deployment #2")
    tmux.wait_gone("Waiting for the store")
    tmux.keys("C-q")
    tmux.wait_for("EXITED=0")


def test_an_auditor_unlocks_by_name_and_sees_no_change_key(tmp_path: Path) -> None:
    """Several operators in a real terminal: FAAS_TUI_OPERATOR prefills the operator field,
    the header names the auditor, and the footer offers no key that changes the store."""
    from app.test_roles import AUDITOR_PASSPHRASE, store_with_operators

    store = str(tmp_path / "store" / "store.db")
    store_with_operators(store)
    env = {"FAAS_TUI_STORE": store, "FAAS_TUI_OPERATOR": "carol"}
    with terminal(tmp_path, env=env) as tmux:
        tmux.wait_for("Operator")  # the field, once the store's operators were read
        tmux.wait_for("carol")
        tmux.keys(AUDITOR_PASSPHRASE, literal=True)
        tmux.keys("Enter")
        tmux.wait_for("carol · auditor")
        tmux.wait_for("hubspot-sync")
        screen = tmux.wait_for("a Audit")  # the footer, once drawn
        footer = next(line for line in screen.splitlines() if "a Audit" in line)
        assert "n New" not in footer and "d Delete" not in footer
        tmux.keys("n")  # refused with its reason, no dialog
        tmux.wait_for("carol is an auditor")
        assert "New function" not in tmux.pane().split("\n", 1)[1]
        tmux.keys("C-q")
        tmux.wait_for("EXITED=0")
