"""The Vault service on SQLite and PostgreSQL: round trips, refusals, tampering, keys, versions."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE, fast_kdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import SQLModel
from store_support import count_scrubs, raw_engine

from faas_tui.core.errors import (
    AccessDeniedError,
    BindingBrokenError,
    ConflictError,
    FaasError,
    IntegrityError,
    NotFoundError,
    ReadOnlyError,
    SecretNotFoundError,
    ValidationError,
    WrongKeyError,
)
from faas_tui.core.kinds import Role
from faas_tui.core.system_secrets import SYSTEM_SECRETS
from faas_tui.core.values import SecretFormat
from faas_tui.store.vault import Vault

PLAIN = SecretFormat.PLAINTEXT
JSON = SecretFormat.JSON
FN = "billing"
NEW_PASSPHRASE = "a brand new passphrase"
HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_counter = itertools.count()


# --- helpers ------------------------------------------------------------------------------------


def dump(vault: Vault) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order: the whole store, to compare before/after."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with raw_engine(vault).connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            order = ", ".join(c.name for c in table.primary_key.columns)
            rows = conn.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}')).all()
            tables[table.name] = [tuple(row) for row in rows]
    return tables


def sql(vault: Vault, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Raw SQL behind the tool's back (what an attacker with write access to the database does)."""
    with raw_engine(vault).begin() as conn:
        result = conn.execute(text(statement), params)
        return [tuple(row) for row in result] if result.returns_rows else []


def version_row(vault: Vault, function: str, name: str) -> tuple[int, bytes, bytes]:
    rows = sql(
        vault,
        "SELECT v.id, v.nonce, v.ciphertext FROM secret_version v "
        "JOIN secret s ON s.id = v.secret_id JOIN function f ON f.id = s.function_id "
        "WHERE f.name = :fn AND s.name = :name AND v.version = s.version",
        fn=function,
        name=name,
    )
    assert len(rows) == 1
    return rows[0][0], bytes(rows[0][1]), bytes(rows[0][2])


def version_count(vault: Vault, function: str, name: str) -> int:
    return sql(
        vault,
        "SELECT COUNT(*) FROM secret_version v JOIN secret s ON s.id = v.secret_id "
        "JOIN function f ON f.id = s.function_id WHERE f.name = :fn AND s.name = :name",
        fn=function,
        name=name,
    )[0][0]


def reopen(vault: Vault, **kwargs: Any) -> Vault:
    kwargs.setdefault("passphrase", PASSPHRASE)
    return Vault.open(vault.url, **kwargs)


def assert_refused_and_unchanged(
    vault: Vault, error: type[FaasError], action: Callable[[], object]
) -> FaasError:
    before = dump(vault)
    with pytest.raises(error) as caught:
        action()
    assert dump(vault) == before
    assert "\n" not in str(caught.value)
    return caught.value


@pytest.fixture
def billing(vault: Vault) -> Vault:
    vault.add_function(FN)
    return vault


# --- round trips --------------------------------------------------------------------------------

_PLAIN_VALUES = st.text(
    alphabet=st.characters(blacklist_characters="\x00", codec="utf-8"), min_size=1, max_size=300
)
_JSON_LEAF = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
_JSON_OBJECTS = st.dictionaries(
    st.text(max_size=10),
    st.recursive(_JSON_LEAF, lambda inner: st.lists(inner, max_size=3), max_leaves=6),
    max_size=5,
)


@given(value=_PLAIN_VALUES)
@HYPOTHESIS
def test_any_plaintext_value_round_trips(billing: Vault, value: str) -> None:
    name = f"PLAIN_{next(_counter)}"
    info = billing.add_secret(FN, name, value, PLAIN)
    assert (info.name, info.version, info.format) == (name, 1, PLAIN)
    assert billing.read_secret(FN, name) == value
    assert billing.verify_secret(FN, name, value)
    assert not billing.verify_secret(FN, name, value + "x")


@given(obj=_JSON_OBJECTS, pretty=st.booleans())
@HYPOTHESIS
def test_any_json_object_round_trips_as_a_dict(billing: Vault, obj: dict, pretty: bool) -> None:
    name = f"JSON_{next(_counter)}"
    billing.add_secret(FN, name, json.dumps(obj, indent=2 if pretty else None), JSON)
    assert billing.read_secret(FN, name) == obj
    assert billing.get_secret(FN, name).format is JSON


