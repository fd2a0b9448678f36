"""What the Add a secret and Update value modals share: the keys, the editor, saving and wiping.

After a save the value is removed from every widget before the modal closes; escape cancels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from faas_tui.core.errors import FaasError
from faas_tui.core.values import SecretFormat
from faas_tui.tui.ordering import after_typing
from faas_tui.tui.widgets.value_editor import ValueEditor

if TYPE_CHECKING:
    from faas_tui.core.records import SecretInfo
    from faas_tui.store.vault import Vault
    from faas_tui.tui.app import FaasApp


def value_bindings(save: str) -> list[Binding]:
    """The value modals' keys; priority, so the focused TextArea (ctrl+y is its redo) yields."""
    return [
        Binding("ctrl+t", "toggle_format", "Plaintext/JSON", priority=True, id="value.format"),
        Binding("ctrl+g", "generate", "Generate", priority=True, id="value.generate"),
        Binding("ctrl+y", "copy_value", "Copy value", priority=True, id="value.copy"),
        Binding("ctrl+s", "save", save, priority=True, id="value.save"),
        Binding("escape", "cancel", "Cancel", id="value.cancel"),
    ]


class SecretValueModal(ModalScreen["SecretInfo | None"]):
    """Base of the value modals: subclasses add their head and say how to store the value."""

    SAVE_LABEL = "Save"

    def __init__(self, vault: Vault, function: str, fmt: SecretFormat) -> None:
        super().__init__()
        self.vault = vault
        self.function = function
        self._initial_format = fmt

    @property
    def faas(self) -> FaasApp:
        return cast("FaasApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="value-dialog"):
            yield from self.compose_head()
            yield ValueEditor(self._initial_format, id="editor")
            yield Static("", id="save-problem", classes="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.SAVE_LABEL, id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer(compact=True)

    def compose_head(self) -> ComposeResult:
        raise NotImplementedError

    @property
    def editor(self) -> ValueEditor:
        return self.query_one("#editor", ValueEditor)

    # --- keys ----------------------------------------------------------------------------------

    # The keys are priority bindings (the TextArea has focus); each waits for the keys typed
    # before it, so ctrl+s after a paste saves the whole value.
    def action_toggle_format(self) -> None:
        after_typing(self, self.editor.toggle_format)

    def action_generate(self) -> None:
        after_typing(self, self.editor.generate)

    def action_copy_value(self) -> None:
        after_typing(self, self.copy_value)

    def action_save(self) -> None:
        after_typing(self, self.save)

    def copy_value(self) -> None:
        text = self.editor.text
        if not text:
            self.notify("There is no value to copy yet.")
            return
        self.faas.copy(text, what="the value", sensitive=True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.editor.wipe()
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def save(self) -> None:
        if not self.check_head():
            return
        problem = self.editor.problem()
        if problem:
            self.editor.show_problem(problem)
            self._say(problem)
            self.editor.text_area.focus()
            return
        try:
            saved = self.store(self.editor.text, self.editor.fmt)
        except FaasError as error:
            self._say(str(error))
            return
        self.editor.wipe()
        self.dismiss(saved)

    def check_head(self) -> bool:
        """Whether the head's fields (the name) can be saved; shows why not."""
        return True

    def store(self, value: str, fmt: SecretFormat) -> SecretInfo:
        raise NotImplementedError

    def _say(self, text: str) -> None:
        lines = text.strip().splitlines()
        self.query_one("#save-problem", Static).update(lines[0] if lines else "")
