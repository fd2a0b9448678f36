"""The event log: one event per change, never a value, a hash chain that `verify_log`
and `faas-tui log --verify` recompute, and a tail that the keyed store manifest pins down.

Attacks run raw SQL behind the tool's back, on SQLite and PostgreSQL, as someone with write access
to the database would.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE, Cli, fast_kdf
from sqlalchemy import text
from store_support import is_sqlite, raw_engine

from faas_tui.core.errors import FaasError, IntegrityError
from faas_tui.core.kinds import Role
from faas_tui.core.values import SecretFormat
from faas_tui.store.eventlog import GENESIS, event_hash
from faas_tui.store.vault import Vault

PLAIN = SecretFormat.PLAINTEXT
CANARY = "canary-5d2a-log-value"
T0 = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


# --- helpers ------------------------------------------------------------------------------------


def sql(vault: Vault, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Raw SQL behind the tool's back."""
    with raw_engine(vault).begin() as conn:
        result = conn.execute(text(statement), params)
        return [tuple(row) for row in result] if result.returns_rows else []


def event_rows(vault: Vault) -> list[tuple[Any, ...]]:
    return sql(
        vault,
        "SELECT seq, at, actor, action, function, name, prev_hash, hash FROM event ORDER BY seq",
    )


def rechain(vault: Vault, start: int = 1) -> None:
    """What a careful attacker does after an edit: recompute every hash from row `start` on.

    SHA-256 needs no key, so the chain alone cannot stop this; the keyed store manifest must.
    """
    rows = event_rows(vault)
    prev = GENESIS if start == 1 else rows[start - 2][7]
    for seq, at, actor, action, function, name, _, _ in rows[start - 1 :]:
        moment = at if isinstance(at, datetime) else datetime.fromisoformat(at)  # SQLite: text
        digest = event_hash(prev, seq, moment, actor, action, function, name)
        sql(
            vault,
            "UPDATE event SET prev_hash = :p, hash = :h WHERE seq = :s",
            p=prev,
            h=digest,
            s=seq,
        )
        prev = digest


def story(vault: Vault) -> None:
    """Seven events after init: enough rows to attack the middle, the head and the tail."""
    vault.add_function("billing")
    vault.add_secret("billing", "api key", CANARY)
    vault.update_secret("billing", "API_KEY", CANARY + "-2")
    vault.deploy("billing")
    vault.add_function("mailer")
    vault.add_secret("mailer", "SMTP_PASSWORD", CANARY + "-3")
    vault.delete_secret("billing", "API_KEY")


def broken(vault: Vault) -> str:
    with pytest.raises(IntegrityError) as caught:
        vault.verify_log()
    message = str(caught.value)
    assert "\n" not in message and CANARY not in message
    return message


@pytest.fixture
def logged(vault: Vault) -> Vault:
    story(vault)
    assert vault.verify_log() == 8
    return vault


# --- what is logged -----------------------------------------------------------------------------


def test_every_change_writes_one_event_naming_what_changed(vault: Vault, tmp_path: Path) -> None:
    source = tmp_path / "code"
    source.mkdir()
    vault.add_function("billing", str(source))
    vault.set_source_dir("billing", None)
    vault.add_secret("billing", "api key", CANARY)
    vault.update_secret("billing", "API_KEY", CANARY + "-2")
    vault.import_secrets("billing", [("b one", "1", PLAIN), ("b two", "2", PLAIN)])
    vault.import_secrets("billing", [("b three", "3", PLAIN)], dry_run=True)  # no change, no event
    vault.deploy("billing")
    vault.delete_secret("billing", "B_ONE")
    vault.change_passphrase("a new passphrase here")
    key_file = vault.add_key_file(tmp_path / "first.key", functions=["billing"])
    vault.revoke_key_file(key_file.id)
    kept = vault.add_key_file(tmp_path / "second.key", role=Role.EDITOR)
    vault.rotate_key()  # re-grants to the remaining key file: no revocation
    vault.add_operator("bob", Role.AUDITOR, "bob's own passphrase", kdf=fast_kdf())
    vault.remove_operator("bob")
    vault.populate({"shop": {"TOKEN": ("t", PLAIN), "OTHER": ("o", PLAIN)}})
    vault.delete_function("shop")

    assert [(e.action, e.function, e.name) for e in vault.events()] == [
        ("store.init", None, None),
        ("function.add", "billing", None),
        ("function.source", "billing", None),
        ("secret.add", "billing", "API_KEY"),
        ("secret.update", "billing", "API_KEY"),
        ("secret.import", "billing", "B_ONE"),
        ("secret.import", "billing", "B_TWO"),
        ("deploy", "billing", "#1"),
        ("secret.delete", "billing", "B_ONE"),
        ("store.passwd", None, None),
        ("key-file.add", None, key_file.id),
        ("key-file.revoke", None, key_file.id),
        ("key-file.add", None, kept.id),
        ("store.rotate-key", None, None),
        ("operator.add", None, "bob (auditor)"),
        ("operator.remove", None, "bob"),
        ("function.add", "shop", None),
        ("secret.add", "shop", "TOKEN"),
        ("secret.add", "shop", "OTHER"),
        ("function.delete", "shop", None),
    ]
    events = vault.events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(e.actor == vault.actor and e.at.tzinfo is not None for e in events)
    assert vault.verify_log() == len(events)


