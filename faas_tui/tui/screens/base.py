"""What every unlocked screen and modal shares: store calls off the UI thread, and refusals.

`run_store` is the one way a screen or modal calls the store. An action the credential's role (or
--read-only) does not permit is hidden from the footer, the help and the palette; pressing its key
anyway runs a hidden second binding on the same key that says why nothing happened.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from faas_tui.core.errors import AccessDeniedError, FaasError
from faas_tui.core.permissions import Action, allows, require
from faas_tui.tui.messages import StoreDone, StoreFailed
from faas_tui.tui.widgets.store_waiting import StoreWaiting

if TYPE_CHECKING:
    from faas_tui.store.vault import Vault
    from faas_tui.tui.app import FaasApp

T = TypeVar("T")
REFUSE = "refuse_change"
STORE_GROUP = "store"
WRITE_GROUP = "store-write"  # a change: a modal does not close under it
STILL_WRITING = "Still waiting for the store: the change is saved as soon as it is free."
RUNNING = (WorkerState.PENDING, WorkerState.RUNNING)
SHOW_WAITING_AFTER_S = 0.2  # a quick call finishes before the line would flash up


# what --read-only still allows; every other action changes the store
READ_ACTIONS = frozenset({Action.LIST, Action.READ_VALUES, Action.AUDIT, Action.LOG, Action.CHECK})


def refusals(**keys: str) -> list[Binding]:
    """Hidden bindings that explain a refusal, key=screen action (`n="add_secret"`); list them
    after the bindings they stand in for."""
    return [
        Binding(key, f"{REFUSE}('{action}')", show=False, system=True)
        for key, action in keys.items()
    ]


class StoreCalls:
    """Mixed into a Screen: `run_store` calls the store in a thread worker behind a visible
    "waiting for the store…" line, then hands the result (or the refusal) back on the UI thread."""

    @property
    def faas(self) -> FaasApp:
        return cast("FaasApp", cast("Screen[Any]", self).app)

    def run_store(
        self,
        call: Callable[..., T],
        *args: object,
        then: Callable[[T], object],
        failed: Callable[[FaasError], object] | None = None,
        write: bool = False,
    ) -> Worker[None]:
        """Run `call(*args)` off the UI thread; `then(result)` or `failed(error)` on it.

        Without `failed`, a refusal is one notification. A write waiting on another process's
        lock keeps the screen answering keys while the waiting line is shown.
        """
        screen = cast("Screen[Any]", self)
        screen.set_timer(SHOW_WAITING_AFTER_S, self._waiting_due)
        return screen.run_worker(
            partial(self._call_store, call, args, then, failed),
            name=getattr(call, "__name__", "store call"),
            group=WRITE_GROUP if write else STORE_GROUP,
            thread=True,
            exit_on_error=False,
        )

    def _call_store(
        self,
        call: Callable[..., T],
        args: tuple[object, ...],
        then: Callable[[T], object],
        failed: Callable[[FaasError], object] | None,
    ) -> None:
        screen = cast("Screen[Any]", self)
        try:
            result = call(*args)
        except FaasError as error:
            screen.post_message(StoreFailed(error, failed))
            return
        screen.post_message(StoreDone(result, then))

    @property
    def store_busy(self) -> bool:
        """Whether a store call of this screen is still running."""
        return self._store_calls_running(STORE_GROUP, WRITE_GROUP)

    @property
    def store_writing(self) -> bool:
        """Whether a change this screen asked for is still waiting for the store."""
        return self._store_calls_running(WRITE_GROUP)

    def _store_calls_running(self, *groups: str) -> bool:
        screen = cast("Screen[Any]", self)
        return any(
            worker.group in groups and worker.node is screen and worker.state in RUNNING
            for worker in screen.app.workers
        )

    def _waiting_due(self) -> None:
        if self.store_busy:
            self._show_waiting(True)

    def _show_waiting(self, waiting: bool) -> None:
        screen = cast("Screen[Any]", self)
        found = screen.query(StoreWaiting)
        if found:
            found.first().display = waiting
        elif waiting:
            screen.mount(StoreWaiting())

    def on_store_done(self, message: StoreDone) -> None:
        message.stop()
        message.then(message.result)

    def on_store_failed(self, message: StoreFailed) -> None:
        message.stop()
        if message.then is not None:
            message.then(message.error)
        else:
            self.faas.report(message.error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.faas.worker_failed(event)
        if event.worker.group in (STORE_GROUP, WRITE_GROUP):
            self._show_waiting(self.store_busy)
            if event.state is WorkerState.ERROR:
                self.store_crashed()

    def store_crashed(self) -> None:
        """A store call died of an unexpected error (already reported): re-enable the screen."""


class VaultScreen(StoreCalls, Screen[None]):
    """A screen that works on the unlocked Vault. `NEEDS` names what each of its actions asks of
    the store; an action the credential may not do (or a change, when read-only) is hidden."""

    NEEDS: ClassVar[dict[str, Action]] = {}

    @property
    def vault(self) -> Vault:
        vault = self.faas.vault
        if vault is None:  # screens are closed before the Vault is dropped; never expected
            raise RuntimeError("the store is locked")
        return vault

    @property
    def read_only(self) -> bool:
        return self.faas.read_only

    @property
    def scope(self) -> str | None:
        """The function this screen is about, if any (a runtime key reads some functions only)."""
        return None

    def may(self, action: Action) -> bool:
        """Whether the unlocked credential may do `action` here (and, if a change, not read-only)."""
        if self.read_only and action not in READ_ACTIONS:
            return False
        vault = self.faas.vault
        return vault is None or allows(vault.credential, action, self.scope)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == REFUSE:
            needed = self.NEEDS.get(str(parameters[0])) if parameters else None
            return needed is not None and not self.may(needed)
        # a refused action is hidden; the hidden refusal binding answers its key
        needed = self.NEEDS.get(action)
        return needed is None or self.may(needed)

    def action_refuse_change(self, action: str) -> None:
        needed = self.NEEDS[action]
        vault = self.faas.vault
        if self.read_only and needed not in READ_ACTIONS:
            self.faas.refuse_read_only()
        elif vault is not None:
            try:
                require(vault.credential, needed, self.scope)
            except AccessDeniedError as refusal:
                self.notify(str(refusal), severity="warning")

    def reopen(self) -> Callable[[], object] | None:
        """How to show this screen again after the app was locked and unlocked (None: not)."""
        if any(
            parameter.default is inspect.Parameter.empty
            for parameter in inspect.signature(type(self)).parameters.values()
        ):
            return None
        return lambda: self.faas.push_screen(type(self)())


class Dialog(ModalScreen[T]):
    """A modal dialog whose `FIRST_FOCUS` field is focused on open without scrolling.

    A dialog taller than the terminal so opens at its top, title in view (Textual's auto focus
    centres the field, which hides the title or not depending on whether the layout was done
    yet). Tab then scrolls each field into view.
    """

    FIRST_FOCUS: ClassVar[str] = ""
    AUTO_FOCUS = ""  # not Textual's (the app's "*" would focus the first field, centred)

    def on_mount(self) -> None:
        if self.FIRST_FOCUS:
            self.set_focus(self.query_one(self.FIRST_FOCUS), scroll_visible=False)


class StoreModal(StoreCalls, Dialog[T]):
    """A modal that calls the store through the narrow callable it was given."""

    def may_close(self) -> bool:
        """Escape and Cancel close the modal, unless a change still waits for the store (it
        would land unseen): then they say so and the modal stays."""
        if self.store_writing:
            self.notify(STILL_WRITING, severity="warning")
            return False
        return True
