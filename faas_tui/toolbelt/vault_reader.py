"""The toolbelt's reader for server stores (PostgreSQL): a read-only Vault, through SQLAlchemy.

Imported only when the store is not a SQLite file, so SQLite cold starts never load SQLAlchemy.
"""

from __future__ import annotations

import os
import threading

from faas_tui.core.errors import SecretNotFoundError, WrongKeyError
from faas_tui.core.names import SYSTEM_PREFIX
from faas_tui.store import crypto
from faas_tui.store.vault import Vault
from faas_tui.toolbelt.source import Deployed, StoredValue


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
        # A key file's slot is looked up on every read, so a revoked key file stops working.
        self._slot_id = crypto.read_key_file(key_file)[1] if key_file is not None else None
        self._lock = threading.Lock()
        self._emitted: set[str] = set()

    def __repr__(self) -> str:
        return f"VaultReader({self.location!r})"

    def check_function(self, function: str) -> None:
        self._vault.list_secrets(function, include_system=True)  # verifies the manifest too

    def read(self, function: str, name: str) -> StoredValue:
        self._check_slot()
        # Listing verifies the function's manifest on every store read, like the lean reader.
        listed = {
            info.name: info for info in self._vault.list_secrets(function, include_system=True)
        }
        if name not in listed:
            raise SecretNotFoundError(
                f"{function} has no secret named {name}: see `faas-tui secrets list {function}`"
            )
        text, fmt = self._vault.read_secret_text(function, name)
        return StoredValue(name, listed[name].kind, text, fmt.value)

    def deployed(self, function: str) -> Deployed:
        self._check_slot()
        self._vault.list_secrets(function)  # verifies the manifest
        bound = self._vault.bound_values(function)  # refuses never-deployed and broken bindings
        number = self._vault.get_function(function).deployed
        values = {
            name: StoredValue(
                name, "system" if name.startswith(SYSTEM_PREFIX) else "user", text, fmt.value
            )
            for name, (text, fmt) in bound.items()
        }
        return Deployed(number or 0, values)

    def take_warnings(self) -> list[str]:
        with self._lock:
            fresh = [w for w in self._vault.integrity_warnings if w not in self._emitted]
            self._emitted.update(fresh)
        return fresh

    def close(self) -> None:
        self._vault.close()

    def _check_slot(self) -> None:
        if self._slot_id is not None and all(
            info.id != self._slot_id for info in self._vault.list_key_files()
        ):
            raise WrongKeyError(
                "this key file was revoked: ask for a new one (`faas-tui key-file add`)"
            )
