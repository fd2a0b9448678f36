"""The runtime toolbelt on SQLite (lean reader) and PostgreSQL (Vault reader): SecretClient's cache,
names, errors, system-secret warning, tampering, key files, threads, and bound_env.
"""

from __future__ import annotations

import pickle
import sqlite3
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE, fast_kdf
from sqlalchemy import text
from store_support import raw_engine

from faas_tui.core.constants import SCHEMA_VERSION
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
from faas_tui.core.records import DEFAULT_CACHE_TTL
from faas_tui.core.values import SecretFormat
from faas_tui.store.location import sqlite_path
from faas_tui.store.vault import Vault
from faas_tui.toolbelt import (
    BoundEnv,
    SecretClient,
    SystemSecretWarning,
    ToolbeltWarning,
    bound_env,
)
from faas_tui.toolbelt import client as client_module
from faas_tui.toolbelt.sqlite_reader import SCHEMA_VERSION as LEAN_SCHEMA_VERSION

FN = "billing"
OLD = "sk_live_old_value"
NEW = "sk_live_new_value"
CONFIG = '{"region": "eu-west-1", "retries": [1, 2, 3]}'
# For behaviour of the client itself (cache, names, arguments), which no backend changes.
SQLITE_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


# --- fixtures and helpers -----------------------------------------------------------------------


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


