"""What the Add a secret and Update value modals share: the keys, the editor, saving and wiping.

Saving runs off the UI thread through the one narrow callable the modal was given; after a save
the value is removed from every widget before the modal closes; escape cancels. One line shows
the current problem: the editor's live check while typing, the reason a save was refused after
`ctrl+s` (cleared again by the next edit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, RadioSet, Static, TextArea

from faas_tui.core.values import SecretFormat
from faas_tui.tui.ordering import after_typing
from faas_tui.tui.screens.base import StoreModal
from faas_tui.tui.widgets.key_footer import KeyFooter
from faas_tui.tui.widgets.value_editor import ValueEditor

if TYPE_CHECKING:
    from faas_tui.core.errors import FaasError
    from faas_tui.core.records import SecretInfo


def value_bindings(save: str) -> list[Binding]:
    """The value modals' keys; priority, so the focused TextArea (ctrl+y is its redo) yields."""
    # short footer labels (the whole footer fits 60 columns); the help says more
    return [
        Binding(
            "ctrl+t",
            "toggle_format",
            "Format",
            tooltip="Switch the value between plaintext and JSON",
            priority=True,
            id="value.format",
        ),
        Binding(
            "ctrl+g",
            "generate",
            "Generate",
            tooltip="Generate a random value",
            priority=True,
            id="value.generate",
        ),
        Binding(
            "ctrl+y",
            "copy_value",
            "Copy",
            tooltip="Copy the value (the clipboard is cleared after 30 s)",
            priority=True,
            id="value.copy",
        ),
        Binding("ctrl+s", "save", save, priority=True, id="value.save"),
        Binding("escape", "cancel", "Cancel", id="value.cancel"),
    ]


class SecretValueModal(StoreModal["SecretInfo | None"]):
    """Base of the value modals: subclasses add their head and say how to store the value."""

    SAVE_LABEL = "Save"

    def __init__(self, function: str, fmt: SecretFormat) -> None:
        super().__init__()
        self.function = function
        self._initial_format = fmt

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="value-dialog"):
            yield from self.compose_head()
            yield ValueEditor(self._initial_format, id="editor")
            yield Static("", id="save-problem", classes="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.SAVE_LABEL, id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyFooter()

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
        if not self.may_close():
            return
        self.editor.wipe()
        self.dismiss(None)

    # --- one problem line ----------------------------------------------------------------------

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(RadioSet.Changed)
    def _edited(self) -> None:
        """An edit makes a refused save's reason stale: the live check takes over again."""
        self._say("")

    # --- saving --------------------------------------------------------------------------------

    @on(Button.Pressed, "#save")
    def save(self) -> None:
        if self.store_busy:
            return  # the previous ctrl+s is still waiting for the store
        if not self.check_head():
            return
        problem = self.editor.problem()
        if problem:
            self._say(problem)
            self.set_focus(self.editor.text_area)
            return
        self.query_one("#save", Button).disabled = True
        self.run_store(
            self.saving(self.editor.text, self.editor.fmt),
            then=self._saved,
            failed=self._refused,
            write=True,
        )

    def _saved(self, saved: SecretInfo) -> None:
        self.editor.wipe()
        self.dismiss(saved)

    def _refused(self, error: FaasError) -> None:
        self.query_one("#save", Button).disabled = False
        self._say(str(error))

    def store_crashed(self) -> None:
        self.query_one("#save", Button).disabled = False

    def check_head(self) -> bool:
        """Whether the head's fields (the name) can be saved; shows why not."""
        return True

    def saving(self, value: str, fmt: SecretFormat) -> Callable[[], SecretInfo]:
        """The store call that saves the value (read on the UI thread, run off it)."""
        raise NotImplementedError

    def _say(self, text: str) -> None:
        """Show why a save was refused, in place of the live check (empty: back to it)."""
        lines = text.strip().splitlines()
        line = self.query_one("#save-problem", Static)
        line.update(lines[0] if lines else "")
        self.editor.hide_live(bool(lines))
