"""Upgrading a store written by faas-tui 0.1.0 (schema 1: one data key, MAC manifests) to schema 2,
in one transaction: a crash or a refusal anywhere leaves the old store exactly as it was.

The passphrase becomes the first admin; every value is re-encrypted under its function's new key
with a write id; events and deployments are kept. Old key files become `legacy`: they still
unwrap the old data key, which opens one shared, read-only credential (docs/trust.md).
"""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, select

from faas_tui.core.constants import SCHEMA_VERSION
from faas_tui.core.errors import IntegrityError, StoreError, ValidationError
from faas_tui.core.kinds import Role, SlotKind
from faas_tui.core.messages import KEY_NEEDED
from faas_tui.store import credentials, crypto, eventlog, keyring, opening, trust
from faas_tui.store.crypto import SecretKey
from faas_tui.store.guard import Guard
from faas_tui.store.integrity import Manifests
from faas_tui.store.models import Binding, Function, Grant, Secret, SecretVersion, StoreMeta
from faas_tui.store.secret_rows import Codec, new_write_id
from faas_tui.store.transactions import Transactions
from faas_tui.store.trust import Material, SlotFields

OLD_SCHEMA = 1
UPGRADE_NEEDED = (
    "this store was written by faas-tui 0.1.0: an admin opens it once with its passphrase "
    "(any command, e.g. `faas-tui functions list`) to upgrade it; key files work after that"
)
_NEW_COLUMNS = {
    "store_meta": (("generation", "int"), ("signature", "blob"), ("credentials_signature", "blob")),
    "key_slot": (("role", "text"), ("operator", "text"), ("scope", "text"), ("public_key", "blob")),
    "function": (("epoch", "int"), ("key_commit", "blob")),
    "secret": (("write_id", "blob"),),
    "secret_version": (("write_id", "blob"),),
    "binding": (("write_id", "blob"),),
}
_OLD_SLOTS_SQL = text(
    "SELECT id, kind, label, salt, kdf_memory_kib, kdf_iterations, kdf_lanes, nonce, wrapped "
    "FROM key_slot"
)


def upgrade(
    url: str,
    found: opening.Found,
    *,
    passphrase: str | None,
    key_file: str | os.PathLike[str] | None,
    operator: str | None,
    now: datetime,
) -> opening.Found:
    """Migrate the store `found` describes, then find it again (schema 2 now)."""
    if key_file is not None:
        raise StoreError(UPGRADE_NEEDED)
    if passphrase is None:
        raise ValidationError(KEY_NEEDED)
    tx = Transactions(found.engine, read_only=False)
    with tx.write(scrub=True) as s:
        version = s.execute(text("SELECT schema_version FROM store_meta WHERE id = 1")).scalar()
        if version == OLD_SCHEMA:  # else another process migrated it while we waited
            _migrate(s, tx.sqlite, found.meta.store_id, passphrase, operator, now)
    found.engine.dispose()
    return opening.find(url)


def _migrate(
    s: Session, sqlite: bool, store_id: str, passphrase: str, operator: str | None, now: datetime
) -> None:
    old_slots = list(s.execute(_OLD_SLOTS_SQL).all())
    by_kind = [row for row in old_slots if row.kind == SlotKind.PASSPHRASE]
    if not by_kind:
        raise IntegrityError("the 0.1.0 store has no passphrase slot: it is damaged")
    old = by_kind[0]
    params = keyring.kdf_params(_OldSlot(old))
    kek = crypto.derive_passphrase_key(passphrase, params)
    old_key = crypto.unwrap_key(
        kek, old.nonce, old.wrapped, crypto.slot_aad(store_id, old.id, SlotKind.PASSPHRASE),
        what="passphrase",
    )
    _add_columns(s, sqlite)
    _check_old_manifests(s, store_id, old_key)
    name = credentials.operator_name(operator or keyring.login_name())
    material = Material.new_store()
    s.execute(text('DELETE FROM key_slot WHERE id = :id'), {"id": old.id})
    admin = credentials.add_sealed(
        s, store_id, material, kek,
        SlotFields(
            store_id, old.id, SlotKind.PASSPHRASE, Role.ADMIN, name, "", old.label,
            params.salt, params.memory_kib, params.iterations, params.lanes,
            material.public_key(),
        ),
        now,
    )
    legacy = [row for row in old_slots if row.kind == SlotKind.KEY_FILE]
    for row in legacy:
        s.execute(
            text("UPDATE key_slot SET kind = :kind, role = :role WHERE id = :id"),
            {"kind": SlotKind.LEGACY_KEY_FILE.value, "role": Role.RUNTIME.value, "id": row.id},
        )
    if legacy:
        shared = material.for_role(writer=False, admin=False)
        credentials.add_sealed(
            s, store_id, shared, trust.legacy_kek(old_key),
            SlotFields(
                store_id, trust.LEGACY_SLOT_ID, SlotKind.LEGACY, Role.RUNTIME, "", "",
                "0.1.0 key files", b"", 0, 0, 0, shared.public_key(),
            ),
            now,
        )
    unlocked = keyring.Unlocked(
        admin.id, bytes(admin.wrapped), kek, material, keyring.credential_of(admin)
    )
    guard = Guard(store_id, unlocked)
    _reencrypt(s, guard, store_id, old_key)
    meta = s.get(StoreMeta, 1)
    assert meta is not None
    meta.schema_version, meta.generation, meta.manifest_mac = SCHEMA_VERSION, 0, b""
    s.add(meta)
    eventlog.append(s, eventlog.Stamp(name, now), "store.migrate", None, [f"schema {SCHEMA_VERSION}"])
    guard.seal_every_function(s, credentials=True)


