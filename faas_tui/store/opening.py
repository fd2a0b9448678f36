"""Finding a store before it is unlocked: creating its tables, reading its header and key slots."""

from __future__ import annotations

import os
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Engine, inspect, text
from sqlalchemy import exc as sa_exc
from sqlmodel import Session, SQLModel, select

from faas_tui.core.constants import SCHEMA_VERSION
from faas_tui.core.errors import ConflictError, IntegrityError, NotFoundError, StoreError
from faas_tui.core.kinds import Role, SlotKind
from faas_tui.core.messages import no_store, schema_mismatch
from faas_tui.store import credentials, database, keyring, slots, trust
from faas_tui.store.crypto import KdfParams, SecretKey
from faas_tui.store.models import KeySlot, StoreMeta
from faas_tui.store.transactions import db_reason, store_failure
from faas_tui.store.trust import Material


def new_store(url: str) -> Engine:
    """The engine of a new, empty store at `url`, its tables created; refuses an existing one."""
    path = database.sqlite_path(url)
    if path is not None:
        if path.exists() and path.stat().st_size > 0:
            raise ConflictError(f"a store already exists at {path}")
        database.prepare_private_file(path)
    engine = database.engine_for(url)
    if path is None and has_store(engine):
        raise ConflictError(f"a store already exists at {database.display_store(url)}")
    try:
        SQLModel.metadata.create_all(engine)
    except sa_exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot create the store: {db_reason(exc)}") from None
    return engine


def initialise(
    s: Session, store_id: str, operator: str, kek: SecretKey, params: KdfParams, now: datetime
) -> keyring.Unlocked:
    """A new store's header row and its first admin, with every key fresh (the caller logs and
    signs)."""
    s.add(
        StoreMeta(
            store_id=store_id,
            schema_version=SCHEMA_VERSION,
            created_at=now,
            manifest_mac=b"",
            generation=0,
        )
    )
    material = Material.new_store()
    fields = trust.SlotFields(
        store_id, slots.new_slot_id(), SlotKind.PASSPHRASE, Role.ADMIN, operator, "",
        SlotKind.PASSPHRASE.value, params.salt, params.memory_kib, params.iterations,
        params.lanes, material.public_key(),
    )
    slot = credentials.add_sealed(s, store_id, material, kek, fields, now)
    return keyring.Unlocked(
        slot.id, bytes(slot.wrapped), kek, material, keyring.credential_of(slot)
    )


class Header(NamedTuple):
    store_id: str
    schema_version: int


class Found(NamedTuple):
    """A store's engine, header and slot rows, read before unlocking."""

    engine: Engine
    meta: Header
    slots: list[KeySlot]


def find(url: str) -> Found:
    """The engine, the store's header row and its key slots. Reads, never writes."""
    where = database.display_store(url)
    if not database.store_file_exists(url):
        raise NotFoundError(no_store(where))
    engine = database.engine_for(url)
    try:
        with Session(engine) as s:
            meta = _header(s)
            rows: list[KeySlot] = []
            if meta is not None and meta.schema_version == SCHEMA_VERSION:
                rows = list(s.exec(select(KeySlot)).all())  # schema 1: the migration reads them
    except sa_exc.SQLAlchemyError as exc:
        engine.dispose()
        failure = store_failure(exc)
        if isinstance(failure, IntegrityError):
            raise failure from None
        raise NotFoundError(no_store(where)) from None
    if meta is None:
        engine.dispose()
        raise NotFoundError(f"no store at {where}")
    if meta.schema_version not in (1, SCHEMA_VERSION):
        engine.dispose()
        raise StoreError(schema_mismatch(meta.schema_version, SCHEMA_VERSION))
    return Found(engine, meta, rows)


def _header(s: Session) -> Header | None:
    if not inspect(s.connection()).has_table("store_meta"):
        return None
    row = s.execute(text("SELECT store_id, schema_version FROM store_meta WHERE id = 1")).first()
    return None if row is None else Header(row[0], row[1])


def unlock(
    found: Found,
    *,
    passphrase: str | None,
    key_file: str | os.PathLike[str] | None,
    operator: str | None,
) -> keyring.Unlocked:
    """The chosen credential, opened from the slot rows `find` read."""
    rows = found.slots
    return keyring.unlock(
        found.meta.store_id,
        passphrase=passphrase,
        key_file=key_file,
        operator=operator,
        passphrase_slots=lambda: [r for r in rows if r.kind == SlotKind.PASSPHRASE],
        slot_by_id=lambda slot_id: next((r for r in rows if r.id == slot_id), None),
    )


def operator_names(url: str) -> list[str]:
    """The names of the store's operators, without unlocking (for the app's unlock prompt)."""
    found = find(url)
    try:
        return sorted(r.operator or "" for r in found.slots if r.kind == SlotKind.PASSPHRASE)
    finally:
        found.engine.dispose()


def store_exists(url: str) -> bool:
    """Whether a store has been created at this location."""
    if not database.store_file_exists(url):
        return False
    path = database.sqlite_path(url)
    if path is not None and path.stat().st_size == 0:
        return False
    engine = database.engine_for(url)
    try:
        return has_store(engine)
    finally:
        engine.dispose()


def has_store(engine: Engine) -> bool:
    try:
        with Session(engine) as s:
            return _header(s) is not None
    except sa_exc.SQLAlchemyError as exc:
        raise store_failure(exc) from None
