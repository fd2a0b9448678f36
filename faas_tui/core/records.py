"""Read-only records the Vault returns to its faces (CLI, app, toolbelt). None of them holds a value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from faas_tui.core.kinds import Role, SecretKind
from faas_tui.core.values import SecretFormat

DEFAULT_CACHE_TTL = 300  # seconds: the runtime client's default cache lifetime


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    name: str
    secrets: int  # user secrets only; system secrets are counted apart
    deployed: int | None  # number of the active deployment, None if never deployed
    deployed_at: datetime | None
    pending: int  # user secrets changed (or added, or deleted) since the active deployment
    source_dir: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SecretInfo:
    function: str
    name: str
    kind: str  # "user" or "system"
    format: SecretFormat
    version: int
    created_at: datetime
    updated_at: datetime
    deployed_version: int | None  # the version the active deployment binds, None if unbound
    pending_redeploy: bool
    description: str = ""
    scopes: tuple[str, ...] = ()

    @property
    def is_system(self) -> bool:
        return self.kind == SecretKind.SYSTEM

    def cached_until(self, ttl: int = DEFAULT_CACHE_TTL) -> datetime | None:
        """For a pending change: until when cached readers may still see the old value."""
        return self.updated_at + timedelta(seconds=ttl) if self.pending_redeploy else None


@dataclass(frozen=True, slots=True)
class DeploymentInfo:
    function: str
    number: int
    created_at: datetime
    actor: str


@dataclass(frozen=True, slots=True)
class KeyFileInfo:
    """A key file: a runtime key (role runtime, the functions it reads), a headless operator
    (an operator role, every function), or a 0.1.0 key file (`legacy`: reads all, writes none)."""

    id: str
    label: str
    created_at: datetime
    role: Role = Role.RUNTIME
    functions: tuple[str, ...] = ()
    legacy: bool = False


@dataclass(frozen=True, slots=True)
class OperatorInfo:
    """A person who shares the store, with a passphrase of their own."""

    name: str
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventInfo:
    seq: int
    at: datetime
    actor: str
    action: str
    function: str | None
    name: str | None
    hash: str


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import does, names only."""

    function: str
    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    applied: bool = False


class AuditRow(NamedTuple):
    """One line of the audit. A NamedTuple, not a dataclass: an audit of 50,000 secrets
    builds 50,000 of them, and a frozen dataclass costs 4x more to build (a third of the audit).

    A MISSING row (flags == ("MISSING",)) is a name the function's code reads that the store
    lacks: its kind is the kind it would have if created ("system" for a SYSTEM_ name, else
    "user"), and every other field is None.
    """

    function: str
    name: str
    kind: str  # "user" or "system"
    format: SecretFormat | None
    version: int | None
    created_at: datetime | None
    updated_at: datetime | None
    age_days: int | None
    deployed_version: int | None
    flags: tuple[str, ...] = ()

    @property
    def missing(self) -> bool:
        return "MISSING" in self.flags


class CheckReport(NamedTuple):
    """What `faas-tui check` found: ok, one line per problem, and the store's generation."""

    ok: bool
    problems: list[str]
    generation: int