@given(first=_PLAIN_VALUES, second=_PLAIN_VALUES)
@HYPOTHESIS
def test_an_update_reads_back_the_new_value(billing: Vault, first: str, second: str) -> None:
    name = f"UPD_{next(_counter)}"
    billing.add_secret(FN, name, first)
    info = billing.update_secret(FN, name, second)
    assert info.version == 2 and info.pending_redeploy
    assert billing.read_secret(FN, name) == second


def test_values_survive_reopening(billing: Vault) -> None:
    billing.add_secret(FN, "multi line", "line one\nline two\r\n\ttab ✓ clé", PLAIN)
    billing.add_secret(FN, "config", '{"a": {"b": [1, "é"]}}', JSON)
    with reopen(billing) as again:
        assert again.read_secret(FN, "MULTI_LINE") == "line one\nline two\r\n\ttab ✓ clé"
        assert again.read_secret(FN, "config") == {"a": {"b": [1, "é"]}}
        assert again.check().ok


def test_typed_names_are_normalised_and_listing_shows_no_values(billing: Vault) -> None:
    billing.add_secret(FN, "hubspot api key", "sk_value_1")
    names = [(s.name, s.kind, s.version) for s in billing.list_secrets(FN)]
    assert names == [("HUBSPOT_API_KEY", "user", 1)]
    assert "sk_value_1" not in repr(billing.list_secrets(FN, include_system=True))
    assert "sk_value_1" not in repr(billing.audit()) + repr(billing.list_functions())
    assert billing.list_functions()[0].secrets == 1


# --- refusals, and a store left exactly as it was ------------------------------------------------


def test_duplicate_names_are_refused_however_typed(billing: Vault) -> None:
    billing.add_secret(FN, "API_KEY", "one")
    for typed in ("API_KEY", "api key", " api-key ", "Api.Key"):
        error = assert_refused_and_unchanged(
            billing, ConflictError, lambda t=typed: billing.add_secret(FN, t, "two")
        )
        assert "already has a secret named API_KEY" in str(error)
    assert billing.read_secret(FN, "API_KEY") == "one"


@pytest.mark.parametrize(
    ("error", "call"),
    [
        (ValidationError, lambda v: v.add_secret(FN, "ab", "x")),
        (ValidationError, lambda v: v.add_secret(FN, "SYSTEM_MINE", "x")),
        (ValidationError, lambda v: v.add_secret(FN, "EMPTY", "")),
        (ValidationError, lambda v: v.add_secret(FN, "BIG", "x" * (64 * 1024 + 1))),
        (ValidationError, lambda v: v.add_secret(FN, "CFG", "[1,2]", JSON)),
        (ValidationError, lambda v: v.add_secret(FN, "CFG", '{"a": 1', JSON)),
        (NotFoundError, lambda v: v.add_secret("nope", "NAME_1", "x")),
        (ConflictError, lambda v: v.add_secret(FN, "EXISTING", "again")),
        (ValidationError, lambda v: v.update_secret(FN, "EXISTING", "[1]", JSON)),
        (ValidationError, lambda v: v.update_secret(FN, "EXISTING", "")),
        (SecretNotFoundError, lambda v: v.update_secret(FN, "MISSING", "x")),
        (SecretNotFoundError, lambda v: v.delete_secret(FN, "MISSING")),
        (ConflictError, lambda v: v.update_secret(FN, "SYSTEM_API_TOKEN", "x")),
        (ConflictError, lambda v: v.delete_secret(FN, "SYSTEM_API_TOKEN")),
        (ConflictError, lambda v: v.add_function(FN)),
        (ValidationError, lambda v: v.add_function("Bad_Name")),
        (NotFoundError, lambda v: v.deploy("nope")),
        (NotFoundError, lambda v: v.delete_function("nope")),
        (NotFoundError, lambda v: v.revoke_key_file("nope")),
        (ValidationError, lambda v: v.change_passphrase("short")),
        (
            ValidationError,
            lambda v: v.import_secrets(FN, [("GOOD_ONE", "v", PLAIN), ("bad$", "v", PLAIN)]),
        ),
        (
            ValidationError,
            lambda v: v.import_secrets(FN, [("GOOD_ONE", "v", PLAIN), ("EMPTY", "", PLAIN)]),
        ),
        (
            ValidationError,
            lambda v: v.import_secrets(FN, [("A_KEY", "1", PLAIN), ("a key", "2", PLAIN)]),
        ),
        (
            ValidationError,
            lambda v: v.import_secrets(FN, [("GOOD_ONE", "v", PLAIN), ("SYSTEM_X", "v", PLAIN)]),
        ),
        (
            ConflictError,
            lambda v: v.import_secrets(FN, [("GOOD_ONE", "v", PLAIN), ("EXISTING", "new", PLAIN)]),
        ),
        (ConflictError, lambda v: v.populate({FN: {"X_Y_Z": ("v", PLAIN)}})),
    ],
)
def test_every_refused_change_leaves_the_store_exactly_as_it_was(
    billing: Vault, error: type[FaasError], call: Callable[[Vault], object]
) -> None:
    billing.add_secret(FN, "EXISTING", "old value")
    billing.deploy(FN)
    assert_refused_and_unchanged(billing, error, lambda: call(billing))
    assert billing.read_secret(FN, "EXISTING") == "old value"


