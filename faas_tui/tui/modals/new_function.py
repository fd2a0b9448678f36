"""The New function modal: a function name (checked as typed) and an optional source folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from faas_tui.core.errors import FaasError
from faas_tui.core.names import function_name_problem
from faas_tui.tui.ordering import after_typing

if TYPE_CHECKING:
    from faas_tui.store.vault import Vault

NAME_RULE = "a-z, 0-9 and -, 1 to 63 characters, starting with a letter"


class NewFunctionModal(ModalScreen["str | None"]):
    """Creates a function (with its system secrets); returns its name, or None on cancel."""

    BINDINGS = [
        Binding("ctrl+s", "create", "Create", priority=True, id="new_function.create"),
        Binding("escape", "cancel", "Cancel", id="new_function.cancel"),
    ]
    AUTO_FOCUS = "#function-name"

    def __init__(self, vault: Vault) -> None:
        super().__init__()
        self.vault = vault

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="new-function-dialog"):
            yield Static("New function", classes="dialog-title")
            yield Label("Name")
            yield Input(placeholder="e.g. billing", id="function-name", compact=True)
            yield Static(NAME_RULE, id="function-name-problem", classes="hint", markup=False)
            yield Label("Source folder (optional: the audit scans it for names the code reads)")
            yield Input(placeholder="e.g. ~/code/billing", id="function-source", compact=True)
            yield Static("", id="new-function-problem", classes="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Create", id="create", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer(compact=True)

    @on(Input.Changed, "#function-name")
    def _name_changed(self, event: Input.Changed) -> None:
        problem = function_name_problem(event.value) if event.value else None
        hint = self.query_one("#function-name-problem", Static)
        hint.set_class(problem is not None, "problem")
        hint.update(f"✗ {problem}" if problem else NAME_RULE)

    @on(Input.Submitted, "#function-name")
    def _name_submitted(self) -> None:
        self.query_one("#function-source", Input).focus()

    def action_create(self) -> None:
        after_typing(self, self.create)

    @on(Input.Submitted, "#function-source")
    @on(Button.Pressed, "#create")
    def create(self) -> None:
        name = self.query_one("#function-name", Input).value.strip()
        source = self.query_one("#function-source", Input).value.strip() or None
        problem = function_name_problem(name)
        if problem:
            self._say(f"Name: {problem}")
            self.query_one("#function-name", Input).focus()
            return
        try:
            self.vault.add_function(name, source)
        except FaasError as error:
            self._say(str(error))
            return
        self.dismiss(name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _say(self, text: str) -> None:
        lines = text.strip().splitlines()
        self.query_one("#new-function-problem", Static).update(lines[0] if lines else "")
