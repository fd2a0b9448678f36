"""The audit: every secret of every function with its flags, MISSING names, never a value.

Vault-level tests run on SQLite and PostgreSQL; a few CLI tests check the JSON keys, well-formed
CSV, `--stale-days` and a canary that must appear in no output of `audit` or `log`.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE, Cli, fast_kdf
from sqlalchemy import text
from store_support import data_key, function_key, raw_engine

from faas_tui.core.records import AuditRow
from faas_tui.core.system_secrets import SYSTEM_SECRETS
from faas_tui.core.values import SecretFormat
from faas_tui.store import crypto
from faas_tui.store.vault import Vault

PLAIN = SecretFormat.PLAINTEXT
JSON = SecretFormat.JSON
T0 = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
SYSTEM_NAMES = [spec.name for spec in SYSTEM_SECRETS]
CANARY = "canary-8c41-audit-value"
AUDIT_KEYS = [
    "function",
    "name",
    "kind",
    "format",
    "version",
    "created_at",
    "updated_at",
    "age_days",
    "deployed_version",
    "flags",
]


# --- helpers ------------------------------------------------------------------------------------


class Clock:
    """An injectable clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def rows_of(vault: Vault, function: str, **kwargs: Any) -> dict[str, AuditRow]:
    return {row.name: row for row in vault.audit(**kwargs) if row.function == function}


def flags_of(vault: Vault, function: str, **kwargs: Any) -> dict[str, tuple[str, ...]]:
    return {name: row.flags for name, row in rows_of(vault, function, **kwargs).items()}


def fingerprints(vault: Vault) -> dict[tuple[str, str], bytes]:
    with raw_engine(vault).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT f.name, s.name, s.fingerprint FROM secret s "
                "JOIN function f ON f.id = s.function_id"
            )
        ).all()
    return {(fn, name): bytes(fp) for fn, name, fp in rows}


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def timed(store_url: str, clock: Clock) -> Any:
    """A store on each backend whose clock the test moves."""
    vault = Vault.create(store_url, PASSPHRASE, kdf=fast_kdf(), clock=clock)
    try:
        yield vault
    finally:
        vault.close()


# --- STALE --------------------------------------------------------------------------------------


def test_stale_means_strictly_older_than_n_days_by_the_vaults_clock(
    timed: Vault, clock: Clock
) -> None:
    timed.add_function("billing")
    timed.add_secret("billing", "OLD", "o")
    clock.advance(days=10)
    timed.add_secret("billing", "NEW", "n")
    clock.advance(days=20)  # OLD is exactly 30 days old, NEW exactly 20

    rows = rows_of(timed, "billing", stale_days=30)
    assert (rows["OLD"].age_days, rows["NEW"].age_days) == (30, 20)
    assert "STALE" not in rows["OLD"].flags  # not older than 30 days: exactly 30
    clock.advance(microseconds=1)
    assert "STALE" in flags_of(timed, "billing", stale_days=30)["OLD"]
    assert "STALE" not in flags_of(timed, "billing", stale_days=30)["NEW"]
    assert "STALE" in flags_of(timed, "billing", stale_days=20)["NEW"]
    assert "STALE" not in flags_of(timed, "billing", stale_days=21)["NEW"]


def test_stale_days_zero_flags_everything_older_than_now(timed: Vault, clock: Clock) -> None:
    timed.add_function("billing")
    timed.add_secret("billing", "API_KEY", "v")
    assert not any("STALE" in r.flags for r in timed.audit(stale_days=0))  # age exactly 0
    clock.advance(microseconds=1)
    rows = timed.audit(stale_days=0)
    assert len(rows) == 3 and all("STALE" in r.flags for r in rows)  # system secrets too
    assert all(r.age_days == 0 for r in rows)


def test_an_update_makes_a_value_young_again_and_keeps_its_creation_time(
    timed: Vault, clock: Clock
) -> None:
    timed.add_function("billing")
    timed.add_secret("billing", "API_KEY", "v1")
    clock.advance(days=100)
    assert "STALE" in flags_of(timed, "billing")["API_KEY"]  # default: 90 days
    timed.update_secret("billing", "API_KEY", "v2")
    row = rows_of(timed, "billing")["API_KEY"]
    assert "STALE" not in row.flags and row.age_days == 0
    assert (row.created_at, row.updated_at) == (T0, T0 + timedelta(days=100))


