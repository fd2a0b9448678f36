"""The `?` modal: the keys of the screen it was opened on, as the footer and palette know them."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

GLOBAL_NOTE = "ctrl+p opens the command palette: every action above is there by name."


class HelpModal(ModalScreen[None]):
    """Lists (key, action) rows; disabled actions (read-only mode) are marked."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("question_mark", "close", "Close", show=False, id="help.close_again"),
    ]

    def __init__(self, rows: list[tuple[str, str, bool]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-dialog"):
            yield Static("Keys on this screen", classes="dialog-title")
            table: DataTable[str | Text] = DataTable(id="help-keys", cursor_type="row")
            table.add_column("Key", key="key")
            table.add_column("Action", key="action")
            for key, description, enabled in self.rows:
                label = description if enabled else f"{description} (disabled: read-only)"
                table.add_row(Text(key, style="bold"), Text(label, style="" if enabled else "dim"))
            yield table
            yield Static(GLOBAL_NOTE, classes="hint", markup=False)
            yield Button("Close", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#help-keys", DataTable).focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
