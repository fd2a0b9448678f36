"""Copying: the terminal's clipboard escape (OSC 52, reaches the user's machine over SSH) plus the
local clipboard through pyperclip where one works; copied values are cleared again after 30 s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

LocalCopy = Callable[[str], None]
CLEAR_AFTER_S = 30.0
OSC52 = "terminal clipboard (OSC 52)"
LOCAL = "local clipboard"


def pyperclip_copy(text: str) -> None:
    """The local clipboard; raises pyperclip.PyperclipException where there is none (no X, SSH)."""
    import pyperclip

    pyperclip.copy(text)


class Clipboard:
    """Copies to both clipboards and says which were used; sensitive copies are cleared later.

    Time comes from the app's clock: the app calls `clear_if_due` on its tick, so tests move a
    fake clock instead of waiting 30 s.
    """

    def __init__(
        self,
        terminal: Callable[[str], None],
        *,
        local: LocalCopy | None = pyperclip_copy,
        clear_after: float = CLEAR_AFTER_S,
    ) -> None:
        self.terminal = terminal  # the app's OSC 52 writer
        self._local = local
        self.clear_after = clear_after
        self._clear_at: datetime | None = None

    def copy(self, text: str, *, now: datetime, sensitive: bool = False) -> str:
        """Copy text; returns a phrase naming the clipboards used, for a notification."""
        self.terminal(text)
        used = [OSC52]
        if self._copy_local(text):
            used.append(LOCAL)
        if sensitive:
            self._clear_at = now + timedelta(seconds=self.clear_after)
        return " and ".join(used)

    def clear(self) -> None:
        """Overwrite both clipboards with an empty text."""
        self._clear_at = None
        self.terminal("")
        self._copy_local("")

    def clear_if_due(self, now: datetime) -> None:
        """Clear once the copied value has been there `clear_after` seconds."""
        if self._clear_at is not None and now >= self._clear_at:
            self.clear()

    def clear_if_pending(self) -> None:
        """Clear now if a copied value is still waiting to be cleared (lock, quit)."""
        if self._clear_at is not None:
            self.clear()

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
