"""The Add a secret modal: Key with a live preview of the stored name, format, value, Create."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from faas_tui.core.errors import FaasError
from faas_tui.core.values import SecretFormat
from faas_tui.tui.modals.secret_value import SecretValueModal, value_bindings
from faas_tui.tui.widgets.name_preview import NamePreview

if TYPE_CHECKING:
    from faas_tui.core.records import SecretInfo
    from faas_tui.store.vault import Vault


class AddSecretModal(SecretValueModal):
    """Creates a secret; focus order Key, Format, Value, Create, Cancel, with Key focused on open."""

    BINDINGS = value_bindings("Create")
    SAVE_LABEL = "Create"
    AUTO_FOCUS = "#key"

    def __init__(self, vault: Vault, function: str) -> None:
        super().__init__(vault, function, SecretFormat.PLAINTEXT)
        self._existing: set[str] = set()

    def compose_head(self) -> ComposeResult:
        yield Static("Add a secret", classes="dialog-title")
        yield Static(f"Function {self.function}", classes="dialog-subtitle", markup=False)
        yield Label("Key")
        yield Input(placeholder="e.g. hubspot api key", id="key", compact=True)
        yield NamePreview(id="name-preview")

    def on_mount(self) -> None:
        try:
            self._existing = {
                info.name for info in self.vault.list_secrets(self.function, include_system=True)
            }
        except FaasError:
            self._existing = set()

    @on(Input.Changed, "#key")
    def _key_changed(self, event: Input.Changed) -> None:
        self.query_one(NamePreview).show(event.value, self._existing)

    @on(Input.Submitted, "#key")
    def _key_submitted(self) -> None:
        self.focus_next()

    def check_head(self) -> bool:
        preview = self.query_one(NamePreview)
        preview.show(self.query_one("#key", Input).value, self._existing)
        if preview.problem:
            self._say(f"Key: {preview.problem}")
            self.query_one("#key", Input).focus()
            return False
        return True

    def store(self, value: str, fmt: SecretFormat) -> SecretInfo:
        return self.vault.add_secret(self.function, self.query_one("#key", Input).value, value, fmt)