def test_an_explicit_now_wins_and_a_future_time_is_age_zero(timed: Vault, clock: Clock) -> None:
    timed.add_function("billing")
    clock.advance(days=3)
    timed.add_secret("billing", "API_KEY", "v")
    earlier = rows_of(timed, "billing", stale_days=1, now=T0 + timedelta(days=2))
    assert earlier["API_KEY"].age_days == 0 and "STALE" not in earlier["API_KEY"].flags
    assert (
        earlier["SYSTEM_API_TOKEN"].age_days == 2 and "STALE" in earlier["SYSTEM_API_TOKEN"].flags
    )


def test_huge_stale_days_flag_nothing(timed: Vault, clock: Clock) -> None:
    timed.add_function("billing")
    clock.advance(days=365 * 50)
    assert not any("STALE" in r.flags for r in timed.audit(stale_days=10_000_000))


# --- PENDING_REDEPLOY, SYSTEM -------------------------------------------------------------------


def test_pending_redeploy_follows_deploys_and_changes(vault: Vault) -> None:
    vault.add_function("billing")
    vault.add_secret("billing", "API_KEY", "v1")
    row = rows_of(vault, "billing")["API_KEY"]
    assert "PENDING_REDEPLOY" in row.flags and row.deployed_version is None  # never deployed

    vault.deploy("billing")
    rows = rows_of(vault, "billing")
    assert "PENDING_REDEPLOY" not in rows["API_KEY"].flags and rows["API_KEY"].deployed_version == 1

    vault.update_secret("billing", "API_KEY", "v2")
    vault.add_secret("billing", "NEW_KEY", "n")
    rows = rows_of(vault, "billing")
    assert (rows["API_KEY"].version, rows["API_KEY"].deployed_version) == (2, 1)
    assert "PENDING_REDEPLOY" in rows["API_KEY"].flags
    assert "PENDING_REDEPLOY" in rows["NEW_KEY"].flags and rows["NEW_KEY"].deployed_version is None

    vault.deploy("billing")
    rows = rows_of(vault, "billing")
    assert not any("PENDING_REDEPLOY" in r.flags for r in rows.values())
    assert rows["API_KEY"].deployed_version == 2


def test_system_secrets_are_flagged_system_and_never_pending(vault: Vault) -> None:
    vault.add_function("billing")
    rows = rows_of(vault, "billing")
    assert sorted(rows) == SYSTEM_NAMES
    for name in SYSTEM_NAMES:
        assert rows[name].kind == "system" and rows[name].flags == ("SYSTEM",)
    vault.deploy("billing")
    assert all(r.deployed_version == 1 for r in rows_of(vault, "billing").values())


# --- REUSED_VALUE -------------------------------------------------------------------------------


def test_a_value_reused_across_two_functions_is_flagged_on_both(vault: Vault) -> None:
    vault.add_function("billing")
    vault.add_function("shop")
    vault.add_secret("billing", "STRIPE_KEY", "sk_live_same")
    vault.add_secret("shop", "PAYMENTS_KEY", "sk_live_same")
    vault.add_secret("billing", "OTHER", "different")
    assert "REUSED_VALUE" in flags_of(vault, "billing")["STRIPE_KEY"]
    assert "REUSED_VALUE" in flags_of(vault, "shop")["PAYMENTS_KEY"]
    assert "REUSED_VALUE" not in flags_of(vault, "billing")["OTHER"]
    assert not any("REUSED_VALUE" in r.flags for r in vault.audit() if r.kind == "system")

    vault.update_secret("shop", "PAYMENTS_KEY", "sk_live_new")  # reuse ends with the update
    assert not any("REUSED_VALUE" in r.flags for r in vault.audit())


def test_a_value_reused_within_one_function_is_flagged(vault: Vault) -> None:
    vault.add_function("billing")
    vault.add_secret("billing", "PRIMARY", '{"a": 1}', JSON)
    vault.add_secret("billing", "BACKUP", '{"a": 1}', JSON)
    vault.add_secret("billing", "SPACED", '{"a":1}', JSON)  # another text, so another value
    flags = flags_of(vault, "billing")
    assert "REUSED_VALUE" in flags["PRIMARY"] and "REUSED_VALUE" in flags["BACKUP"]
    assert "REUSED_VALUE" not in flags["SPACED"]


def test_imports_and_bulk_fills_keep_fingerprints(vault: Vault) -> None:
    vault.add_function("billing")
    vault.add_secret("billing", "API_KEY", "shared")
    vault.import_secrets("billing", [("COPY", "shared", PLAIN), ("LONE", "x", PLAIN)])
    vault.populate({"shop": {"TOKEN": ("shared", PLAIN)}})
    reused = {(r.function, r.name) for r in vault.audit() if "REUSED_VALUE" in r.flags}
    assert reused == {("billing", "API_KEY"), ("billing", "COPY"), ("shop", "TOKEN")}
    vault.import_secrets("billing", [("LONE", "shared", PLAIN)], overwrite=True)
    assert "REUSED_VALUE" in flags_of(vault, "billing")["LONE"]


