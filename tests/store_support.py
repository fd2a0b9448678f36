"""What tests may reach of a store beyond the Vault's API, in one small place.

`raw_engine` is the Vault's documented read-only `engine` property (for reading rows and for
tampering behind the tool's back); `unlocked`, `data_key` and `function_key` open the operator's
slot again through the public keyring, as anyone holding the passphrase could; `count_scrubs`
records the scrubs a change asks for. Nothing here reads a Vault's private attributes.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PASSPHRASE
from sqlalchemy import Engine, text
from sqlmodel import Session

from faas_tui.core.kinds import SlotKind
from faas_tui.store import keyring, transactions
from faas_tui.store.crypto import SecretKey
from faas_tui.store.vault import Vault


def raw_engine(vault: Vault) -> Engine:
    """The store's database engine: raw SQL outside the Vault's transactions and manifests."""
    return vault.engine


def is_sqlite(vault: Vault) -> bool:
    return vault.engine.dialect.name == "sqlite"


def unlocked(vault: Vault, passphrase: str = PASSPHRASE) -> keyring.Unlocked:
    """The operator's credential opened again from its slot through the public keyring, as
    anyone holding the passphrase could."""
    with vault.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {keyring.SLOT_COLUMNS} FROM key_slot")).all()
    slots: list[Any] = list(rows)
    return keyring.unlock(
        vault.store_id,
        passphrase=passphrase,
        key_file=None,
        operator=vault.credential.actor,
        passphrase_slots=lambda: [r for r in slots if r.kind == SlotKind.PASSPHRASE],
        slot_by_id=lambda slot_id: next((r for r in slots if r.id == slot_id), None),
    )


def data_key(vault: Vault, passphrase: str = PASSPHRASE) -> SecretKey:
    """The store-wide fingerprint key from the operator's box (leak tests search for it)."""
    return SecretKey(unlocked(vault, passphrase).material.fingerprint)


def function_key(vault: Vault, function: str, passphrase: str = PASSPHRASE) -> SecretKey:
    """The function's data key, opened from the operator's grant."""
    from faas_tui.store.guard import Guard
    from faas_tui.store.queries import function_row

    guard = Guard(vault.store_id, unlocked(vault, passphrase))
    with Session(vault.engine) as s:
        return guard.function_key(s, function_row(s, function))


def count_scrubs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every scrub (SQLite WAL checkpoint, PostgreSQL table rewrite) instead of running it."""
    scrubs: list[str] = []
    for name in ("checkpoint", "vacuum"):
        monkeypatch.setattr(transactions, name, lambda _engine, n=name: scrubs.append(n))
    return scrubs
