"""Key-file plumbing: slot ids, finding a key-file slot, checking a new key file's path and label,
and writing the file next to its slot. Credentials themselves are credentials.py's."""

from __future__ import annotations

import os
import secrets as random_source
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlmodel import Session

from faas_tui.core.errors import ConflictError, NotFoundError, ValidationError
from faas_tui.core.kinds import SlotKind
from faas_tui.store.models import KeySlot


def new_slot_id() -> str:
    return random_source.token_hex(6)


def key_file_slot(s: Session, slot_id: str) -> KeySlot:
    """The key-file slot with this id (ids are hex: anything else never reaches SQL)."""
    slot = s.get(KeySlot, slot_id) if slot_id.isascii() and slot_id.isalnum() else None
    if slot is None or slot.kind not in (SlotKind.KEY_FILE, SlotKind.LEGACY_KEY_FILE):
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
