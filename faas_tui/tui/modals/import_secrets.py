"""Import with a plan: read a `.env` or JSON file, show what would be added, replaced or left
unchanged (names only, from a dry run), and apply it in one transaction on confirmation."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, LoadingIndicator, Static

from faas_tui.core.errors import ConflictError, FaasError
from faas_tui.tui.ordering import after_typing
from faas_tui.tui.screens.base import StoreModal
from faas_tui.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from faas_tui.core.imports import Entry
    from faas_tui.core.records import ImportPlan

# Vault.import_secrets for one function: (entries, overwrite=, dry_run=, expected=) -> the plan
ImportSecrets = Callable[..., "ImportPlan"]


def describe_plan(plan: ImportPlan) -> str:
    """The plan as lines of names: never a value."""
    lines = []
    for title, names in (
        ("Added", plan.added),
        ("Replaced", plan.replaced),
        ("Unchanged", plan.unchanged),
    ):
        lines.append(f"{title} ({len(names)}): {', '.join(names) if names else '—'}")
    return "\n".join(lines)


class ImportModal(StoreModal["ImportPlan | None"]):
    """Preview first (a dry run), then Import; returns the applied plan, or None on cancel."""

    BINDINGS = [
        Binding("enter", "preview", "Preview", id="import.preview"),
        Binding("ctrl+s", "apply", "Import", priority=True, id="import.apply"),
        Binding("escape", "cancel", "Cancel", id="import.cancel"),
    ]
    FIRST_FOCUS = "#import-path"

    def __init__(self, function: str, *, import_secrets: ImportSecrets) -> None:
        super().__init__()
        self._import = import_secrets
        self.function = function
        self.plan: ImportPlan | None = None
        self._entries: list[Entry] | None = None  # values: kept only until applied or cancelled

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="import-dialog"):
            yield Static(
                f"Import secrets into {self.function}", classes="dialog-title", markup=False
            )
            yield Label("A .env file, or a .json file holding one object")
            yield Input(placeholder="e.g. ./production.env", id="import-path", compact=True)
            yield Checkbox("Replace existing secrets whose value differs", id="overwrite")
            yield LoadingIndicator(id="import-busy")
            with VerticalScroll(id="import-plan-box"):
                yield Static(
                    "Press enter to see the plan. Nothing is stored until you import.",
                    id="import-plan",
                    markup=False,
                )
            yield Static("", id="import-problem", classes="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Preview", id="preview", compact=True)
                yield Button("Import", id="apply", variant="primary", disabled=True, compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#import-busy").display = False

    @on(Input.Changed, "#import-path")
    @on(Checkbox.Changed, "#overwrite")
    def _inputs_changed(self) -> None:
        """A plan is only good for the file and option it was made with."""
        self.plan = None
        self._entries = None
        self.query_one("#apply", Button).disabled = True

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#preview")
    def action_preview(self) -> None:
        path = self.query_one("#import-path", Input).value.strip()
        if not path:
            self._say("Type the path of a .env or .json file.")
            return
        if self.store_busy:
            return
        self._busy(True)
        overwrite = self.query_one("#overwrite", Checkbox).value
        self.run_store(
            self._read_and_plan, path, overwrite, then=self._planned, failed=self._failed
        )

    def _read_and_plan(self, path: str, overwrite: bool) -> tuple[list[Entry], ImportPlan]:
        """Off the UI thread: read the file and make the dry run (names only leave here)."""
        from pathlib import Path

        from faas_tui.core.imports import read_import_file

        entries = read_import_file(Path(path).expanduser())
        return entries, self._import(entries, overwrite=overwrite, dry_run=True)

    def _planned(self, planned: tuple[list[Entry], ImportPlan]) -> None:
        self._busy(False)
        self._entries, self.plan = planned
        total = len(self.plan.added) + len(self.plan.replaced)
        self.query_one("#import-plan", Static).update(
            describe_plan(self.plan)
            + ("\nPress ctrl+s (Import) to apply it." if total else "\nNothing to import.")
        )
        self.query_one("#apply", Button).disabled = not total
        self._say("")

    def store_crashed(self) -> None:
        self._busy(False)

    def _failed(self, error: FaasError) -> None:
        self._busy(False)
        text = str(error)
        if isinstance(error, ConflictError) and "--overwrite" in text:
            text = text.split(":")[0] + ": switch on “Replace existing” to replace them"
        self._say(text)

    def action_apply(self) -> None:
        after_typing(self, self.apply)

    @on(Button.Pressed, "#apply")
    def apply(self) -> None:
        if self.store_busy:
            return
        if self.plan is None or self._entries is None:
            self._say("Preview the plan first (enter).")
            return
        self._busy(True)
        overwrite = self.query_one("#overwrite", Checkbox).value
        # exactly the plan the user saw, or nothing (the store may have changed since)
        self.run_store(
            partial(self._import, self._entries, overwrite=overwrite, expected=self.plan),
            then=self._done,
            failed=self._failed,
            write=True,
        )

    def _done(self, plan: ImportPlan) -> None:
        self._entries = None
        self.dismiss(plan)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if not self.may_close():
            return
        self._entries = None
        self.dismiss(None)

    def _busy(self, busy: bool) -> None:
        self.query_one("#import-busy").display = busy
        for button in self.query(Button):
            if button.id != "cancel":
                button.disabled = busy or (button.id == "apply" and self.plan is None)

    def _say(self, text: str) -> None:
        lines = text.strip().splitlines()
        self.query_one("#import-problem", Static).update(lines[0] if lines else "")
