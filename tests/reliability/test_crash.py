"""SIGKILL `faas-tui secrets import`, `rotate-key`, `passwd` and `secrets delete` at many moments.

Two kills in five land at a random moment of the whole run (start-up included); the other three
wait until the process holds the store's write lock, then kill it a random few milliseconds later,
inside or just after its transaction. After every kill the store must open, pass SQLite's
`PRAGMA integrity_check`, match its manifest MACs and event-log chain, hold either all or none of
the change (every value read back exactly), and be unlocked by exactly one passphrase.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import time
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import PASSPHRASE, fast_kdf
from sqlalchemy import create_engine, text
from store_support import raw_engine

from faas_tui.core.errors import WrongKeyError
from faas_tui.core.values import SecretFormat
from faas_tui.store.location import sqlite_path, to_url
from faas_tui.store.vault import Vault
from reliability._support import backend_of, clean_env, faas_tui_argv, record_figure

POINTS_PER_OPERATION = 5
SECRETS = 40
FUNCTION = "billing"
PASSPHRASES = (PASSPHRASE, "second passphrase here")


class CrashRig:
    """A store, the model of what it must hold, and a way to kill `faas-tui` mid-change."""

    def __init__(self, store: str, tmp_path: Path, seed: int) -> None:
        self.store = store
        self.url = to_url(store)
        self.tmp_path = tmp_path
        self.rng = random.Random(seed)
        self.passphrase = PASSPHRASE
        self.expected: dict[str, str] = {
            f"KEY_{i:03d}": f"value {i} {os.urandom(6).hex()}" for i in range(SECRETS)
        }
        with Vault.create(store, PASSPHRASE, kdf=fast_kdf()) as vault:
            vault.add_function(FUNCTION)
            vault.import_secrets(
                FUNCTION, [(k, v, SecretFormat.PLAINTEXT) for k, v in self.expected.items()]
            )
            vault.deploy(FUNCTION)
        (tmp_path / "home").mkdir(exist_ok=True)
        self.outcomes: Counter[str] = Counter()
        self.full_run_s = self.last_run_s = 2.0

    # --- running and killing ---------------------------------------------------------------

    def run(self, args: list[str], extra_env: dict[str, str], kill: str | None) -> str:
        """Run `faas-tui ARGS`; kill it per `kill` (None, "any" or "locked").

        Returns "finished" (it exited by itself), "killed", or "killed-holding-lock" (killed
        a few milliseconds after it was seen holding the write lock).
        """
        env = {**clean_env(self.store, self.passphrase, self.tmp_path / "home"), **extra_env}
        saw_lock = False
        started = time.monotonic()
        proc = subprocess.Popen(
            [*faas_tui_argv(), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            if kill == "any":
                self._sleep_until(proc, started + self.rng.uniform(0, self.full_run_s * 1.05))
            elif kill == "locked" and self._wait_for_write_lock(proc, started + 60):
                saw_lock = True
                self._sleep_until(proc, time.monotonic() + self.rng.uniform(0, 0.08))
            if kill and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.last_run_s = time.monotonic() - started
        if proc.returncode == -signal.SIGKILL:
            return "killed-holding-lock" if saw_lock else "killed"
        assert proc.returncode == 0, (args, err.decode())
        assert b"Traceback" not in err
        return "finished"

    @staticmethod
    def _sleep_until(proc: subprocess.Popen[bytes], moment: float) -> None:
        while time.monotonic() < moment and proc.poll() is None:
            time.sleep(0.002)

    def _wait_for_write_lock(self, proc: subprocess.Popen[bytes], give_up: float) -> bool:
        """Poll until another client holds the write lock (or the process ended)."""
        path = sqlite_path(self.url)
        if path is not None:
            con = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                while time.monotonic() < give_up and proc.poll() is None:
                    try:
                        con.execute("BEGIN IMMEDIATE")
                        con.execute("ROLLBACK")
                    except sqlite3.OperationalError:
                        return True  # someone else holds it: the writer is in its transaction
                    time.sleep(0.003)
            finally:
                con.close()
            return False
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        query = text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'store_meta' AND l.mode = 'RowShareLock' AND l.granted "
            "AND l.pid <> pg_backend_pid()"
        )
        try:
            with engine.connect() as conn:
                while time.monotonic() < give_up and proc.poll() is None:
                    if conn.execute(query).scalar():
                        return True
                    time.sleep(0.003)
        finally:
            engine.dispose()
        return False

    # --- checks ----------------------------------------------------------------------------

    def open(self) -> Vault:
        """The store opens (SQLite: and passes its integrity check) with the current passphrase."""
        path = sqlite_path(self.url)
        if path is not None:
            with sqlite3.connect(path) as con:
                assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return Vault.open(self.store, passphrase=self.passphrase)

    def check(self, vault: Vault) -> None:
        """The store is consistent and holds exactly the model; closes the vault."""
        try:
            assert vault.check().ok
            vault.verify_log()
            names = [info.name for info in vault.list_secrets(FUNCTION)]
            assert sorted(names) == sorted(self.expected)
            for name, value in self.expected.items():
                assert vault.read_secret_text(FUNCTION, name)[0] == value, name
            with raw_engine(vault).connect() as conn:
                orphans = conn.execute(
                    text(
                        "SELECT count(*) FROM secret_version WHERE secret_id NOT IN (SELECT id FROM secret)"
                    )
                ).scalar()
            assert orphans == 0
        finally:
            vault.close()

    def note(self, how: str, outcome: str) -> None:
        self.outcomes[f"{how}:{outcome}"] += 1


def _names(vault: Vault) -> set[str]:
    return {info.name for info in vault.list_secrets(FUNCTION)}


# --- the four operations -----------------------------------------------------------------------


def _import(rig: CrashRig, attempt: int, kill: str | None) -> None:
    new = {
        f"NEW_{attempt}_{i:02d}": f"imported {attempt} {i} {os.urandom(4).hex()}" for i in range(30)
    }
    env_file = rig.tmp_path / f"import{attempt}.env"
    env_file.write_text("".join(f'{k}="{v}"\n' for k, v in new.items()))
    how = rig.run(["secrets", "import", FUNCTION, str(env_file)], {}, kill)
    vault = rig.open()
    present = _names(vault) & set(new)
    assert present in (set(), set(new)), f"partial import: {len(present)} of {len(new)}"
    if present:
        rig.expected.update(new)
    assert how.startswith("killed") or present
    rig.check(vault)
    rig.note(how, "all" if present else "none")


def _rotate_key(rig: CrashRig, attempt: int, kill: str | None) -> None:
    before = _key_grants(rig)
    how = rig.run(["rotate-key"], {}, kill)
    rig.check(rig.open())  # every value still reads back exactly
    rotated = _key_grants(rig) != before
    assert how.startswith("killed") or rotated
    rig.note(how, "all" if rotated else "none")


def _passwd(rig: CrashRig, attempt: int, kill: str | None) -> None:
    old = rig.passphrase
    new = PASSPHRASES[(PASSPHRASES.index(old) + 1) % 2]
    how = rig.run(["passwd"], {"FAAS_TUI_NEW_PASSPHRASE": new}, kill)
    unlocked = []
    for candidate in (old, new):
        with contextlib.suppress(WrongKeyError):
            unlocked.append((candidate, Vault.open(rig.store, passphrase=candidate)))
    for _, extra in unlocked[1:]:
        extra.close()
    assert len(unlocked) == 1, "exactly one passphrase must unlock the store"
    rig.passphrase, vault = unlocked[0]
    assert how.startswith("killed") or rig.passphrase == new
    rig.check(vault)
    rig.note(how, "all" if rig.passphrase == new else "none")


def _delete(rig: CrashRig, attempt: int, kill: str | None) -> None:
    victim = rig.rng.choice(sorted(rig.expected))
    how = rig.run(["secrets", "delete", FUNCTION, victim, "--yes"], {}, kill)
    vault = rig.open()
    gone = victim not in _names(vault)
    if gone:
        del rig.expected[victim]
    assert how.startswith("killed") or gone
    rig.check(vault)
    rig.note(how, "all" if gone else "none")


OPERATIONS: dict[str, Callable[[CrashRig, int, str | None], None]] = {
    "import": _import,
    "rotate-key": _rotate_key,
    "passwd": _passwd,
    "delete": _delete,
}


def _key_grants(rig: CrashRig) -> set[bytes]:
    """The sealed grants of every function key: rotate-key replaces them all, or none."""
    engine = create_engine(rig.url)
    try:
        with engine.connect() as conn:
            return {bytes(row[0]) for row in conn.execute(text("SELECT sealed FROM key_grant"))}
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_sigkill_at_any_moment_leaves_all_or_none_of_the_change(
    operation: str, store_url: str, tmp_path: Path
) -> None:
    rig = CrashRig(store_url, tmp_path, seed=zlib.crc32(f"{operation} {store_url}".encode()))
    step = OPERATIONS[operation]
    step(rig, 0, None)  # an uninterrupted run: how long the whole command takes
    rig.full_run_s = rig.last_run_s
    for attempt in range(1, POINTS_PER_OPERATION + 1):
        step(rig, attempt, "locked" if attempt % 2 else "any")  # 3 of 5 inside the transaction
    tried = sum(rig.outcomes.values()) - 1  # the calibration run was not a crash point
    assert tried == POINTS_PER_OPERATION
    record_figure(
        "crash",
        backend_of(store_url),
        POINTS_PER_OPERATION,
        operation=operation,
        losses=0,
        outcomes=dict(rig.outcomes),
    )