def _add_columns(s: Session, sqlite: bool) -> None:
    types = {"int": "INTEGER", "text": "VARCHAR", "blob": "BLOB" if sqlite else "BYTEA"}
    for table, columns in _NEW_COLUMNS.items():
        for column, kind in columns:
            s.execute(text(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {types[kind]}'))
    Grant.__table__.create(s.connection())  # type: ignore[attr-defined]


def _check_old_manifests(s: Session, store_id: str, old_key: SecretKey) -> None:
    """Refuse to migrate a 0.1.0 store whose MACs fail: the new signatures would bless it."""
    manifests = Manifests(store_id, old_key.subkey(crypto.MANIFEST_MAC_PURPOSE))
    meta = s.get(StoreMeta, 1)
    assert meta is not None
    intact = manifests.store_intact(s, meta.manifest_mac) and all(
        manifests.function_intact(s, fn) for fn in s.exec(select(Function)).all()
    )
    if not intact:
        raise IntegrityError(
            "the 0.1.0 store fails its integrity check, so it was not upgraded (nothing changed): "
            "restore a backup"
        )


def _reencrypt(s: Session, guard: Guard, store_id: str, old_key: SecretKey) -> None:
    """Each function its own key; every version re-encrypted with a write id; each secret's
    fingerprint recomputed under the new fingerprint key; bindings linked to their write."""
    codec = Codec(store_id, guard)
    for fn in s.exec(select(Function)).all():
        fn.epoch = 0
        key = guard.new_function_key(s, fn)
        secrets = {row.id: row for row in s.exec(select(Secret).where(Secret.function_id == fn.id))}
        write_ids: dict[tuple[int, int], bytes] = {}
        versions = s.exec(
            select(SecretVersion).where(SecretVersion.secret_id.in_(list(secrets)))
        ).all()
        for version in versions:
            secret = secrets[version.secret_id]
            aad = crypto.value_aad(store_id, fn.name, secret.name, version.version, version.format)
            value = crypto.unseal(
                old_key, version.nonce, version.ciphertext, aad,
                what=f"the value of {fn.name}/{secret.name}",
            ).decode("utf-8")
            version.write_id = new_write_id()
            write_ids[(secret.id, version.version)] = version.write_id  # type: ignore[index]
            version.nonce, version.ciphertext = codec.seal_with(
                key, fn, secret.name, version.version, version.format, value, version.write_id
            )
            s.add(version)
            if version.version == secret.version:
                secret.write_id = version.write_id
                secret.fingerprint = codec.fingerprint(value)
                s.add(secret)
        s.flush()
        for binding in s.exec(
            select(Binding).where(Binding.secret_id.in_(list(secrets)))
        ).all():
            binding.write_id = write_ids.get((binding.secret_id, binding.version))  # type: ignore[arg-type]
            s.add(binding)


class _OldSlot:
    """A schema-1 passphrase slot as the keyring's KDF check reads it."""

    def __init__(self, row: object) -> None:
        self.salt = getattr(row, "salt", None)
        self.kdf_memory_kib = getattr(row, "kdf_memory_kib", None)
        self.kdf_iterations = getattr(row, "kdf_iterations", None)
        self.kdf_lanes = getattr(row, "kdf_lanes", None)

