"""What every unlocked screen shares: typed access to the app and its Vault, and read-only refusals.

In read-only mode a change action stays in the footer, dimmed; pressing its key runs a hidden
second binding on the same key that says why nothing happened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker

if TYPE_CHECKING:
    from faas_tui.store.vault import Vault
    from faas_tui.tui.app import FaasApp

REFUSE = "refuse_change"


def refusals(*keys: str) -> list[Binding]:
    """Hidden bindings that explain a refused change; list them after the change bindings."""
    return [Binding(key, REFUSE, show=False, system=True) for key in keys]


class VaultScreen(Screen[None]):
    """A screen that works on the unlocked Vault. `CHANGE_ACTIONS` are refused when read-only."""

    CHANGE_ACTIONS: ClassVar[frozenset[str]] = frozenset()

    @property
    def faas(self) -> FaasApp:
        return cast("FaasApp", self.app)

    @property
    def vault(self) -> Vault:
        vault = self.faas.vault
        if vault is None:  # screens are closed before the Vault is dropped; never expected
            raise RuntimeError("the store is locked")
        return vault

    @property
    def read_only(self) -> bool:
        return self.faas.read_only

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == REFUSE:
            return self.read_only
        if action in self.CHANGE_ACTIONS and self.read_only:
            return None  # shown dimmed; the hidden refusal binding answers the key
        return True

    def action_refuse_change(self) -> None:
        self.faas.refuse_read_only()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.faas.worker_failed(event)
