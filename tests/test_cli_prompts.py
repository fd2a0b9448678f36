"""The command line's no-echo prompts, typed into a real pseudo-terminal: a new passphrase asked
twice (a mismatch changes nothing), `passwd`, and a delete confirmed by typing the name."""

from __future__ import annotations

import os
import pty
import select
import sqlite3
import time
from pathlib import Path

from conftest import faas_tui_command, fast_kdf

from faas_tui.store.vault import Vault

FIRST = "first passphrase"
SECOND = "second passphrase"


class Terminal:
    """`faas-tui ARGS` with a pseudo-terminal as its controlling terminal (getpass reads /dev/tty)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes faas-tui
            command = [*faas_tui_command(), *args]
            os.execvpe(command[0], command, env)
        self.seen = b""

    def expect(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared: {self.seen!r}")
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    self.seen += os.read(self.fd, 4096)
                except OSError:  # the child exited and closed the terminal
                    break
        assert text.encode() in self.seen, self.seen

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def exit_code(self) -> int:
        while True:  # drain, so the child never blocks on a full terminal
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def environment(store: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAAS_TUI_")}
    return env | {"FAAS_TUI_STORE": str(store), "HOME": str(tmp_path), "TERM": "dumb"}


def test_a_new_passphrase_is_asked_twice_and_a_mismatch_creates_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store" / "store.db"
    env = environment(store, tmp_path)
    term = Terminal(["init"], env)
    term.expect("New passphrase: ")
    term.type(FIRST)
    term.expect("Repeat it: ")
    term.type("something else")
    term.expect("error: the two passphrases differ; nothing was changed")
    assert term.exit_code() == 1
    assert not Vault.exists(str(store))
    assert FIRST.encode() not in term.seen  # no echo

    term = Terminal(["init"], env)
    term.expect("New passphrase: ")
    term.type(FIRST)
    term.expect("Repeat it: ")
    term.type(FIRST)
    term.expect("created store at")
    assert term.exit_code() == 0
    Vault.open(str(store), passphrase=FIRST).close()


def test_passwd_asks_for_the_current_and_twice_for_the_new_passphrase(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    Vault.create(str(store), FIRST, kdf=fast_kdf()).close()
    term = Terminal(["passwd"], environment(store, tmp_path))
    term.expect("Passphrase: ")
    term.type(FIRST)
    term.expect("New passphrase: ")
    term.type(SECOND)
    term.expect("Repeat it: ")
    term.type(SECOND)
    term.expect("passphrase changed")
    assert term.exit_code() == 0
    assert FIRST.encode() not in term.seen and SECOND.encode() not in term.seen
    Vault.open(str(store), passphrase=SECOND).close()
    # the console script derives the new key with the default Argon2id parameters, never weak ones
    conn = sqlite3.connect(store)
    try:
        query = "SELECT kdf_memory_kib, kdf_iterations FROM key_slot WHERE kind = 'passphrase'"
        assert conn.execute(query).fetchall() == [(64 * 1024, 3)]
    finally:
        conn.close()


def test_a_delete_is_confirmed_by_typing_the_name_on_the_terminal(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    with Vault.create(str(store), FIRST, kdf=fast_kdf()) as vault:
        vault.add_function("billing")
        vault.add_secret("billing", "API_KEY", "v")
    env = environment(store, tmp_path) | {"FAAS_TUI_PASSPHRASE": FIRST}
    term = Terminal(["secrets", "delete", "billing", "API_KEY"], env)
    term.expect("You cannot undo this action.")
    term.expect("Type API_KEY to confirm: ")
    term.type("API_KE")
    term.expect("error: not deleted: what was typed does not match 'API_KEY'")
    assert term.exit_code() == 1

    term = Terminal(["secrets", "delete", "billing", "API_KEY"], env)
    term.expect("Type API_KEY to confirm: ")
    term.type("API_KEY")
    assert term.exit_code() == 0
    with Vault.open(str(store), passphrase=FIRST) as vault:
        assert vault.list_secrets("billing") == []
