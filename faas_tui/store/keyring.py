"""Unlocking a store from its key-slot rows: the chosen credential's box opened, its role known.

Plain data in, keys out: no SQLAlchemy here, so the Vault and the lean runtime readers unlock with
the same code and refuse with the same messages. The box format is trust.py's.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from faas_tui.core.errors import IntegrityError, ValidationError, WrongKeyError
from faas_tui.core.kinds import Role, SlotKind
from faas_tui.core.messages import KEY_NEEDED, REVOKED_KEY_FILE, WRONG_STORE_KEY_FILE
from faas_tui.core.permissions import KEY_FILE_ACTOR, Credential
from faas_tui.store import crypto, trust
from faas_tui.store.crypto import KdfParams, SecretKey
from faas_tui.store.trust import Material, SlotFields

SLOT_COLUMNS = (
    "id, kind, nonce, wrapped, salt, kdf_memory_kib, kdf_iterations, kdf_lanes, "
    "role, operator, scope, label, public_key"
)


class SlotRow(Protocol):
    """What unlocking reads of a key slot: a `KeySlot` row, or a tuple with these fields."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def nonce(self) -> bytes: ...
    @property
    def wrapped(self) -> bytes: ...
    @property
    def salt(self) -> bytes | None: ...
    @property
    def kdf_memory_kib(self) -> int | None: ...
    @property
    def kdf_iterations(self) -> int | None: ...
    @property
    def kdf_lanes(self) -> int | None: ...
    @property
    def role(self) -> str | None: ...
    @property
    def operator(self) -> str | None: ...
    @property
    def scope(self) -> str | None: ...
    @property
    def label(self) -> str: ...
    @property
    def public_key(self) -> bytes | None: ...


class SlotTuple(NamedTuple):
    """A key_slot row read as a plain tuple of SLOT_COLUMNS (the lean readers, tests)."""

    id: str
    kind: str
    nonce: bytes
    wrapped: bytes
    salt: bytes | None
    kdf_memory_kib: int | None
    kdf_iterations: int | None
    kdf_lanes: int | None
    role: str | None
    operator: str | None
    scope: str | None
    label: str
    public_key: bytes | None


class Unlocked:
    """The opened credential: its slot, box bytes (a change means revoked or re-keyed), the key
    that opened it (None for a key file), what it holds and who it is."""

    __slots__ = ("credential", "kek", "material", "slot_id", "wrapped")

    def __init__(
        self,
        slot_id: str,
        wrapped: bytes,
        kek: SecretKey | None,
        material: Material,
        credential: Credential,
    ) -> None:
        self.slot_id = slot_id
        self.wrapped = wrapped
        self.kek = kek
        self.material = material
        self.credential = credential

    @property
    def grant_slot(self) -> str:
        """The slot whose grants this credential opens (the shared one for a legacy key)."""
        return trust.LEGACY_SLOT_ID if self.credential.legacy else self.slot_id

    def __repr__(self) -> str:
        return f"Unlocked(slot={self.slot_id!r}, actor={self.credential.actor!r})"


def slot_fields(store_id: str, slot: SlotRow) -> SlotFields:
    """The fields a slot's box is bound to, read from its row."""
    return SlotFields(
        store_id,
        slot.id,
        slot.kind,
        slot.role or "",
        slot.operator or "",
        slot.scope or "",
        slot.label or "",
        bytes(slot.salt or b""),
        slot.kdf_memory_kib or 0,
        slot.kdf_iterations or 0,
        slot.kdf_lanes or 0,
        bytes(slot.public_key or b""),
    )


def credential_of(slot: SlotRow) -> Credential:
    """Who a slot's row says it is (trusted once its box opened: the box binds these fields)."""
    if slot.kind == SlotKind.PASSPHRASE:
        return Credential(slot.operator or "", Role(slot.role or Role.AUDITOR), None)
    if slot.kind == SlotKind.LEGACY_KEY_FILE:
        return Credential(KEY_FILE_ACTOR + slot.id, Role.RUNTIME, None, legacy=True)
    role = Role(slot.role or Role.RUNTIME)
    scope = frozenset((slot.scope or "").split()) if role is Role.RUNTIME else None
    return Credential(KEY_FILE_ACTOR + slot.id, role, scope)


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid-{os.getuid()}"


