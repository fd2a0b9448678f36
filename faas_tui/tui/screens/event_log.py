"""The event log: who did what to which function and name, and when; each row hash-chained.

The table leaves the hash out so names fit at 80 columns; the pane under it shows the highlighted
event's every field, labelled, with the full name and hash.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Input, Static

from faas_tui.core.errors import FaasError
from faas_tui.core.records import EventInfo
from faas_tui.tui.formatting import plural, when
from faas_tui.tui.messages import EventsLoaded, WorkFailed
from faas_tui.tui.screens.base import VaultScreen
from faas_tui.tui.widgets.big_table import DISPLAY_LIMIT, BigTable
from faas_tui.tui.widgets.key_footer import KeyFooter

COLUMNS = ("Seq", "At", "Actor", "Action", "Function", "Name")
# Short headers where the cells are short, so a name of 21 characters fits at 80 columns.
HEADERS = {"Seq": "#", "At": "At (UTC)", "Actor": "By"}


def event_cells(event: EventInfo) -> tuple[str, ...]:
    """The table's cells: times without the " UTC" the header already says."""
    return (
        str(event.seq),
        when(event.at).removesuffix(" UTC"),
        event.actor,
        event.action,
        event.function or "—",
        event.name or "—",
    )


def event_detail(event: EventInfo) -> Text:
    """Every field of one event, each labelled, the name and hash in full."""
    text = Text()
    fields = (
        ("Seq", str(event.seq)),
        ("At", when(event.at)),
        ("Actor", event.actor),
        ("Action", event.action),
        ("Function", event.function or "—"),
        ("Name", event.name or "—"),
        ("Hash", event.hash),
    )
    for index, (label, value) in enumerate(fields):
        if index:
            text.append(" · ")
        text.append(f"{label} ", style="dim")
        text.append(value, style="bold" if label == "Name" else "")
    return text


class EventLogScreen(VaultScreen):
    """Every event, newest first; `v` recomputes the hash chain."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="log.filter"),
        Binding("v", "verify", "Verify chain", id="log.verify"),
        Binding("r", "reload", "Reload", show=False, id="log.reload"),
        Binding("escape", "back", "Back", id="log.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.events: list[EventInfo] = []
        self._cells: list[tuple[str, ...]] = []
        self._haystacks: list[str] = []
        self.shown: list[int] = []  # indexes into `events` of the rows listed

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder="Filter: actor, action, function or name  ( / )",
            id="log-filter",
            compact=True,
        )
        yield Static("Reading the event log…", id="log-status", markup=False)
        table = BigTable(id="log")
        for label in COLUMNS:
            table.add_column(HEADERS.get(label, label), key=label.lower())
        yield table
        yield Static("", id="log-detail", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "Event log"
        self.query_one("#log", BigTable).focus()
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="log", exit_on_error=False)
    def _load(self) -> None:
        try:
            self.post_message(EventsLoaded(self.vault.events()))
        except FaasError as error:
            self.post_message(WorkFailed(error))

    def on_events_loaded(self, message: EventsLoaded) -> None:
        self.events = list(reversed(message.events))
        self._cells = [event_cells(event) for event in self.events]
        self._haystacks = [" ".join(cells[2:6]).lower() for cells in self._cells]
        self._refill()

    def on_work_failed(self, message: WorkFailed) -> None:
        self.faas.report(message.error)

    @on(Input.Changed, "#log-filter")
    def _refill(self) -> None:
        words = self.query_one("#log-filter", Input).value.lower().split()
        self.shown = [
            i for i, text in enumerate(self._haystacks) if all(word in text for word in words)
        ]
        cells = [self._cells[i] for i in self.shown]
        self.query_one("#log", BigTable).replace_rows(cells[:DISPLAY_LIMIT])
        self._show_detail()
        shown = f"{len(cells):,} of " if len(cells) != len(self.events) else ""
        hidden = (
            f" (the newest {DISPLAY_LIMIT:,} listed: filter to narrow)"
            if len(cells) > DISPLAY_LIMIT
            else ""
        )
        self.query_one("#log-status", Static).update(
            f"{shown}{plural(len(self.events), 'event')}, newest first{hidden} · "
            "press v to verify the hash chain"
        )

    @on(DataTable.RowHighlighted, "#log")
    def _show_detail(self) -> None:
        """Show every field of the highlighted event under the table."""
        table = self.query_one("#log", BigTable)
        row = table.cursor_row
        detail = self.query_one("#log-detail", Static)
        if table.row_count and 0 <= row < min(len(self.shown), DISPLAY_LIMIT):
            detail.update(event_detail(self.events[self.shown[row]]))
        else:
            detail.update("No event to show: clear the filter (escape in the filter field).")

    def action_filter(self) -> None:
        self.query_one("#log-filter", Input).focus()

    @on(Input.Submitted, "#log-filter")
    def _filter_submitted(self) -> None:
        self.query_one("#log", BigTable).focus()

    def action_verify(self) -> None:
        self._verify()

    @work(thread=True, exclusive=True, group="log-verify", exit_on_error=False)
    def _verify(self) -> None:
        try:
            count = self.vault.verify_log()
        except FaasError as error:
            self.app.call_from_thread(self.faas.report, error, title="Event log broken")
            return
        self.app.call_from_thread(
            self.notify,
            f"The hash chain of all {plural(count, 'event')} is intact.",
            title="Event log verified",
        )

    def action_back(self) -> None:
        field = self.query_one("#log-filter", Input)
        if field.has_focus:
            field.value = ""
            self.query_one("#log", BigTable).focus()
            return
        self.app.pop_screen()