def test_a_refused_change_writes_no_event(logged: Vault) -> None:
    before = logged.events()
    with pytest.raises(FaasError):
        logged.add_secret("billing", "SYSTEM_API_TOKEN", "nope")
    with pytest.raises(FaasError):
        logged.update_secret("nowhere", "API_KEY", "nope")
    with pytest.raises(FaasError):
        logged.import_secrets("mailer", [("GOOD", "1", PLAIN), ("9 bad", "2", PLAIN)])
    assert logged.events() == before


def test_no_value_ever_reaches_the_log(vault: Vault) -> None:
    story(vault)
    vault.import_secrets("mailer", [("from file", CANARY + "-import", PLAIN)])
    vault.populate({"shop": {"TOKEN": (CANARY + "-populate", PLAIN)}})
    stored = repr(event_rows(vault)) + repr(vault.events())
    assert "canary" not in stored


def test_times_are_utc_and_follow_the_vaults_clock(store_url: str) -> None:
    ticks = iter(T0 + timedelta(seconds=n) for n in range(100))
    with Vault.create(store_url, PASSPHRASE, kdf=fast_kdf(), clock=lambda: next(ticks)) as vault:
        vault.add_function("billing")
        events = vault.events()
        for event in events:  # the clock's instant, to the microsecond, in UTC
            assert event.at.utcoffset() == timedelta(0) and event.at.microsecond == T0.microsecond
            assert T0 <= event.at < T0 + timedelta(seconds=100)
        assert events[1].at > events[0].at
        assert vault.verify_log() == 2


# --- the hash itself ----------------------------------------------------------------------------


def test_the_hash_covers_every_field_and_the_previous_hash() -> None:
    base = ("a" * 64, 7, T0, "alice", "secret.add", "billing", "API_KEY")
    digest = event_hash(*base)
    assert len(digest) == 64 and int(digest, 16) >= 0
    changes = {
        0: "b" * 64,
        1: 8,
        2: T0 + timedelta(microseconds=1),
        3: "mallory",
        4: "secret.delete",
        5: "billin",
        6: "API_KEY2",
    }
    for index, value in changes.items():
        changed = list(base)
        changed[index] = value
        assert event_hash(*changed) != digest, f"field {index} is not covered"


def test_a_missing_function_or_name_hashes_apart_from_an_empty_one() -> None:
    with_none = event_hash(GENESIS, 1, T0, "a", "store.init", None, None)
    assert with_none != event_hash(GENESIS, 1, T0, "a", "store.init", "", None)
    assert with_none != event_hash(GENESIS, 1, T0, "a", "store.init", None, "")
    # fields are length-prefixed: moving text between two fields changes the hash
    assert event_hash(GENESIS, 1, T0, "a", "x", "ab", "c") != event_hash(
        GENESIS, 1, T0, "a", "x", "a", "bc"
    )


