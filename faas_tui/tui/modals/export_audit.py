"""Ask where to export the audit rows shown, and as CSV or JSON (metadata only, never values).

The modal writes the file itself (off the UI thread) so a failure keeps it open with the typed
path; an existing file is replaced only after a second Export; the format and the file name's
extension follow each other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from faas_tui.core.errors import FaasError
from faas_tui.tui.export import format_for
from faas_tui.tui.formatting import plural
from faas_tui.tui.ordering import after_typing
from faas_tui.tui.screens.base import Dialog
from faas_tui.tui.widgets.key_footer import KeyFooter

Writer = Callable[[str, str], Path]  # (path, "csv" or "json") -> the file written
SUFFIXES = {"csv": ".csv", "json": ".json"}


def with_format(path: str, fmt: str) -> str:
    """The path with its .csv/.json extension switched to `fmt`'s; other paths stay as typed."""
    stem, dot, suffix = path.rpartition(".")
    if dot and f".{suffix.lower()}" in SUFFIXES.values():
        return f"{stem}{SUFFIXES[fmt]}"
    return path


class ExportModal(Dialog["tuple[Path, str] | None"]):
    """Writes the rows with `write`; returns (the file written, its format), or None on cancel."""

    BINDINGS = [
        Binding("ctrl+s", "export", "Export", priority=True, id="export.save"),
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
    ]
    FIRST_FOCUS = "#export-path"

    def __init__(self, rows: int, write: Writer, default_path: str = "audit.csv") -> None:
        super().__init__()
        self.rows = rows
        self.write = write
        self.default_path = default_path
        # the (path, format) the user agreed to replace by pressing Export a second time
        self._replace: tuple[str, str] | None = None

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
                    json_path = format_for(self.default_path) == "json"
                    yield RadioButton("CSV", value=not json_path, id="export-csv")
                    yield RadioButton("JSON", value=json_path, id="export-json")
            yield Static("", id="export-problem", classes="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Export", id="export", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyFooter()

    @property
    def fmt(self) -> str:
        return "json" if self.query_one("#export-json", RadioButton).value else "csv"

    def _say(self, text: str) -> None:
        self.query_one("#export-problem", Static).update(text)

    def _forget_replace(self) -> None:
        self._replace = None
        self.query_one("#export", Button).label = "Export"
        self._say("")

    @on(Input.Changed, "#export-path")
    def _path_changed(self, event: Input.Changed) -> None:
        wanted = "#export-json" if format_for(event.value) == "json" else "#export-csv"
        self.query_one(wanted, RadioButton).value = True
        self._forget_replace()

    @on(RadioSet.Changed, "#export-format")
    def _format_changed(self) -> None:
        field = self.query_one("#export-path", Input)
        renamed = with_format(field.value, self.fmt)
        if renamed != field.value:
            field.value = renamed
        self._forget_replace()

    def action_export(self) -> None:
        after_typing(self, self.export)

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export")
    def export(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self._say("Type a file name.")
            return
        fmt = self.fmt
        target = Path(path).expanduser()
        if target.is_file() and self._replace != (path, fmt):
            self._replace = (path, fmt)
            self.query_one("#export", Button).label = "Replace"
            self._say(f"{target.name} already exists: press Export again to replace it.")
            return
        self._say("Writing…")
        self._write(path, fmt)

    @work(thread=True, exclusive=True, group="export-write", exit_on_error=False)
    def _write(self, path: str, fmt: str) -> None:
        try:
            target = self.write(path, fmt)
        except FaasError as error:
            self.app.call_from_thread(self._failed, error)
            return
        self.app.call_from_thread(self.dismiss, (target, fmt))

    def _failed(self, error: FaasError) -> None:
        """Keep the modal open with the typed path, say why, and let the user fix it."""
        message = str(error).strip().splitlines()[0]
        self._forget_replace()
        self._say(message)
        self.notify(message, title="Export failed", severity="error")
        self.query_one("#export-path", Input).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
