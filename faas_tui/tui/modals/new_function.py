"""The New function modal: a function name (checked as typed) and an optional source folder."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from faas_tui.core.names import function_name_problem
from faas_tui.tui.ordering import after_typing
from faas_tui.tui.screens.base import StoreModal
from faas_tui.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from faas_tui.core.errors import FaasError

AddFunction = Callable[[str, "str | None"], object]  # (name, source folder)

NAME_RULE = "a-z, 0-9 and -, 1 to 63 characters, starting with a letter"


class NewFunctionModal(StoreModal["str | None"]):
    """Creates a function (with its system secrets); returns its name, or None on cancel."""

    BINDINGS = [
        Binding("ctrl+s", "create", "Create", priority=True, id="new_function.create"),
        Binding("escape", "cancel", "Cancel", id="new_function.cancel"),
    ]
    FIRST_FOCUS = "#function-name"

    def __init__(self, *, add: AddFunction) -> None:
        super().__init__()
        self._add = add

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
        yield KeyFooter()

    @on(Input.Changed, "#function-name")
    def _name_changed(self, event: Input.Changed) -> None:
        problem = function_name_problem(event.value) if event.value else None
        hint = self.query_one("#function-name-problem", Static)
        hint.set_class(problem is not None, "problem")
        hint.update(f"✗ {problem}" if problem else NAME_RULE)
        self._say("")

    @on(Input.Changed, "#function-source")
    def _source_changed(self) -> None:
        self._say("")

    @on(Input.Submitted, "#function-name")
    def _name_submitted(self) -> None:
        self.set_focus(self.query_one("#function-source", Input))

    def action_create(self) -> None:
        after_typing(self, self.create)

    @on(Input.Submitted, "#function-source")
    @on(Button.Pressed, "#create")
    def create(self) -> None:
        if self.store_busy:
            return
        name = self.query_one("#function-name", Input).value.strip()
        source = self.query_one("#function-source", Input).value.strip() or None
        problem = function_name_problem(name)
        if problem:
            self._say(f"Name: {problem}")
            self.set_focus(self.query_one("#function-name", Input))
            return
        self.query_one("#create", Button).disabled = True
        self.run_store(
            self._add,
            name,
            source,
            then=lambda _: self.dismiss(name),
            failed=self._refused,
            write=True,
        )

    def _refused(self, error: FaasError) -> None:
        self.query_one("#create", Button).disabled = False
        self._say(str(error))

    def store_crashed(self) -> None:
        self.query_one("#create", Button).disabled = False

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.may_close():
            self.dismiss(None)

    def _say(self, text: str) -> None:
        lines = text.strip().splitlines()
        self.query_one("#new-function-problem", Static).update(lines[0] if lines else "")
