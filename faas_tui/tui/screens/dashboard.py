"""The functions dashboard: every function with its secret count, last deploy and pending changes."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Input, Static

from faas_tui.core.permissions import Action
from faas_tui.tui.formatting import last_deploy, plural
from faas_tui.tui.messages import VaultChanged
from faas_tui.tui.ordering import after_typing
from faas_tui.tui.screens.base import VaultScreen, refusals
from faas_tui.tui.widgets.fast_table import FastTable
from faas_tui.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from faas_tui.core.records import FunctionInfo

Row = tuple[str, str, str, str]


def function_row(info: FunctionInfo) -> Row:
    """Plain, pre-padded strings: cheap to build for thousands of functions."""
    return (info.name, f"{info.secrets:>7}", last_deploy(info), f"{info.pending:>7}")


class DashboardScreen(VaultScreen):
    """The function list with a filter box; `enter` opens the function under the cursor."""

    BINDINGS = [
        Binding("enter", "open", "Open", priority=True, id="dashboard.open"),
        Binding("n", "new_function", "New function", id="dashboard.new"),
        Binding("d", "delete_function", "Delete", id="dashboard.delete"),
        Binding("delete", "delete_function", "Delete", show=False, id="dashboard.delete_key"),
        Binding("slash", "filter", "Filter", id="dashboard.filter"),
        Binding("a", "audit", "Audit", id="dashboard.audit"),
        Binding("L", "log", "Log", id="dashboard.log", tooltip="Show the event log"),
        Binding("r", "reload", "Reload", show=False, id="dashboard.reload"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="dashboard.clear"),
        *refusals(n="new_function", d="delete_function", delete="delete_function"),
        *refusals(a="audit", L="log"),
    ]
    NEEDS: ClassVar[dict[str, Action]] = {
        "new_function": Action.WRITE,
        "delete_function": Action.WRITE,
        "audit": Action.AUDIT,
        "log": Action.LOG,
    }

    def __init__(self, functions: list[FunctionInfo] | None = None) -> None:
        super().__init__()
        self._functions: list[FunctionInfo] = []
        self._rows: list[Row] = []
        self._initial = functions
        self._seen = -1

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Filter functions  ( / )", id="filter")
        table = FastTable(id="functions")
        table.add_column("Name", key="name")
        table.add_column("Secrets", key="secrets")
        table.add_column("Last deploy", key="deployed")
        table.add_column("Pending", key="pending")
        yield table
        yield Static("Loading…", id="dash-status", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "Functions" + (" · read-only" if self.read_only else "")
        self.query_one("#functions", DataTable).focus()
        if self._initial is not None:
            self._show(self._initial)
            self._initial = None
        else:
            self.action_reload()

    def on_screen_resume(self) -> None:
        if self._seen not in (-1, self.faas.changes):
            self.action_reload()

    # --- loading and filtering ---------------------------------------------------------------

    def action_reload(self) -> None:
        self.run_store(self.vault.list_functions, then=self._show)

    def _show(self, functions: list[FunctionInfo]) -> None:
        self._seen = self.faas.changes
        self._functions = functions
        self._rows = [function_row(info) for info in functions]
        self._fill()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#functions", FastTable)
        keep = self.selected
        needle = self.query_one("#filter", Input).value.strip().lower()
        rows = [row for row in self._rows if needle in row[0]] if needle else self._rows
        table.set_rows(rows, [row[0] for row in rows])
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._status(len(rows))

    def _status(self, shown: int) -> None:
        total = len(self._functions)
        secrets = sum(info.secrets for info in self._functions)
        pending = sum(1 for info in self._functions if info.pending)
        parts = [plural(total, "function"), plural(secrets, "secret")]
        if pending:
            parts.append(f"{pending} with changes pending redeploy")
        if shown != total:
            parts.insert(0, f"showing {shown} of {total}")
        if not total:
            parts = [
                "No functions yet: press n to create one."
                if self.may(Action.WRITE)
                else "No functions yet (none can be created here with this credential)."
                if not self.read_only
                else "No functions yet (read-only: none can be created here)."
            ]
        self.query_one("#dash-status", Static).update(" · ".join(parts))

    @property
    def selected(self) -> str | None:
        """The function name under the cursor, or None when the table is empty."""
        table = self.query_one("#functions", FastTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    # --- actions -----------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.set_focus(self.query_one("#filter", Input))

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        if field.value:
            field.value = ""
        self.set_focus(self.query_one("#functions", DataTable))

    @on(DataTable.RowSelected, "#functions")
    def _row_selected(self) -> None:
        self.open_selected()

    def action_open(self) -> None:
        after_typing(self, self.open_selected)  # enter is a priority key: wait for the filter

    def open_selected(self) -> None:
        name = self.selected
        if name is None:
            self.notify("No function to open: press n to create one.")
            return
        info = next((f for f in self._functions if f.name == name), None)
        # back from the function, keys go to the list again, not into the filter
        self.set_focus(self.query_one("#functions", DataTable))
        self.faas.open_function(name, info)

    def action_new_function(self) -> None:
        from faas_tui.tui.modals.new_function import NewFunctionModal

        self.app.push_screen(NewFunctionModal(add=self.vault.add_function), self._function_created)

    def _function_created(self, name: str | None) -> None:
        if name is None:
            return
        self.post_message(VaultChanged(name))
        self.query_one("#filter", Input).value = ""
        self.notify(f"Created function {name}.")
        self.run_store(self.vault.list_functions, then=partial(self._show_and_select, name=name))

    def _show_and_select(self, functions: list[FunctionInfo], name: str) -> None:
        self._show(functions)
        table = self.query_one("#functions", FastTable)
        if name in table.rows:
            table.move_cursor(row=table.get_row_index(name), animate=False)

    def action_delete_function(self) -> None:
        name = self.selected
        if name is None:
            return
        from faas_tui.tui.modals.confirm_delete import ConfirmDeleteModal

        info = next((f for f in self._functions if f.name == name), None)
        details = [
            f"This deletes the function {name}, its {plural(info.secrets if info else 0, 'secret')}, "
            "its system secrets, every stored version of every value and its deployments."
        ]
        self.app.push_screen(
            ConfirmDeleteModal("function", name, details), lambda ok: self._delete(name, ok)
        )

    def _delete(self, name: str, confirmed: bool | None) -> None:
        if confirmed:
            self.run_store(
                self.vault.delete_function, name, then=lambda _: self._deleted(name), write=True
            )

    def _deleted(self, name: str) -> None:
        self.post_message(VaultChanged(name))
        self.notify(f"Deleted function {name}. This cannot be undone.")
        self.action_reload()

    def action_audit(self) -> None:
        from faas_tui.tui.screens.audit import AuditScreen

        self.app.push_screen(AuditScreen())

    def action_log(self) -> None:
        from faas_tui.tui.screens.event_log import EventLogScreen

        self.app.push_screen(EventLogScreen())
