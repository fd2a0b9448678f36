"""Issue 11's attacks, each tried as an attacker with write access to the database (and, where
said, one runtime key file) would try it, on SQLite and PostgreSQL. Every one ends in a refusal:
IntegrityError (exit 4) or AccessDeniedError (exit 5) — never an old or foreign value."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PASSPHRASE, fast_kdf

from faas_tui.core.errors import AccessDeniedError, IntegrityError, WrongKeyError
from faas_tui.core.kinds import Role
from faas_tui.store import crypto, trust
from faas_tui.store.generations import GenerationMemory
from faas_tui.store.vault import Vault
from faas_tui.toolbelt import SecretClient, bound_env
from trust._support import (
    EDITOR_PASSPHRASE,
    FN,
    OTHER,
    copy_rows,
    restore_rows,
    sql,
    team_store,
)

VALUE_TABLES = ("secret", "secret_version")
ALL_FUNCTION_TABLES = ("function", "secret", "secret_version", "deployment", "binding")


def every_reader_refuses(url: str, key_file: Path, name: str = "API_KEY") -> None:
    """The Vault, SecretClient and bound_env all refuse with an integrity error."""
    with pytest.raises(IntegrityError) as by_vault:
        Vault.open(url, passphrase=PASSPHRASE, operator="alice")
    assert by_vault.value.exit_code == 4
    with pytest.raises(IntegrityError):
        SecretClient(FN, store=url, key_file=key_file).read_secret(name, use_cache=False)
    with pytest.raises(IntegrityError):
        bound_env(FN, store=url, key_file=key_file)


@pytest.mark.parametrize("tables", [VALUE_TABLES, ALL_FUNCTION_TABLES])
def test_tables_restored_from_an_older_copy_are_refused_and_no_write_launders_them(
    store_url: str, tmp_path: Path, tables: tuple[str, ...]
) -> None:
    admin, key_file = team_store(store_url, tmp_path)
    old = copy_rows(admin, *tables)
    admin.update_secret(FN, "API_KEY", "billing-v2")
    admin.deploy(FN)
    restore_rows(admin, old)
    every_reader_refuses(store_url, key_file)
    # no later write reseals the tampered state: this session was opened before the edit, and
    # still every write is refused, on billing and on the intact mailer alike
    with pytest.raises(IntegrityError):
        admin.update_secret(FN, "API_KEY", "billing-v3")
    with pytest.raises(IntegrityError):
        admin.deploy(FN)
    with pytest.raises(IntegrityError):
        admin.update_secret(OTHER, "SMTP_PASSWORD", "new")
    with pytest.raises(IntegrityError):
        admin.add_function("newcomer")
    every_reader_refuses(store_url, key_file)
    with Vault.open(store_url, passphrase=PASSPHRASE, operator="alice", inspect=True) as vault:
        assert any(FN in problem for problem in vault.check().problems)


def test_an_old_ciphertext_copied_into_a_re_added_name_is_refused(
    store_url: str, tmp_path: Path
) -> None:
    admin, key_file = team_store(store_url, tmp_path)
    admin.add_secret(FN, "LEAKED", "the leaked value")
    (old_nonce, old_ciphertext) = sql(
        admin,
        "SELECT v.nonce, v.ciphertext FROM secret_version v JOIN secret s ON s.id = v.secret_id "
        "WHERE s.name = 'LEAKED'",
    )[0]
    admin.delete_secret(FN, "LEAKED")
    admin.add_secret(FN, "LEAKED", "the fresh value")  # version 1 again
    sql(
        admin,
        "UPDATE secret_version SET nonce = :n, ciphertext = :c WHERE secret_id = "
        "(SELECT id FROM secret WHERE name = 'LEAKED')",
        n=old_nonce,
        c=old_ciphertext,
    )
    with pytest.raises(IntegrityError):
        admin.read_secret(FN, "LEAKED")
    with pytest.raises(IntegrityError):
        admin.verify_secret(FN, "LEAKED", "the leaked value")
    with pytest.raises(IntegrityError):
        SecretClient(FN, store=store_url, key_file=key_file).read_secret("LEAKED")


def test_a_binding_pointed_at_an_older_version_is_refused(store_url: str, tmp_path: Path) -> None:
    admin, key_file = team_store(store_url, tmp_path)
    admin.update_secret(FN, "API_KEY", "billing-v2")
    admin.deploy(FN)  # binds v2; v1 was bound by deployment 1 and is kept? no: released
    admin.update_secret(FN, "API_KEY", "billing-v3")  # v2 kept (bound), v3 current
    sql(admin, "UPDATE binding SET version = 3 WHERE secret_name = 'API_KEY'")
    with pytest.raises(IntegrityError):
        admin.bound_values(FN)
    with pytest.raises(IntegrityError):
        bound_env(FN, store=store_url, key_file=key_file)
    # the same, with the write id copied along: the digest still names the old binding
    sql(
        admin,
        "UPDATE binding SET write_id = (SELECT v.write_id FROM secret_version v "
        "JOIN secret s ON s.id = v.secret_id WHERE s.name = 'API_KEY' AND v.version = 3)",
    )
    with pytest.raises(IntegrityError):
        bound_env(FN, store=store_url, key_file=key_file)


def test_an_old_copy_of_a_revoked_slot_opens_nothing_written_later(
    store_url: str, tmp_path: Path
) -> None:
    admin, key_file = team_store(store_url, tmp_path)
    _, slot_id, file_key = crypto.read_key_file(key_file)
    old = copy_rows(admin, "key_slot", "key_grant")
    old_grant = next(g for g in old["key_grant"] if g["slot_id"] == slot_id)
    admin.revoke_key_file(slot_id)  # re-keys billing in the same transaction
    admin.update_secret(FN, "API_KEY", "written after the revocation")
    # cryptographically: the old grant opens the old key, which opens no later value
    slot = next(s for s in old["key_slot"] if s["id"] == slot_id)
    fields = trust.SlotFields(
        admin.store_id, slot_id, slot["kind"], slot["role"] or "", slot["operator"] or "",
        slot["scope"] or "", slot["label"], b"", 0, 0, 0, bytes(slot["public_key"]),
    )
    material = trust.open_box(file_key, bytes(slot["nonce"]), bytes(slot["wrapped"]), fields)
    assert material is not None
    fn_id, epoch = sql(admin, "SELECT id, epoch FROM function WHERE name = :n", n=FN)[0]
    assert old_grant["epoch"] < epoch
    old_key = trust.open_grant(
        material.private,
        bytes(old_grant["sealed"]),
        trust.grant_aad(admin.store_id, slot_id, fn_id, FN, old_grant["epoch"]),
        what=FN,
    )
    (nonce, ciphertext, write_id) = sql(
        admin,
        "SELECT v.nonce, v.ciphertext, v.write_id FROM secret_version v JOIN secret s "
        "ON s.id = v.secret_id WHERE s.name = 'API_KEY' AND v.version = s.version",
    )[0]
    aad = trust.value_aad(admin.store_id, FN, "API_KEY", 2, "plaintext", bytes(write_id))
    with pytest.raises(IntegrityError):
        crypto.unseal(old_key, bytes(nonce), bytes(ciphertext), aad, what="the value")
    # and through the tools: the restored slot is not in the signed credential list
    restore_rows(admin, {"key_slot": old["key_slot"]})
    with pytest.raises(IntegrityError):
        SecretClient(FN, store=store_url, key_file=key_file).read_secret("API_KEY")


def test_a_whole_store_rolled_back_is_refused_until_an_admin_accepts(
    sqlite_store: str, tmp_path: Path
) -> None:
    memory = GenerationMemory(tmp_path / "state" / "generations.json")
    admin, _ = team_store(sqlite_store, tmp_path)
    admin.close()
    with Vault.open(sqlite_store, passphrase=PASSPHRASE, operator="alice", memory=memory) as vault:
        backup = Path(sqlite_store).read_bytes()
        vault.update_secret(FN, "API_KEY", "billing-v2")
        newer = vault.generation
    assert memory.seen(admin.store_id) == newer
    for companion in ("-wal", "-shm"):
        Path(sqlite_store + companion).unlink(missing_ok=True)
    Path(sqlite_store).write_bytes(backup)
    with pytest.raises(IntegrityError, match="rolled back"):
        Vault.open(sqlite_store, passphrase=PASSPHRASE, operator="alice", memory=memory)
    with Vault.open(
        sqlite_store, passphrase=PASSPHRASE, operator="alice", memory=memory, inspect=True
    ) as vault:
        report = vault.check()
        assert not report.ok and any("rolled back" in p for p in report.problems)
        with pytest.raises(IntegrityError, match="rolled back"):
            vault.add_function("shipping")
        accepted = vault.accept()
        assert accepted.generation > newer
        assert vault.events()[-1].action == "integrity.accept"
    with Vault.open(sqlite_store, passphrase=PASSPHRASE, operator="alice", memory=memory) as vault:
        assert vault.read_secret(FN, "API_KEY") == "billing-v1"  # the backup's value, accepted
        assert vault.check().ok


@pytest.mark.parametrize(
    ("column", "value"),
    [("scope", "billing mailer"), ("role", "admin"), ("label", "renamed"), ("kind", "passphrase")],
)
def test_editing_a_key_files_slot_never_widens_it(
    store_url: str, tmp_path: Path, column: str, value: str
) -> None:
    admin, key_file = team_store(store_url, tmp_path)
    slot_id = crypto.read_key_file(key_file)[1]
    sql(admin, f"UPDATE key_slot SET {column} = :v WHERE id = :id", v=value, id=slot_id)
    with pytest.raises((IntegrityError, WrongKeyError)):
        SecretClient(OTHER, store=store_url, key_file=key_file).read_secret("SMTP_PASSWORD")
    with pytest.raises((IntegrityError, WrongKeyError)):
        Vault.open(store_url, key_file=key_file)
    with pytest.raises(IntegrityError):  # the credential list no longer matches its signature
        Vault.open(store_url, passphrase=PASSPHRASE, operator="alice")


def test_an_operators_role_edited_in_the_database_is_refused(
    store_url: str, tmp_path: Path
) -> None:
    team_store(store_url, tmp_path)[0].close()
    with Vault.open(store_url, passphrase=PASSPHRASE, operator="alice") as admin:
        sql(admin, "UPDATE key_slot SET role = 'admin' WHERE operator = 'audrey'")
    with pytest.raises(IntegrityError, match="edited"):
        Vault.open(store_url, passphrase="the auditor's own passphrase", operator="audrey")


@pytest.mark.parametrize(
    ("column", "value"),
    [("kdf_memory_kib", 0), ("kdf_memory_kib", 1 << 30), ("kdf_iterations", 0),
     ("kdf_iterations", 10_000), ("kdf_lanes", 0), ("kdf_lanes", 1 << 20),
     ("kdf_memory_kib", None)],
)
def test_bad_kdf_values_are_an_integrity_failure_with_a_clear_line(
    store_url: str, column: str, value: int | None
) -> None:
    with Vault.create(store_url, PASSPHRASE, kdf=fast_kdf()) as vault:
        sql(vault, f"UPDATE key_slot SET {column} = :v", v=value)
    with pytest.raises(IntegrityError, match="Argon2id") as refused:
        Vault.open(store_url, passphrase=PASSPHRASE)
    assert "\n" not in str(refused.value) and "unexpected" not in str(refused.value)


def test_a_salt_of_the_wrong_length_is_refused_before_argon2id(store_url: str) -> None:
    with Vault.create(store_url, PASSPHRASE, kdf=fast_kdf()) as vault:
        sql(vault, "UPDATE key_slot SET salt = :v", v=b"short")
    with pytest.raises(IntegrityError, match="salt length"):
        Vault.open(store_url, passphrase=PASSPHRASE)


def test_an_editor_cannot_make_a_credential_even_by_writing_rows(
    store_url: str, tmp_path: Path
) -> None:
    team_store(store_url, tmp_path)[0].close()
    with Vault.open(store_url, passphrase=EDITOR_PASSPHRASE, operator="eddie") as editor:
        with pytest.raises(AccessDeniedError) as refused:
            editor.add_key_file(tmp_path / "mine.key", functions=[FN])
        assert refused.value.exit_code == 5
        with pytest.raises(AccessDeniedError):
            editor.add_operator("mallory", Role.ADMIN, "mallory's passphrase")
        # the editor writes a slot row itself and signs the content manifest (it holds that key);
        # the credential list is signed by the admin key only, so everyone refuses the store
        sql(
            editor,
            "INSERT INTO key_slot (id, kind, label, nonce, wrapped, created_at, role, scope, "
            "public_key) SELECT 'f0f0f0f0f0f0', 'key-file', 'mine', nonce, wrapped, created_at, "
            "'admin', '', public_key FROM key_slot WHERE operator = 'eddie'",
        )
    with pytest.raises(IntegrityError, match="key slots"):
        Vault.open(store_url, passphrase=PASSPHRASE, operator="alice")


def test_a_state_written_with_a_runtime_keys_material_is_refused(
    store_url: str, tmp_path: Path
) -> None:
    """The runtime key holds billing's key and can decrypt; it cannot sign. It re-encrypts a value
    of its own under billing's key and writes it in: every reader refuses."""
    admin, key_file = team_store(store_url, tmp_path)
    with Vault.open(store_url, key_file=key_file) as runtime:
        with pytest.raises(AccessDeniedError):
            runtime.update_secret(FN, "API_KEY", "forged")
        with pytest.raises(AccessDeniedError):
            runtime.read_secret(OTHER, "SMTP_PASSWORD")
    # a key of the attacker's own, granted to the runtime key's public key, and the value
    # re-encrypted under it: the grant is refused (the function's key commitment differs)
    slot_id = crypto.read_key_file(key_file)[1]
    fn_id, epoch = sql(admin, "SELECT id, epoch FROM function WHERE name = :n", n=FN)[0]
    (public,) = sql(admin, "SELECT public_key FROM key_slot WHERE id = :id", id=slot_id)[0]
    forged_key = crypto.SecretKey.generate()
    sealed = trust.seal_grant(
        bytes(public), forged_key, trust.grant_aad(admin.store_id, slot_id, fn_id, FN, epoch)
    )
    sql(
        admin,
        "UPDATE key_grant SET sealed = :s WHERE slot_id = :id AND function_id = :f",
        s=sealed, id=slot_id, f=fn_id,
    )
    (write_id,) = sql(admin, "SELECT write_id FROM secret WHERE name = 'API_KEY'")[0]
    aad = trust.value_aad(admin.store_id, FN, "API_KEY", 1, "plaintext", bytes(write_id))
    nonce, ciphertext = crypto.seal(forged_key, b"forged", aad)
    sql(
        admin,
        "UPDATE secret_version SET nonce = :n, ciphertext = :c WHERE secret_id = "
        "(SELECT id FROM secret WHERE name = 'API_KEY')",
        n=nonce, c=ciphertext,
    )
    with pytest.raises(IntegrityError, match="forged|another key"):
        SecretClient(FN, store=store_url, key_file=key_file).read_secret("API_KEY")
    with pytest.raises(IntegrityError):
        bound_env(FN, store=store_url, key_file=key_file)
    with pytest.raises(IntegrityError):
        admin.read_secret(FN, "API_KEY")


def test_an_auditor_holds_no_value_key(store_url: str, tmp_path: Path) -> None:
    team_store(store_url, tmp_path)[0].close()
    with Vault.open(store_url, passphrase="the auditor's own passphrase", operator="audrey") as aud:
        assert {row.name for row in aud.audit()} >= {"API_KEY", "SMTP_PASSWORD"}
        assert aud.check().ok
        for attempt in (
            lambda: aud.read_secret(FN, "API_KEY"),
            lambda: aud.bound_values(FN),
            lambda: aud.add_secret(FN, "NEW_KEY", "x"),
        ):
            with pytest.raises(AccessDeniedError):
                attempt()
        slot = sql(aud, "SELECT id FROM key_slot WHERE operator = 'audrey'")[0][0]
        assert sql(aud, "SELECT count(*) FROM key_grant WHERE slot_id = :s", s=slot) == [(0,)]
