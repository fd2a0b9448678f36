"""Set or clear a function's source folder, which the audit scans for the secret names code reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from faas_tui.tui.ordering import after_typing
from faas_tui.tui.screens.base import StoreModal
from faas_tui.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from faas_tui.core.errors import FaasError

SetSource = Callable[["str | None"], object]  # the folder, or None to clear it


class SourceFolderModal(StoreModal[bool]):
    """Returns True when the folder was saved (an empty field clears it)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="source.save"),
        Binding("escape", "cancel", "Cancel", id="source.cancel"),
    ]
    FIRST_FOCUS = "#source-path"

    def __init__(self, function: str, current: str | None, *, save: SetSource) -> None:
        super().__init__()
        self._save = save
        self.function = function
        self.current = current or ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="source-dialog"):
            yield Static(f"Source folder of {self.function}", classes="dialog-title", markup=False)
            yield Static(
                'The audit scans this folder for env.NAME, read_secret("NAME"), os.environ '
                "and process.env reads: stored names nothing reads are UNREFERENCED, names "
                "read but not stored are MISSING. Leave it empty to clear it.",
                classes="dialog-subtitle",
                markup=False,
            )
            yield Label("Folder")
            yield Input(
                self.current, placeholder="e.g. ~/code/billing", id="source-path", compact=True
            )
            yield Static("", id="source-problem", classes="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyFooter()

    def action_save(self) -> None:
        after_typing(self, self.save)

    @on(Input.Submitted, "#source-path")
    @on(Button.Pressed, "#save")
    def save(self) -> None:
        if self.store_busy:
            return
        folder = self.query_one("#source-path", Input).value.strip() or None
        self.query_one("#save", Button).disabled = True
        self.run_store(
            self._save, folder, then=lambda _: self.dismiss(True), failed=self._refused, write=True
        )

    def _refused(self, error: FaasError) -> None:
        self.query_one("#save", Button).disabled = False
        lines = str(error).strip().splitlines()
        self.query_one("#source-problem", Static).update(lines[0] if lines else "")

    def store_crashed(self) -> None:
        self.query_one("#save", Button).disabled = False

    @on(Input.Changed, "#source-path")
    def _edited(self) -> None:
        self.query_one("#source-problem", Static).update("")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.may_close():
            self.dismiss(False)
