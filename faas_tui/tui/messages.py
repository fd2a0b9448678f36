"""Messages the app's screens and workers post, as small dataclasses (workers post them from threads)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from faas_tui.core.errors import FaasError
    from faas_tui.core.records import AuditRow, EventInfo, FunctionInfo, ImportPlan
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
class FunctionsLoaded(Message):
    """A fresh function list for the dashboard, read in a worker."""

    functions: list[FunctionInfo]


@dataclass
class FunctionLoaded(Message):
    """Fresh deploy state of one function (pending count, last deployment), read in a worker."""

    info: FunctionInfo


@dataclass
class AuditProgress(Message):
    """How far the audit worker has got: `done` of `total` rows (total None while scanning)."""

    done: int
    total: int | None


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
class ImportPlanned(Message):
    """The dry run of an import: what would be added, replaced or left unchanged (names only)."""

    plan: ImportPlan


@dataclass
class WorkFailed(Message):
    """A worker was refused by the Vault; the message is one line, never a traceback."""

    error: FaasError
