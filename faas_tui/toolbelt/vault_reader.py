"""The toolbelt's reader through the Vault (SQLAlchemy): PostgreSQL stores, and SQLite URLs in tests.

Imported only when the store is not a SQLite file, so SQLite cold starts never load SQLAlchemy. It
keeps the lean reader's contract: a revoked key file stops working at once, and after `rotate-key`
a passphrase client is told to create a new client instead of crying tampering.
"""

from __future__ import annotations

import os
import threading

from sqlalchemy import text

from faas_tui.core.errors import IntegrityError, SecretNotFoundError, WrongKeyError
from faas_tui.core.kinds import SecretKind, SlotKind
from faas_tui.core.messages import REKEYED, REVOKED_KEY_FILE, no_secret
from faas_tui.core.names import SYSTEM_PREFIX
from faas_tui.store import crypto
from faas_tui.store.vault import Vault
from faas_tui.toolbelt.source import Deployed, StoredValue

_SLOT_SQL = text("SELECT id, wrapped FROM key_slot WHERE id = :id")
_PASSPHRASE_SLOT_SQL = text("SELECT id, wrapped FROM key_slot WHERE kind = :kind")


class VaultReader:
    """A Vault opened read-only, with the reader interface of the lean SQLite reader."""

    def __init__(
        self,
        store: str,
        *,
        key_file: str | os.PathLike[str] | None = None,
        passphrase: str | None = None,
    ) -> None:
        from faas_tui.store.location import display_store, to_url

        url = to_url(store)
        self.location = display_store(url)
        self._vault = Vault.open(url, key_file=key_file, passphrase=passphrase, read_only=True)
        self._key_file = key_file is not None
        slot_id = crypto.read_key_file(key_file)[1] if key_file is not None else None
        # The slot this reader unlocked with, as it was: a change means revoked or re-keyed.
        self._slot_id, self._wrapped = self._slot(slot_id) or (slot_id, None)
        self._lock = threading.Lock()
        self._emitted: set[str] = set()

    def __repr__(self) -> str:
        return f"VaultReader({self.location!r})"

    def check_function(self, function: str) -> None:
        self._listed(function)  # verifies the manifest too

    def read(self, function: str, name: str) -> StoredValue:
        self._check_slot()
        listed = self._listed(function)  # verifies the manifest on every read, like the lean one
        if name not in listed:
            raise SecretNotFoundError(no_secret(function, name))
        try:
            text_value, fmt = self._vault.read_secret_text(function, name)
        except IntegrityError:
            self._refuse_if_rekeyed()
            raise
        return StoredValue(name, listed[name], text_value, fmt.value)

    def deployed(self, function: str) -> Deployed:
        self._check_slot()
        self._listed(function)
        try:
            bound = self._vault.bound_values(function)  # refuses never-deployed, broken bindings
        except IntegrityError:
            self._refuse_if_rekeyed()
            raise
        number = self._vault.get_function(function).deployed
        values = {
            name: StoredValue(name, _kind_of(name), text_value, fmt.value)
            for name, (text_value, fmt) in bound.items()
        }
        return Deployed(number or 0, values)

    def take_warnings(self) -> list[str]:
        with self._lock:
            fresh = [w for w in self._vault.integrity_warnings if w not in self._emitted]
            self._emitted.update(fresh)
        return fresh

    def close(self) -> None:
        self._vault.close()

    def _listed(self, function: str) -> dict[str, str]:
        """name → kind of the function's secrets; a manifest that fails after a re-key refuses."""
        known = len(self._vault.integrity_warnings)
        listed = self._vault.list_secrets(function, include_system=True)
        if len(self._vault.integrity_warnings) > known and self._rekeyed():
            del self._vault.integrity_warnings[known:]  # not tampering: our key is the old one
            raise WrongKeyError(REKEYED)
        return {info.name: info.kind for info in listed}

    def _slot(self, slot_id: str | None) -> tuple[str, bytes] | None:
        """(id, wrapped key) of the key file's slot, or of the passphrase slot; None if gone."""
        with self._vault.engine.connect() as conn:
            if slot_id is not None:
                row = conn.execute(_SLOT_SQL, {"id": slot_id}).first()
            else:
                row = conn.execute(
                    _PASSPHRASE_SLOT_SQL, {"kind": SlotKind.PASSPHRASE.value}
                ).first()
        return None if row is None else (row[0], bytes(row[1]))

    def _current_wrapped(self) -> bytes | None:
        found = self._slot(self._slot_id if self._key_file else None)
        return None if found is None else found[1]

    def _check_slot(self) -> None:
        """A key file whose slot is gone (revoked, or rotate-key) stops working at once."""
        if self._key_file and self._current_wrapped() != self._wrapped:
            raise WrongKeyError(REVOKED_KEY_FILE)

    def _rekeyed(self) -> bool:
        return self._current_wrapped() != self._wrapped

    def _refuse_if_rekeyed(self) -> None:
        if self._rekeyed():
            raise WrongKeyError(REVOKED_KEY_FILE if self._key_file else REKEYED) from None


def _kind_of(name: str) -> SecretKind:
    return SecretKind.SYSTEM if name.startswith(SYSTEM_PREFIX) else SecretKind.USER