def choose_operator(slots: Sequence[SlotRow], operator: str | None) -> SlotRow:
    """The passphrase slot of `operator`; by default the only operator, else the login name."""
    if not slots:
        raise IntegrityError("the store has no operator's passphrase slot: it is damaged")
    if operator is None and len(slots) == 1:
        return slots[0]
    wanted = operator if operator is not None else login_name()
    for slot in slots:
        if slot.operator == wanted:
            return slot
    if operator is None:
        raise WrongKeyError(
            f"this store has several operators and none is named {wanted!r}: choose one with "
            "--operator or FAAS_TUI_OPERATOR (`faas-tui operators list` names them)"
        )
    raise WrongKeyError(
        f"no operator {operator!r} in this store; `faas-tui operators list` names them"
    )


def kdf_params(slot: SlotRow) -> KdfParams:
    """The slot's Argon2id parameters, range-checked (an edited value never reaches Argon2id)."""
    problem = trust.kdf_problem(
        slot.salt, slot.kdf_memory_kib, slot.kdf_iterations, slot.kdf_lanes
    )
    if problem:
        raise IntegrityError(problem)
    return KdfParams(
        bytes(slot.salt or b""),
        slot.kdf_memory_kib or 0,
        slot.kdf_iterations or 0,
        slot.kdf_lanes or 0,
    )


def unlock(
    store_id: str,
    *,
    passphrase: str | None,
    key_file: str | os.PathLike[str] | None,
    operator: str | None = None,
    passphrase_slots: Callable[[], Sequence[SlotRow]],
    slot_by_id: Callable[[str], SlotRow | None],
) -> Unlocked:
    """Open one credential: a key file (preferred when given) or an operator's passphrase.

    The callables look the slots up, so a caller reads only what it needs; only the chosen
    operator's slot runs Argon2id.
    """
    if key_file is not None:
        file_store, slot_id, key = crypto.read_key_file(key_file)
        if file_store != store_id:
            raise WrongKeyError(WRONG_STORE_KEY_FILE)
        slot = slot_by_id(slot_id)
        if slot is None or slot.kind not in (SlotKind.KEY_FILE, SlotKind.LEGACY_KEY_FILE):
            raise WrongKeyError(REVOKED_KEY_FILE)
        if slot.kind == SlotKind.LEGACY_KEY_FILE:
            return _unlock_legacy(store_id, slot, key, slot_by_id)
        material = _open(store_id, slot, key, "key file")
        return Unlocked(slot.id, bytes(slot.wrapped), None, material, credential_of(slot))
    if passphrase is None:
        raise ValidationError(KEY_NEEDED)
    slot = choose_operator(passphrase_slots(), operator)
    kek = crypto.derive_passphrase_key(passphrase, kdf_params(slot))  # Argon2id: the slow step
    material = _open(store_id, slot, kek, "passphrase")
    return Unlocked(slot.id, bytes(slot.wrapped), kek, material, credential_of(slot))


def _unlock_legacy(
    store_id: str, slot: SlotRow, key: SecretKey, slot_by_id: Callable[[str], SlotRow | None]
) -> Unlocked:
    """A 0.1.0 key file: it unwraps the old data key, which opens the shared legacy box."""
    aad = crypto.slot_aad(store_id, slot.id, SlotKind.KEY_FILE)
    old_key = crypto.unwrap_key(key, bytes(slot.nonce), bytes(slot.wrapped), aad, what="key file")
    shared = slot_by_id(trust.LEGACY_SLOT_ID)
    if shared is None or shared.kind != SlotKind.LEGACY:
        raise WrongKeyError(REVOKED_KEY_FILE)
    material = trust.open_box(
        trust.legacy_kek(old_key), bytes(shared.nonce), bytes(shared.wrapped),
        slot_fields(store_id, shared),
    )
    if material is None:
        raise IntegrityError("the legacy key files' credential was edited; it is not used")
    return Unlocked(slot.id, bytes(slot.wrapped), None, material, credential_of(slot))


def _open(store_id: str, slot: SlotRow, kek: SecretKey, what: str) -> Material:
    material = trust.open_box(kek, bytes(slot.nonce), bytes(slot.wrapped), slot_fields(store_id, slot))
    if material is None:
        raise WrongKeyError(
            f"wrong {what}: the store was not unlocked and nothing changed"
        )
    return material