def test_the_same_instant_hashes_the_same_in_any_time_zone() -> None:
    paris = T0.astimezone(timezone(timedelta(hours=1)))
    naive_utc = T0.replace(tzinfo=None)  # how a backend without time zones may hand it back
    expected = event_hash(GENESIS, 1, T0, "a", "x", None, None)
    assert event_hash(GENESIS, 1, paris, "a", "x", None, None) == expected
    assert event_hash(GENESIS, 1, naive_utc, "a", "x", None, None) == expected
    on_the_second = T0.replace(microsecond=0)
    assert event_hash(GENESIS, 1, on_the_second, "a", "x", None, None) != expected


# --- attacks on the chain -----------------------------------------------------------------------

# field → (the edit, the row it breaks, what the message says)
EDITS: dict[str, tuple[str, int, str]] = {
    "actor": ("UPDATE event SET actor = 'mallory' WHERE seq = 4", 4, "was edited"),
    "action": ("UPDATE event SET action = 'secret.update' WHERE seq = 3", 3, "was edited"),
    "function": ("UPDATE event SET function = 'mailer' WHERE seq = 4", 4, "was edited"),
    "name": ("UPDATE event SET name = 'OTHER_KEY' WHERE seq = 3", 3, "was edited"),
    "null to empty": ("UPDATE event SET function = '' WHERE seq = 1", 1, "was edited"),
    "time": ("UPDATE event SET at = :other WHERE seq = 6", 6, "was edited"),
    "hash": ("UPDATE event SET hash = :fake WHERE seq = 8", 8, "was edited"),
    "prev_hash": ("UPDATE event SET prev_hash = :fake WHERE seq = 2", 2, "does not point"),
}


@pytest.mark.parametrize("field", EDITS)
def test_an_edited_field_names_its_row(logged: Vault, field: str) -> None:
    statement, row, says = EDITS[field]
    sql(logged, statement, other=T0, fake="f" * 64)
    assert f"row {row} {says}" in broken(logged)


def test_an_unreadable_time_is_an_edit(logged: Vault) -> None:
    if not is_sqlite(logged):
        pytest.skip("PostgreSQL's timestamp column refuses text that is not a time")
    sql(logged, "UPDATE event SET at = 'yesterday' WHERE seq = 5")
    assert "row 5 was edited" in broken(logged)


@pytest.mark.parametrize(("seq", "expected"), [(1, "row 1 is missing"), (4, "row 4 is missing")])
def test_a_deleted_row_is_named(logged: Vault, seq: int, expected: str) -> None:
    sql(logged, "DELETE FROM event WHERE seq = :seq", seq=seq)
    assert expected in broken(logged)


