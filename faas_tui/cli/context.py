"""What one `faas-tui` invocation holds: its parsed options, the vaults it unlocked, the warnings it
has shown, and the key-derivation parameters for new passphrases (injected by tests only)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faas_tui.cli.prompts import prompt_secret
from faas_tui.core.errors import ReadOnlyError, ValidationError

if TYPE_CHECKING:
    from faas_tui.store.crypto import KdfParams
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
    shown: set[str] = field(default_factory=set)

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
    def read_only(self) -> bool:
        return bool(getattr(self.args, "read_only", False))

    def refuse_read_only(self, what: str) -> None:
        if self.read_only:
            raise ReadOnlyError(f"--read-only disables every change: it cannot {what}")

    # --- vaults -------------------------------------------------------------------------------

    def open_vault(self, *, read_only: bool = False) -> Vault:
        """Unlock the store named by the options, with a key file or the passphrase.

        `--read-only` opens every store read-only, so a command that would change it is refused.
        """
        from faas_tui.store.vault import Vault

        read_only = read_only or self.read_only
        store = self.store
        if self.key_file:
            vault = Vault.open(store, key_file=self.key_file, read_only=read_only)
        else:
            if not Vault.exists(store):
                from faas_tui.store.location import display_store

                raise ValidationError(
                    f"no store at {display_store(store)}: create one with `faas-tui init`"
                )
            passphrase = os.environ.get("FAAS_TUI_PASSPHRASE")
            if passphrase is None:
                passphrase = prompt_secret("Passphrase: ", UNLOCK_REFUSAL)
            vault = Vault.open(store, passphrase=passphrase, read_only=read_only)
        self.opened.append(vault)
        self.print_warnings()
        return vault

    def create_vault(self, store: str, passphrase: str) -> Vault:
        """A new store under `passphrase`."""
        from faas_tui.store.vault import Vault

        vault = Vault.create(store, passphrase, kdf=self.new_kdf())
        self.opened.append(vault)
        return vault

    def new_kdf(self) -> KdfParams | None:
        """Parameters for a new passphrase slot: None means the defaults."""
        return self.kdf() if self.kdf is not None else None

    def print_warnings(self) -> None:
        """Each integrity warning once: those found on opening and those found while working."""
        for vault in self.opened:
            for warning in vault.integrity_warnings:
                if warning not in self.shown:
                    self.shown.add(warning)
                    print(f"warning: {warning}", file=sys.stderr)
