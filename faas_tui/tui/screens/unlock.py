"""The unlock screen: the passphrase (twice on first run, to create the store) or a key file.

Key derivation (Argon2id) runs in a thread worker behind a visible indicator; the Vault module, and
with it SQLAlchemy, is imported only there, so this prompt appears as fast as a bare Textual app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, LoadingIndicator, Static
from textual.worker import Worker

from faas_tui.core.errors import FaasError, WrongKeyError
from faas_tui.store.location import sqlite_path
from faas_tui.tui.messages import Unlocked, UnlockFailed
from faas_tui.tui.ordering import after_typing

if TYPE_CHECKING:
    from faas_tui.tui.app import FaasApp

# The Vault's imports (SQLAlchemy, Argon2) start this long after the first frame was drawn, so the
# terminal has it on screen: a thread importing them holds the interpreter lock the writer needs.
WARM_UP_AFTER_S = 0.2


def store_label(store: str) -> str:
    """The store as the user knows it: a file path, or a server URL without its password."""
    path = sqlite_path(store) if "://" in store else None
    if path is not None:
        return str(path)
    if "://" not in store:
        return store
    scheme, _, rest = store.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        credentials = credentials.split(":", 1)[0] + ":***"
    return f"{scheme}://{credentials}{at}{host}"


def looks_new(store: str) -> bool | None:
    """Whether a SQLite store is still to be created (cheap, no SQLAlchemy); None if unknown."""
    path = sqlite_path(store) if "://" in store else None
    if path is None and "://" not in store:
        from pathlib import Path

        path = Path(store)
    if path is None:
        return None
    try:
        return not path.exists() or path.stat().st_size == 0
    except OSError:
        return None


class UnlockScreen(Screen[None]):
    """Asks for the passphrase and unlocks the store in a worker; says so when it is wrong."""

    BINDINGS = [
        # priority: the footer shows it even while a passphrase field has focus; the footer
        # says Create or Unlock, as the button does
        Binding("enter", "unlock", "Unlock", priority=True, id="unlock.submit"),
        Binding("enter", "create", "Create", priority=True, id="unlock.create"),
    ]
    # the passphrase is focused in on_mount without scrolling: Textual's auto focus centres it,
    # which scrolls a box taller than the terminal past its title
    AUTO_FOCUS = ""
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # a short terminal: a compact box

    def __init__(self, message: str = "", *, auto_unlock: bool = True) -> None:
        """`auto_unlock=False` after a lock: a key file must not undo the lock by itself."""
        super().__init__()
        self._initial_message = message
        self._auto_unlock = auto_unlock
        self.creating = False
        self.busy = False
        self.operators: list[str] | None = None  # the store's operators, once read

    @property
    def faas(self) -> FaasApp:
        return cast("FaasApp", self.app)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "unlock":
            return not self.creating
        if action == "create":
            return self.creating
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="unlock-box"):
            yield Static("Unlock the store", id="unlock-title")
            yield Static(f"Store: {store_label(self.faas.store)}", id="unlock-store", markup=False)
            yield Static("", id="unlock-intro", markup=False)
            yield Static("Operator", id="operator-label", classes="hint", markup=False)
            yield Input(placeholder="Operator name", id="operator")
            yield Input(placeholder="Passphrase", password=True, id="passphrase")
            yield Input(placeholder="The same passphrase again", password=True, id="confirm")
            yield Static(self._initial_message, id="unlock-message", markup=False)
            yield LoadingIndicator(id="unlock-busy")
            yield Button("Unlock", id="unlock-button", variant="primary")
            yield Static("", id="unlock-hint", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#passphrase", Input), scroll_visible=False)
        self._show_operator(False)
        self.query_one("#unlock-busy").display = False
        self._say(self._initial_message)
        # once the first frame is drawn, and a moment later: the first frame does not wait for it
        self.call_after_refresh(self.set_timer, WARM_UP_AFTER_S, self._warm_up)
        if self.faas.demo:
            from faas_tui.demo import DEMO_PASSPHRASE

            hint = self.query_one("#unlock-hint", Static)
            hint.update(f"Demo store: the passphrase is {DEMO_PASSPHRASE}")
            hint.display = True
        if self.faas.key_file:
            self._key_file_mode()
            return
        new = looks_new(self.faas.store)
        self._set_creating(bool(new))
        if new is None:
            self._check_exists()

    def _key_file_mode(self) -> None:
        self.query_one("#passphrase").display = False
        self.query_one("#confirm").display = False
        self.query_one("#unlock-intro", Static).update(f"Key file: {self.faas.key_file}")
        self.query_one("#unlock-button", Button).label = "Unlock with the key file"
        if self._auto_unlock:
            self.unlock()
        else:
            self.set_focus(self.query_one("#unlock-button", Button))

    def _set_creating(self, creating: bool) -> None:
        self.creating = creating
        confirm = self.query_one("#confirm", Input)
        confirm.display = creating
        title = self.query_one("#unlock-title", Static)
        intro = self.query_one("#unlock-intro", Static)
        button = self.query_one("#unlock-button", Button)
        if creating:
            title.update("Create the store")
            intro.update(
                "No store here yet. Choose a passphrase of at least 8 characters and type it "
                "twice. It cannot be recovered: without it the secrets are lost."
            )
            button.label = "Create"
        else:
            title.update("Unlock the store")
            intro.update("Type the store's passphrase.")
            button.label = "Unlock"
        self.refresh_bindings()

    @work(thread=True, group="unlock-warm-up", exit_on_error=False)
    def _warm_up(self) -> None:
        """Import the Vault (SQLAlchemy, SQLModel, Argon2) while the user types.

        Then freeze what exists so far (modules, the app): the cyclic garbage collector stops
        walking those hundreds of thousands of long-lived objects, which otherwise costs
        100 ms pauses while the dashboard fills on a big store.
        """
        import gc

        from faas_tui.store.vault import Vault

        gc.freeze()
        if self.faas.key_file or self.creating:
            return
        try:
            names = Vault.operator_names(self.faas.store)
        except FaasError:
            names = []  # unlocking will say what is wrong with the store
        self.app.call_from_thread(self._operators_read, names)

    def _operators_read(self, names: list[str]) -> None:
        """With several operators, ask which one unlocks: prefilled with --operator /
        FAAS_TUI_OPERATOR, else the login name. Focus moves to the field only when no operator
        was given and nothing was typed yet."""
        from faas_tui.store.keyring import login_name  # imported already by the warm-up

        self.operators = names
        if len(names) < 2 or self.busy or self.creating:
            return
        field = self.query_one("#operator", Input)
        given = self.faas.operator
        field.value = given or login_name()
        self._show_operator(True)
        self.query_one("#unlock-intro", Static).update(
            "This store has several operators: your operator name, then your passphrase."
        )
        typed = self.query_one("#passphrase", Input).value or self.faas.keys_pending
        if not given and not typed:
            self.set_focus(field)

    def _show_operator(self, shown: bool) -> None:
        self.query_one("#operator").display = shown
        self.query_one("#operator-label").display = shown

    @work(thread=True, exclusive=True, group="unlock-check", exit_on_error=False)
    def _check_exists(self) -> None:
        """A server store: ask the database whether it has been created yet."""
        from faas_tui.store.vault import Vault

        try:
            exists = Vault.exists(self.faas.store)
        except FaasError:
            return  # the unlock attempt will report the problem
        self.app.call_from_thread(self._set_creating, not exists)

    # --- submitting --------------------------------------------------------------------------

    def action_unlock(self) -> None:
        after_typing(self, self.unlock)  # enter is a priority key: wait for the typed passphrase

    def action_create(self) -> None:
        after_typing(self, self.unlock)

    @on(Button.Pressed, "#unlock-button")
    def unlock(self) -> None:
        if self.busy:
            return
        if self.faas.key_file:
            self._start(None)
            return
        passphrase_input = self.query_one("#passphrase", Input)
        confirm_input = self.query_one("#confirm", Input)
        operator_input = self.query_one("#operator", Input)
        passphrase = passphrase_input.value
        if self.focused is operator_input:
            if operator_input.value.strip():
                self.set_focus(passphrase_input)  # enter after the operator moves on
            else:
                self._say("Type your operator name first.")
            return
        if self.creating and self.focused is passphrase_input and not confirm_input.value:
            self.set_focus(confirm_input)  # enter after the first passphrase moves to the second
            return
        if not passphrase:
            self._say("Type the passphrase first.")
            self.set_focus(passphrase_input)
            return
        if self.creating:
            if self.faas.read_only:
                self._say("There is no store here, and --read-only cannot create one.")
                return
            if passphrase != confirm_input.value:
                confirm_input.value = ""
                self._say("The two passphrases differ. Type the same passphrase twice.")
                self.set_focus(confirm_input)
                return
        passphrase_input.value = ""
        confirm_input.value = ""
        self._start(passphrase)

    def _start(self, passphrase: str | None) -> None:
        self._set_busy(True)
        self._say("Creating the store…" if self.creating else "Unlocking…")
        operator = self.query_one("#operator", Input)
        chosen = operator.value.strip() if operator.display else self.faas.operator
        self._unlock(passphrase, self.creating, chosen or None)

    @work(thread=True, exclusive=True, group="unlock", exit_on_error=False)
    def _unlock(self, passphrase: str | None, create: bool, operator: str | None) -> None:
        """Derive the key and read the function list, off the UI thread. The store must not be
        older than one this machine has seen (the generation memory)."""
        from faas_tui.store.generations import GenerationMemory
        from faas_tui.store.vault import Vault

        app = self.faas
        try:
            memory = app.memory or GenerationMemory()
            if create:
                assert passphrase is not None
                vault = Vault.create(
                    app.store,
                    passphrase,
                    operator=operator,
                    clock=app.clock,
                    kdf=app.kdf,
                    memory=memory,
                )
            else:
                vault = Vault.open(
                    app.store,
                    passphrase=None if app.key_file else passphrase,
                    key_file=app.key_file,
                    operator=operator,
                    read_only=app.read_only,
                    clock=app.clock,
                    memory=memory,
                )
        except FaasError as error:
            self.post_message(UnlockFailed(error))
            return
        try:
            functions = vault.list_functions()
        except FaasError as error:
            vault.close()
            self.post_message(UnlockFailed(error))
            return
        self.post_message(Unlocked(vault, functions))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if self.faas.worker_failed(event) and event.worker.group == "unlock":
            self._set_busy(False)
            self._say("The store could not be opened (an unexpected error).")

    def on_unlock_failed(self, message: UnlockFailed) -> None:
        message.stop()
        self._set_busy(False)
        error = message.error
        wrong_passphrase = str(error).startswith("wrong ")
        if isinstance(error, WrongKeyError) and wrong_passphrase and not self.faas.key_file:
            self._say("Wrong passphrase. Try again.")
        else:
            from faas_tui.tui.app import one_line

            self._say(one_line(error, "The store could not be opened."))
        if not self.faas.key_file:
            self.set_focus(self.query_one("#passphrase", Input))

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        if busy or self.is_current:
            self.faas.hold_keys(busy)
        self.query_one("#unlock-busy").display = busy
        for widget in self.query("#unlock-box Input, #unlock-button"):
            widget.disabled = busy

    def _say(self, text: str) -> None:
        message = self.query_one("#unlock-message", Static)
        message.update(text)
        message.display = bool(text)
