"""The system secrets of one function: read-only names, descriptions and scopes, never values."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from faas_tui.tui.screens.base import VaultScreen
from faas_tui.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from faas_tui.core.records import SecretInfo

DESCRIPTION_WIDTH = 36
WARNING = (
    "System secrets are created with every function for talking to internal services. They are "
    "read-only here. Avoid them in function code: their permissions and scopes may change "
    "without notice."
)


class SystemSecretsScreen(VaultScreen):
    """A read-only table of the function's system secrets, under a warning."""

    BINDINGS = [Binding("escape", "back", "Back", id="system.back")]

    def __init__(self, function: str) -> None:
        super().__init__()
        self.function = function

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"System secrets of {self.function}", id="system-title", markup=False)
        yield Static(WARNING, id="system-warning", markup=False)
        table: DataTable[str] = DataTable(id="system-secrets", cursor_type="row")
        table.add_column("Name", key="name")
        table.add_column("Description", key="description")
        table.add_column("Scopes", key="scopes")
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = f"System secrets · {self.function}"
        self.query_one(DataTable).focus()
        self.run_store(self.vault.list_system_secrets, self.function, then=self._show)

    def reopen(self) -> Callable[[], object] | None:
        function = self.function
        return lambda: self.faas.push_screen(SystemSecretsScreen(function))

    def _show(self, secrets: list[SecretInfo]) -> None:
        table: DataTable[str] = self.query_one(DataTable)
        for info in secrets:  # one scope per line and a wrapped description: fits 80 columns
            table.add_row(
                info.name,
                "\n".join(textwrap.wrap(info.description, DESCRIPTION_WIDTH)),
                "\n".join(info.scopes),
                key=info.name,
                height=None,
            )

    def action_back(self) -> None:
        self.app.pop_screen()