def test_a_deleted_row_is_caught_even_when_the_rest_is_renumbered_and_rehashed(
    logged: Vault,
) -> None:
    sql(logged, "DELETE FROM event WHERE seq = 4")
    for seq in range(5, 9):
        sql(logged, "UPDATE event SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    rechain(logged, 4)
    assert "broken after row 7" in broken(logged)


def test_an_edit_with_every_later_hash_recomputed_is_caught_by_the_manifest(logged: Vault) -> None:
    sql(logged, "UPDATE event SET actor = 'mallory' WHERE seq = 3")
    rechain(logged, 3)
    assert "broken after row 8" in broken(logged)
    with pytest.raises(IntegrityError, match="signed manifest"):
        Vault.open(logged.url, passphrase=PASSPHRASE)


def test_two_rows_swapped_are_caught(logged: Vault) -> None:
    sql(logged, "UPDATE event SET seq = -1 WHERE seq = 3")
    sql(logged, "UPDATE event SET seq = 3 WHERE seq = 4")
    sql(logged, "UPDATE event SET seq = 4 WHERE seq = -1")
    assert "row 3 does not point to the hash of the row before it" in broken(logged)


def test_a_row_inserted_in_the_middle_is_caught(logged: Vault) -> None:
    for seq in range(8, 3, -1):  # make room at 4, from the top so no number is taken twice
        sql(logged, "UPDATE event SET seq = :new WHERE seq = :old", new=seq + 1, old=seq)
    prev = event_rows(logged)[2][7]
    forged = event_hash(prev, 4, T0, "mallory", "secret.delete", "billing", "API_KEY")
    sql(
        logged,
        "INSERT INTO event (seq, at, actor, action, function, name, prev_hash, hash) "
        "VALUES (4, :at, 'mallory', 'secret.delete', 'billing', 'API_KEY', :prev, :hash)",
        at=T0,
        prev=prev,
        hash=forged,
    )
    assert "row 5 does not point" in broken(logged)


def test_a_row_appended_with_a_valid_hash_is_caught_by_the_manifest(logged: Vault) -> None:
    last = event_rows(logged)[-1]
    forged = event_hash(last[7], 9, T0, "mallory", "deploy", "billing", "#9")
    sql(
        logged,
        "INSERT INTO event (seq, at, actor, action, function, name, prev_hash, hash) "
        "VALUES (9, :at, 'mallory', 'deploy', 'billing', '#9', :prev, :hash)",
        at=T0,
        prev=last[7],
        hash=forged,
    )
    assert "broken after row 9" in broken(logged)


@pytest.mark.parametrize("cut", [1, 3])
def test_a_cut_tail_is_caught_by_the_manifest_and_refused_on_open(logged: Vault, cut: int) -> None:
    sql(logged, "DELETE FROM event WHERE seq > :keep", keep=8 - cut)
    assert f"broken after row {8 - cut}" in broken(logged)
    with pytest.raises(IntegrityError, match="signed manifest"):
        Vault.open(logged.url, passphrase=PASSPHRASE)


def test_the_whole_log_deleted_is_caught(logged: Vault) -> None:
    sql(logged, "DELETE FROM event")
    assert "broken after row 0" in broken(logged)


def test_the_chain_verifies_after_rotate_key_and_reopening(logged: Vault) -> None:
    logged.rotate_key()
    count = logged.verify_log()
    logged.close()
    with Vault.open(logged.url, passphrase=PASSPHRASE) as again:
        assert again.check().ok
        assert again.verify_log() == count == 9


def test_a_read_only_vault_verifies_and_lists(logged: Vault) -> None:
    with Vault.open(logged.url, passphrase=PASSPHRASE, read_only=True) as reader:
        assert reader.verify_log() == 8
        assert [e.hash for e in reader.events()] == [row[7] for row in event_rows(logged)]


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli_store(cli: Cli) -> Cli:
    """A store made with a fast KDF, so each CLI call unlocks in milliseconds."""
    with Vault.create(cli.store, PASSPHRASE, kdf=fast_kdf()) as vault:
        story(vault)
    return cli


def test_log_json_table_and_verify(cli_store: Cli) -> None:
    result = cli_store("log", "--format", "json")
    assert result.code == 0, result.err
    events = json.loads(result.out)
    keys = ["seq", "at", "actor", "action", "function", "name", "hash"]
    assert [list(e) for e in events] == [keys] * 8
    assert [e["seq"] for e in events] == list(range(1, 9))
    for e in events:
        assert e["at"].endswith("Z") and datetime.fromisoformat(e["at"]).utcoffset() == timedelta(0)
        assert len(e["hash"]) == 64
    assert events[0]["function"] is None and events[2]["name"] == "API_KEY"

    table = cli_store("log")
    lines = table.out.splitlines()
    assert table.code == 0 and lines[0].split() == [
        "SEQ",
        "AT",
        "ACTOR",
        "ACTION",
        "FUNCTION",
        "NAME",
    ]
    assert len(lines) == 9 and lines[3].split()[-2:] == ["billing", "API_KEY"]

    verified = cli_store("log", "--verify")
    assert verified.code == 0 and verified.out == "ok: 8 events, hash chain intact\n"
    assert CANARY not in result.out + table.out + verified.out


def test_log_verify_exits_4_naming_the_first_broken_row(cli_store: Cli) -> None:
    conn = sqlite3.connect(cli_store.store)
    try:
        conn.execute("UPDATE event SET name = 'OTHER' WHERE seq = 3")
        conn.execute("DELETE FROM event WHERE seq = 6")
        conn.commit()
    finally:
        conn.close()
    result = cli_store("log", "--verify")
    assert result.code == 4 and result.out == ""
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: the event log is broken: row 3 was edited: its hash does not match its fields"
    ]
