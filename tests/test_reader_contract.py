"""One contract, three runtime readers: the lean SQLite and PostgreSQL readers and the Vault-backed
reader, run on the same cases, on SQLite and PostgreSQL. They unlock with the same keyring and
refuse with the same texts, so a function sees the same behaviour whatever store it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE, _postgres_database, fast_kdf
from sqlalchemy import text
from store_support import raw_engine

from faas_tui.core.errors import (
    AccessDeniedError,
    BindingBrokenError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    SecretNotFoundError,
    ValidationError,
    WrongKeyError,
)
from faas_tui.core.kinds import Role, SecretKind
from faas_tui.core.messages import REKEYED, REVOKED_KEY_FILE, no_function, no_secret
from faas_tui.core.values import SecretFormat
from faas_tui.store.location import sqlite_path
from faas_tui.store.vault import Vault
from faas_tui.toolbelt.pg_reader import PgReader
from faas_tui.toolbelt.source import Reader, decode, open_reader
from faas_tui.toolbelt.sqlite_reader import SqliteReader
from faas_tui.toolbelt.vault_reader import VaultReader

FN = "billing"
OLD = "sk_live_old_value"
NEW = "sk_live_new_value"
CONFIG = '{"region": "eu-west-1", "retries": [1, 2, 3]}'

OpenReader = Callable[..., Reader]


@pytest.fixture
def billing(vault: Vault) -> Vault:
    vault.add_function(FN)
    vault.add_secret(FN, "STRIPE_API_KEY", OLD)
    vault.add_secret(FN, "CONFIG", CONFIG, SecretFormat.JSON)
    return vault


@pytest.fixture
def key_file(billing: Vault, tmp_path: Path) -> Path:
    path = tmp_path / "runtime.key"
    billing.add_key_file(path, "runtime", functions=[FN])
    return path


# (reader, backend): the lean readers are sqlite3 and psycopg under one set of checks.
CASES = [
    pytest.param(("lean", "sqlite"), id="lean-sqlite"),
    pytest.param(("lean", "postgres"), id="lean-postgres", marks=pytest.mark.postgres),
    pytest.param(("vault", "sqlite"), id="vault-sqlite"),
    pytest.param(("vault", "postgres"), id="vault-postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param


@pytest.fixture
def store_url(case: tuple[str, str], tmp_path: Path) -> Iterator[str]:
    """The store of this case (replaces conftest's fixture of the same name for this module)."""
    if case[1] == "sqlite":
        yield str(tmp_path / "store" / "store.db")
    else:
        yield from _postgres_database()


@pytest.fixture
def make_reader(case: tuple[str, str], billing: Vault, key_file: Path) -> Iterator[OpenReader]:
    """Opens the reader under test on the test store (key file unless told otherwise)."""
    made: list[Reader] = []

    def make(**kwargs: Any) -> Reader:
        kwargs.setdefault("key_file", key_file)
        if case == ("lean", "sqlite"):
            path = sqlite_path(billing.url)
            assert path is not None
            reader: Reader = SqliteReader(str(path), **kwargs)
        elif case[0] == "lean":
            reader = PgReader(billing.url, **kwargs)
        else:
            reader = VaultReader(billing.url, **kwargs)
        made.append(reader)
        return reader

    yield make
    for reader in made:
        reader.close()


def sql(vault: Vault, statement: str, **params: Any) -> None:
    with raw_engine(vault).begin() as conn:
        conn.execute(text(statement), params)


# --- reading ----------------------------------------------------------------------------------


def test_reads_the_current_value_and_json_decodes_to_a_dict(
    billing: Vault, make_reader: OpenReader
) -> None:
    reader = make_reader()
    reader.check_function(FN)
    stored = reader.read(FN, "STRIPE_API_KEY")
    assert (stored.name, stored.kind, stored.text, stored.format) == (
        "STRIPE_API_KEY",
        SecretKind.USER,
        OLD,
        "plaintext",
    )
    config = reader.read(FN, "CONFIG")
    assert decode(config.text, config.format) == {"region": "eu-west-1", "retries": [1, 2, 3]}
    billing.update_secret(FN, "STRIPE_API_KEY", NEW)
    assert reader.read(FN, "STRIPE_API_KEY").text == NEW  # readers keep no cache of their own
    assert reader.read(FN, "SYSTEM_API_TOKEN").kind == SecretKind.SYSTEM


def test_a_missing_name_and_a_missing_function_are_refused_with_the_shared_texts(
    make_reader: OpenReader,
) -> None:
    reader = make_reader()
    with pytest.raises(SecretNotFoundError) as missing:
        reader.read(FN, "NOT_THERE")
    assert str(missing.value) == no_secret(FN, "NOT_THERE")
    operator = make_reader(key_file=None, passphrase=PASSPHRASE)
    with pytest.raises(NotFoundError) as no_fn:
        operator.check_function("shipping")
    assert str(no_fn.value) == no_function("shipping")
    with pytest.raises(NotFoundError):
        operator.read("shipping", "STRIPE_API_KEY")
    # a runtime key scoped to billing is refused any other function, existing or not (exit 5)
    for attempt in (lambda: reader.check_function("shipping"), lambda: reader.read("shipping", "X")):
        with pytest.raises(AccessDeniedError, match="reads billing only"):
            attempt()


def test_a_readers_repr_shows_neither_key_nor_value(
    make_reader: OpenReader, key_file: Path
) -> None:
    reader = make_reader()
    assert reader.read(FN, "STRIPE_API_KEY").text == OLD
    encoded_key = key_file.read_text().split()[3]
    assert encoded_key not in repr(reader) and OLD not in repr(reader)


# --- deployments ------------------------------------------------------------------------------


def test_the_deployed_binding_keeps_its_versions_until_the_next_deploy(
    billing: Vault, make_reader: OpenReader
) -> None:
    billing.deploy(FN)
    billing.update_secret(FN, "STRIPE_API_KEY", NEW)
    deployed = make_reader().deployed(FN)
    assert deployed.number == 1
    assert deployed.values["STRIPE_API_KEY"].text == OLD
    assert deployed.values["SYSTEM_API_TOKEN"].kind == SecretKind.SYSTEM
    assert deployed.values["CONFIG"].format == "json"
    assert set(deployed.values) == {
        "CONFIG",
        "STRIPE_API_KEY",
        "SYSTEM_API_TOKEN",
        "SYSTEM_STORAGE_TOKEN",
    }
    billing.deploy(FN)
    assert make_reader().deployed(FN).values["STRIPE_API_KEY"].text == NEW


def test_a_function_never_deployed_is_refused(make_reader: OpenReader) -> None:
    with pytest.raises(ConflictError, match=r"never been deployed: run `faas-tui deploy billing`"):
        make_reader().deployed(FN)


def test_a_binding_of_a_deleted_secret_is_refused(billing: Vault, make_reader: OpenReader) -> None:
    billing.deploy(FN)
    billing.delete_secret(FN, "STRIPE_API_KEY")
    with pytest.raises(BindingBrokenError) as caught:
        make_reader().deployed(FN)
    assert "STRIPE_API_KEY" in str(caught.value) and "redeploy" in str(caught.value)


# --- keys -------------------------------------------------------------------------------------


def test_a_passphrase_unlocks_and_a_wrong_one_is_refused(make_reader: OpenReader) -> None:
    assert make_reader(key_file=None, passphrase=PASSPHRASE).read(FN, "CONFIG").format == "json"
    with pytest.raises(WrongKeyError, match="wrong passphrase"):
        make_reader(key_file=None, passphrase="not the passphrase")


def test_a_key_file_of_another_store_is_refused(
    billing: Vault, make_reader: OpenReader, tmp_path: Path
) -> None:
    with Vault.create(str(tmp_path / "other" / "store.db"), PASSPHRASE, kdf=fast_kdf()) as other:
        other.add_key_file(tmp_path / "other.key", role=Role.AUDITOR)
    with pytest.raises(WrongKeyError, match="another store"):
        make_reader(key_file=tmp_path / "other.key")


def test_a_revoked_key_file_is_refused_also_by_a_running_reader(
    billing: Vault, make_reader: OpenReader
) -> None:
    running = make_reader()
    assert running.read(FN, "STRIPE_API_KEY").text == OLD
    (info,) = billing.list_key_files()
    billing.revoke_key_file(info.id)
    with pytest.raises(WrongKeyError) as revoked:
        running.read(FN, "STRIPE_API_KEY")
    assert str(revoked.value) == REVOKED_KEY_FILE
    with pytest.raises(WrongKeyError, match="revoked"):
        running.deployed(FN)
    with pytest.raises(WrongKeyError, match="revoked"):
        make_reader()


@pytest.mark.filterwarnings("error")  # refuse, never warn
def test_after_rotate_key_running_readers_keep_reading_and_after_passwd_ask_for_a_new_client(
    billing: Vault, make_reader: OpenReader
) -> None:
    by_file = make_reader()
    by_passphrase = make_reader(key_file=None, passphrase=PASSPHRASE)
    for reader in (by_file, by_passphrase):
        assert reader.read(FN, "STRIPE_API_KEY").text == OLD
    billing.rotate_key()  # new function keys, granted again to every credential's public key
    for reader in (by_file, by_passphrase):
        assert reader.read(FN, "STRIPE_API_KEY").text == OLD
    billing.change_passphrase("a brand new passphrase", kdf=fast_kdf())
    with pytest.raises(WrongKeyError) as passphrase_refused:
        by_passphrase.read(FN, "STRIPE_API_KEY")
    assert str(passphrase_refused.value) == REKEYED
    assert by_file.read(FN, "STRIPE_API_KEY").text == OLD  # another credential's passwd
    fresh = make_reader(key_file=None, passphrase="a brand new passphrase")  # a new client is fine
    assert fresh.read(FN, "STRIPE_API_KEY").text == OLD


# --- integrity --------------------------------------------------------------------------------


def test_a_tampered_value_raises_integrity_error_without_the_value(
    billing: Vault, make_reader: OpenReader
) -> None:
    reader = make_reader()
    moved = (
        "(SELECT v.{0} FROM secret_version v JOIN secret s ON s.id = v.secret_id "
        "WHERE s.name = 'SYSTEM_API_TOKEN')"
    )
    sql(  # another secret's ciphertext moved onto this one: its associated data no longer fits
        billing,
        f"UPDATE secret_version SET nonce = {moved.format('nonce')}, "
        f"ciphertext = {moved.format('ciphertext')} "
        "WHERE secret_id = (SELECT id FROM secret WHERE name = 'STRIPE_API_KEY')",
    )
    with pytest.raises(IntegrityError) as caught:
        reader.read(FN, "STRIPE_API_KEY")
    assert OLD not in str(caught.value) and caught.value.exit_code == 4
    assert reader.read(FN, "CONFIG").format == "json"  # the others are still readable


@pytest.mark.filterwarnings("error")  # refuse, never warn
def test_a_secret_rolled_back_behind_the_tools_back_is_refused_never_returned(
    billing: Vault, make_reader: OpenReader
) -> None:
    billing.deploy(FN)  # keeps version 1 alive
    billing.update_secret(FN, "STRIPE_API_KEY", NEW)
    reader = make_reader()
    assert reader.read(FN, "STRIPE_API_KEY").text == NEW
    sql(billing, "UPDATE secret SET version = 1 WHERE name = 'STRIPE_API_KEY'")
    for _ in range(2):  # refused every time, never the old value
        with pytest.raises(IntegrityError, match="billing's secrets") as refused:
            reader.read(FN, "STRIPE_API_KEY")
        assert OLD not in str(refused.value)
    with pytest.raises(IntegrityError):
        make_reader()  # a new reader too: the Vault refuses at open, the lean ones at first read
        make_reader().read(FN, "STRIPE_API_KEY")


# --- the store's location ---------------------------------------------------------------------


@pytest.mark.parametrize("store", ["   ", "sqlite:///", "mysql://u@h/db"])
def test_a_bad_store_is_refused_the_same_way_by_both_routes(
    store: str, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValidationError) as by_vault:
        VaultReader(store, key_file=key_file)
    monkeypatch.setenv("FAAS_TUI_STORE", store)
    with pytest.raises(ValidationError) as by_variable:
        open_reader(None, key_file, None)
    assert str(by_variable.value) == str(by_vault.value)