def test_a_dry_run_import_plans_and_changes_nothing(billing: Vault) -> None:
    billing.add_secret(FN, "SAME", "same")
    billing.add_secret(FN, "CHANGED", "old")
    before = dump(billing)
    plan = billing.import_secrets(
        FN,
        [("same", "same", PLAIN), ("changed", "new", PLAIN), ("new one", "n", PLAIN)],
        overwrite=True,
        dry_run=True,
    )
    assert (plan.added, plan.replaced, plan.unchanged, plan.applied) == (
        ("NEW_ONE",),
        ("CHANGED",),
        ("SAME",),
        False,
    )
    assert dump(billing) == before


def test_an_import_confirmed_from_a_preview_refuses_if_the_store_changed_since(
    billing: Vault,
) -> None:
    entries = [("new one", "n", PLAIN), ("other", "o", PLAIN)]
    previewed = billing.import_secrets(FN, entries, dry_run=True)
    billing.add_secret(FN, "OTHER", "o")  # someone else, between the preview and the confirm
    before = dump(billing)
    with pytest.raises(ConflictError, match="changed since the preview; nothing was imported"):
        billing.import_secrets(FN, entries, expected=previewed)
    assert dump(billing) == before
    again = billing.import_secrets(FN, entries, dry_run=True)
    applied = billing.import_secrets(FN, entries, expected=again)
    assert (applied.added, applied.unchanged) == (("NEW_ONE",), ("OTHER",))


def test_an_import_applies_all_entries_in_one_go(billing: Vault) -> None:
    billing.add_secret(FN, "CHANGED", "old")
    plan = billing.import_secrets(
        FN,
        [("changed", "new", PLAIN), ("db url", "postgres://x", PLAIN), ("CFG", '{"a":1}', JSON)],
        overwrite=True,
    )
    assert plan.applied and set(plan.added) == {"DB_URL", "CFG"} and plan.replaced == ("CHANGED",)
    assert billing.read_secret(FN, "CHANGED") == "new"
    assert billing.read_secret(FN, "DB_URL") == "postgres://x"
    assert billing.read_secret(FN, "CFG") == {"a": 1}
    assert billing.get_secret(FN, "CHANGED").version == 2
    assert version_count(billing, FN, "CHANGED") == 1


def test_a_read_only_vault_refuses_every_change(billing: Vault) -> None:
    billing.add_secret(FN, "KEY_ONE", "v")
    with reopen(billing, read_only=True) as ro:
        before = dump(ro)
        for call in (
            lambda: ro.add_function("other"),
            lambda: ro.add_secret(FN, "KEY_TWO", "v"),
            lambda: ro.update_secret(FN, "KEY_ONE", "w"),
            lambda: ro.delete_secret(FN, "KEY_ONE"),
            lambda: ro.deploy(FN),
            lambda: ro.change_passphrase(NEW_PASSPHRASE),
        ):
            with pytest.raises(ReadOnlyError):
                call()
        assert ro.read_secret(FN, "KEY_ONE") == "v"
        assert dump(ro) == before


# --- system secrets -------------------------------------------------------------------------------