@pytest.fixture
def make_client(billing: Vault, key_file: Path) -> Iterator[Callable[..., SecretClient]]:
    """SecretClient factory on the test store, unlocked with the key file; closed afterwards."""
    made: list[SecretClient] = []

    def make(**kwargs: Any) -> SecretClient:
        kwargs.setdefault("store", billing.url)
        kwargs.setdefault("key_file", key_file)
        client = SecretClient(FN, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def behind_the_back(vault: Vault, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Raw SQL as an attacker with write access would run it: sqlite3 itself on a SQLite file."""
    path = sqlite_path(vault.url)
    if path is not None:
        con = sqlite3.connect(path)
        try:
            with con:
                rows = con.execute(statement, params).fetchall()
        finally:
            con.close()
        return [tuple(row) for row in rows]
    with raw_engine(vault).begin() as conn:
        result = conn.execute(text(statement), params)
        return [tuple(row) for row in result] if result.returns_rows else []


def current_version_id(vault: Vault, name: str) -> int:
    rows = behind_the_back(
        vault,
        "SELECT v.id FROM secret_version v JOIN secret s ON s.id = v.secret_id "
        "WHERE s.name = :name AND v.version = s.version",
        name=name,
    )
    assert len(rows) == 1
    return int(rows[0][0])


def flip_a_bit(vault: Vault, name: str) -> None:
    version_id = current_version_id(vault, name)
    (ciphertext,) = behind_the_back(
        vault, "SELECT ciphertext FROM secret_version WHERE id = :id", id=version_id
    )[0]
    tampered = bytearray(ciphertext)
    tampered[0] ^= 0x01
    behind_the_back(
        vault,
        "UPDATE secret_version SET ciphertext = :c WHERE id = :id",
        c=bytes(tampered),
        id=version_id,
    )


# --- reading and the cache ----------------------------------------------------------------------


def test_reads_plaintext_as_str_and_json_as_dict(make_client: Callable[..., SecretClient]) -> None:
    client = make_client()
    assert client.read_secret("STRIPE_API_KEY") == OLD
    assert client.read_secret("CONFIG") == {"region": "eu-west-1", "retries": [1, 2, 3]}
    assert client.read_secret("CONFIG", use_cache=False) == {
        "region": "eu-west-1",
        "retries": [1, 2, 3],
    }


@SQLITE_ONLY
def test_names_are_normalised_like_typed_names(make_client: Callable[..., SecretClient]) -> None:
    client = make_client()
    assert client.read_secret("stripe api key") == OLD
    assert client.read_secret(" stripe-api.key ") == OLD
    with pytest.raises(ValidationError, match="at least 3 characters"):
        client.read_secret("x")


def test_a_missing_name_raises_secret_not_found_which_is_a_key_error(
    make_client: Callable[..., SecretClient],
) -> None:
    client = make_client()
    with pytest.raises(KeyError) as caught:
        client.read_secret("NOT_THERE")
    assert isinstance(caught.value, SecretNotFoundError)
    message = str(caught.value)
    assert "billing" in message and "NOT_THERE" in message and "\n" not in message


@SQLITE_ONLY
def test_an_unknown_function_or_store_is_refused_when_the_client_is_made(
    billing: Vault, key_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="no function named 'shipping'"):
        SecretClient("shipping", store=billing.url, passphrase=PASSPHRASE)
    with pytest.raises(AccessDeniedError, match="reads billing only"):  # out of the key's scope
        SecretClient("shipping", store=billing.url, key_file=key_file)
    with pytest.raises(NotFoundError, match="faas-tui init"):
        SecretClient(FN, store=str(tmp_path / "nowhere.db"), key_file=key_file)


def test_a_cached_value_survives_an_update_until_read_with_use_cache_false(
    billing: Vault, make_client: Callable[..., SecretClient]
) -> None:
    client = make_client()
    assert client.read_secret("STRIPE_API_KEY") == OLD
    billing.update_secret(FN, "STRIPE_API_KEY", NEW)
    assert client.read_secret("STRIPE_API_KEY") == OLD  # cached
    assert client.read_secret("STRIPE_API_KEY", use_cache=False) == NEW  # newest stored
    billing.update_secret(FN, "STRIPE_API_KEY", "third")
    assert client.read_secret("STRIPE_API_KEY") == NEW  # the entry was refreshed by that read


@SQLITE_ONLY
def test_an_entry_expires_after_the_ttl(
    billing: Vault, make_client: Callable[..., SecretClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(client_module, "monotonic", lambda: now[0])
    client = make_client(cache_ttl=300)
    assert client.read_secret("STRIPE_API_KEY") == OLD
    billing.update_secret(FN, "STRIPE_API_KEY", NEW)
    now[0] += 299.9
    assert client.read_secret("STRIPE_API_KEY") == OLD
    now[0] += 0.2
    assert client.read_secret("STRIPE_API_KEY") == NEW


@SQLITE_ONLY
def test_the_default_ttl_is_five_minutes(make_client: Callable[..., SecretClient]) -> None:
    assert make_client().cache_ttl == 300


@SQLITE_ONLY
def test_cache_ttl_zero_disables_the_cache(
    billing: Vault, make_client: Callable[..., SecretClient]
) -> None:
    client = make_client(cache_ttl=0)
    assert client.read_secret("STRIPE_API_KEY") == OLD
    billing.update_secret(FN, "STRIPE_API_KEY", NEW)
    assert client.read_secret("STRIPE_API_KEY") == NEW
    assert len(client._cache) == 0


@pytest.mark.parametrize("ttl", [-1, "300", True])
def test_a_bad_cache_ttl_is_refused_before_anything_is_opened(ttl: Any, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cache_ttl"):
        SecretClient(FN, store=str(tmp_path / "none.db"), key_file=tmp_path / "k", cache_ttl=ttl)


@SQLITE_ONLY
def test_the_cache_is_bounded_and_evicts_the_least_recently_used(
    billing: Vault, make_client: Callable[..., SecretClient]
) -> None:
    for name in ("FIRST", "SECOND", "THIRD"):
        billing.add_secret(FN, name, f"{name.lower()}-1")
    client = make_client(cache_size=2)
    client.read_secret("FIRST")
    client.read_secret("SECOND")
    client.read_secret("FIRST")  # FIRST is now the most recently used
    client.read_secret("THIRD")  # evicts SECOND
    assert len(client._cache) == 2
    for name in ("FIRST", "SECOND", "THIRD"):
        billing.update_secret(FN, name, f"{name.lower()}-2")
    assert client.read_secret("FIRST") == "first-1"  # still cached
    assert client.read_secret("THIRD") == "third-1"  # still cached
    assert client.read_secret("SECOND") == "second-2"  # was evicted: read from the store


@SQLITE_ONLY
def test_two_instances_do_not_share_a_cache(
    billing: Vault, make_client: Callable[..., SecretClient]
) -> None:
    first = make_client()
    assert first.read_secret("STRIPE_API_KEY") == OLD
    billing.update_secret(FN, "STRIPE_API_KEY", NEW)
    second = make_client()
    assert second.read_secret("STRIPE_API_KEY") == NEW
    assert first.read_secret("STRIPE_API_KEY") == OLD


@SQLITE_ONLY
def test_changing_a_returned_json_dict_does_not_change_the_cache(
    make_client: Callable[..., SecretClient],
) -> None:
    client = make_client()
    value = client.read_secret("CONFIG")
    assert isinstance(value, dict)
    value["region"] = "changed"
    value["retries"].append(99)
    assert client.read_secret("CONFIG") == {"region": "eu-west-1", "retries": [1, 2, 3]}


@SQLITE_ONLY
def test_a_deleted_secret_is_dropped_from_the_cache_on_the_next_store_read(
    billing: Vault, make_client: Callable[..., SecretClient]
) -> None:
    client = make_client()
    client.read_secret("STRIPE_API_KEY")
    billing.delete_secret(FN, "STRIPE_API_KEY")
    with pytest.raises(SecretNotFoundError):
        client.read_secret("STRIPE_API_KEY", use_cache=False)
    with pytest.raises(SecretNotFoundError):
        client.read_secret("STRIPE_API_KEY")


def test_reading_a_system_secret_works_but_warns_why(
    make_client: Callable[..., SecretClient],
) -> None:
    client = make_client()
    for use_cache in (True, True, False):
        with pytest.warns(SystemSecretWarning) as caught:
            value = client.read_secret("SYSTEM_API_TOKEN", use_cache=use_cache)
        assert isinstance(value, str) and len(value) > 20
        message = str(caught[0].message)
        assert "permissions and scopes may change without notice" in message
        assert caught[0].filename == __file__  # points at the caller's line
    assert issubclass(SystemSecretWarning, UserWarning)


@SQLITE_ONLY
def test_reading_a_user_secret_does_not_warn(make_client: Callable[..., SecretClient]) -> None:
    client = make_client()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.read_secret("STRIPE_API_KEY")
        client.read_secret("STRIPE_API_KEY")


# --- integrity ----------------------------------------------------------------------------------


def test_a_tampered_value_raises_integrity_error_and_is_never_returned(
    billing: Vault, make_client: Callable[..., SecretClient]
) -> None:
    cached = make_client()
    cached.read_secret("STRIPE_API_KEY")
    flip_a_bit(billing, "STRIPE_API_KEY")
    with pytest.raises(IntegrityError) as caught:
        make_client().read_secret("STRIPE_API_KEY")
    assert OLD not in str(caught.value) and caught.value.exit_code == 4
    with pytest.raises(IntegrityError):
        cached.read_secret("STRIPE_API_KEY", use_cache=False)
    with pytest.raises(IntegrityError):  # the old cached entry went with the failed read
        cached.read_secret("STRIPE_API_KEY")
    assert make_client().read_secret("CONFIG")["region"] == "eu-west-1"  # others still readable


def test_a_ciphertext_moved_to_another_row_fails_to_decrypt(
    billing: Vault, make_client: Callable[..., SecretClient]
) -> None:
    billing.add_secret(FN, "OTHER_KEY", "other")
    source = current_version_id(billing, "STRIPE_API_KEY")
    target = current_version_id(billing, "OTHER_KEY")
    nonce, ciphertext = behind_the_back(
        billing, "SELECT nonce, ciphertext FROM secret_version WHERE id = :id", id=source
    )[0]
    behind_the_back(
        billing,
        "UPDATE secret_version SET nonce = :n, ciphertext = :c WHERE id = :id",
        n=nonce,
        c=ciphertext,
        id=target,
    )
    with pytest.raises(IntegrityError):
        make_client().read_secret("OTHER_KEY")


def test_a_secret_rolled_back_behind_the_tools_back_is_refused(
    billing: Vault, make_client: Callable[..., SecretClient], key_file: Path
) -> None:
    billing.deploy(FN)  # keeps version 1 of STRIPE_API_KEY alive
    billing.update_secret(FN, "STRIPE_API_KEY", NEW)
    running = make_client()
    assert running.read_secret("STRIPE_API_KEY") == NEW
    behind_the_back(billing, "UPDATE secret SET version = 1 WHERE name = 'STRIPE_API_KEY'")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ToolbeltWarning)  # refuse, never warn
        with pytest.raises(IntegrityError, match="signed digest"):
            running.read_secret("STRIPE_API_KEY", use_cache=False)
        with pytest.raises(IntegrityError, match="signed digest"):
            make_client()
        with pytest.raises(IntegrityError, match="signed digest"):
            bound_env(FN, store=billing.url, key_file=key_file)


def test_the_lean_reader_knows_the_schema_version_and_the_default_ttl() -> None:
    assert LEAN_SCHEMA_VERSION == SCHEMA_VERSION
    assert client_module.DEFAULT_CACHE_TTL == DEFAULT_CACHE_TTL  # the app shows "cached until"


# --- keys ---------------------------------------------------------------------------------------


def test_a_passphrase_unlocks_and_a_wrong_one_is_refused(billing: Vault) -> None:
    with SecretClient(FN, store=billing.url, passphrase=PASSPHRASE) as client:
        assert client.read_secret("STRIPE_API_KEY") == OLD
    with pytest.raises(WrongKeyError, match="wrong passphrase"):
        SecretClient(FN, store=billing.url, passphrase="not the passphrase")


def test_a_key_file_readable_by_others_is_refused(billing: Vault, key_file: Path) -> None:
    key_file.chmod(0o644)
    with pytest.raises(ValidationError, match="chmod 600"):
        SecretClient(FN, store=billing.url, key_file=key_file)


def test_a_key_file_of_another_store_is_refused(
    billing: Vault, key_file: Path, tmp_path: Path
) -> None:
    from conftest import fast_kdf

    with Vault.create(str(tmp_path / "other" / "store.db"), PASSPHRASE, kdf=fast_kdf()) as other:
        other.add_function(FN)
        with pytest.raises(WrongKeyError, match="another store"):
            SecretClient(FN, store=other.url, key_file=key_file)


def test_a_revoked_key_file_stops_working_also_in_a_running_client(
    billing: Vault, key_file: Path, make_client: Callable[..., SecretClient]
) -> None:
    running = make_client()
    assert running.read_secret("STRIPE_API_KEY") == OLD
    (info,) = billing.list_key_files()
    billing.revoke_key_file(info.id)
    with pytest.raises(WrongKeyError, match="revoked"):
        SecretClient(FN, store=billing.url, key_file=key_file)
    with pytest.raises(WrongKeyError, match="revoked"):
        running.read_secret("STRIPE_API_KEY", use_cache=False)
    with pytest.raises(WrongKeyError):  # and it dropped what it had cached
        running.read_secret("STRIPE_API_KEY")
    with pytest.raises(WrongKeyError, match="revoked"):
        bound_env(FN, store=billing.url, key_file=key_file)


def test_rotate_key_keeps_a_running_key_file_client_reading(
    billing: Vault, make_client: Callable[..., SecretClient]
) -> None:
    running = make_client()
    running.read_secret("STRIPE_API_KEY")
    billing.rotate_key()  # the function's new key is granted to the key file's public key
    billing.update_secret(FN, "STRIPE_API_KEY", NEW)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no integrity warning either
        assert running.read_secret("STRIPE_API_KEY", use_cache=False) == NEW


def test_passwd_makes_a_running_passphrase_client_ask_for_a_new_client(
    billing: Vault, make_client: Callable[..., SecretClient]
) -> None:
    running = make_client(key_file=None, passphrase=PASSPHRASE)
    running.read_secret("STRIPE_API_KEY")
    billing.change_passphrase("a brand new passphrase", kdf=fast_kdf())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(WrongKeyError, match="create a new client"):
            running.read_secret("STRIPE_API_KEY", use_cache=False)


def test_store_and_key_default_to_the_variables_and_arguments_win(
    billing: Vault, key_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAAS_TUI_STORE", billing.url)
    monkeypatch.setenv("FAAS_TUI_KEY_FILE", str(key_file))
    monkeypatch.delenv("FAAS_TUI_PASSPHRASE", raising=False)
    with SecretClient(FN) as client:
        assert client.read_secret("STRIPE_API_KEY") == OLD
    with SecretClient(FN, passphrase=PASSPHRASE) as client:  # explicit passphrase beats the file
        assert client.read_secret("STRIPE_API_KEY") == OLD
    with pytest.raises(NotFoundError):  # explicit store beats FAAS_TUI_STORE
        SecretClient(FN, store=str(tmp_path / "elsewhere.db"))
    monkeypatch.delenv("FAAS_TUI_KEY_FILE")
    monkeypatch.setenv("FAAS_TUI_PASSPHRASE", PASSPHRASE)
    with SecretClient(FN) as client:
        assert client.read_secret("STRIPE_API_KEY") == OLD


@SQLITE_ONLY
def test_without_any_key_the_error_says_what_to_set(
    billing: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAAS_TUI_KEY_FILE", raising=False)
    monkeypatch.delenv("FAAS_TUI_PASSPHRASE", raising=False)
    with pytest.raises(ValidationError, match="FAAS_TUI_KEY_FILE"):
        SecretClient(FN, store=billing.url)


def test_repr_shows_neither_key_nor_values_and_pickling_is_refused(
    make_client: Callable[..., SecretClient], key_file: Path
) -> None:
    client = make_client()
    client.read_secret("STRIPE_API_KEY")
    encoded_key = key_file.read_text().split()[3]
    shown = repr(client) + str(client)
    assert "billing" in shown
    assert OLD not in shown and encoded_key not in shown
    # the readers' own reprs: tests/test_reader_contract.py
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client)


# --- threads ------------------------------------------------------------------------------------


def test_many_threads_share_one_client_safely(
    billing: Vault, make_client: Callable[..., SecretClient]
) -> None:
    names = [f"THREAD_SECRET_{i}" for i in range(6)]
    for name in names:
        billing.add_secret(FN, name, f"{name}-v1")
    client = make_client(cache_size=3)  # smaller than the working set: constant eviction
    rounds = 150 if sqlite_path(billing.url) else 25
    errors: list[BaseException] = []
    seen: dict[str, set[str]] = {name: set() for name in names}
    start = threading.Barrier(9)

    def reader(worker: int) -> None:
        start.wait()
        try:
            for i in range(rounds):
                name = names[(worker + i) % len(names)]
                value = client.read_secret(name, use_cache=(i % 5 != 0))
                seen[name].add(value)
                assert len(client._cache) <= 3
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    start.wait()
    for name in names[:2]:
        billing.update_secret(FN, name, f"{name}-v2")
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    for name in names:
        assert seen[name] and seen[name] <= {f"{name}-v1", f"{name}-v2"}
    assert len(client._cache) <= 3
    assert client.read_secret(names[0], use_cache=False) == f"{names[0]}-v2"


# --- SQLite specifics ---------------------------------------------------------------------------


@SQLITE_ONLY
def test_a_plain_path_works_and_a_writer_holding_the_lock_does_not_block_reads(
    billing: Vault, key_file: Path
) -> None:
    path = sqlite_path(billing.url)
    assert path is not None
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE secret SET description = 'busy' WHERE name = 'STRIPE_API_KEY'")
        with SecretClient(FN, store=str(path), key_file=key_file) as client:
            assert client.read_secret("STRIPE_API_KEY") == OLD
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@SQLITE_ONLY
def test_the_lean_reader_never_writes_to_the_store(billing: Vault, key_file: Path) -> None:
    path = sqlite_path(billing.url)
    assert path is not None
    billing.close()
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    with SecretClient(FN, store=str(path), key_file=key_file) as client:
        assert client.read_secret("STRIPE_API_KEY", use_cache=False) == OLD
        bound = None
        with pytest.raises(ConflictError):
            bound = bound_env(FN, store=str(path), key_file=key_file)
        assert bound is None
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    for companion in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if companion.exists():  # SQLite gives them the database file's mode
            assert companion.stat().st_mode & 0o077 == 0


# --- bound_env ----------------------------------------------------------------------------------


def test_bound_env_refuses_a_function_never_deployed(billing: Vault, key_file: Path) -> None:
    with pytest.raises(ConflictError, match=r"never been deployed: run `faas-tui deploy billing`"):
        bound_env(FN, store=billing.url, key_file=key_file)


def test_bound_env_gives_the_deployed_values_until_the_next_deploy(
    billing: Vault, key_file: Path
) -> None:
    assert billing.deploy(FN) == 1
    billing.update_secret(FN, "STRIPE_API_KEY", NEW)
    env = bound_env(FN, store=billing.url, key_file=key_file)
    assert isinstance(env, BoundEnv) and env.deployment == 1
    assert env.STRIPE_API_KEY == OLD  # pending redeploy: the deployment keeps version 1
    assert env["STRIPE_API_KEY"] == OLD and env["stripe api key"] == OLD
    assert env.CONFIG == {"region": "eu-west-1", "retries": [1, 2, 3]}
    assert env.environ()["CONFIG"] == '{"region":"eu-west-1","retries":[1,2,3]}'
    assert "STRIPE_API_KEY" in env and "SYSTEM_API_TOKEN" in env and len(env) == 4
    env.CONFIG["region"] = "changed"
    assert env.CONFIG["region"] == "eu-west-1"
    assert billing.deploy(FN) == 2
    again = bound_env(FN, store=billing.url, key_file=key_file)
    assert again.STRIPE_API_KEY == NEW and again.deployment == 2


def test_bound_env_names_what_is_missing_and_hides_values(billing: Vault, key_file: Path) -> None:
    billing.deploy(FN)
    env = bound_env(FN, store=billing.url, key_file=key_file)
    with pytest.raises(AttributeError, match="binds no secret named NOPE"):
        env.NOPE  # noqa: B018
    with pytest.raises(KeyError):
        env["NOPE"]
    with pytest.raises(SecretNotFoundError):  # the attribute form is both kinds of error
        env.NOPE  # noqa: B018
    assert not hasattr(env, "NOPE") and getattr(env, "NOPE", "default") == "default"
    with pytest.warns(SystemSecretWarning, match="discouraged") as caught:
        assert env.SYSTEM_API_TOKEN
    assert caught[0].filename == __file__  # pointed at the line that read it
    assert OLD not in repr(env) and "STRIPE_API_KEY" in repr(env)
    with pytest.raises(AttributeError, match="read-only"):
        env.STRIPE_API_KEY = "x"


def test_bound_env_refuses_a_deployment_whose_secret_was_deleted(
    billing: Vault, key_file: Path
) -> None:
    billing.deploy(FN)
    billing.delete_secret(FN, "STRIPE_API_KEY")
    with pytest.raises(BindingBrokenError) as caught:
        bound_env(FN, store=billing.url, key_file=key_file)
    message = str(caught.value)
    assert "STRIPE_API_KEY" in message and "update the code and redeploy" in message
    billing.deploy(FN)
    assert "STRIPE_API_KEY" not in bound_env(FN, store=billing.url, key_file=key_file)
