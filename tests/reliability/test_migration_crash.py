"""SIGKILL the console script while it upgrades a 0.1.0 store, at moments spread over the whole
run: the store is always either the old one, untouched and still upgradable, or the new one, and
either way every value, version, deployment and event is there."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import PASSPHRASE
from trust.test_migration import assert_upgraded_fixture

from faas_tui.store.vault import Vault
from reliability._support import clean_env, faas_tui_argv

FIXTURE = Path(__file__).parent.parent / "fixtures" / "store_v0_1_0.db"
KILLS = 5


def fresh_copy(folder: Path) -> str:
    folder.mkdir(mode=0o700)
    store = folder / "store.db"
    shutil.copyfile(FIXTURE, store)
    store.chmod(0o600)
    return str(store)


def schema(store: str) -> int:
    con = sqlite3.connect(store)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return int(con.execute("SELECT schema_version FROM store_meta").fetchone()[0])
    finally:
        con.close()


def upgrade(store: str, home: Path, kill_after: float | None) -> tuple[str, float]:
    """Run `faas-tui functions list` (which upgrades the store); SIGKILL it after `kill_after`
    seconds unless it finished. Returns ("finished" or "killed", seconds it ran)."""
    env = clean_env(store, PASSPHRASE, home)
    env["FAAS_TUI_OPERATOR"] = "ops"
    started = time.monotonic()
    proc = subprocess.Popen(
        [*faas_tui_argv(), "functions", "list"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        if kill_after is not None:
            try:
                proc.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    ran = time.monotonic() - started
    if proc.returncode == -signal.SIGKILL:
        return "killed", ran
    assert proc.returncode == 0, err.decode()
    return "finished", ran


def assert_everything_kept(store: str) -> None:
    """Open (upgrading now if the kill left the old store) and read the fixture's whole content."""
    with Vault.open(store, passphrase=PASSPHRASE, operator="ops") as vault:
        assert_upgraded_fixture(vault)
        assert vault.check().ok


@pytest.mark.slow
def test_sigkill_during_the_upgrade_leaves_the_old_store_or_the_new_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    whole = fresh_copy(tmp_path / "whole")
    outcome, full_run = upgrade(whole, home, kill_after=None)
    assert outcome == "finished" and schema(whole) == 2
    rng = random.Random(11)
    seen: Counter[tuple[str, int]] = Counter()
    for i in range(KILLS):  # one moment in each fifth of the run, start-up included
        store = fresh_copy(tmp_path / f"kill-{i}")
        moment = full_run * (i + rng.random()) / KILLS
        outcome, _ = upgrade(store, home, kill_after=moment)
        after = schema(store)
        assert after in (1, 2)
        seen[(outcome, after)] += 1
        assert_everything_kept(store)
    # the kills landed on both sides of the commit, or the test proved nothing
    assert seen[("killed", 1)] >= 1, seen
    print(f"upgrade killed at {KILLS} moments over {full_run:.2f} s: {dict(seen)}")