def test_fingerprints_are_keyed_by_the_store_fingerprint_key(vault: Vault, tmp_path: Path) -> None:
    vault.add_function("billing")
    vault.add_secret("billing", "API_KEY", "the same value")
    fingerprint = fingerprints(vault)[("billing", "API_KEY")]
    value = b"the same value"
    # no unkeyed or guessable-key digest of the value: a dictionary attack needs the key that
    # only writers' boxes hold
    assert fingerprint != hashlib.sha256(value).digest()
    assert fingerprint != hmac.new(b"", value, hashlib.sha256).digest()
    assert fingerprint != hmac.new(b"\0" * 32, value, hashlib.sha256).digest()
    assert fingerprint != crypto.mac(function_key(vault, "billing"), value)
    assert fingerprint == crypto.mac(data_key(vault), value)
    with Vault.create(str(tmp_path / "other.db"), PASSPHRASE, kdf=fast_kdf()) as other:
        other.add_function("billing")
        other.add_secret("billing", "API_KEY", "the same value")
        assert fingerprints(other)[("billing", "API_KEY")] != fingerprint


def test_rotate_key_keeps_every_fingerprint_comparable(vault: Vault) -> None:
    vault.add_function("billing")
    vault.add_secret("billing", "API_KEY", "shared")
    vault.add_secret("billing", "COPY", "shared")
    before = fingerprints(vault)
    vault.rotate_key()  # new function keys; the fingerprint key lives in the writers' boxes
    assert fingerprints(vault) == before
    # a new copy of the value still matches the old rows
    vault.add_secret("billing", "THIRD", "shared")
    reused = {name for name, flags in flags_of(vault, "billing").items() if "REUSED_VALUE" in flags}
    assert reused == {"API_KEY", "COPY", "THIRD"}


