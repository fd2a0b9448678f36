"""The Audit screen: every secret of every function with its flags, sortable, filterable, exportable
to CSV or JSON. Loaded in a worker with progress shown; never a value.

At 80 columns the table shows Function, Name and Flags; the pane under it shows the highlighted
row's every field, labelled by the names `s` sorts by, so nothing needs sideways scrolling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, ProgressBar, Static

from faas_tui.core.errors import FaasError
from faas_tui.tui.formatting import plural, utc
from faas_tui.tui.messages import AuditLoaded, WorkFailed
from faas_tui.tui.screens.base import VaultScreen
from faas_tui.tui.widgets.big_table import DISPLAY_LIMIT, BigTable
from faas_tui.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from faas_tui.core.records import AuditRow

DEBOUNCE_ROWS = 2000  # above this many rows, filtering waits for a pause in typing
DEBOUNCE_S = 0.15


def _day(moment: datetime | None) -> str:
    return utc(moment).strftime("%Y-%m-%d") if moment else "—"


def _number(value: int | None) -> str:
    return "—" if value is None else str(value)


def _age(days: int | None) -> str:
    return "—" if days is None else plural(days, "day")


# (label, key, text, sort key) for every field, in the order the detail pane shows them; `s`
# sorts by each in turn and the status line names it with the same label.
COLUMNS: list[tuple[str, str, Callable[[AuditRow], str], Callable[[AuditRow], Any]]] = [
    ("Function", "function", lambda r: r.function, lambda r: r.function),
    ("Name", "name", lambda r: r.name, lambda r: r.name),
    ("Flags", "flags", lambda r: " ".join(r.flags), lambda r: " ".join(r.flags)),
    ("Kind", "kind", lambda r: f"{r.kind}", lambda r: f"{r.kind}"),
    ("Format", "format", lambda r: r.format.label if r.format else "—", lambda r: r.format or ""),
    ("Version", "version", lambda r: _number(r.version), lambda r: r.version or 0),
    (
        "Deployed version",
        "deployed",
        lambda r: _number(r.deployed_version),
        lambda r: r.deployed_version or 0,
    ),
    ("Age", "age", lambda r: _age(r.age_days), lambda r: r.age_days or 0),
    ("Updated", "updated", lambda r: _day(r.updated_at), lambda r: _day(r.updated_at)),
    ("Created", "created", lambda r: _day(r.created_at), lambda r: _day(r.created_at)),
]
TABLE_COLUMNS = 3  # the table shows Function, Name and Flags; the detail pane shows them all


def audit_cells(row: AuditRow) -> tuple[str, ...]:
    """The table's cells for one row."""
    return tuple(cell(row) for _, _, cell, _ in COLUMNS[:TABLE_COLUMNS])


def audit_detail(row: AuditRow) -> Text:
    """Every field of one row, each labelled: the full name, then one labelled value per field."""
    text = Text()
    text.append(row.name, style="bold")
    text.append(f"  in {row.function}\n")
    for index, (label, _, cell, _) in enumerate(COLUMNS[2:]):
        if index:
            text.append(" · ")
        text.append(f"{label} ", style="dim")
        text.append(cell(row) or "none")
    return text


