"""Unlocking a store from its key-slot rows, and wrapping the data key into a new slot.

Plain data in, keys out: no SQLAlchemy here, so the Vault and the lean SQLite runtime reader
unlock with the same code and refuse with the same messages.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

from faas_tui.core.errors import IntegrityError, ValidationError, WrongKeyError
from faas_tui.core.kinds import SlotKind
from faas_tui.core.messages import (
    KEY_NEEDED,
    NO_PASSPHRASE_SLOT,
    REVOKED_KEY_FILE,
    WRONG_STORE_KEY_FILE,
)
from faas_tui.store import crypto
from faas_tui.store.crypto import KdfParams, SecretKey


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


class Unlocked:
    """The data key, the slot it came from, and the passphrase's key (None for a key file)."""

    __slots__ = ("data_key", "kek", "slot_id", "wrapped")

    def __init__(
        self, data_key: SecretKey, slot_id: str, wrapped: bytes, kek: SecretKey | None
    ) -> None:
        self.data_key = data_key
        self.slot_id = slot_id
        self.wrapped = wrapped
        self.kek = kek

    def __repr__(self) -> str:
        return f"Unlocked(slot={self.slot_id!r})"


def unlock(
    store_id: str,
    *,
    passphrase: str | None,
    key_file: str | os.PathLike[str] | None,
    passphrase_slot: Callable[[], SlotRow | None],
    slot_by_id: Callable[[str], SlotRow | None],
) -> Unlocked:
    """Open the store's data key with a key file (preferred when given) or the passphrase.

    The callables look the slot up (one query each), so a caller reads only the slot it needs.
    """
    if key_file is not None:
        file_store, slot_id, key = crypto.read_key_file(key_file)
        if file_store != store_id:
            raise WrongKeyError(WRONG_STORE_KEY_FILE)
        slot = slot_by_id(slot_id)
        if slot is None or slot.kind != SlotKind.KEY_FILE:
            raise WrongKeyError(REVOKED_KEY_FILE)
        data_key = _unwrap(store_id, slot, key, "key file")
        return Unlocked(data_key, slot.id, slot.wrapped, None)
    if passphrase is None:
        raise ValidationError(KEY_NEEDED)
    slot = passphrase_slot()
    if slot is None or slot.salt is None:
        raise IntegrityError(NO_PASSPHRASE_SLOT)
    params = KdfParams(
        slot.salt, slot.kdf_memory_kib or 0, slot.kdf_iterations or 0, slot.kdf_lanes or 0
    )
    kek = crypto.derive_passphrase_key(passphrase, params)  # Argon2id: the slow step
    return Unlocked(_unwrap(store_id, slot, kek, "passphrase"), slot.id, slot.wrapped, kek)


def wrap(
    kek: SecretKey, data_key: SecretKey, store_id: str, slot_id: str, kind: SlotKind
) -> dict[str, Any]:
    """A slot's nonce and wrapped key: the data key under `kek`, bound to store, slot and kind."""
    nonce, wrapped = crypto.wrap_key(kek, data_key, crypto.slot_aad(store_id, slot_id, kind))
    return {"nonce": nonce, "wrapped": wrapped}


def kdf_columns(params: KdfParams) -> dict[str, Any]:
    """The columns a passphrase slot stores its Argon2id parameters in."""
    return {
        "salt": params.salt,
        "kdf_memory_kib": params.memory_kib,
        "kdf_iterations": params.iterations,
        "kdf_lanes": params.lanes,
    }


def _unwrap(store_id: str, slot: SlotRow, kek: SecretKey, what: str) -> SecretKey:
    aad = crypto.slot_aad(store_id, slot.id, slot.kind)
    return crypto.unwrap_key(kek, slot.nonce, slot.wrapped, aad, what=what)
