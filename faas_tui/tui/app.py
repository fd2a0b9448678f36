"""The faas-tui app: `FaasApp` (the CLI, tests and screenshots all build it) and `run_app`.

Kept light on purpose: SQLAlchemy, SQLModel and the Vault are imported only once the user unlocks,
so the passphrase prompt is on screen as fast as a bare Textual app.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from faas_tui.core.clock import Clock, utc_now
from faas_tui.core.errors import IntegrityError
from faas_tui.tui.clipboard import CLEAR_AFTER_S, Clipboard, LocalCopy, pyperclip_copy
from faas_tui.tui.resources import stylesheet
from faas_tui.tui.screens.unlock import UnlockScreen
from faas_tui.tui.signals import ProcessSignals
from faas_tui.tui.typeahead import TypeAhead

if TYPE_CHECKING:
    from faas_tui.core.errors import FaasError
    from faas_tui.core.permissions import Credential
    from faas_tui.core.records import FunctionInfo
    from faas_tui.store.crypto import KdfParams
    from faas_tui.store.generations import GenerationMemory
    from faas_tui.store.vault import Vault
    from faas_tui.tui.messages import Unlocked, VaultChanged

FUNCTION_SCREEN = "function"  # the installed, reused FunctionScreen
IDLE_LOCK_S = 600.0  # the app locks itself after 10 minutes without a key press
TICK_S = 1.0  # how often the idle lock and the clipboard clearing look at the clock
NO_SCREENSHOT = "Screenshots are off: a screen may show a secret value."
STYLESHEETS = ("app.tcss", "unlock.tcss")  # what the first frame (the unlock screen) needs
# read when the first other screen opens: the first frame does not wait for them
LATER_STYLESHEETS = ("dashboard.tcss", "function.tcss", "modals.tcss", "tables.tcss")


INTEGRITY_HINT = "an admin can review it with `faas-tui check`"


def one_line(error: FaasError | str, default: str = "failed") -> str:
    """The first line of an error; a failed integrity check also says who can review it."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else default
    if isinstance(error, IntegrityError) and "faas-tui check" not in text:
        text = f"{text.rstrip('.')}; {INTEGRITY_HINT}"
    return text


def identity(credential: Credential) -> str:
    """Who unlocked, for the header: "alice · editor", "key file 3f2a… · runtime"."""
    from faas_tui.core.permissions import KEY_FILE_ACTOR  # after unlocking: not for the first frame

    who = credential.actor
    if credential.is_key_file:
        who = f"key file {who.removeprefix(KEY_FILE_ACTOR)}"
    return f"{who} · {'legacy key file' if credential.legacy else credential.role}"


