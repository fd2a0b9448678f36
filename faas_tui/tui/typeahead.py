"""Keys typed in one burst land where they were typed: the app routes them one at a time.

Why a burst went astray: Textual reads every key of a burst before any is handled. A key bound on
a screen (`n`, a priority `enter`) runs its action only after a round trip through the focused
widget, `Widget.focus()` is itself deferred to the back of the app's queue, and a pushed screen
mounts and focuses later still; meanwhile the rest of the burst had already gone to the widget
that still had focus. `TypeAhead` holds the keys that arrive while one is being handled and
routes the next only once the previous one has had all its effects (its binding run, focus moved,
a new screen mounted and focused), so a burst behaves exactly like slow typing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode
    from textual.message_pump import MessagePump

Route = Callable[[events.Key], Awaitable[None]]
MAX_ROUNDS = 8  # a widget that never runs dry (an animation) does not hold the keys for long
MAX_PASSES = 4
UNHELD = frozenset({"ctrl+q"})  # quitting is never held back


class TypeAhead:
    """A queue of keys read but not yet routed; `route` is Textual's own key handling."""

    def __init__(self, app: App[object], route: Route) -> None:
        self._app = app
        self._route = route
        self._keys: deque[events.Key] = deque()
        self._busy = False
        self._held = False

    @property
    def pending(self) -> bool:
        """Whether keys are still being routed (tests wait for this before they look)."""
        return self._busy or bool(self._keys)

    async def key(self, event: events.Key) -> None:
        """A key read from the terminal: route it now, or after the keys before it."""
        if self._held and event.key in UNHELD:
            await self._route(event)
            return
        self._keys.append(event)
        if not self._busy:
            await self._next()

    def hold(self, held: bool) -> None:
        """Keep the keys typed while the screen cannot take them (unlocking): they go to the
        screen that follows, once it has mounted and taken focus. ctrl+q still quits."""
        self._held = held
        if not held and not self._busy:
            self._busy = True
            self._visit([self._app.screen, self._app], 0, 0, 0)

    async def _next(self) -> None:
        while self._keys and not self._busy and not self._held:
            event = self._keys.popleft()
            self._busy = True
            app = self._app
            target: DOMNode = app.focused or app.screen
            plain = self._plain(event)
            await self._route(event)
            while plain and self._keys and self._plain(self._keys[0]):
                await self._route(self._keys.popleft())  # a run of text: no need to wait
            self._visit(self._chain(target), 0, 0, 0)

    def _plain(self, event: events.Key) -> bool:
        """A character for the text field that has focus, bound to nothing: it cannot move
        the focus or open a screen, so the next such character need not wait for it."""
        from textual.widgets import Input, TextArea

        return (
            event.is_printable
            and isinstance(self._app.focused, Input | TextArea)
            and event.key not in self._app.screen.active_bindings
        )

    @staticmethod
    def _chain(node: DOMNode | None) -> list[MessagePump]:
        """The widget the key went to and every parent it may bubble to, up to the app."""
        chain: list[MessagePump] = []
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def _visit(self, chain: list[MessagePump], index: int, rounds: int, passes: int) -> None:
        """Walk the chain, each step queued behind what its pump has to do, until a whole pass
        finds every pump dry: the key, and what it made them post (a binding's action, an
        Input's Submitted moving the focus, a new screen mounting), has all been handled."""
        if (
            index < len(chain)
            and rounds
            and chain[index].message_queue_size
            and rounds < MAX_ROUNDS
            and chain[index].call_later(self._visit, chain, index, rounds + 1, passes)
        ):
            return  # more came in behind us: wait for those as well
        if rounds:
            index += 1
        while index < len(chain):
            if chain[index].call_later(self._visit, chain, index, 1, passes):
                return
            index += 1  # a closed pump (a dismissed modal): nothing to wait for there
        app = self._app
        screen = app.screen
        pending = any(pump.message_queue_size for pump in chain)
        if passes < MAX_PASSES and (pending or screen not in chain):
            chain = [pump for pump in chain if pump not in (screen, app)] + [screen, app]
            self._visit(chain, 0, 0, passes + 1)
            return
        self._release()

    def _release(self) -> None:
        if not self._keys or not self._app.call_later(self._resume):
            self._busy = False

    async def _resume(self) -> None:
        self._busy = False  # keys read until now wait in the queue, so the order is kept
        await self._next()
