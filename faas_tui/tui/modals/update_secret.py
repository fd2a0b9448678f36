"""The Update value modal: a new value for an existing secret, whose old value is never shown."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Static

from faas_tui.tui.modals.secret_value import SecretValueModal, value_bindings

if TYPE_CHECKING:
    from faas_tui.core.records import SecretInfo
    from faas_tui.core.values import SecretFormat

Update = Callable[[str, "SecretFormat"], "SecretInfo"]  # (value, format)


class UpdateSecretModal(SecretValueModal):
    """Stores a new version of one secret (write-only); the name is fixed."""

    BINDINGS = value_bindings("Save")
    FIRST_FOCUS = "#value"

    def __init__(self, function: str, name: str, fmt: SecretFormat, *, update: Update) -> None:
        super().__init__(function, fmt)
        self.secret = name
        self._update = update

    def compose_head(self) -> ComposeResult:
        yield Static(f"Update value of {self.secret}", classes="dialog-title", markup=False)
        yield Static(
            f"Function {self.function}. The current value is never shown: type the new one. "
            "It becomes a new version; the deployment keeps the version it bound until you "
            "redeploy.",
            classes="dialog-subtitle",
            markup=False,
        )

    def saving(self, value: str, fmt: SecretFormat) -> Callable[[], SecretInfo]:
        return partial(self._update, value, fmt)
