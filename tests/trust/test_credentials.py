"""Operators and key files through the Vault: roles, scopes, the last admin, passwd, re-keying."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PASSPHRASE, fast_kdf

from faas_tui.core.errors import (
    AccessDeniedError,
    ConflictError,
    NotFoundError,
    UsageError,
    ValidationError,
    WrongKeyError,
)
from faas_tui.core.kinds import Role
from faas_tui.store.vault import Vault
from trust._support import AUDITOR_PASSPHRASE, EDITOR_PASSPHRASE, FN, OTHER, sql, team_store


def test_the_first_operator_is_an_admin_named_by_operator_and_actor_is_the_credential(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAAS_TUI_ACTOR", "mallory")  # ignored
    with Vault.create(store_url, PASSPHRASE, operator="alice", kdf=fast_kdf()) as vault:
        assert vault.credential.actor == "alice" and vault.credential.role is Role.ADMIN
        vault.add_function(FN)
        assert {e.actor for e in vault.events()} == {"alice"}
    assert Vault.operator_names(store_url) == ["alice"]
    with pytest.raises(ValidationError, match="operator name"):
        Vault.create(store_url + "-x" if "postgres" not in store_url else store_url, PASSPHRASE,
                     operator="bad name", kdf=fast_kdf())


def test_operators_choose_their_slot_and_an_unknown_one_is_a_wrong_key(
    store_url: str, tmp_path: Path
) -> None:
    admin, _ = team_store(store_url, tmp_path)
    admin.close()
    assert Vault.operator_names(store_url) == ["alice", "audrey", "eddie"]
    with pytest.raises(WrongKeyError, match="no operator 'bob'") as unknown:
        Vault.open(store_url, passphrase=PASSPHRASE, operator="bob")
    assert unknown.value.exit_code == 3
    with pytest.raises(WrongKeyError, match="wrong passphrase"):
        Vault.open(store_url, passphrase=PASSPHRASE, operator="eddie")  # alice's passphrase
    with Vault.open(store_url, passphrase=EDITOR_PASSPHRASE, operator="eddie") as editor:
        editor.update_secret(FN, "API_KEY", "by eddie")
        assert editor.events()[-1].actor == "eddie"
        for refused in (
            editor.list_key_files,
            editor.list_operators,
            lambda: editor.revoke_key_file("x"),
            lambda: editor.add_operator("x", Role.ADMIN, "a fine passphrase"),
            lambda: editor.remove_operator("audrey"),
            editor.rotate_key,
            editor.accept,
        ):
            with pytest.raises(AccessDeniedError) as caught:
                refused()
            assert caught.value.exit_code == 5


def test_the_last_admin_cannot_be_removed_and_removal_re_keys(
    store_url: str, tmp_path: Path
) -> None:
    admin, _ = team_store(store_url, tmp_path)
    with pytest.raises(ConflictError, match="last admin"):
        admin.remove_operator("alice")
    with pytest.raises(NotFoundError):
        admin.remove_operator("nobody")
    epochs = dict(sql(admin, "SELECT name, epoch FROM function"))
    admin.remove_operator("eddie")  # an editor read every function
    after = dict(sql(admin, "SELECT name, epoch FROM function"))
    assert all(after[name] == epochs[name] + 1 for name in epochs)
    admin.remove_operator("audrey")  # an auditor read nothing: nothing to re-key
    assert dict(sql(admin, "SELECT name, epoch FROM function")) == after
    assert [o.name for o in admin.list_operators()] == ["alice"]
    with pytest.raises(WrongKeyError):
        Vault.open(store_url, passphrase=EDITOR_PASSPHRASE, operator="eddie")
    assert admin.check().ok


def test_key_files_need_exactly_one_of_functions_and_role(store_url: str, tmp_path: Path) -> None:
    admin, key_file = team_store(store_url, tmp_path)
    for kwargs in ({}, {"functions": [FN], "role": Role.ADMIN}):
        with pytest.raises(UsageError, match="--function") as caught:
            admin.add_key_file(tmp_path / "x.key", **kwargs)  # type: ignore[arg-type]
        assert caught.value.exit_code == 2
    with pytest.raises(NotFoundError):
        admin.add_key_file(tmp_path / "y.key", functions=["shipping"])
    headless = admin.add_key_file(tmp_path / "ci.key", "ci", role=Role.EDITOR)
    listed = {info.id: info for info in admin.list_key_files()}
    assert listed[headless.id].role is Role.EDITOR and listed[headless.id].functions == ()
    runtime = next(info for info in listed.values() if info.role is Role.RUNTIME)
    assert runtime.functions == (FN,) and not runtime.legacy
    with Vault.open(store_url, key_file=tmp_path / "ci.key") as ci:
        assert ci.credential.actor == f"key-file:{headless.id}"
        ci.update_secret(OTHER, "SMTP_PASSWORD", "rotated by ci")
        with pytest.raises(AccessDeniedError, match="no passphrase"):
            ci.change_passphrase("another fine passphrase")
    with Vault.open(store_url, key_file=key_file) as runtime_vault:
        assert [s.name for s in runtime_vault.list_secrets(FN)] == ["API_KEY"]
        assert runtime_vault.read_secret(FN, "API_KEY") == "billing-v1"
        with pytest.raises(AccessDeniedError, match="reads billing only"):
            runtime_vault.list_functions()  # every function at once: not for a scoped key


def test_passwd_changes_only_the_unlocking_operators_passphrase(
    store_url: str, tmp_path: Path
) -> None:
    team_store(store_url, tmp_path)[0].close()
    with Vault.open(store_url, passphrase=AUDITOR_PASSPHRASE, operator="audrey") as auditor:
        auditor.change_passphrase("audrey's new passphrase", kdf=fast_kdf())
    with pytest.raises(WrongKeyError):
        Vault.open(store_url, passphrase=AUDITOR_PASSPHRASE, operator="audrey")
    Vault.open(store_url, passphrase="audrey's new passphrase", operator="audrey").close()
    with Vault.open(store_url, passphrase=PASSPHRASE, operator="alice") as admin:
        assert admin.check().ok
