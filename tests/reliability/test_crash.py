"""SIGKILL `faas-tui secrets import`, `rotate-key`, `passwd` and `secrets delete` at many moments.

Each command runs the console script's `main` in a process of its own, forked from a server that
imported the tool once (the console script itself is killed mid-upgrade in test_migration_crash).

An uninterrupted run first measures the whole command and how long it holds the store's write
lock. Then two kills in five land at a random moment of the whole run (start-up included); the
other three wait until the process holds the write lock and kill it at a random moment of that
span. After every kill the store must open, pass SQLite's `PRAGMA integrity_check`, match its
manifest MACs and event-log chain, hold either all or none of the change, and be unlocked by
exactly one passphrase; values are read back after each step and all compared at the end.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest
from conftest import PASSPHRASE, fast_kdf
from polling import poll
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from store_support import raw_engine

from faas_tui.core.errors import WrongKeyError
from faas_tui.core.values import SecretFormat
from faas_tui.store.location import sqlite_path, to_url
from faas_tui.store.vault import Vault
from reliability._support import backend_of, clean_env, cli_child, record_figure, worker_processes

POINTS_PER_OPERATION = 5
SECRETS = 40
SAMPLE = 8  # values read back after each step, of those it changed and of the others
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
        self.lock_hold_s = 0.08  # measured by the uninterrupted run

    # --- running and killing ---------------------------------------------------------------

    def run(self, args: list[str], extra_env: dict[str, str], kill: str | None) -> str:
        """Run `faas-tui ARGS` in a process of its own; kill it per `kill` (None, "any" or
        "locked").

        Returns "finished" (it exited by itself), "killed", or "killed-holding-lock" (killed
        at a random moment of its transaction, from when it was seen holding the write lock).
        An uninterrupted run (None) measures the whole run and how long it holds the lock.
        """
        env = {**clean_env(self.store, self.passphrase, self.tmp_path / "home"), **extra_env}
        output = str(self.tmp_path / "command")
        saw_lock = False
        started = time.monotonic()
        proc = worker_processes().Process(target=cli_child, args=(args, env, output))
        with self._lock_probe() as locked:
            proc.start()
            try:
                if kill == "any":  # the process ending first is fine: it finished
                    proc.join(timeout=self.rng.uniform(0, self.full_run_s * 1.05))
                elif kill == "locked" and self._until(proc, locked):
                    saw_lock = True
                    proc.join(timeout=self.rng.uniform(0, self.lock_hold_s))
                elif kill is None and self._until(proc, locked):
                    seen = time.monotonic()
                    self._until(proc, lambda: not locked())
                    self.lock_hold_s = max(time.monotonic() - seen, 0.005)
                if kill and proc.exitcode is None:
                    os.kill(proc.pid, signal.SIGKILL)
                proc.join(timeout=120)
            finally:
                if proc.exitcode is None:
                    proc.kill()
                    proc.join()
        self.last_run_s = time.monotonic() - started
        if proc.exitcode == -signal.SIGKILL:
            self._wait_for_the_server()
            return "killed-holding-lock" if saw_lock else "killed"
        err = Path(f"{output}.err").read_text()
        assert proc.exitcode == 0, (args, err)
        assert "Traceback" not in err
        return "finished"

    @staticmethod
    def _until(proc: BaseProcess, condition: Callable[[], bool]) -> bool:
        """Look every 2 ms until `condition` holds (True) or the process has ended (False)."""
        seen = poll(
            lambda: "held" if condition() else "ended" if proc.exitcode is not None else "",
            timeout=60,
            what="the command neither ended nor changed the store's lock within 60 s",
            every=0.002,
        )
        return seen == "held"

    def _wait_for_the_server(self) -> None:
        """PostgreSQL finishes what a killed client sent (a COMMIT it received is committed):
        look at the store only once no other session is connected to its database."""
        if sqlite_path(self.url) is not None:
            return
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        query = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        try:
            with engine.connect() as conn:
                poll(
                    lambda: conn.execute(query).scalar() == 0,
                    timeout=30,
                    what="the killed command's server session never ended",
                    every=0.005,
                )
        finally:
            engine.dispose()

    @contextlib.contextmanager
    def _lock_probe(self) -> Iterator[Callable[[], bool]]:
        """Whether another client holds the store's write lock, asked on a connection of our own."""
        path = sqlite_path(self.url)
        if path is not None:
            con = sqlite3.connect(path, timeout=0, isolation_level=None)

            def sqlite_locked() -> bool:
                try:
                    con.execute("BEGIN IMMEDIATE")
                    con.execute("ROLLBACK")
                    return False
                except sqlite3.OperationalError:
                    return True  # someone else holds it: the writer is in its transaction

            try:
                yield sqlite_locked
            finally:
                con.close()
            return
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        query = text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'store_meta' AND l.mode = 'RowShareLock' AND l.granted "
            "AND l.pid <> pg_backend_pid()"
        )
        try:
            with engine.connect() as conn:
                yield lambda: bool(conn.execute(query).scalar())
        finally:
            engine.dispose()

    # --- checks ----------------------------------------------------------------------------

    def open(self) -> Vault:
        """The store opens (SQLite: and passes its integrity check) with the current passphrase."""
        path = sqlite_path(self.url)
        if path is not None:
            with sqlite3.connect(path) as con:
                assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return Vault.open(self.store, passphrase=self.passphrase)

    def check(self, vault: Vault, changed: Iterable[str] = ()) -> None:
        """The store is consistent and holds exactly the model's secrets; closes the vault.

        `vault.check()` decrypts every stored version against its row; SAMPLE of the values the
        step `changed` and SAMPLE others are read back and compared here, and `read_every_value`
        compares them all at the end: a value a crash damaged stays damaged until then.
        """
        try:
            assert vault.check().ok
            vault.verify_log()
            names = [info.name for info in vault.list_secrets(FUNCTION)]
            assert sorted(names) == sorted(self.expected)
            changed = sorted(changed)
            others = sorted(set(self.expected) - set(changed))
            for group in (changed, others):
                for name in self.rng.sample(group, min(SAMPLE, len(group))):
                    assert vault.read_secret_text(FUNCTION, name)[0] == self.expected[name], name
            with raw_engine(vault).connect() as conn:
                orphans = conn.execute(
                    text(
                        "SELECT count(*) FROM secret_version WHERE secret_id NOT IN (SELECT id FROM secret)"
                    )
                ).scalar()
            assert orphans == 0
        finally:
            vault.close()

    def read_every_value(self) -> None:
        """Every value compared with the model, in one verified read: the function deployed as it
        stands, and the values its deployment hands a runtime."""
        with self.open() as vault:
            vault.deploy(FUNCTION)
            bound = vault.bound_values(FUNCTION)  # the model's secrets and the system ones
        assert {name: bound.get(name, (None,))[0] for name in self.expected} == self.expected

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
    rig.check(vault, changed=present)
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
    rig.read_every_value()
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
