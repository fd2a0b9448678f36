"""Key-slot rows: adding a passphrase or key-file slot, re-wrapping and revoking them, and the
key file written next to its slot. The unwrapping itself is the keyring's."""

from __future__ import annotations

import os
import secrets as random_source
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import Session, select

from faas_tui.core.errors import ConflictError, NotFoundError, ValidationError
from faas_tui.core.kinds import SlotKind
from faas_tui.store import crypto, keyring
from faas_tui.store.crypto import KdfParams, SecretKey
from faas_tui.store.models import KeySlot


def new_slot_id() -> str:
    return random_source.token_hex(6)


def add_slot(
    s: Session,
    store_id: str,
    data_key: SecretKey,
    kek: SecretKey,
    kind: SlotKind,
    *,
    label: str,
    now: datetime,
    slot_id: str | None = None,
    params: KdfParams | None = None,
) -> str:
    """A slot holding the data key wrapped under `kek`; `params` for a passphrase slot."""
    slot_id = slot_id or new_slot_id()
    s.add(
        KeySlot(
            id=slot_id,
            kind=kind,
            label=label,
            created_at=now,
            **keyring.wrap(kek, data_key, store_id, slot_id, kind),
            **(keyring.kdf_columns(params) if params is not None else {}),
        )
    )
    return slot_id


def replace_passphrase_slot(
    s: Session, store_id: str, data_key: SecretKey, kek: SecretKey, params: KdfParams, now: datetime
) -> None:
    """`passwd`: the old passphrase slot goes, a new one under the new passphrase comes."""
    s.execute(delete(KeySlot).where(KeySlot.kind == SlotKind.PASSPHRASE))
    add_passphrase_slot(s, store_id, data_key, kek, params, now)


def add_passphrase_slot(
    s: Session, store_id: str, data_key: SecretKey, kek: SecretKey, params: KdfParams, now: datetime
) -> None:
    """The passphrase's slot, with the Argon2id parameters its key was derived with."""
    kind = SlotKind.PASSPHRASE
    add_slot(s, store_id, data_key, kek, kind, label=kind.value, now=now, params=params)


def rekey(s: Session, store_id: str, kek: SecretKey, new_key: SecretKey) -> list[str]:
    """`rotate-key`: the passphrase slot re-wrapped around the new data key; every key-file slot
    (whose key this process never sees) revoked. Returns the revoked slot ids."""
    revoked = list(s.exec(select(KeySlot.id).where(KeySlot.kind == SlotKind.KEY_FILE)).all())
    s.execute(delete(KeySlot).where(KeySlot.kind == SlotKind.KEY_FILE))
    slot = s.exec(select(KeySlot).where(KeySlot.kind == SlotKind.PASSPHRASE)).one()
    wrapped = keyring.wrap(kek, new_key, store_id, slot.id, SlotKind(slot.kind))
    slot.nonce, slot.wrapped = wrapped["nonce"], wrapped["wrapped"]
    s.add(slot)
    return revoked


def key_file_slots(s: Session) -> list[KeySlot]:
    """Every key-file slot, oldest first."""
    query = select(KeySlot).where(KeySlot.kind == SlotKind.KEY_FILE).order_by(KeySlot.created_at)
    return list(s.exec(query).all())


def add_key_file_slot(
    s: Session,
    store_id: str,
    data_key: SecretKey,
    label: str,
    now: datetime,
    write: Callable[[str], None],
) -> str:
    """A new random key in a slot of its own, and its key file written with `write`."""
    key = SecretKey.generate()
    slot_id = add_slot(s, store_id, data_key, key, SlotKind.KEY_FILE, label=label, now=now)
    s.flush()
    write(crypto.key_file_text(store_id, slot_id, key))
    return slot_id


def key_file_slot(s: Session, slot_id: str) -> KeySlot:
    """The key-file slot with this id (ids are hex: anything else never reaches SQL)."""
    slot = s.get(KeySlot, slot_id) if slot_id.isascii() and slot_id.isalnum() else None
    if slot is None or slot.kind != SlotKind.KEY_FILE:
        raise NotFoundError(f"no key file with id {slot_id!r}: see `faas-tui key-file list`")
    return slot


def check_new_key_file(target: Path, label: str) -> None:
    """Refuse a label no column can hold and a path that exists or cannot be looked at."""
    if not_storable(label):
        raise ValidationError("a key file's label must be UTF-8 text without NUL characters")
    try:
        exists = target.exists()
    except OSError as exc:  # a name too long, a loop of links
        raise ValidationError(f"cannot write key file {target}: {exc.strerror}") from None
    if exists:
        raise ConflictError(f"{target} already exists: choose a new path for the key file")


@contextmanager
def key_file(target: Path) -> Iterator[Callable[[str], None]]:
    """Yields a writer of the key file, 0600, refusing to replace anything; a failure anywhere
    inside (the transaction's commit too) removes the file, so no key file outlives its slot."""
    written = False

    def write(text: str) -> None:
        nonlocal written
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise ValidationError(f"cannot write key file {target}: {exc.strerror}") from None
        written = True
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)

    try:
        yield write
    except BaseException:
        if written:
            target.unlink(missing_ok=True)
        raise


def not_storable(text: str) -> bool:
    """Text no database column can hold as given: a NUL, or a lone surrogate (bad UTF-8 in argv)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return "\x00" in text
