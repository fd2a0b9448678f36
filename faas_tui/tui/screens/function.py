"""One function: tabs Overview (deploy state, pending changes, usage) and Settings (the Secrets section).

The secret table shows names and metadata only; a value is never read here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (
    Button,
    DataTable,
    Header,
    Static,
    TabbedContent,
    TabPane,
)

from faas_tui.core.permissions import Action
from faas_tui.tui.formatting import plural, usage_snippet, utc, when
from faas_tui.tui.messages import VaultChanged
from faas_tui.tui.screens.base import VaultScreen, refusals
from faas_tui.tui.widgets.fast_table import FastTable
from faas_tui.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from faas_tui.core.records import FunctionInfo, ImportPlan, SecretInfo

SECRETS_HELP = (
    "Encrypted, bound to the function when you deploy it; a value is shown only while you "
    "type it. See also the [@click=screen.system_secrets]system secrets[/] (read-only)."
)


BUTTON_NEEDS = {
    "#add-secret": Action.WRITE,
    "#import": Action.WRITE,
    "#deploy": Action.DEPLOY,
    "#set-source": Action.WRITE,
}


class FunctionScreen(VaultScreen):
    """Overview and Settings of one function; opens on Settings with the secret list focused."""

    BINDINGS = [
        Binding("n", "add_secret", "Add", id="function.add", tooltip="Add a secret"),
        Binding("u", "update_secret", "Update", id="function.update", tooltip="Update a value"),
        Binding("d", "delete_secret", "Delete", id="function.delete", tooltip="Delete a secret"),
        Binding(
            "delete",
            "delete_secret",
            "Delete",
            show=False,
            id="function.delete_key",
            tooltip="Delete a secret",
        ),
        Binding("s", "system_secrets", "System", id="function.system", tooltip="System secrets"),
        Binding("D", "deploy", "Deploy", id="function.deploy", tooltip="Deploy the function"),
        Binding(  # not in the footer, so that Lock still fits at 80 columns
            "c",
            "copy_snippet",
            "Copy",
            show=False,
            id="function.copy",
            tooltip="Copy the usage snippet",
        ),
        Binding(
            "i",
            "import_secrets",
            "Import",
            show=False,
            id="function.import",
            tooltip="Import secrets from a .env or JSON file",
        ),
        Binding(
            "f",
            "source_folder",
            "Source folder",
            show=False,
            id="function.source",
            tooltip="Set the source folder the audit scans",
        ),
        Binding("1", "show_tab('overview')", "Overview", show=False, id="function.overview"),
        Binding("2", "show_tab('settings')", "Settings", show=False, id="function.settings"),
        Binding("escape", "back", "Back", id="function.back"),
        *refusals(n="add_secret", u="update_secret", d="delete_secret", delete="delete_secret"),
        *refusals(D="deploy", i="import_secrets", f="source_folder"),
    ]
    NEEDS: ClassVar[dict[str, Action]] = {
        "add_secret": Action.WRITE,
        "update_secret": Action.WRITE,
        "delete_secret": Action.WRITE,
        "deploy": Action.DEPLOY,
        "import_secrets": Action.WRITE,
        "source_folder": Action.WRITE,
    }

    def __init__(self) -> None:
        super().__init__()
        self.function = ""
        self.info: FunctionInfo | None = None
        self.secrets: list[SecretInfo] = []

    def show(self, function: str, info: FunctionInfo | None = None) -> None:
        """Point the screen at a function. The app keeps one instance and reuses it for every
        function, so opening one only replaces the data instead of building the widget tree."""
        self.function = function
        self.info = info
        self.secrets = []
        if self.is_mounted:
            self._load()

    def reopen(self) -> Callable[[], object] | None:
        function = self.function
        return lambda: self.faas.open_function(function)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="fn-title", markup=False)
        yield Static("", id="fn-summary", markup=False)
        with TabbedContent(initial="settings", id="fn-tabs"):
            with TabPane("Overview", id="overview"), VerticalScroll(id="overview-body"):
                yield Static("Deployment", classes="section-title")
                yield Static("", id="deploy-state", markup=False)
                yield Static("Pending changes", classes="section-title")
                yield Static("", id="pending", markup=False)
                yield Static("Usage", classes="section-title")
                yield Static("", id="usage", markup=False)
                yield Static("Source folder", classes="section-title")
                yield Static("", id="source", markup=False)
                yield Button("Set source folder", id="set-source", compact=True)
            with TabPane("Settings", id="settings"):
                yield Static("Secrets", classes="section-title")
                yield Static(SECRETS_HELP, id="secrets-help")
                with Horizontal(id="secret-buttons"):
                    yield Button("Add a secret", id="add-secret", variant="primary", compact=True)
                    yield Button("Import…", id="import", compact=True)
                    yield Button("Deploy", id="deploy", compact=True)
                table = FastTable(id="secrets")
                table.add_column("Name", key="name")
                table.add_column("Format", key="format")
                table.add_column("Version", key="version")
                table.add_column("Updated", key="updated")
                table.add_column("Pending", key="pending")
                yield table
        yield KeyFooter()

    @property
    def scope(self) -> str | None:
        return self.function or None

    def on_mount(self) -> None:
        self._load()

    def _load(self) -> None:
        self.sub_title = f"Function {self.function}" + (" · read-only" if self.read_only else "")
        for selector, needed in BUTTON_NEEDS.items():  # what the credential may not do, greyed
            self.query_one(selector, Button).disabled = not self.may(needed)
        self.query_one("#fn-title", Static).update(self.function)
        self.query_one("#fn-summary", Static).update("")
        self.query_one("#fn-tabs", TabbedContent).active = "settings"
        table = self.query_one("#secrets", FastTable)
        table.clear()  # the previous function's rows: the cursor starts at the top
        self.set_focus(table)
        self.refresh_secrets()
        if self.info is None:
            self.refresh_function()
        else:
            self._show_function()

    # --- loading -----------------------------------------------------------------------------

    def refresh_secrets(self, select: str | None = None) -> None:
        """Re-read the secret list (names and metadata, never a value)."""
        keep = select or self.selected
        self.run_store(
            self.vault.list_secrets,
            self.function,
            then=partial(self._show_secrets, self.function, keep),
        )

    def _show_secrets(self, function: str, keep: str | None, secrets: list[SecretInfo]) -> None:
        if function != self.function:
            return  # an answer for the function shown before
        self.secrets = secrets
        table = self.query_one("#secrets", FastTable)
        table.set_rows(
            [
                (
                    info.name,
                    info.format.label,
                    f"v{info.version}",
                    when(info.updated_at),
                    "pending" if info.pending_redeploy else "deployed",
                )
                for info in self.secrets
            ],
            [info.name for info in self.secrets],
        )
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._show_overview()

    def refresh_function(self) -> None:
        """Re-read the deploy state (pending count, last deployment)."""
        self.run_store(self.vault.get_function, self.function, then=self._function_loaded)

    def _function_loaded(self, info: FunctionInfo) -> None:
        if info.name != self.function:
            return  # an answer for the function shown before
        self.info = info
        self._show_function()

    def _changed(self, select: str | None = None) -> None:
        self.post_message(VaultChanged(self.function))
        self.refresh_secrets(select)
        self.refresh_function()

    # --- showing -----------------------------------------------------------------------------

    @property
    def selected(self) -> str | None:
        table: DataTable[str] = self.query_one("#secrets", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _show_function(self) -> None:
        info = self.info
        if info is None:
            return
        if info.deployed is None:
            summary = "Never deployed"
            state = "Never deployed. Press D to bind the current secrets to a deployment."
        else:
            summary = f"Deployment #{info.deployed}"
            state = f"Deployment #{info.deployed}, made {when(info.deployed_at)}."
        if info.pending:
            summary += f" · {plural(info.pending, 'change')} pending redeploy"
        self.query_one("#fn-summary", Static).update(
            f"{summary} · {plural(info.secrets, 'secret')}"
        )
        self.query_one("#deploy-state", Static).update(state)
        source = info.source_dir or (
            "Not set. The audit scans this folder for the names your code reads (press f)."
        )
        self.query_one("#source", Static).update(source)
        self._show_overview()

    def _show_overview(self) -> None:
        pending = [info for info in self.secrets if info.pending_redeploy]
        lines: list[str] = []
        now = utc(self.faas.clock())
        for info in pending:
            until = info.cached_until()
            line = f"{info.name}: changed {when(info.updated_at)}"
            if until is not None and utc(until) > now:
                line += f"; cached readers may see the old value until {when(until)}"
            elif until is not None:
                line += f"; cached readers saw the new value from {when(until)}"
            lines.append(line)
        deleted = (self.info.pending if self.info else 0) - len(pending)
        if deleted > 0:
            lines.append(f"{plural(deleted, 'deleted secret')} still bound by the deployment")
        if lines:
            lines.append("Press D to redeploy; until then the deployment keeps its bound values.")
        else:
            lines.append("None: the deployment binds the current value of every secret.")
        self.query_one("#pending", Static).update("\n".join(lines))
        name = self.selected or "NAME"
        self.query_one("#usage", Static).update(
            "from faas_tui.toolbelt import SecretClient, bound_env\n\n"
            + usage_snippet(self.function, name)
            + "\n\nPress c to copy it for the selected secret."
        )

    @on(DataTable.RowHighlighted, "#secrets")
    def _highlighted(self) -> None:
        self._show_overview()

    # --- actions -----------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#fn-tabs", TabbedContent).active = tab
        if tab == "settings":
            self.set_focus(self.query_one("#secrets", DataTable))

    def action_system_secrets(self) -> None:
        from faas_tui.tui.screens.system_secrets import SystemSecretsScreen

        self.app.push_screen(SystemSecretsScreen(self.function))

    def action_copy_snippet(self) -> None:
        name = self.selected
        if name is None:
            self.notify("No secret selected: add one with n.")
            return
        self.faas.copy(usage_snippet(self.function, name), what=f"the usage snippet for {name}")

    @on(Button.Pressed, "#add-secret")
    def action_add_secret(self) -> None:
        from faas_tui.tui.modals.add_secret import AddSecretModal

        vault, function = self.vault, self.function
        modal = AddSecretModal(
            function,
            create=partial(vault.add_secret, function),
            taken=lambda: [s.name for s in vault.list_secrets(function, include_system=True)],
        )
        self.app.push_screen(modal, self._secret_saved)

    def action_update_secret(self) -> None:
        name = self.selected
        if name is None:
            self.notify("No secret selected: add one with n.")
            return
        from faas_tui.tui.modals.update_secret import UpdateSecretModal

        current = next(info for info in self.secrets if info.name == name)
        update = partial(self.vault.update_secret, self.function, name)
        self.app.push_screen(
            UpdateSecretModal(self.function, name, current.format, update=update),
            self._secret_saved,
        )

    def _secret_saved(self, saved: SecretInfo | None) -> None:
        if saved is None:
            return
        self._changed(saved.name)
        self.notify(
            f"Saved {saved.name} (v{saved.version}). It is pending redeploy: press D to deploy.",
            title="Saved",
        )

    def action_delete_secret(self) -> None:
        name = self.selected
        if name is None:
            self.notify("No secret selected.")
            return
        self.run_store(
            self.vault.deployments_binding,
            self.function,
            name,
            then=partial(self._confirm_delete, name),
        )

    def _confirm_delete(self, name: str, bound: list[int]) -> None:
        from faas_tui.tui.modals.confirm_delete import ConfirmDeleteModal

        if bound:
            numbers = ", ".join(f"#{n}" for n in bound)
            which = (
                f"Deployment {numbers} still binds"
                if len(bound) == 1
                else (f"Deployments {numbers} still bind")
            )
            details = [
                f"{which} {name}: the function fails on its next invocation until you "
                "update its code and redeploy."
            ]
        else:
            details = [f"No deployment binds {name}."]
        self.app.push_screen(
            ConfirmDeleteModal("secret", name, details), lambda ok: self._delete(name, ok)
        )

    def _delete(self, name: str, confirmed: bool | None) -> None:
        if confirmed:
            self.run_store(
                self.vault.delete_secret,
                self.function,
                name,
                then=partial(self._deleted, name),
                write=True,
            )

    def _deleted(self, name: str, broken: list[int]) -> None:
        self._changed()
        if broken:
            numbers = ", ".join(f"#{n}" for n in broken)
            self.notify(
                f"Deleted {name}. Deployment {numbers} fails until you redeploy (press D).",
                title="Deleted",
                severity="warning",
            )
        else:
            self.notify(f"Deleted {name}.", title="Deleted")

    @on(Button.Pressed, "#deploy")
    def action_deploy(self) -> None:
        self.run_store(self.vault.deploy, self.function, then=self._deployed, write=True)

    def _deployed(self, number: int) -> None:
        self._changed()
        self.notify(
            f"Deployed {self.function}: deployment #{number} binds the current secrets.",
            title="Deployed",
        )

    @on(Button.Pressed, "#import")
    def action_import_secrets(self) -> None:
        from faas_tui.tui.modals.import_secrets import ImportModal

        modal = ImportModal(
            self.function, import_secrets=partial(self.vault.import_secrets, self.function)
        )
        self.app.push_screen(modal, self._imported)

    def _imported(self, plan: ImportPlan | None) -> None:
        if plan is None:
            return
        self._changed()
        self.notify(
            f"Imported into {self.function}: {len(plan.added)} added, "
            f"{len(plan.replaced)} replaced, {len(plan.unchanged)} unchanged.",
            title="Imported",
        )

    @on(Button.Pressed, "#set-source")
    def action_source_folder(self) -> None:
        from faas_tui.tui.modals.source_folder import SourceFolderModal

        current = self.info.source_dir if self.info else None
        save = partial(self.vault.set_source_dir, self.function)
        self.app.push_screen(
            SourceFolderModal(self.function, current, save=save), self._source_saved
        )

    def _source_saved(self, saved: bool | None) -> None:
        if saved:
            self.post_message(VaultChanged(self.function))
            self.refresh_function()
            self.notify("Source folder saved; the audit scans it for names your code reads.")
