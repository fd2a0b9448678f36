"""Copying: the terminal's clipboard escape (OSC 52, reaches the user's machine over SSH) plus the
local clipboard through pyperclip where one works; copied values are cleared again after 30 s."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

LocalCopy = Callable[[str], None]
CLEAR_AFTER_S = 30.0
OSC52 = "terminal clipboard (OSC 52)"
LOCAL = "local clipboard"


def pyperclip_copy(text: str) -> None:
    """The local clipboard; raises pyperclip.PyperclipException where there is none (no X, SSH)."""
    import pyperclip

    pyperclip.copy(text)


class Clipboard:
    """Copies to both clipboards and says which were used; sensitive copies are cleared later."""

    def __init__(
        self,
        app: App[object],
        *,
        local: LocalCopy | None = pyperclip_copy,
        clear_after: float = CLEAR_AFTER_S,
    ) -> None:
        self._app = app
        self._local = local
        self.clear_after = clear_after
        self._clear_timer: Timer | None = None

    def copy(self, text: str, *, sensitive: bool = False) -> str:
        """Copy text; returns a phrase naming the clipboards used, for a notification."""
        self._app.copy_to_clipboard(text)
        used = [OSC52]
        if self._copy_local(text):
            used.append(LOCAL)
        if sensitive:
            if self._clear_timer is not None:
                self._clear_timer.stop()
            self._clear_timer = self._app.set_timer(self.clear_after, self.clear)
        return " and ".join(used)

    def clear(self) -> None:
        """Overwrite both clipboards with an empty text."""
        self._clear_timer = None
        self._app.copy_to_clipboard("")
        self._copy_local("")

    def clear_if_pending(self) -> None:
        """Clear now if a copied value is still waiting for its timer (lock, quit)."""
        if self._clear_timer is not None:
            self._clear_timer.stop()
            self.clear()

    @property
    def clear_pending(self) -> bool:
        return self._clear_timer is not None

    def _copy_local(self, text: str) -> bool:
        if self._local is None:
            return False
        import pyperclip

        try:
            self._local(text)
        except pyperclip.PyperclipException:
            self._local = None  # no local clipboard here (SSH, no X): stop trying
            return False
        return True
