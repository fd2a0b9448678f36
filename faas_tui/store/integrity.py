"""Schema 1's manifest MACs (faas-tui 0.1.0), kept to check a 0.1.0 store before it is migrated.

A function's manifest covers its (name, version, format, kind) rows; the store's covers every
function's manifest, the event log's head, the key slots and a few row totals. Schema 2 signs
instead (guard.py, docs/trust.md); nothing writes these MACs any more.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from faas_tui.core.errors import IntegrityError
from faas_tui.core.messages import manifest_mismatch
from faas_tui.store import crypto, eventlog
from faas_tui.store.crypto import SecretKey
from faas_tui.store.models import (
    Binding,
    Deployment,
    Function,
    KeySlot,
    Secret,
    SecretVersion,
    StoreMeta,
)

STORE_MISMATCH = (
    "integrity warning: the store's manifest does not match its rows: functions, "
    "secrets, versions, deployments, events or key slots were deleted or rolled back "
    "behind faas-tui's back"
)


class Manifests:
    """Seals and checks the manifests of one store under one MAC key."""

    def __init__(self, store_id: str, mac_key: SecretKey) -> None:
        self.store_id = store_id
        self.mac_key = mac_key

    def seal(self, s: Session, fn: Function | None = None) -> None:
        """Re-seal after a change: the function's manifest (when given), then the store's."""
        s.flush()
        if fn is not None:
            self.seal_function(s, fn)
        self.seal_store(s)

    def seal_all(self, s: Session) -> None:
        """Every function's manifest and the store's (after every value was re-encrypted)."""
        s.flush()
        for fn in s.exec(select(Function)).all():
            self.seal_function(s, fn)
        self.seal_store(s)

    def seal_function(self, s: Session, fn: Function) -> None:
        fn.manifest_mac = self.function_manifest(s, fn)
        s.add(fn)
        s.flush()

    def seal_store(self, s: Session) -> None:
        s.flush()
        meta = s.get(StoreMeta, 1)
        assert meta is not None
        meta.manifest_mac = self.store_manifest(s)
        s.add(meta)

    def function_manifest(self, s: Session, fn: Function) -> bytes:
        rows = s.exec(
            select(Secret.name, Secret.version, Secret.format, Secret.kind)
            .where(Secret.function_id == fn.id)
            .order_by(Secret.name)
        ).all()
        return crypto.function_manifest(self.mac_key, self.store_id, fn.name, rows)

    def store_manifest(self, s: Session) -> bytes:
        functions = s.exec(
            select(Function.name, Function.manifest_mac).order_by(Function.name)
        ).all()
        slots = s.exec(select(KeySlot.id).order_by(KeySlot.id)).all()
        fields: list[str | bytes | int] = [field for row in functions for field in row]
        fields += ["events", *eventlog.head(s), "slots", *slots]
        fields += ["rows", *row_totals(s)]
        return crypto.mac(self.mac_key, crypto.encode_aad("store", self.store_id, *fields))

    def store_problem(self, s: Session, stored: bytes) -> str | None:
        """The warning when the store's rows do not match `stored`, else None."""
        return None if crypto.same(stored, self.store_manifest(s)) else STORE_MISMATCH

    def function_problem(self, s: Session, fn: Function) -> str | None:
        """The warning when the function's rows do not match its sealed manifest, else None."""
        if crypto.same(fn.manifest_mac, self.function_manifest(s, fn)):
            return None
        return manifest_mismatch(fn.name)

    def check_log_head(self, s: Session, count: int) -> None:
        """After the chain verified: the sealed store manifest must cover the log's last row."""
        meta = s.get(StoreMeta, 1)
        if meta is None or self.store_problem(s, meta.manifest_mac):
            raise IntegrityError(
                f"the event log is broken after row {count}: the store was sealed with another "
                "last row, so rows were cut from its end or the chain was rewritten (or other "
                "rows of the store were deleted or rolled back behind faas-tui's back)"
            )


def row_totals(s: Session) -> tuple[int, ...]:
    """Counts the database computes in one query, so that opening a store notices secrets,
    versions or bindings deleted or rolled back behind faas-tui's back without reading them
    all; listing a function then checks its full manifest."""

    def scalar(query: Any) -> Any:
        return query.scalar_subquery()

    row = s.exec(
        select(
            scalar(select(func.count(Secret.id))),
            scalar(select(func.coalesce(func.sum(Secret.version), 0))),
            scalar(select(func.count(SecretVersion.id))),
            scalar(select(func.count(Binding.id))),
            scalar(select(func.count(Deployment.id))),
        )
    ).one()
    return tuple(int(value) for value in row)
