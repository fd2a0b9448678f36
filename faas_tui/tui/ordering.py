"""Priority bindings (enter, ctrl+s) run as soon as the app reads the key, ahead of the keys typed
just before it that the focused Input or TextArea has not handled yet (a fast typist, a paste).
`after_typing` runs an action only once those keys, and the messages they posted, are handled,
so a submit never reads a half-typed passphrase, name or value."""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen


def after_typing(screen: Screen[object], action: Callable[[], object]) -> None:
    """Run `action` after the focused widget's pending keys and the screen's pending messages."""
    focused = screen.focused
    if focused is None:
        screen.call_later(action)
    else:
        focused.call_later(screen.call_later, action)