def test_the_audit_decrypts_nothing(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    vault.add_function("billing")
    vault.add_secret("billing", "API_KEY", "shared")
    vault.add_secret("billing", "COPY", "shared")

    def refuse(*_: object, **__: object) -> bytes:
        raise AssertionError("the audit tried to decrypt a value")

    monkeypatch.setattr(crypto, "unseal", refuse)
    flags = flags_of(vault, "billing")
    assert "REUSED_VALUE" in flags["API_KEY"] and "REUSED_VALUE" in flags["COPY"]


# --- UNREFERENCED and MISSING -------------------------------------------------------------------


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """Code that reads USED, mentions DOCUMENTED in a README, and reads two names not stored."""
    folder = tmp_path / "billing-src"
    (folder / "node_modules" / "lib").mkdir(parents=True)
    (folder / "handler.py").write_text(
        "from faas_tui.toolbelt import SecretClient, bound_env\n"
        "env = bound_env('billing')\n"
        "key = env.USED\n"
        "url = SecretClient('billing').read_secret('missing one')\n"
        "queue = env.SYSTEM_QUEUE_TOKEN\n"
        "home = os.environ['HOME']\n",
        encoding="utf-8",
    )
    (folder / "README.md").write_text("Rotate DOCUMENTED yearly.\n", encoding="utf-8")
    (folder / "node_modules" / "lib" / "index.js").write_text("process.env.UNUSED\n")
    return folder


def test_a_source_folder_marks_unused_names_and_lists_missing_ones(
    vault: Vault, source: Path
) -> None:
    vault.add_function("billing", str(source))
    vault.add_function("shop")  # no source folder: nothing to say about references
    for name in ("USED", "DOCUMENTED", "UNUSED"):
        vault.add_secret("billing", name, f"value of {name}")
    vault.add_secret("shop", "UNUSED", "elsewhere")

    rows = [r for r in vault.audit() if r.function == "billing"]
    assert [r.name for r in rows] == [
        "DOCUMENTED",
        *SYSTEM_NAMES,
        "UNUSED",
        "USED",
        "MISSING_ONE",  # after the stored names, in name order
        "SYSTEM_QUEUE_TOKEN",
    ]
    flags = {r.name: r.flags for r in rows}
    assert "UNREFERENCED" in flags["UNUSED"]  # node_modules is not the function's code
    assert "UNREFERENCED" not in flags["USED"] and "UNREFERENCED" not in flags["DOCUMENTED"]
    assert all(flags[name] == ("SYSTEM",) for name in SYSTEM_NAMES)  # unused system: as it should
    missing = {r.name: r for r in rows if r.missing}
    assert missing["MISSING_ONE"] == AuditRow(
        "billing", "MISSING_ONE", "user", None, None, None, None, None, None, ("MISSING",)
    )
    assert missing["SYSTEM_QUEUE_TOKEN"].kind == "system"
    assert "UNREFERENCED" not in flags_of(vault, "shop")["UNUSED"]


def test_changing_or_clearing_the_source_folder_changes_the_audit(
    vault: Vault, source: Path, tmp_path: Path
) -> None:
    vault.add_function("billing", str(source))
    vault.add_secret("billing", "UNUSED", "u")
    other = tmp_path / "other-src"
    other.mkdir()
    (other / "main.js").write_text("const x = process.env.UNUSED;\n", encoding="utf-8")
    vault.set_source_dir("billing", str(other))
    rows = rows_of(vault, "billing")
    assert "UNREFERENCED" not in rows["UNUSED"].flags and not any(r.missing for r in rows.values())

    vault.set_source_dir("billing", str(source))
    assert "UNREFERENCED" in flags_of(vault, "billing")["UNUSED"]
    shutil.rmtree(source)  # a vanished folder says nothing rather than everything
    rows = rows_of(vault, "billing")
    assert "UNREFERENCED" not in rows["UNUSED"].flags and not any(r.missing for r in rows.values())
    vault.set_source_dir("billing", None)
    assert vault.get_function("billing").source_dir is None


# --- the whole audit ----------------------------------------------------------------------------


def test_every_secret_once_sorted_by_function_then_name_and_no_value(vault: Vault) -> None:
    vault.populate(
        {
            "zeta": {"B_KEY": (CANARY + "-1", PLAIN), "A_KEY": (CANARY + "-2", PLAIN)},
            "alpha": {"Z_KEY": ('{"canary": "' + CANARY + '"}', JSON)},
        }
    )
    vault.add_function("empty")
    rows = vault.audit()
    assert [(r.function, r.name) for r in rows] == [
        ("alpha", "SYSTEM_API_TOKEN"),
        ("alpha", "SYSTEM_STORAGE_TOKEN"),
        ("alpha", "Z_KEY"),
        ("empty", "SYSTEM_API_TOKEN"),
        ("empty", "SYSTEM_STORAGE_TOKEN"),
        ("zeta", "A_KEY"),
        ("zeta", "B_KEY"),
        *[("zeta", name) for name in SYSTEM_NAMES],
    ]
    z_key = rows[2]
    assert (z_key.kind, z_key.format, z_key.version) == ("user", JSON, 1)
    assert z_key.created_at == z_key.updated_at and z_key.created_at.utcoffset() == timedelta(0)
    assert CANARY not in repr(rows)


def test_an_empty_store_audits_to_nothing(vault: Vault) -> None:
    assert vault.audit() == []


# --- the command line ---------------------------------------------------------------------------


def make_store(path: str, source: Path | None = None) -> None:
    """A store with a fast KDF (each CLI call then unlocks in milliseconds) and canary values."""
    with Vault.create(path, PASSPHRASE, kdf=fast_kdf()) as vault:
        vault.add_function("billing", str(source) if source else None)
        vault.add_secret("billing", "USED", CANARY + "-used")
        vault.add_secret("billing", "UNUSED", CANARY + "-shared")
        vault.add_secret("billing", "CONFIG", '{"token": "' + CANARY + '-json"}', JSON)
        vault.deploy("billing")
        vault.update_secret("billing", "USED", CANARY + "-used-2")
        vault.populate({"shop": {"PAYMENTS_KEY": (CANARY + "-shared", PLAIN)}})
        vault.import_secrets("shop", [("FROM_ENV", CANARY + "-imported", PLAIN)])


def test_audit_json_has_the_spec_keys_and_a_missing_row(cli: Cli, source: Path) -> None:
    make_store(cli.store, source)
    result = cli("audit", "--format", "json")
    assert result.code == 0 and result.err == "", result.err
    rows = json.loads(result.out)
    assert all(list(row) == AUDIT_KEYS for row in rows)
    by_name = {(r["function"], r["name"]): r for r in rows}
    used = by_name[("billing", "USED")]
    assert (used["kind"], used["format"], used["version"], used["deployed_version"]) == (
        "user",
        "plaintext",
        2,
        1,
    )
    assert used["flags"] == ["PENDING_REDEPLOY"] and used["age_days"] == 0
    for key in ("created_at", "updated_at"):
        assert used[key].endswith("Z") and datetime.fromisoformat(
            used[key]
        ).utcoffset() == timedelta(0)
    assert by_name[("billing", "CONFIG")]["format"] == "json"
    assert by_name[("billing", "UNUSED")]["flags"] == ["REUSED_VALUE", "UNREFERENCED"]
    assert by_name[("shop", "PAYMENTS_KEY")]["flags"] == ["PENDING_REDEPLOY", "REUSED_VALUE"]
    assert by_name[("billing", "SYSTEM_API_TOKEN")]["kind"] == "system"
    assert by_name[("billing", "MISSING_ONE")] == {
        "function": "billing",
        "name": "MISSING_ONE",
        "kind": "user",
        "format": None,
        "version": None,
        "created_at": None,
        "updated_at": None,
        "age_days": None,
        "deployed_version": None,
        "flags": ["MISSING"],
    }
    assert {r["kind"] for r in rows} == {"user", "system"}


def test_audit_csv_is_well_formed_with_flags_in_one_cell(cli: Cli, tmp_path: Path) -> None:
    make_store(cli.store)
    as_json = json.loads(cli("audit", "--format", "json").out)
    result = cli("audit", "--format", "csv")
    assert result.code == 0, result.err
    table = list(csv.reader(io.StringIO(result.out, newline="")))
    assert table[0] == AUDIT_KEYS
    assert all(len(line) == len(AUDIT_KEYS) for line in table)
    records = [dict(zip(AUDIT_KEYS, line, strict=True)) for line in table[1:]]
    assert [(r["function"], r["name"]) for r in records] == [
        (r["function"], r["name"]) for r in as_json
    ]
    flags = {r["name"]: r["flags"] for r in records if r["function"] == "shop"}
    assert flags["PAYMENTS_KEY"] == "PENDING_REDEPLOY;REUSED_VALUE"
    assert flags["SYSTEM_API_TOKEN"] == "SYSTEM"

    empty = str(tmp_path / "empty" / "store.db")
    Vault.create(empty, PASSPHRASE, kdf=fast_kdf()).close()
    result = cli("audit", "--format", "csv", env={"FAAS_TUI_STORE": empty})
    assert result.code == 0 and list(csv.reader(io.StringIO(result.out))) == [AUDIT_KEYS]


def test_stale_days_on_the_command_line(cli: Cli) -> None:
    make_store(cli.store)
    everything = json.loads(cli("audit", "--format", "json", "--stale-days", "0").out)
    assert everything and all("STALE" in r["flags"] for r in everything)
    fresh = json.loads(cli("audit", "--format", "json").out)  # default: 90 days
    assert not any("STALE" in r["flags"] for r in fresh)
    refused = cli("audit", "--stale-days", "-1")
    assert refused.code == 2 and refused.err.startswith("error:")


def test_a_vanished_source_folder_is_a_warning(cli: Cli, source: Path) -> None:
    make_store(cli.store, source)
    shutil.rmtree(source)
    result = cli("audit")
    assert result.code == 0
    assert result.err.startswith("warning: billing's source folder") and "set-source" in result.err
    assert "UNREFERENCED" not in result.out and "MISSING" not in result.out


def test_no_value_in_any_audit_or_log_output(cli: Cli, source: Path, tmp_path: Path) -> None:
    """The canary: values reach the store through every path, then every output is searched."""
    make_store(cli.store, source)
    value_file = tmp_path / "value.txt"
    value_file.write_text(CANARY + "-from-cli\n", encoding="utf-8")
    env_file = tmp_path / "more.env"
    env_file.write_text(f'export FROM_DOTENV="{CANARY}-dotenv"\n', encoding="utf-8")
    steps = [
        cli("functions", "add", "mailer", "--source", str(source)),
        cli("secrets", "add", "mailer", "SMTP_PASSWORD", input=CANARY + "-stdin\n"),
        cli("secrets", "update", "mailer", "SMTP_PASSWORD", "--file", str(value_file)),
        cli("secrets", "import", "mailer", str(env_file)),
    ]
    assert [step.code for step in steps] == [0, 0, 0, 0], [step.err for step in steps]
    outputs = [
        cli("audit"),
        cli("audit", "--format", "json"),
        cli("audit", "--format", "csv", "--stale-days", "0"),
        cli("log"),
        cli("log", "--format", "json"),
        cli("log", "--verify"),
    ]
    assert [out.code for out in outputs] == [0] * 6, [out.err for out in outputs]
    assert "SMTP_PASSWORD" in outputs[0].out and "FROM_DOTENV" in outputs[4].out
    for out in outputs:
        assert "canary" not in out.out + out.err