def test_every_function_gets_read_only_system_secrets(billing: Vault) -> None:
    system = billing.list_system_secrets(FN)
    assert [s.name for s in system] == sorted(spec.name for spec in SYSTEM_SECRETS)
    for info in system:
        assert info.is_system and info.description and info.scopes
        assert not info.pending_redeploy
        assert len(billing.read_secret(FN, info.name)) >= 32
    assert billing.list_secrets(FN) == []
    billing.add_function("other")
    assert billing.read_secret(FN, "SYSTEM_API_TOKEN") != billing.read_secret(
        "other", "SYSTEM_API_TOKEN"
    )
    for call in (
        lambda: billing.update_secret(FN, "SYSTEM_API_TOKEN", "mine"),
        lambda: billing.delete_secret(FN, "system api token"),
        lambda: billing.import_secrets(FN, [("SYSTEM_API_TOKEN", "mine", PLAIN)], overwrite=True),
    ):
        assert_refused_and_unchanged(billing, FaasError, call)


# --- tampering ------------------------------------------------------------------------------------


def test_a_ciphertext_moved_to_another_row_is_refused_and_never_returned(billing: Vault) -> None:
    billing.add_secret(FN, "SOURCE_KEY", "source-value")
    billing.add_secret(FN, "TARGET_KEY", "target-value")
    billing.add_function("other")
    billing.add_secret("other", "SOURCE_KEY", "other-value")
    _, nonce, ciphertext = version_row(billing, FN, "SOURCE_KEY")
    for fn, name in ((FN, "TARGET_KEY"), ("other", "SOURCE_KEY")):
        target_id, _, _ = version_row(billing, fn, name)
        sql(
            billing,
            "UPDATE secret_version SET nonce = :n, ciphertext = :c WHERE id = :id",
            n=nonce,
            c=ciphertext,
            id=target_id,
        )
        with pytest.raises(IntegrityError, match=f"the value of {fn}/{name} failed"):
            billing.read_secret(fn, name)
        with pytest.raises(IntegrityError):
            billing.verify_secret(fn, name, "source-value")
        assert [s.name for s in billing.list_secrets(fn)] == sorted(
            ["SOURCE_KEY", "TARGET_KEY"] if fn == FN else ["SOURCE_KEY"]
        )
    assert billing.read_secret(FN, "SOURCE_KEY") == "source-value"


