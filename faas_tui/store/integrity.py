"""Schema 1's manifest MACs (faas-tui 0.1.0), kept only to check a 0.1.0 store before it is migrated.

A function's manifest covers its (name, version, format, kind) rows; the store's covers every
function's manifest, the event log's head, the key slots and a few row totals. A store that fails
either is refused, never migrated (migration.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from faas_tui.store import crypto, eventlog
from faas_tui.store.crypto import SecretKey
from faas_tui.store.models import (
    Binding,
    Deployment,
    Function,
    KeySlot,
    Secret,
    SecretVersion,
)


class Manifests:
    """Checks the manifests of one schema-1 store under its MAC key."""

    def __init__(self, store_id: str, mac_key: SecretKey) -> None:
        self.store_id = store_id
        self.mac_key = mac_key

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

    def store_intact(self, s: Session, stored: bytes) -> bool:
        """Whether the store's rows match its sealed manifest `stored`."""
        return crypto.same(stored, self.store_manifest(s))

    def function_intact(self, s: Session, fn: Function) -> bool:
        """Whether the function's rows match its sealed manifest."""
        return crypto.same(fn.manifest_mac, self.function_manifest(s, fn))


def row_totals(s: Session) -> tuple[int, ...]:
    """Counts the database computes in one query: secrets, the sum of their versions, stored
    versions, bindings and deployments (what 0.1.0 sealed into the store manifest)."""

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
