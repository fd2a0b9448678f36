"""What tests may reach of a store beyond the Vault's API, in one small place.

`raw_engine` is the Vault's documented read-only `engine` property (for reading rows and for
tampering behind the tool's back); `data_key` unlocks the passphrase slot again through the public
keyring, as anyone holding the passphrase could; `count_scrubs` records the scrubs a change asks
for. Nothing here reads a Vault's private attributes.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PASSPHRASE
from sqlalchemy import Engine, text

from faas_tui.core.kinds import SlotKind
from faas_tui.store import keyring, transactions
from faas_tui.store.crypto import SecretKey
from faas_tui.store.vault import Vault


def raw_engine(vault: Vault) -> Engine:
    """The store's database engine: raw SQL outside the Vault's transactions and manifests."""
    return vault.engine


def is_sqlite(vault: Vault) -> bool:
    return vault.engine.dialect.name == "sqlite"


def data_key(vault: Vault, passphrase: str = PASSPHRASE) -> SecretKey:
    """The store's data key, unwrapped from its passphrase slot (leak tests search for it)."""
    with vault.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, kind, nonce, wrapped, salt, kdf_memory_kib, kdf_iterations, kdf_lanes "
                "FROM key_slot"
            )
        ).all()
    slots: list[Any] = list(rows)
    unlocked = keyring.unlock(
        vault.store_id,
        passphrase=passphrase,
        key_file=None,
        passphrase_slot=lambda: next((r for r in slots if r.kind == SlotKind.PASSPHRASE), None),
        slot_by_id=lambda _: None,
    )
    return unlocked.data_key


def count_scrubs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every scrub (SQLite WAL checkpoint, PostgreSQL table rewrite) instead of running it."""
    scrubs: list[str] = []
    for name in ("checkpoint", "vacuum"):
        monkeypatch.setattr(transactions, name, lambda _engine, n=name: scrubs.append(n))
    return scrubs