class FaasApp(App[int]):
    """Unlock, then the functions dashboard; every change goes through the Vault service."""

    TITLE = "faas-tui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-wide")]  # each screen gets the class
    BINDINGS = [
        Binding("question_mark", "help", "Keys", id="help", tooltip="Show the keys of this screen"),
        Binding("l", "lock", "Lock", id="lock", tooltip="Lock the store"),
        Binding("ctrl+q", "quit", "Quit", show=False, id="quit", priority=True),
        # Textual's "Keys" panel (palette): escape closes it like every other panel
        Binding("escape", "hide_help_panel", "Close the keys panel", show=False, priority=True),
    ]

    def __init__(
        self,
        store: str,
        *,
        read_only: bool = False,
        key_file: str | None = None,
        vault: Vault | None = None,
        demo: bool = False,
        clock: Clock = utc_now,
        kdf: KdfParams | None = None,
        idle_lock_seconds: float = IDLE_LOCK_S,
        local_clipboard: LocalCopy | None = pyperclip_copy,
        clipboard_clear_after: float = CLEAR_AFTER_S,
        handle_signals: bool = False,
        operator: str | None = None,
        memory: GenerationMemory | None = None,
    ) -> None:
        super().__init__(css_path=[stylesheet(name) for name in STYLESHEETS])
        self.store = store
        self.operator = operator  # given with --operator / FAAS_TUI_OPERATOR (None: not given)
        self.memory = memory  # the highest store generations seen (None: the user's state folder)
        self.read_only = read_only or bool(vault and vault.read_only)
        self.key_file = key_file
        self.vault = vault
        self.demo = demo
        self.clock = clock
        self.kdf = kdf
        self.idle_lock_seconds = idle_lock_seconds
        self.copier = Clipboard(
            self.copy_to_clipboard, local=local_clipboard, clear_after=clipboard_clear_after
        )
        # the process's signals (run_app): SIGHUP and SIGTERM quit like ctrl+q
        self.signals = ProcessSignals() if handle_signals else None
        self._quit_signal: int | None = None  # the signal the app is quitting on, if any
        self.changes = 0  # bumped on every VaultChanged; screens reload when theirs is older
        self._last_input = clock()
        self._typeahead = TypeAhead(self, super().on_event)
        self._reopen: list[Callable[[], object]] = []  # the screens open when the app locked
        self._all_styles = False
        if self.read_only:
            self.sub_title = "read-only"

    # --- lifecycle ---------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[object]:
        """Locked, the unlock screen is the first one, so the first frame shows it (no blank
        screen drawn and restyled first); it stays under the dashboard once unlocked."""
        if self.vault is None:
            return UnlockScreen()
        return super().get_default_screen()

    def on_mount(self) -> None:
        if self.vault is not None:
            self._show_identity()
            self._open_dashboard(None)
        self.set_interval(TICK_S, self.tick)
        if self.signals is not None:
            self.signals.attach(self.quit_on_signal)

    def on_unmount(self) -> None:
        if self.signals is not None:
            self.signals.detach()

    def quit_on_signal(self, signum: int) -> None:
        """SIGHUP (the terminal closed) or SIGTERM: clean up as ctrl+q does, then exit.

        The clipboard is cleared here; the Vault is closed and a demo store removed by the code
        that ran the app, once `run` returns (further quit signals are ignored meanwhile).
        """
        if self._quit_signal is not None:
            return
        self._quit_signal = signum
        self.copier.clear_if_pending()
        self.exit(return_code=128 + signum)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown) and not event.is_forwarded:
            self._last_input = self.clock()
        if isinstance(event, events.Key) and not event.is_forwarded:
            await self._typeahead.key(event)  # one key at a time: a burst lands as typed
            return
        await super().on_event(event)

    def hold_keys(self, held: bool) -> None:
        """Hold the keys typed meanwhile (while unlocking) for the screen that follows."""
        self._typeahead.hold(held)

    @property
    def keys_pending(self) -> bool:
        """Whether keys read from the terminal are still waiting to be routed."""
        return self._typeahead.pending

    def on_unlocked(self, message: Unlocked) -> None:
        self.vault = message.vault
        self.read_only = self.read_only or message.vault.read_only
        self._show_identity()
        self._last_input = self.clock()
        self._open_dashboard(message.functions)
        reopen, self._reopen = self._reopen, []
        for show in reopen:  # back where the user was before the lock
            show()
        self.hold_keys(False)  # keys typed while unlocking go to the dashboard

    def worker_failed(self, event: Worker.StateChanged) -> bool:
        """Report a worker that died of an unexpected error (a bug): one line, no traceback.

        Screens call this from `on_worker_state_changed` (the message does not bubble); the
        Vault's own refusals (FaasError) are caught inside the workers and never get here.
        """
        if event.state is not WorkerState.ERROR or event.worker.error is None:
            return False
        error = event.worker.error
        self.report(f"unexpected {type(error).__name__} in {event.worker.name or 'a task'}")
        return True

    def on_vault_changed(self, message: VaultChanged) -> None:
        self.changes += 1

    def open_function(self, name: str, info: FunctionInfo | None = None) -> None:
        """Show one function. Its screen is built once and reused, so opening is quick."""
        from faas_tui.tui.screens.function import FunctionScreen

        if not self.is_screen_installed(FUNCTION_SCREEN):
            self.install_screen(FunctionScreen(), FUNCTION_SCREEN)
        screen = self.get_screen(FUNCTION_SCREEN)
        assert isinstance(screen, FunctionScreen)
        screen.show(name, info)
        self.push_screen(FUNCTION_SCREEN)

    def load_all_styles(self) -> None:
        """Read the stylesheets the unlock screen does not need, once, before the first other
        screen or dialog opens (a few milliseconds: the sheets parsed so far stay cached)."""
        if self._all_styles:
            return
        self._all_styles = True
        for name in LATER_STYLESHEETS:
            self.stylesheet.read(stylesheet(name))

    def _open_dashboard(self, functions: list[FunctionInfo] | None) -> None:
        from faas_tui.tui.screens.dashboard import DashboardScreen

        self.load_all_styles()
        dashboard = DashboardScreen(functions)
        unlock = self.screen if isinstance(self.screen, UnlockScreen) else None
        if unlock is not None and len(self.screen_stack) > 1:  # unlocked again after a lock
            self.switch_screen(dashboard)
            return
        self.push_screen(dashboard)
        if unlock is not None:  # the first screen stays under the dashboard, at rest
            unlock.rest()

    async def action_quit(self) -> None:
        self.copier.clear_if_pending()  # a copied value must not outlive the app
        await super().action_quit()

    def close_vault(self) -> None:
        """Close the unlocked Vault, if any (locking, and after the app has exited)."""
        self._drop_vault()

    def _show_identity(self) -> None:
        """The header names who unlocked and as what, e.g. "faas-tui · alice · editor"."""
        if self.vault is not None:
            self.title = f"{self.TITLE} · {identity(self.vault.credential)}"

    def _drop_vault(self) -> None:
        self.title = self.TITLE
        vault, self.vault = self.vault, None
        if vault is not None:
            vault.close()

    # --- locking -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "lock":
            return self.vault is not None
        if action == "hide_help_panel":
            return bool(self.screen.query("HelpPanel"))
        return True

    async def action_lock(self) -> None:
        await self.lock()

    async def lock(self, reason: str = "") -> None:
        """Forget the unlocked Vault, close every screen above the base and ask to unlock again."""
        from faas_tui.tui.screens.base import VaultScreen

        self._reopen = [
            show
            for screen in self.screen_stack[2:]
            if isinstance(screen, VaultScreen) and (show := screen.reopen()) is not None
        ]
        self._drop_vault()
        self.copier.clear_if_pending()
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(UnlockScreen(message=reason, auto_unlock=False))
        if self.is_screen_installed(FUNCTION_SCREEN):
            screen = self.get_screen(FUNCTION_SCREEN)
            self.uninstall_screen(FUNCTION_SCREEN)
            await screen.remove()

    async def tick(self) -> None:
        """Look at the clock: clear a copied value that is due, lock when idle too long."""
        now = self.clock()
        self.copier.clear_if_due(now)
        idle = now - self._last_input
        if self.vault is not None and idle >= timedelta(seconds=self.idle_lock_seconds):
            minutes = max(1, round(self.idle_lock_seconds / 60))
            await self.lock(f"Locked after {minutes} min without a key press.")

    # --- reporting ---------------------------------------------------------------------------

    def report(self, error: FaasError | str, *, title: str = "") -> None:
        """One line for the user, never a traceback."""
        self.notify(one_line(error), title=title, severity="error", timeout=8)

    def refuse_read_only(self) -> None:
        self.notify(
            "Read-only mode: changes are disabled (opened with --read-only).",
            severity="warning",
        )

    def copy(self, text: str, *, what: str, sensitive: bool = False) -> None:
        """Copy to the clipboards and say which were used (values are cleared after 30 s)."""
        used = self.copier.copy(text, sensitive=sensitive, now=self.clock())
        later = f" (cleared in {self.copier.clear_after:g} s)" if sensitive else ""
        self.notify(f"Copied {what} to the {used}{later}.", title="Copied")

    # --- help and command palette -----------------------------------------------------------

    def action_help(self) -> None:
        from faas_tui.tui.modals.help import HelpModal

        self.load_all_styles()
        self.push_screen(HelpModal(list(self.key_help(self.screen))))

    def key_help(self, screen: Screen[object]) -> Iterable[tuple[str, str, bool]]:
        """(keys, description, enabled) for every faas-tui binding active on the screen."""
        grouped: dict[tuple[str, str], tuple[list[str], bool]] = {}
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.id is None or not binding.description:
                continue  # widgets' own navigation keys (cursor, tab) are not listed
            keys, enabled = grouped.setdefault(
                (binding.action, binding.tooltip or binding.description), ([], active.enabled)
            )
            keys.append(self.get_key_display(binding))
        for (_, description), (keys, enabled) in grouped.items():
            yield " / ".join(keys), description, enabled

    # --- no screenshots: nothing the app offers writes a screen (which may hold a value) to disk

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        self.notify(NO_SCREENSHOT, severity="warning")

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        self.notify(NO_SCREENSHOT, severity="warning")
        return None

    def save_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str:
        raise PermissionError(NO_SCREENSHOT)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own commands but Screenshot, plus every enabled faas-tui key of the screen."""
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command
        seen: set[tuple[int, str]] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.id is None or not binding.description or not active.enabled:
                continue
            if binding.action == "quit":
                continue  # Textual's own Quit command is already listed
            if (id(active.node), binding.action) in seen:
                continue
            seen.add((id(active.node), binding.action))
            yield SystemCommand(
                binding.tooltip or binding.description,
                f"key: {self.get_key_display(binding)}",
                partial(self.run_action, binding.action, active.node),
            )


def run_app(
    store: str,
    read_only: bool = False,
    key_file: str | None = None,
    vault: Vault | None = None,
    demo: bool = False,
    operator: str | None = None,
) -> int:
    """Run the app in this terminal until the user quits; returns the process exit code.

    For the process's main code: from here until the process ends, SIGHUP and SIGTERM belong to
    the app (the first quits it like ctrl+q, later ones are ignored), so the caller's cleanup
    after it (closing the Vault, removing a demo store) always runs to its end.
    `operator` (--operator) falls back to FAAS_TUI_OPERATOR; the unlock screen asks for one
    when the store has several operators.
    """
    app = FaasApp(
        store,
        read_only=read_only,
        key_file=key_file,
        vault=vault,
        demo=demo,
        handle_signals=True,
        operator=operator or os.environ.get("FAAS_TUI_OPERATOR") or None,
    )
    if app.signals is not None:
        app.signals.install()
    try:
        result = app.run()
    finally:
        app.close_vault()
    if app.return_code not in (None, 0):
        return app.return_code
    return result or 0
