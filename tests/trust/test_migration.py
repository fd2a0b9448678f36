"""Upgrading a real 0.1.0 store (tests/fixtures/store_v0_1_0.db, written by the 0.1.0 store code:
billing with STRIPE_API_KEY at version 2 while deployment 1 binds version 1, SETTINGS as JSON,
mailer with SMTP_PASSWORD and DUP, one key file labelled `ci`, 10 events by `ops`)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import PASSPHRASE
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from faas_tui.core.errors import AccessDeniedError, IntegrityError, StoreError
from faas_tui.core.kinds import Role
from faas_tui.core.values import SecretFormat
from faas_tui.store import migration
from faas_tui.store.vault import Vault
from faas_tui.toolbelt import SecretClient

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def old_store(tmp_path: Path) -> tuple[str, Path]:
    store = tmp_path / "store" / "store.db"
    store.parent.mkdir(mode=0o700)
    shutil.copyfile(FIXTURES / "store_v0_1_0.db", store)
    store.chmod(0o600)
    key_file = tmp_path / "old.key"
    shutil.copyfile(FIXTURES / "store_v0_1_0.key", key_file)
    key_file.chmod(0o600)
    return str(store), key_file


def schema(store: str) -> int:
    con = sqlite3.connect(store)
    try:
        return int(con.execute("SELECT schema_version FROM store_meta").fetchone()[0])
    finally:
        con.close()


def assert_upgraded_fixture(vault: Vault) -> None:
    """The fixture's whole content, read through an upgraded store: every value (the bound old
    one too), the deployment, the ten events by `ops` and the one upgrade event after them."""
    assert vault.read_secret("billing", "STRIPE_API_KEY") == "sk_live_new"
    assert vault.read_secret("billing", "SETTINGS") == {"region": "eu"}
    assert vault.bound_values("billing")["STRIPE_API_KEY"] == (
        "sk_live_old", SecretFormat.PLAINTEXT
    )
    assert vault.read_secret("mailer", "SMTP_PASSWORD") == "hunter2"
    assert [d.number for d in vault.deployments("billing")] == [1]
    events = vault.events()
    assert [e.actor for e in events[:10]] == ["ops"] * 10
    assert [e.action for e in events[10:]] == ["store.migrate"]


def test_a_0_1_0_store_migrates_keeping_every_value_version_deployment_and_event(
    old_store: tuple[str, Path],
) -> None:
    store, key_file = old_store
    assert schema(store) == 1
    with Vault.open(store, passphrase=PASSPHRASE, operator="ops") as vault:
        assert schema(store) == 2
        assert vault.credential.actor == "ops" and vault.credential.role is Role.ADMIN
        assert [(o.name, o.role) for o in vault.list_operators()] == [("ops", Role.ADMIN)]
        assert_upgraded_fixture(vault)
        assert vault.verify_log() == 11
        reused = {(r.function, r.name) for r in vault.audit() if "REUSED_VALUE" in r.flags}
        assert reused == {("billing", "STRIPE_API_KEY"), ("mailer", "DUP")}
        (legacy,) = vault.list_key_files()
        assert legacy.legacy and legacy.label == "ci"
        assert vault.check().ok
        vault.add_secret("billing", "NEW_KEY", "written after the upgrade")
    with Vault.open(store, passphrase=PASSPHRASE) as again:  # the only operator: no name needed
        assert again.read_secret("billing", "NEW_KEY") == "written after the upgrade"


def test_old_key_files_keep_reading_every_function_read_only_until_revoked(
    old_store: tuple[str, Path],
) -> None:
    store, key_file = old_store
    with pytest.raises(StoreError, match="opens it once with its passphrase"):
        Vault.open(store, key_file=key_file)  # before the upgrade: a clear refusal
    assert schema(store) == 1
    admin = Vault.open(store, passphrase=PASSPHRASE, operator="ops")
    with Vault.open(store, key_file=key_file) as legacy:
        assert legacy.credential.legacy
        assert legacy.read_secret("billing", "STRIPE_API_KEY") == "sk_live_new"
        assert legacy.read_secret("mailer", "SMTP_PASSWORD") == "hunter2"
        with pytest.raises(AccessDeniedError, match="legacy"):
            legacy.add_secret("mailer", "MORE_KEY", "x")
    admin.add_secret("mailer", "LATER_KEY", "after")
    with Vault.open(store, key_file=key_file) as legacy:  # new functions' keys are granted too
        assert legacy.read_secret("mailer", "LATER_KEY") == "after"
    (info,) = admin.list_key_files()
    assert admin.revoke_key_file(info.id) == [info.id]
    assert admin.list_key_files() == []
    with pytest.raises(Exception, match="revoked"):
        Vault.open(store, key_file=key_file)
    assert admin.check().ok
    admin.close()


def test_a_failure_in_the_middle_of_the_migration_leaves_the_old_store_usable(
    old_store: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = old_store
    before = Path(store).read_bytes()

    def crash(*_: object, **__: object) -> None:
        raise OSError("the machine lost power")

    monkeypatch.setattr(migration, "_reencrypt", crash)
    with pytest.raises(OSError):
        Vault.open(store, passphrase=PASSPHRASE, operator="ops")
    assert schema(store) == 1
    con = sqlite3.connect(store)
    columns = {row[1] for row in con.execute("PRAGMA table_info(secret_version)")}
    tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert "write_id" not in columns and "key_grant" not in tables  # the DDL rolled back too
    monkeypatch.undo()
    with Vault.open(store, passphrase=PASSPHRASE, operator="ops") as vault:
        assert vault.read_secret("billing", "STRIPE_API_KEY") == "sk_live_new"
    assert Path(store).read_bytes() != before


def test_a_tampered_0_1_0_store_is_not_migrated(old_store: tuple[str, Path]) -> None:
    store, _ = old_store
    con = sqlite3.connect(store)
    con.execute("UPDATE secret SET version = 1 WHERE name = 'STRIPE_API_KEY'")
    con.commit()
    con.close()
    with pytest.raises(IntegrityError, match="not upgraded"):
        Vault.open(store, passphrase=PASSPHRASE, operator="ops")
    assert schema(store) == 1


@pytest.fixture
def old_pg_store() -> Iterator[str]:
    """The same 0.1.0 store on PostgreSQL: schema 1's tables (today's, without schema 2's columns
    and grants), filled with the fixture's rows."""
    from conftest import _postgres_database

    for url in _postgres_database():
        engine = create_engine(url)
        SQLModel.metadata.create_all(engine)
        source = sqlite3.connect(FIXTURES / "store_v0_1_0.db")
        source.row_factory = sqlite3.Row
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE key_grant"))
            for table, columns in migration._NEW_COLUMNS.items():
                for column, _ in columns:
                    conn.execute(text(f'ALTER TABLE "{table}" DROP COLUMN "{column}"'))
            for table in OLD_TABLES:
                for row in source.execute(f'SELECT * FROM "{table}"'):
                    values = {k: _pg_value(k, row[k]) for k in row.keys()}  # noqa: SIM118
                    names = ", ".join(f'"{k}"' for k in values)
                    marks = ", ".join(f":{k}" for k in values)
                    conn.execute(text(f'INSERT INTO "{table}" ({names}) VALUES ({marks})'), values)
            for table in ("function", "secret", "secret_version", "deployment", "binding"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                        f'(SELECT max(id) FROM "{table}"))'
                    )
                )
        source.close()
        engine.dispose()
        yield url


OLD_TABLES = (
    "store_meta", "key_slot", "function", "secret", "secret_version", "deployment", "binding",
    "event",
)


def _pg_value(column: str, value: object) -> object:
    if column in ("created_at", "updated_at", "at") and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


@pytest.mark.postgres
def test_a_0_1_0_store_on_postgresql_migrates_and_its_key_file_reads(
    old_pg_store: str, old_store: tuple[str, Path]
) -> None:
    _, key_file = old_store
    with pytest.raises(StoreError, match="opens it once with its passphrase"):
        SecretClient("billing", store=old_pg_store, key_file=key_file)
    with Vault.open(old_pg_store, passphrase=PASSPHRASE, operator="ops") as vault:
        assert vault.read_secret("billing", "STRIPE_API_KEY") == "sk_live_new"
        assert vault.bound_values("billing")["STRIPE_API_KEY"][0] == "sk_live_old"
        assert vault.verify_log() == 11
        assert vault.check().ok
        vault.add_secret("mailer", "LATER_KEY", "after the upgrade")
    with SecretClient("mailer", store=old_pg_store, key_file=key_file) as client:
        assert client.read_secret("SMTP_PASSWORD") == "hunter2"
        assert client.read_secret("LATER_KEY") == "after the upgrade"
