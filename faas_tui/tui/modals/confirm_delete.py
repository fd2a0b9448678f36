"""The irreversible delete: the user types the name; Delete stays disabled until it matches."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from faas_tui.tui.ordering import after_typing
from faas_tui.tui.screens.base import Dialog
from faas_tui.tui.widgets.key_footer import KeyFooter


class ConfirmDeleteModal(Dialog[bool]):
    """Returns True once the typed name matches and the user confirms; escape returns False."""

    BINDINGS = [
        # priority, so the footer shows it while the name field has focus
        Binding("enter", "confirm", "Delete", priority=True, id="delete.confirm"),
        Binding("escape", "cancel", "Cancel", id="delete.cancel"),
    ]
    FIRST_FOCUS = "#confirm-name"

    def __init__(self, kind: str, name: str, details: list[str]) -> None:
        super().__init__()
        self.kind = kind
        self.target = name
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog danger", id="delete-dialog"):
            yield Static(f"Delete {self.kind} {self.target}?", classes="dialog-title", markup=False)
            yield Static("You cannot undo this action.", id="cannot-undo")
            for line in self.details:
                yield Static(line, classes="delete-detail", markup=False)
            yield Label(f"Type {self.target} to confirm", id="confirm-label")
            yield Input(placeholder="type the name here", id="confirm-name", compact=True)
            yield Static("", id="delete-problem", classes="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Delete", id="delete", variant="error", disabled=True, compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyFooter()

    @property
    def matches(self) -> bool:
        return self.query_one("#confirm-name", Input).value == self.target

    @on(Input.Changed, "#confirm-name")
    def _typed(self) -> None:
        self.query_one("#delete", Button).disabled = not self.matches
        self.query_one("#delete-problem", Static).update("")

    def action_confirm(self) -> None:
        after_typing(self, self.confirm)  # enter is a priority key: wait for the typed name

    @on(Button.Pressed, "#delete")
    def confirm(self) -> None:
        if self.focused is self.query_one("#cancel", Button):
            self.dismiss(False)  # enter on Cancel cancels
            return
        if not self.matches:
            self.query_one("#delete-problem", Static).update(
                f"The name does not match: type {self.target} exactly to delete."
            )
            return
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
