"""Messages the app's screens and workers post, as small dataclasses (workers post them from threads)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from faas_tui.core.errors import FaasError
    from faas_tui.core.records import AuditRow, EventInfo, FunctionInfo
    from faas_tui.store.vault import Vault


@dataclass
class Unlocked(Message):
    """The unlock worker opened (or created) the store and read the function list."""

    vault: Vault
    functions: list[FunctionInfo]


@dataclass
class UnlockFailed(Message):
    """The unlock worker was refused: a wrong passphrase, a missing store, a bad key file."""

    error: FaasError


@dataclass
class VaultChanged(Message):
    """Something was stored or deleted; screens showing older data reload when they resume."""

    function: str | None = None


@dataclass
class AuditLoaded(Message):
    """The audit rows, with their display cells and filter texts prepared in the worker."""

    rows: list[AuditRow]
    cells: list[tuple[str, ...]]
    haystacks: list[str]


@dataclass
class EventsLoaded(Message):
    """The event log, read in a worker."""

    events: list[EventInfo]


@dataclass
class WorkFailed(Message):
    """A worker was refused by the Vault; the message is one line, never a traceback."""

    error: FaasError


@dataclass
class StoreDone(Message):
    """A store call made off the UI thread returned; `then` shows its result on the screen."""

    result: Any
    then: Callable[[Any], object]


@dataclass
class StoreFailed(Message):
    """A store call made off the UI thread was refused; `then` shows the one-line reason."""

    error: FaasError
    then: Callable[[FaasError], object] | None
