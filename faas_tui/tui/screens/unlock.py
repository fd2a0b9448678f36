"""The unlock screen: the passphrase (twice on first run, to create the store) or a key file.

Key derivation (Argon2id) runs in a thread worker behind a visible indicator; the Vault module, and
with it SQLAlchemy, is imported only there, so this prompt appears as fast as a bare Textual app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Header, Input, LoadingIndicator, Static
from textual.worker import Worker

from faas_tui.core.errors import FaasError, WrongKeyError
from faas_tui.store.location import sqlite_path
from faas_tui.tui.ordering import after_typing
from faas_tui.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from faas_tui.tui.app import FaasApp
    from faas_tui.tui.messages import UnlockFailed

W = TypeVar("W", bound=Widget)

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


def shown(widget: W, display: bool) -> W:
    """The widget, displayed or not from its first frame on."""
    widget.display = display
    return widget


def size_classes(screen: Screen[object]) -> list[str]:
    """The breakpoint classes (`-wide`, `-tall`…) Textual gives the screen on its first resize,
    for its constructor: added after mounting, they restyle the whole screen once more."""
    try:
        app = screen.app
    except RuntimeError:  # no running app (Textual's NoActiveAppError): the first resize adds them
        return []
    width, height = app.size
    classes: list[str] = []
    for size, own, default in (
        (width, screen.HORIZONTAL_BREAKPOINTS, app.HORIZONTAL_BREAKPOINTS),
        (height, screen.VERTICAL_BREAKPOINTS, app.VERTICAL_BREAKPOINTS),
    ):
        breakpoints = sorted(own if own is not None else default or [])
        classes += [name for edge, name in breakpoints if size >= edge][-1:]
    return classes


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
        self.add_class(*size_classes(self), update=False)
        self._initial_message = message
        self._auto_unlock = auto_unlock
        self.creating = False  # set when composed: no store there yet (or a server says so)
        self._store_unknown = False  # a server store: whether it exists is asked in a worker
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
        # Every widget starts as the first frame shows it: changing texts, bindings or what is
        # displayed after mounting would restyle and lay out the screen again before that frame.
        app = self.faas
        new = None if app.key_file else looks_new(app.store)
        self.creating = bool(new)
        self._store_unknown = new is None and not app.key_file
        title, intro, button = self._texts()
        yield Header()
        with Center(), Vertical(id="unlock-box"):
            yield Static(title, id="unlock-title")
            yield Static(f"Store: {store_label(app.store)}", id="unlock-store", markup=False)
            yield Static(intro, id="unlock-intro", markup=False)
            label = Static("Operator", id="operator-label", classes="hint", markup=False)
            yield shown(label, False)
            yield shown(Input(placeholder="Operator name", id="operator"), False)
            passphrase = Input(placeholder="Passphrase", password=True, id="passphrase")
            yield shown(passphrase, not app.key_file)
            confirm = Input(placeholder="The same passphrase again", password=True, id="confirm")
            yield shown(confirm, self.creating)
            message = self._initial_message
            yield shown(Static(message, id="unlock-message", markup=False), bool(message))
            yield shown(LoadingIndicator(id="unlock-busy"), False)
            yield Button(button, id="unlock-button", variant="primary")
            hint = Static(self._demo_hint(), id="unlock-hint", markup=False)
            yield shown(hint, True) if app.demo else hint  # else hidden by the stylesheet
        yield KeyFooter()

    def on_mount(self) -> None:
        # once the first frame is drawn, and a moment later: the first frame does not wait for it
        self.call_after_refresh(self.set_timer, WARM_UP_AFTER_S, self._warm_up)
        if self.faas.key_file:
            if self._auto_unlock:
                self.unlock()
            else:
                self.set_focus(self.query_one("#unlock-button", Button))
            return
        self.set_focus(self.query_one("#passphrase", Input), scroll_visible=False)
        if self._store_unknown:
            self._check_exists()

    def _demo_hint(self) -> str:
        if not self.faas.demo:
            return ""
        from faas_tui.demo import DEMO_PASSPHRASE

        return f"Demo store: the passphrase is {DEMO_PASSPHRASE}"

    def _texts(self) -> tuple[str, str, str]:
        """The title, the introduction and the button's label."""
        if self.faas.key_file:
            return "Unlock the store", f"Key file: {self.faas.key_file}", "Unlock with the key file"
        if self.creating:
            intro = (
                "No store here yet. Choose a passphrase of at least 8 characters and type it "
                "twice. It cannot be recovered: without it the secrets are lost."
            )
            return "Create the store", intro, "Create"
        return "Unlock the store", "Type the store's passphrase.", "Unlock"

    def _set_creating(self, creating: bool) -> None:
        """Whether the store is still to be created, once a server said so."""
        self.creating = creating
        self.query_one("#confirm", Input).display = creating
        title, intro, button = self._texts()
        self.query_one("#unlock-title", Static).update(title)
        self.query_one("#unlock-intro", Static).update(intro)
        self.query_one("#unlock-button", Button).label = button
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
        from faas_tui.tui.messages import Unlocked, UnlockFailed

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

    def rest(self) -> None:
        """Unlocked, under the dashboard (the app's first screen stays there): no spinner, no
        message, the fields enabled again; the keys held meanwhile are the app's to release."""
        self.busy = False
        self._show_busy(False)
        self._say("")

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        if busy or self.is_current:
            self.faas.hold_keys(busy)
        self._show_busy(busy)

    def _show_busy(self, busy: bool) -> None:
        self.query_one("#unlock-busy").display = busy
        for widget in self.query("#unlock-box Input, #unlock-button"):
            widget.disabled = busy

    def _say(self, text: str) -> None:
        message = self.query_one("#unlock-message", Static)
        message.update(text)
        message.display = bool(text)