class AuditScreen(VaultScreen):
    """The audit table; `/` filters as you type, `s` or a header click sorts, `e` exports."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="audit.filter"),
        Binding("s", "sort", "Sort", id="audit.sort", tooltip="Sort by the next column"),
        Binding("S", "reverse", "Reverse", show=False, id="audit.reverse"),
        Binding("e", "export", "Export", id="audit.export", tooltip="CSV or JSON, never values"),
        Binding("r", "reload", "Reload", show=False, id="audit.reload"),
        Binding("escape", "back", "Back", id="audit.back"),
    ]

    def __init__(self, stale_days: int = 90) -> None:
        super().__init__()
        self.stale_days = stale_days
        self.rows: list[AuditRow] = []
        self._cells: list[tuple[str, ...]] = []
        self._haystacks: list[str] = []
        self.shown: list[int] = []
        self.sort_column = 0
        self.sort_reverse = False
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder="Filter: function, name, kind or flag  ( / )",
            id="audit-filter",
            compact=True,
        )
        yield Static("Scanning the store…", id="audit-status", markup=False)
        yield ProgressBar(id="audit-progress", show_eta=False)
        table = BigTable(id="audit")
        for label, key, _, _ in COLUMNS[:TABLE_COLUMNS]:
            table.add_column(label, key=key)
        yield table
        yield Static("", id="audit-detail", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "Audit"
        self.query_one("#audit", BigTable).focus()
        self.action_reload()

    # --- loading -----------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.query_one("#audit-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#audit-progress").display = True
        self.query_one("#audit-status", Static).update("Scanning the store…")
        self._load()

    @work(thread=True, exclusive=True, group="audit", exit_on_error=False)
    def _load(self) -> None:
        try:
            rows = self.vault.audit(self.stale_days)
        except FaasError as error:
            self.post_message(WorkFailed(error))
            return
        cells = [audit_cells(row) for row in rows]
        haystacks = [
            " ".join((*row_cells, f"{row.kind}")).lower()
            for row, row_cells in zip(rows, cells, strict=True)
        ]
        self.post_message(AuditLoaded(rows, cells, haystacks))

    def on_audit_loaded(self, message: AuditLoaded) -> None:
        self.rows = message.rows
        self._cells = message.cells
        self._haystacks = message.haystacks
        self._refill()

    def on_work_failed(self, message: WorkFailed) -> None:
        self.query_one("#audit-progress").display = False
        self.query_one("#audit-status", Static).update("The audit failed.")
        self.faas.report(message.error)

    @on(BigTable.Progress, "#audit")
    def _progress(self, message: BigTable.Progress) -> None:
        self.query_one("#audit-progress", ProgressBar).update(
            total=message.total, progress=message.done
        )
        self.query_one("#audit-status", Static).update(
            f"Showing rows: {message.done:,} of {message.total:,}…"
        )

    @on(BigTable.Filled, "#audit")
    def _filled(self) -> None:
        self.query_one("#audit-progress").display = False
        self._status()
        self._show_detail()

    @on(DataTable.RowHighlighted, "#audit")
    def _show_detail(self) -> None:
        """Show every field of the highlighted row under the table."""
        table = self.query_one("#audit", BigTable)
        row = table.cursor_row
        shown = self.shown[:DISPLAY_LIMIT]
        detail = self.query_one("#audit-detail", Static)
        if table.row_count and 0 <= row < len(shown):
            detail.update(audit_detail(self.rows[shown[row]]))
        else:
            detail.update("No row to show: clear the filter (escape in the filter field).")

    # --- filtering and sorting ---------------------------------------------------------------

    @on(Input.Changed, "#audit-filter")
    def _filter_changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        if len(self.rows) > DEBOUNCE_ROWS:
            self._debounce = self.set_timer(DEBOUNCE_S, self._refill)
        else:
            self._refill()

    def _refill(self) -> None:
        """Apply the filter and the sort to the loaded rows and show the result."""
        self._debounce = None
        words = self.query_one("#audit-filter", Input).value.lower().split()
        indexes = [
            i for i, text in enumerate(self._haystacks) if all(word in text for word in words)
        ]
        _, _, _, sort_key = COLUMNS[self.sort_column]
        indexes.sort(key=lambda i: sort_key(self.rows[i]), reverse=self.sort_reverse)
        self.shown = indexes
        shown = indexes[:DISPLAY_LIMIT]  # the export still writes every matching row
        self.query_one("#audit", BigTable).replace_rows([self._cells[i] for i in shown])
        self._status()
        self._show_detail()

    def _status(self) -> None:
        label = COLUMNS[self.sort_column][0]
        order = "descending" if self.sort_reverse else "ascending"
        total = len(self.rows)
        shown = len(self.shown)
        counts = plural(total, "row") if shown == total else f"{shown:,} of {total:,} rows"
        if shown > DISPLAY_LIMIT:
            counts += f" (the first {DISPLAY_LIMIT:,} listed: filter to narrow)"
        flagged = sum(1 for row in self.rows if row.flags)
        self.query_one("#audit-status", Static).update(
            f"{counts} · {flagged:,} flagged · sorted by {label} ({order}) · "
            f"stale after {self.stale_days} days"
        )

    @on(DataTable.HeaderSelected, "#audit")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        index = next(i for i, column in enumerate(COLUMNS) if column[1] == event.column_key.value)
        self.sort_reverse = not self.sort_reverse if index == self.sort_column else False
        self.sort_column = index
        self._refill()

    def action_sort(self) -> None:
        self.sort_column = (self.sort_column + 1) % len(COLUMNS)
        self.sort_reverse = False
        self._refill()

    def action_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._refill()

    def action_filter(self) -> None:
        self.query_one("#audit-filter", Input).focus()

    @on(Input.Submitted, "#audit-filter")
    def _filter_submitted(self) -> None:
        self.query_one("#audit", BigTable).focus()

    def action_back(self) -> None:
        field = self.query_one("#audit-filter", Input)
        if field.has_focus:
            field.value = ""
            self.query_one("#audit", BigTable).focus()
            return
        self.app.pop_screen()

    # --- export ------------------------------------------------------------------------------

    def action_export(self) -> None:
        from faas_tui.tui.modals.export_audit import ExportModal

        if not self.rows:
            self.notify("Nothing to export yet.")
            return
        rows = [self.rows[i] for i in self.shown]
        self.app.push_screen(
            ExportModal(len(rows), lambda path, fmt: self._write(path, fmt, rows)), self._exported
        )

    @staticmethod
    def _write(path: str, fmt: str, rows: list[AuditRow]) -> Path:
        """Runs in the export modal's worker thread; raises FaasError with a one-line reason."""
        from faas_tui.tui.export import write_audit

        return write_audit(path, rows, fmt)

    def _exported(self, written: tuple[Path, str] | None) -> None:
        if written is None:
            return
        target, fmt = written
        self.notify(
            f"Exported {plural(len(self.shown), 'row')} to {target} ({fmt.upper()}, no values).",
            title="Exported",
        )
