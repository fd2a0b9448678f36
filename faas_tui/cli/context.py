"""What one `faas-tui` invocation holds: its parsed options, the vaults it unlocked, the record of
store generations, and the key-derivation parameters for new passphrases (injected by tests only)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faas_tui.cli.prompts import prompt_secret
from faas_tui.core.errors import ReadOnlyError, ValidationError

if TYPE_CHECKING:
    from faas_tui.store.crypto import KdfParams
    from faas_tui.store.generations import GenerationMemory
    from faas_tui.store.vault import Vault

KdfFactory = Callable[[], "KdfParams"]
UNLOCK_REFUSAL = (
    "the store is locked: set FAAS_TUI_PASSPHRASE or use --key-file (no terminal to ask on)"
)


@dataclass
class Invocation:
    """One call of `main()`. `kdf` is None on the command line: new passphrases then get the
    default Argon2id parameters; tests pass weak ones so a store is created in milliseconds."""

    args: argparse.Namespace
    kdf: KdfFactory | None = None
    opened: list[Vault] = field(default_factory=list)

    # --- options ------------------------------------------------------------------------------

    @property
    def store(self) -> str:
        """The store URL: --store, else FAAS_TUI_STORE, else the default path."""
        from faas_tui.store.location import resolve_store

        return resolve_store(getattr(self.args, "store", None))

    @property
    def store_given(self) -> bool:
        """Whether the user named a store (`demo` otherwise makes a throw-away one)."""
        return bool(getattr(self.args, "store", None) or os.environ.get("FAAS_TUI_STORE"))

    @property
    def key_file(self) -> str | None:
        return getattr(self.args, "key_file", None) or os.environ.get("FAAS_TUI_KEY_FILE") or None

    @property
    def operator(self) -> str | None:
        """--operator, else FAAS_TUI_OPERATOR; None lets the store choose (its only operator, else
        the login name)."""
        return getattr(self.args, "operator", None) or os.environ.get("FAAS_TUI_OPERATOR") or None

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.args, "read_only", False))

    def refuse_read_only(self, what: str) -> None:
        if self.read_only:
            raise ReadOnlyError(f"--read-only disables every change: it cannot {what}")

    # --- vaults -------------------------------------------------------------------------------

    def open_vault(self, *, read_only: bool = False, inspect: bool = False) -> Vault:
        """Unlock the store named by the options: a key file wins over the passphrase.

        `--read-only` opens every store read-only, so a command that would change it is refused.
        The record of store generations refuses a store older than one seen here before.
        `inspect` (for `check`) opens a store that fails its checks, to list the problems.
        """
        from faas_tui.store.vault import Vault

        read_only = read_only or self.read_only
        store = self.store
        if self.key_file:
            vault = Vault.open(
                store,
                key_file=self.key_file,
                read_only=read_only,
                memory=self.memory(),
                inspect=inspect,
            )
        else:
            if not Vault.exists(store):
                from faas_tui.store.location import display_store

                raise ValidationError(
                    f"no store at {display_store(store)}: create one with `faas-tui init`"
                )
            passphrase = os.environ.get("FAAS_TUI_PASSPHRASE")
            if passphrase is None:
                passphrase = prompt_secret("Passphrase: ", UNLOCK_REFUSAL)
            vault = Vault.open(
                store,
                passphrase=passphrase,
                operator=self.operator,
                read_only=read_only,
                memory=self.memory(),
                inspect=inspect,
            )
        self.opened.append(vault)
        return vault

    def create_vault(self, store: str, passphrase: str) -> Vault:
        """A new store under `passphrase`, its first admin named by --operator or the login name."""
        from faas_tui.store.vault import Vault

        vault = Vault.create(
            store, passphrase, operator=self.operator, kdf=self.new_kdf(), memory=self.memory()
        )
        self.opened.append(vault)
        return vault

    def memory(self) -> GenerationMemory:
        """This user's record of store generations (in the user state folder)."""
        from faas_tui.store.generations import GenerationMemory

        return GenerationMemory()

    def new_kdf(self) -> KdfParams | None:
        """Parameters for a new passphrase slot: None means the defaults."""
        return self.kdf() if self.kdf is not None else None
