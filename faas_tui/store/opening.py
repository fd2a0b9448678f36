"""Finding a store before it is unlocked: creating its tables, reading its header and key slots."""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy import Engine, inspect
from sqlalchemy import exc as sa_exc
from sqlmodel import Session, SQLModel, select

from faas_tui.core.constants import SCHEMA_VERSION
from faas_tui.core.errors import ConflictError, IntegrityError, NotFoundError, StoreError
from faas_tui.core.kinds import SlotKind
from faas_tui.core.messages import no_store, schema_mismatch
from faas_tui.store import database, keyring, slots
from faas_tui.store.crypto import KdfParams, SecretKey
from faas_tui.store.models import KeySlot, StoreMeta
from faas_tui.store.transactions import db_reason, store_failure


def new_store(url: str) -> Engine:
    """The engine of a new, empty store at `url`, its tables created; refuses an existing one."""
    path = database.sqlite_path(url)
    if path is not None:
        if path.exists() and path.stat().st_size > 0:
            raise ConflictError(f"a store already exists at {path}")
        database.prepare_private_file(path)
    engine = database.make_engine(url)
    if path is None and has_store(engine):
        raise ConflictError(f"a store already exists at {database.display_store(url)}")
    try:
        SQLModel.metadata.create_all(engine)
    except sa_exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot create the store: {db_reason(exc)}") from None
    return engine


def initialise(
    s: Session, store_id: str, data_key: SecretKey, kek: SecretKey, params: KdfParams, now: datetime
) -> None:
    """A new store's header row and its passphrase slot (the caller logs and seals)."""
    s.add(
        StoreMeta(
            store_id=store_id, schema_version=SCHEMA_VERSION, created_at=now, manifest_mac=b""
        )
    )
    slots.add_passphrase_slot(s, store_id, data_key, kek, params, now)


def unlock(
    url: str, *, passphrase: str | None, key_file: str | os.PathLike[str] | None
) -> tuple[Engine, StoreMeta, keyring.Unlocked]:
    """The engine, the store's header row and its data key, unlocked. Reads, never writes."""
    where = database.display_store(url)
    if not database.store_file_exists(url):
        raise NotFoundError(no_store(where))
    engine = database.make_engine(url)
    try:
        with Session(engine) as s:
            meta = s.get(StoreMeta, 1)
            rows = list(s.exec(select(KeySlot)).all())
    except sa_exc.SQLAlchemyError as exc:
        failure = store_failure(exc)
        if isinstance(failure, IntegrityError):
            raise failure from None
        raise NotFoundError(no_store(where)) from None
    if meta is None:
        raise NotFoundError(f"no store at {where}")
    if meta.schema_version != SCHEMA_VERSION:
        raise StoreError(schema_mismatch(meta.schema_version, SCHEMA_VERSION))
    unlocked = keyring.unlock(
        meta.store_id,
        passphrase=passphrase,
        key_file=key_file,
        passphrase_slot=lambda: next((r for r in rows if r.kind == SlotKind.PASSPHRASE), None),
        slot_by_id=lambda slot_id: next((r for r in rows if r.id == slot_id), None),
    )
    return engine, meta, unlocked


def store_exists(url: str) -> bool:
    """Whether a store has been created at this location."""
    if not database.store_file_exists(url):
        return False
    path = database.sqlite_path(url)
    if path is not None and path.stat().st_size == 0:
        return False
    engine = database.make_engine(url)
    try:
        return has_store(engine)
    finally:
        engine.dispose()


def has_store(engine: Engine) -> bool:
    try:
        if not inspect(engine).has_table("store_meta"):
            return False
        with Session(engine) as s:
            return s.get(StoreMeta, 1) is not None
    except sa_exc.SQLAlchemyError as exc:
        raise store_failure(exc) from None
