"""The Add a secret modal: Key with a live preview of the stored name, format, value, Create."""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from faas_tui.core.values import SecretFormat
from faas_tui.tui.modals.secret_value import SecretValueModal, value_bindings
from faas_tui.tui.widgets.name_preview import NamePreview

if TYPE_CHECKING:
    from faas_tui.core.errors import FaasError
    from faas_tui.core.records import SecretInfo

Create = Callable[[str, str, SecretFormat], "SecretInfo"]  # (name, value, format)
Names = Callable[[], Collection[str]]  # the names already taken in the function


class AddSecretModal(SecretValueModal):
    """Creates a secret; focus order Key, Format, Value, Create, Cancel, with Key focused on open."""

    BINDINGS = value_bindings("Create")
    SAVE_LABEL = "Create"
    FIRST_FOCUS = "#key"

    def __init__(self, function: str, *, create: Create, taken: Names) -> None:
        super().__init__(function, SecretFormat.PLAINTEXT)
        self._create = create
        self._taken = taken
        self._existing: Collection[str] = ()

    def compose_head(self) -> ComposeResult:
        yield Static("Add a secret", classes="dialog-title")
        yield Static(f"Function {self.function}", classes="dialog-subtitle", markup=False)
        yield Label("Key")
        yield Input(placeholder="e.g. hubspot api key", id="key", compact=True)
        yield NamePreview(id="name-preview")

    def on_mount(self) -> None:
        self.run_store(self._taken, then=self._names_read, failed=self._names_unknown)

    def _names_read(self, names: Collection[str]) -> None:
        self._existing = set(names)
        self._preview()

    def _names_unknown(self, error: FaasError) -> None:
        """Saving still refuses a taken name; only the early warning is lost."""

    @on(Input.Changed, "#key")
    def _preview(self) -> None:
        self.query_one(NamePreview).show(self.query_one("#key", Input).value, self._existing)

    @on(Input.Submitted, "#key")
    def _key_submitted(self) -> None:
        self.focus_next()

    def check_head(self) -> bool:
        preview = self.query_one(NamePreview)
        preview.show(self.query_one("#key", Input).value, self._existing)
        if preview.problem:
            self._say(f"Key: {preview.problem}")
            self.set_focus(self.query_one("#key", Input))
            return False
        return True

    def saving(self, value: str, fmt: SecretFormat) -> Callable[[], SecretInfo]:
        return partial(self._create, self.query_one("#key", Input).value, value, fmt)
