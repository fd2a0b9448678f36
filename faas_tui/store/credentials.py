"""Credentials: operators (passphrase slots with a role) and key files (a runtime scope or an
operator role), each a box sealed under its own key with grants of the function keys it may read.
Removing one re-keys every function it could read, in the same transaction."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, select

from faas_tui.core.errors import ConflictError, NotFoundError, UsageError, ValidationError
from faas_tui.core.kinds import Role, SlotKind
from faas_tui.core.names import function_name
from faas_tui.core.records import KeyFileInfo, OperatorInfo
from faas_tui.store import crypto, queries, secret_rows, slots, trust
from faas_tui.store.crypto import KdfParams, SecretKey
from faas_tui.store.guard import Guard, reads_function
from faas_tui.store.models import Function, Grant, KeySlot
from faas_tui.store.secret_rows import Codec
from faas_tui.store.trust import Material

OPERATOR_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
KEY_FILE_SCOPE_NEEDED = (
    "key-file add needs --function F… (a runtime key) or --role ROLE (a headless operator)"
)


def operator_name(name: str) -> str:
    if not OPERATOR_NAME.fullmatch(name):
        raise ValidationError(
            f"operator name {name!r}: use 1–64 letters, digits, '.', '_' or '-'"
        )
    return name


def new_slot(
    s: Session,
    guard: Guard,
    material: Material,
    kek: SecretKey,
    *,
    kind: SlotKind,
    role: Role | None,
    now: datetime,
    operator: str = "",
    scope: str = "",
    label: str = "",
    params: KdfParams | None = None,
    slot_id: str | None = None,
) -> KeySlot:
    """A credential's row: its box sealed under `kek`, bound to every field; then grants of the
    keys of each function it may read (from `guard`, which must hold them)."""
    slot_id = slot_id or slots.new_slot_id()
    public = material.public_key()
    fields = trust.SlotFields(
        guard.store_id, slot_id, kind, role or "", operator, scope, label,
        params.salt if params else b"", params.memory_kib if params else 0,
        params.iterations if params else 0, params.lanes if params else 0, public,
    )
    return _add(s, guard, material, kek, fields, now)


def add_sealed(
    s: Session,
    store_id: str,
    material: Material,
    kek: SecretKey,
    fields: trust.SlotFields,
    now: datetime,
) -> KeySlot:
    """A slot whose fields the caller built (a new store, a migration): no grants issued."""
    nonce, box = trust.seal_box(kek, material, fields)
    slot = KeySlot(
        id=fields.slot_id, kind=fields.kind, label=fields.label, created_at=now,
        nonce=nonce, wrapped=box, role=fields.role or None, operator=fields.operator or None,
        scope=fields.scope or None, public_key=fields.public_key,
        salt=fields.salt or None, kdf_memory_kib=fields.memory_kib or None,
        kdf_iterations=fields.iterations or None, kdf_lanes=fields.lanes or None,
    )
    s.add(slot)
    s.flush()
    return slot


def _add(
    s: Session,
    guard: Guard,
    material: Material,
    kek: SecretKey,
    fields: trust.SlotFields,
    now: datetime,
) -> KeySlot:
    slot = add_sealed(s, guard.store_id, material, kek, fields, now)
    for fn in s.exec(select(Function)).all():
        if reads_function(slot, fn.name):
            guard.grant(s, slot, fn, guard.function_key(s, fn))
    return slot


def operator_slots(s: Session) -> list[KeySlot]:
    query = select(KeySlot).where(KeySlot.kind == SlotKind.PASSPHRASE).order_by(KeySlot.created_at)
    return list(s.exec(query).all())


def operators(s: Session) -> list[OperatorInfo]:
    return [
        OperatorInfo(slot.operator or "", Role(slot.role or Role.AUDITOR), slot.created_at)
        for slot in operator_slots(s)
    ]


def add_operator(
    s: Session, guard: Guard, name: str, role: Role, kek: SecretKey, params: KdfParams, now: datetime
) -> OperatorInfo:
    if role is Role.RUNTIME:
        raise ValidationError("an operator is an admin, editor or auditor; runtime is for key files")
    if any(slot.operator == name for slot in operator_slots(s)):
        raise ConflictError(f"an operator named {name!r} already exists")
    material = guard.material.for_role(writer=role in (Role.ADMIN, Role.EDITOR), admin=role is Role.ADMIN)
    new_slot(
        s, guard, material, kek, kind=SlotKind.PASSPHRASE, role=role, now=now, operator=name,
        label=SlotKind.PASSPHRASE.value, params=params,
    )
    return OperatorInfo(name, role, now)


def remove_operator(s: Session, guard: Guard, codec: Codec, name: str) -> None:
    found = [slot for slot in operator_slots(s) if slot.operator == name]
    if not found:
        raise NotFoundError(f"no operator {name!r} in this store; `faas-tui operators list` names them")
    slot = found[0]
    admins = [other for other in operator_slots(s) if other.role == Role.ADMIN]
    if slot.role == Role.ADMIN and len(admins) == 1:
        raise ConflictError(f"{name} is the last admin: add another admin before removing them")
    _remove_and_rekey(s, guard, codec, [slot])


def change_passphrase(s: Session, guard: Guard, kek: SecretKey, params: KdfParams) -> bytes:
    """The unlocking operator's own box re-sealed under the new passphrase and its parameters
    (the credential list is signed again by the caller). Returns the new box."""
    slot = s.get(KeySlot, guard.unlocked.slot_id)
    assert slot is not None
    fields = trust.SlotFields(
        guard.store_id, slot.id, slot.kind, slot.role or "", slot.operator or "",
        slot.scope or "", slot.label, params.salt, params.memory_kib, params.iterations,
        params.lanes, bytes(slot.public_key or b""),
    )
    slot.nonce, slot.wrapped = trust.seal_box(kek, guard.material, fields)
    slot.salt, slot.kdf_memory_kib = params.salt, params.memory_kib
    slot.kdf_iterations, slot.kdf_lanes = params.iterations, params.lanes
    s.add(slot)
    s.flush()
    return bytes(slot.wrapped)


def add_key_file(
    s: Session,
    guard: Guard,
    label: str,
    functions: Sequence[str],
    role: Role | None,
    now: datetime,
    write: Callable[[str], None],
) -> KeyFileInfo:
    """A new random key in a slot of its own, and its key file written with `write`."""
    if bool(functions) == (role is not None):
        raise UsageError(KEY_FILE_SCOPE_NEEDED)
    if role is Role.RUNTIME:
        raise UsageError("--role takes admin, editor or auditor; a runtime key needs --function")
    names = tuple(sorted({function_name(name) for name in functions}))
    for name in names:
        queries.function_row(s, name)  # NotFoundError for a function that does not exist
    given_role = role or Role.RUNTIME
    key = SecretKey.generate()
    material = guard.material.for_role(
        writer=given_role in (Role.ADMIN, Role.EDITOR), admin=given_role is Role.ADMIN
    )
    slot = new_slot(
        s, guard, material, key, kind=SlotKind.KEY_FILE, role=given_role, now=now,
        scope=" ".join(names), label=label,
    )
    write(crypto.key_file_text(guard.store_id, slot.id, key))
    return KeyFileInfo(slot.id, label, now, given_role, names)


def key_files(s: Session) -> list[KeyFileInfo]:
    query = (
        select(KeySlot)
        .where(KeySlot.kind.in_([SlotKind.KEY_FILE, SlotKind.LEGACY_KEY_FILE]))
        .order_by(KeySlot.created_at, KeySlot.id)
    )
    return [
        KeyFileInfo(
            slot.id, slot.label, slot.created_at, Role(slot.role or Role.RUNTIME),
            tuple((slot.scope or "").split()), slot.kind == SlotKind.LEGACY_KEY_FILE,
        )
        for slot in s.exec(query).all()
    ]


def revoke_key_file(s: Session, guard: Guard, codec: Codec, slot_id: str) -> list[str]:
    """The key file's slot removed and what it could read re-keyed. Every legacy key file shares
    the old data key, so revoking one revokes them all. Returns the revoked ids."""
    slot = slots.key_file_slot(s, slot_id)
    if slot.kind == SlotKind.LEGACY_KEY_FILE:
        legacy = list(
            s.exec(
                select(KeySlot).where(
                    KeySlot.kind.in_([SlotKind.LEGACY_KEY_FILE, SlotKind.LEGACY])
                )
            ).all()
        )
        _remove_and_rekey(s, guard, codec, legacy)
        return [row.id for row in legacy if row.kind == SlotKind.LEGACY_KEY_FILE]
    _remove_and_rekey(s, guard, codec, [slot])
    return [slot.id]


def _remove_and_rekey(s: Session, guard: Guard, codec: Codec, gone: list[KeySlot]) -> None:
    """The slots deleted; each function any of them could read gets a new key (epoch + 1), its
    versions re-encrypted and its grants re-issued to the remaining credentials (the caller
    signs every function's digest again)."""
    readable = {
        grant.function_id
        for grant in s.exec(select(Grant).where(Grant.slot_id.in_([g.id for g in gone]))).all()
    }
    functions = [fn for fn in s.exec(select(Function)).all() if fn.id in readable]
    old_keys = {fn.id: guard.function_key(s, fn) for fn in functions}
    for slot in gone:
        s.execute(delete(Grant).where(Grant.slot_id == slot.id))
        s.delete(slot)
    s.flush()
    for fn in functions:
        new_key = guard.new_function_key(s, fn)
        secret_rows.reencrypt_function(s, codec, fn, old_keys[fn.id], new_key)


def rekey_everything(s: Session, guard: Guard, codec: Codec) -> None:
    """`rotate-key`: every function gets a new data key, its versions re-encrypted, granted again
    to every credential (public keys need nobody's secret)."""
    functions = list(s.exec(select(Function)).all())
    old_keys = {fn.id: guard.function_key(s, fn) for fn in functions}
    for fn in functions:
        new_key = guard.new_function_key(s, fn)
        secret_rows.reencrypt_function(s, codec, fn, old_keys[fn.id], new_key)
