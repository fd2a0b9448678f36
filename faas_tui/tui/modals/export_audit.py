"""Ask where to export the audit rows shown, and as CSV or JSON (metadata only, never values)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, RadioButton, RadioSet, Static

from faas_tui.tui.export import format_for
from faas_tui.tui.formatting import plural
from faas_tui.tui.ordering import after_typing


class ExportModal(ModalScreen["tuple[str, str] | None"]):
    """Returns (path, "csv" or "json"), or None on cancel. The format follows the file name."""

    BINDINGS = [
        Binding("ctrl+s", "export", "Export", priority=True, id="export.save"),
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
    ]
    AUTO_FOCUS = "#export-path"

    def __init__(self, rows: int, default_path: str = "audit.csv") -> None:
        super().__init__()
        self.rows = rows
        self.default_path = default_path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="export-dialog"):
            yield Static("Export the audit", classes="dialog-title")
            yield Static(
                f"Writes the {plural(self.rows, 'row')} shown (filter and sort included): names, "
                "kinds, formats, versions, dates and flags. Never a value.",
                classes="dialog-subtitle",
                markup=False,
            )
            yield Label("File")
            yield Input(self.default_path, id="export-path", compact=True)
            with Horizontal(id="export-format-row"):
                yield Label("Format ")
                with RadioSet(id="export-format"):
                    yield RadioButton("CSV", value=True, id="export-csv")
                    yield RadioButton("JSON", id="export-json")
            yield Static("", id="export-problem", classes="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Export", id="export", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer(compact=True)

    @on(Input.Changed, "#export-path")
    def _path_changed(self, event: Input.Changed) -> None:
        wanted = "#export-json" if format_for(event.value) == "json" else "#export-csv"
        self.query_one(wanted, RadioButton).value = True

    def action_export(self) -> None:
        after_typing(self, self.export)

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export")
    def export(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.query_one("#export-problem", Static).update("Type a file name.")
            return
        fmt = "json" if self.query_one("#export-json", RadioButton).value else "csv"
        self.dismiss((path, fmt))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