@pytest.mark.parametrize("where", ["nonce", "first", "middle", "tag"])
def test_a_flipped_bit_is_refused_and_listing_still_works(billing: Vault, where: str) -> None:
    billing.add_secret(FN, "FLIP_KEY", "flip-value")
    billing.deploy(FN)
    row_id, nonce, ciphertext = version_row(billing, FN, "FLIP_KEY")
    blob = bytearray(nonce if where == "nonce" else ciphertext)
    index = {"nonce": 3, "first": 0, "middle": len(blob) // 2, "tag": len(blob) - 1}[where]
    blob[index] ^= 0x01
    column = "nonce" if where == "nonce" else "ciphertext"
    sql(
        billing, f"UPDATE secret_version SET {column} = :b WHERE id = :id", b=bytes(blob), id=row_id
    )
    with pytest.raises(IntegrityError) as caught:
        billing.read_secret(FN, "FLIP_KEY")
    assert "flip-value" not in str(caught.value)
    with pytest.raises(IntegrityError):
        billing.bound_values(FN)
    with pytest.raises(IntegrityError):
        billing.verify_secret(FN, "FLIP_KEY", "flip-value")
    assert [s.name for s in billing.list_secrets(FN)] == ["FLIP_KEY"]
    assert billing.list_functions()[0].name == FN
    with reopen(billing) as again:
        assert [s.name for s in again.list_secrets(FN)] == ["FLIP_KEY"]


def test_a_format_flipped_behind_the_tools_back_is_refused(billing: Vault) -> None:
    billing.add_secret(FN, "CFG", '{"a": 1}', JSON)
    sql(billing, "UPDATE secret_version SET format = 'plaintext'")
    sql(billing, "UPDATE secret SET format = 'plaintext' WHERE name = 'CFG'")
    with pytest.raises(IntegrityError):
        billing.read_secret(FN, "CFG")


def test_a_secret_deleted_behind_the_tools_back_is_refused(billing: Vault) -> None:
    billing.add_secret(FN, "KEEP_ME", "keep")
    billing.add_secret(FN, "DROP_ME", "drop")
    sql(
        billing,
        "DELETE FROM secret_version WHERE secret_id IN (SELECT id FROM secret WHERE name = 'DROP_ME')",
    )
    sql(billing, "DELETE FROM secret WHERE name = 'DROP_ME'")
    with pytest.raises(IntegrityError, match=FN):
        reopen(billing)
    for refused in (
        lambda: billing.read_secret(FN, "KEEP_ME"),
        lambda: billing.list_secrets(FN),
        lambda: billing.add_secret(FN, "NEW_ONE", "x"),  # no write reseals over tampering
    ):
        with pytest.raises(IntegrityError, match=FN):
            refused()
    with reopen(billing, inspect=True) as again:
        report = again.check()
        assert not report.ok and any(FN in problem for problem in report.problems)


def test_a_version_rolled_back_behind_the_tools_back_is_refused(billing: Vault) -> None:
    billing.add_secret(FN, "ROTATED", "v1")
    billing.deploy(FN)  # keeps version 1 stored
    billing.update_secret(FN, "ROTATED", "v2")
    sql(billing, "UPDATE secret SET version = 1 WHERE name = 'ROTATED'")
    with pytest.raises(IntegrityError, match="signed digest"):
        reopen(billing)
    with pytest.raises(IntegrityError):
        billing.read_secret(FN, "ROTATED")


def test_a_function_deleted_behind_the_tools_back_is_refused(billing: Vault) -> None:
    billing.add_function("other")
    sql(billing, "DELETE FROM binding")
    sql(billing, "DELETE FROM secret_version")
    sql(
        billing,
        "DELETE FROM secret WHERE function_id = (SELECT id FROM function WHERE name='other')",
    )
    sql(billing, "DELETE FROM key_grant WHERE function_id = (SELECT id FROM function WHERE name='other')")
    sql(billing, "DELETE FROM function WHERE name = 'other'")
    with pytest.raises(IntegrityError, match="signed manifest"):
        reopen(billing)
    with pytest.raises(IntegrityError):
        billing.list_functions()


def test_a_clean_store_opens_without_warnings(billing: Vault) -> None:
    billing.add_secret(FN, "ONE_KEY", "1")
    billing.update_secret(FN, "ONE_KEY", "2")
    billing.deploy(FN)
    billing.import_secrets(FN, [("TWO_KEY", "2", PLAIN)])
    billing.delete_secret(FN, "ONE_KEY")
    billing.add_function("other")
    billing.delete_function("other")
    with reopen(billing) as again:
        again.list_secrets(FN)
        assert again.check() == (True, [], again.generation)


# --- keys -------------------------------------------------------------------------------------------


def test_a_wrong_passphrase_is_refused_and_changes_nothing(billing: Vault) -> None:
    billing.add_secret(FN, "KEY_ONE", "v")
    before = dump(billing)
    for wrong in ("wrong passphrase", PASSPHRASE + " ", "", PASSPHRASE.upper()):
        with pytest.raises(WrongKeyError, match="wrong passphrase") as caught:
            reopen(billing, passphrase=wrong)
        assert caught.value.exit_code == 3
    assert dump(billing) == before


def test_change_passphrase_old_fails_new_works_values_read(billing: Vault) -> None:
    billing.add_secret(FN, "KEY_ONE", "value one")
    billing.add_secret(FN, "CFG", '{"a": 1}', JSON)
    ciphertexts = sql(billing, "SELECT ciphertext FROM secret_version ORDER BY id")
    billing.change_passphrase(NEW_PASSPHRASE)
    assert sql(billing, "SELECT ciphertext FROM secret_version ORDER BY id") == ciphertexts
    with pytest.raises(WrongKeyError):
        reopen(billing)
    with reopen(billing, passphrase=NEW_PASSPHRASE) as again:
        assert again.read_secret(FN, "KEY_ONE") == "value one"
        assert again.read_secret(FN, "CFG") == {"a": 1}
        assert again.check().ok


def test_rotate_key_reencrypts_every_value(billing: Vault, tmp_path: Path) -> None:
    billing.add_secret(FN, "KEY_ONE", "value one")
    billing.add_secret(FN, "CFG", '{"a": 1}', JSON)
    billing.deploy(FN)
    billing.update_secret(FN, "KEY_ONE", "value two")  # version 1 stays, bound by deployment 1
    system_before = billing.read_secret(FN, "SYSTEM_API_TOKEN")
    billing.add_key_file(tmp_path / "key", functions=[FN])
    ciphertexts = set(sql(billing, "SELECT ciphertext FROM secret_version"))
    grants = set(sql(billing, "SELECT sealed FROM key_grant"))
    revoked = billing.rotate_key()
    assert revoked == []  # grants are sealed to public keys: every key file keeps working
    assert ciphertexts.isdisjoint(set(sql(billing, "SELECT ciphertext FROM secret_version")))
    assert grants.isdisjoint(set(sql(billing, "SELECT sealed FROM key_grant")))
    with reopen(billing, passphrase=None, key_file=tmp_path / "key") as runtime:
        assert runtime.read_secret(FN, "KEY_ONE") == "value two"
    with reopen(billing) as again:
        assert again.read_secret(FN, "KEY_ONE") == "value two"
        assert again.read_secret(FN, "CFG") == {"a": 1}
        assert again.read_secret(FN, "SYSTEM_API_TOKEN") == system_before
        assert again.bound_values(FN)["KEY_ONE"] == ("value one", PLAIN)
        again.list_secrets(FN)
        assert again.check().ok
        assert again.verify_log() > 0


def test_key_files_unlock_until_revoked(billing: Vault, tmp_path: Path) -> None:
    billing.add_secret(FN, "KEY_ONE", "v")
    info = billing.add_key_file(tmp_path / "ci.key", "ci", functions=[FN])
    assert (tmp_path / "ci.key").stat().st_mode & 0o777 == 0o600
    assert [(k.id, k.label) for k in billing.list_key_files()] == [(info.id, "ci")]
    with reopen(billing, passphrase=None, key_file=tmp_path / "ci.key") as again:
        assert again.read_secret(FN, "KEY_ONE") == "v"
    with pytest.raises(ConflictError):
        billing.add_key_file(tmp_path / "ci.key", functions=[FN])
    billing.revoke_key_file(info.id)
    assert billing.list_key_files() == []
    with pytest.raises(WrongKeyError, match="revoked"):
        reopen(billing, passphrase=None, key_file=tmp_path / "ci.key")


def test_a_key_file_that_fails_half_written_leaves_no_file_and_no_slot(
    billing: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faas_tui.store import crypto

    def disk_full(*_: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(crypto, "key_file_text", disk_full)
    with pytest.raises(OSError):
        billing.add_key_file(tmp_path / "ci.key", "ci", functions=[FN])
    assert not (tmp_path / "ci.key").exists()
    assert billing.list_key_files() == []
    monkeypatch.undo()
    assert billing.add_key_file(tmp_path / "ci.key", "ci", functions=[FN]).label == "ci"  # the path is free again


# --- versions and deletion ----------------------------------------------------------------------------


def test_updates_without_a_deploy_keep_one_version(billing: Vault) -> None:
    billing.add_secret(FN, "API_KEY", "v1")
    billing.update_secret(FN, "API_KEY", "v2")
    billing.update_secret(FN, "API_KEY", "v3")
    assert version_count(billing, FN, "API_KEY") == 1
    assert billing.get_secret(FN, "API_KEY").version == 3


def test_a_deployment_keeps_the_version_it_bound(billing: Vault) -> None:
    billing.add_secret(FN, "API_KEY", "v1")
    assert billing.deploy(FN) == 1
    billing.update_secret(FN, "API_KEY", "v2")
    billing.update_secret(FN, "API_KEY", "v3")
    assert version_count(billing, FN, "API_KEY") == 2  # v1 (bound) and v3 (current)
    assert billing.bound_values(FN)["API_KEY"] == ("v1", PLAIN)
    info = billing.get_secret(FN, "API_KEY")
    assert (info.version, info.deployed_version, info.pending_redeploy) == (3, 1, True)
    assert billing.deploy(FN) == 2
    assert version_count(billing, FN, "API_KEY") == 1
    assert billing.bound_values(FN)["API_KEY"] == ("v3", PLAIN)
    assert not billing.get_secret(FN, "API_KEY").pending_redeploy


def test_a_change_scrubs_the_files_only_when_it_removed_a_ciphertext(
    billing: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scrubbing (a WAL truncate on SQLite) follows every removed version, and only then. On
    PostgreSQL nothing is rewritten on the write path (a VACUUM FULL would make every reader
    wait): autovacuum and `faas-tui compact` reclaim the rows."""
    scrubs = count_scrubs(monkeypatch)
    per_removal = 1 if billing.engine.dialect.name == "sqlite" else 0
    billing.add_secret(FN, "API_KEY", "v1")
    billing.deploy(FN)
    billing.update_secret(FN, "API_KEY", "v2")  # v1 is bound: nothing removed
    assert scrubs == [] and version_count(billing, FN, "API_KEY") == 2
    billing.update_secret(FN, "API_KEY", "v3")  # v2 was neither current nor bound: removed
    assert len(scrubs) == 1 * per_removal and version_count(billing, FN, "API_KEY") == 2
    billing.deploy(FN)  # releases v1
    assert len(scrubs) == 2 * per_removal and version_count(billing, FN, "API_KEY") == 1
    billing.import_secrets(FN, [("new key", "n", PLAIN)])  # only adds
    assert len(scrubs) == 2 * per_removal
    billing.delete_secret(FN, "NEW_KEY")
    assert len(scrubs) == 3 * per_removal
    assert "vacuum" not in scrubs


def test_delete_removes_every_version_and_breaks_the_binding(billing: Vault) -> None:
    billing.add_secret(FN, "API_KEY", "v1")
    billing.add_secret(FN, "OTHER_KEY", "o")
    billing.deploy(FN)
    billing.update_secret(FN, "API_KEY", "v2")
    assert version_count(billing, FN, "API_KEY") == 2
    assert billing.deployments_binding(FN, "API_KEY") == [1]
    assert billing.delete_secret(FN, "api key") == [1]
    assert version_count(billing, FN, "API_KEY") == 0
    with pytest.raises(SecretNotFoundError):
        billing.read_secret(FN, "API_KEY")
    with pytest.raises(BindingBrokenError, match="API_KEY.*redeploy"):
        billing.bound_values(FN)
    assert billing.get_function(FN).pending >= 1
    billing.deploy(FN)
    assert billing.bound_values(FN) == {
        "OTHER_KEY": ("o", PLAIN),
        **{spec.name: (billing.read_secret(FN, spec.name), PLAIN) for spec in SYSTEM_SECRETS},
    }


def test_delete_function_removes_everything_it_had(billing: Vault) -> None:
    billing.add_secret(FN, "API_KEY", "v1")
    billing.deploy(FN)
    billing.delete_function(FN)
    tables = dump(billing)
    for table in ("function", "secret", "secret_version", "deployment", "binding"):
        assert tables[table] == []


# --- event log ------------------------------------------------------------------------------------------


def test_the_event_log_records_names_never_values_and_its_chain_verifies(billing: Vault) -> None:
    billing.add_secret(FN, "API_KEY", "canary-value-1")
    billing.update_secret(FN, "API_KEY", "canary-value-2")
    billing.deploy(FN)
    billing.delete_secret(FN, "API_KEY")
    events = billing.events()
    actions = [(e.action, e.function, e.name) for e in events]
    assert actions[:2] == [("store.init", None, None), ("function.add", FN, None)]
    assert ("secret.add", FN, "API_KEY") in actions
    assert ("secret.delete", FN, "API_KEY") in actions
    assert billing.verify_log() == len(events)
    assert "canary-value" not in repr(dump(billing)["event"])


@pytest.mark.parametrize(
    "attack",
    [
        "UPDATE event SET name = 'OTHER_KEY' WHERE seq = 3",
        "UPDATE event SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM event WHERE seq = 2",
    ],
)
def test_an_edited_event_log_is_caught(billing: Vault, attack: str) -> None:
    billing.add_secret(FN, "API_KEY", "v")
    billing.deploy(FN)
    sql(billing, attack)
    with pytest.raises(IntegrityError, match="event log is broken"):
        billing.verify_log()


def test_compact_is_an_admins_logged_maintenance(vault: Vault) -> None:
    vault.add_function(FN)
    vault.add_secret(FN, "OLD_KEY", "a value soon deleted")
    vault.delete_secret(FN, "OLD_KEY")
    done = vault.compact()
    assert done.before > 0 and done.after > 0
    last = vault.events()[-1]
    assert (last.action, last.actor) == ("store.compact", vault.credential.actor)
    assert last.name == f"{done.before} -> {done.after} bytes"
    assert vault.check().ok
    vault.add_operator("eddie", Role.EDITOR, "eddie's own passphrase", kdf=fast_kdf())
    with reopen(vault, passphrase="eddie's own passphrase", operator="eddie") as editor:
        assert_refused_and_unchanged(editor, AccessDeniedError, editor.compact)
    with reopen(vault, read_only=True) as read_only:
        assert_refused_and_unchanged(read_only, ReadOnlyError, read_only.compact)
