"""The toolbelt's reader through the Vault (SQLAlchemy), for store URLs the lean readers do not open.

Imported only for stores the lean readers do not open (SQLAlchemy URLs in tests), so cold starts
never load SQLAlchemy. It keeps the lean readers' contract: the Vault refuses what fails its
checks, a revoked key file stops working at once, and an operator whose slot changed is told to
create a new client.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from faas_tui.core.errors import WrongKeyError
from faas_tui.core.kinds import SecretKind
from faas_tui.core.messages import REKEYED
from faas_tui.core.names import SYSTEM_PREFIX
from faas_tui.core.permissions import Action, require
from faas_tui.store.guard import OPERATOR_GONE
from faas_tui.store.vault import Vault
from faas_tui.toolbelt.source import Deployed, StoredValue


class VaultReader:
    """A Vault opened read-only, with the reader interface of the lean readers."""

    def __init__(
        self,
        store: str,
        *,
        key_file: str | os.PathLike[str] | None = None,
        passphrase: str | None = None,
        operator: str | None = None,
    ) -> None:
        from faas_tui.store.location import display_store, to_url

        url = to_url(store)
        self.location = display_store(url)
        self._vault = Vault.open(
            url,
            key_file=key_file,
            passphrase=passphrase,
            operator=operator or os.environ.get("FAAS_TUI_OPERATOR") or None,
            read_only=True,
        )
        self.credential = self._vault.credential

    def __repr__(self) -> str:
        return f"VaultReader({self.location!r})"

    def check_function(self, function: str) -> None:
        require(self.credential, Action.READ_VALUES, function)
        with _rekeyed_told():
            self._vault.get_function(function)  # verifies the signed state and the function

    def read(self, function: str, name: str) -> StoredValue:
        with _rekeyed_told():
            text_value, fmt = self._vault.read_secret_text(function, name)
        return StoredValue(name, _kind_of(name), text_value, fmt.value)

    def deployed(self, function: str) -> Deployed:
        with _rekeyed_told():
            bound = self._vault.bound_values(function)  # refuses never-deployed, broken bindings
            number = self._vault.get_function(function).deployed
        values = {
            name: StoredValue(name, _kind_of(name), text_value, fmt.value)
            for name, (text_value, fmt) in bound.items()
        }
        return Deployed(number or 0, values)

    def close(self) -> None:
        self._vault.close()


@contextmanager
def _rekeyed_told() -> Iterator[None]:
    """An operator whose own slot changed since unlocking is told to create a new client."""
    try:
        yield
    except WrongKeyError as exc:
        if str(exc) == OPERATOR_GONE:
            raise WrongKeyError(REKEYED) from None
        raise


def _kind_of(name: str) -> SecretKind:
    return SecretKind.SYSTEM if name.startswith(SYSTEM_PREFIX) else SecretKind.USER
