"""What each credential may do: the role table of the README's security section, as one function.

The Vault calls `require` before every operation (exit 5 when refused); the app asks `allows` to hide
the keys a credential may not use. The keys each credential holds make the refusal real.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from faas_tui.core.errors import AccessDeniedError
from faas_tui.core.kinds import Role

KEY_FILE_ACTOR = "key-file:"


class Action(StrEnum):
    """Something a credential asks the store to do."""

    LIST = "list"  # functions, secrets, system secrets (names and metadata, never values)
    READ_VALUES = "read values"  # run, verify, SecretClient, bound_env
    WRITE = "write"  # functions and secrets: add, update, delete, import, set-source
    DEPLOY = "deploy"
    AUDIT = "audit"
    LOG = "log"
    CHECK = "check"
    ACCEPT = "accept"  # check --accept
    OPERATORS = "operators"
    KEY_FILES = "key files"
    ROTATE_KEY = "rotate-key"
    COMPACT = "compact"  # reclaim deleted rows' space and old bytes: an admin's maintenance
    # one's own passphrase (a command name, not a password)
    PASSWD = "passwd"  # noqa: S105  # nosec B105


class Credential(NamedTuple):
    """Who unlocked the store, as what, and (for a runtime key) which functions it reads."""

    actor: str  # an operator name, or "key-file:ID"
    role: Role
    functions: frozenset[str] | None  # None: every function
    legacy: bool = False  # a key file from 0.1.0: reads every function, writes nothing

    def reads(self, function: str) -> bool:
        """Whether this credential may read `function`'s values (its role aside)."""
        return self.functions is None or function in self.functions

    @property
    def is_key_file(self) -> bool:
        return self.actor.startswith(KEY_FILE_ACTOR)


_EDITOR = frozenset(
    {
        Action.LIST,
        Action.READ_VALUES,
        Action.WRITE,
        Action.DEPLOY,
        Action.AUDIT,
        Action.LOG,
        Action.CHECK,
        Action.PASSWD,
    }
)
_AUDITOR = frozenset({Action.LIST, Action.AUDIT, Action.LOG, Action.CHECK, Action.PASSWD})
_RUNTIME = frozenset({Action.LIST, Action.READ_VALUES})
_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.EDITOR: _EDITOR,
    Role.AUDITOR: _AUDITOR,
    Role.RUNTIME: _RUNTIME,
}

_MAY = {
    Role.ADMIN: "who may do everything",
    Role.EDITOR: (
        "who may change functions and secrets, deploy, run, audit, read the log and check, "
        "but not manage operators or key files, rotate the key, accept a check or compact the "
        "store"
    ),
    Role.AUDITOR: (
        "who may list, audit, read the log and check, but not read values or change the store"
    ),
}
_ARTICLE = {Role.ADMIN: "an", Role.EDITOR: "an", Role.AUDITOR: "an", Role.RUNTIME: "a"}


def _runtime_role(credential: Credential) -> bool:
    return credential.role is Role.RUNTIME or credential.legacy


def allows(credential: Credential, action: Action, function: str | None = None) -> bool:
    """Whether `credential` may do `action` (on `function`, when the action concerns one)."""
    if action is Action.PASSWD and credential.is_key_file:
        return False  # a key file has no passphrase to change
    if _runtime_role(credential):
        if action not in _RUNTIME:
            return False
        if function is None:  # every function at once: only a key that reads them all
            return credential.functions is None
        return credential.reads(function)
    return action in _ALLOWED[credential.role]


def require(credential: Credential, action: Action, function: str | None = None) -> None:
    """Raise AccessDeniedError (exit 5), one line naming what the credential may do, unless allowed."""
    if not allows(credential, action, function):
        raise AccessDeniedError(f"not allowed: {_refusal(credential, action, function)}")


def _key_file_name(credential: Credential) -> str:
    return f"key file {credential.actor.removeprefix(KEY_FILE_ACTOR)}"


def _refusal(credential: Credential, action: Action, function: str | None) -> str:
    if action is Action.PASSWD and credential.is_key_file:
        return (
            f"{_key_file_name(credential)} has no passphrase to change; "
            "an admin issues a new one with `faas-tui key-file add` and revokes this one"
        )
    if credential.legacy:
        return (
            f"{_key_file_name(credential)} is a legacy key file, which reads every function "
            "and changes nothing; an admin re-issues it with `faas-tui key-file add PATH --function F`"
        )
    if credential.role is Role.RUNTIME:
        scope = ", ".join(sorted(credential.functions or ())) or "no function"
        who = f"{_key_file_name(credential)} reads {scope} only"
        if action in _RUNTIME and function is not None:
            return f"{who}, not {function}"
        return f"{who} and changes nothing"
    who = credential.actor
    if credential.is_key_file:
        who = f"{_key_file_name(credential)} ({credential.role} role)"
    role = credential.role
    ask = "; ask an admin" if action in _ALLOWED[Role.ADMIN] - _EDITOR else ""
    return f"{who} is {_ARTICLE[role]} {role}, {_MAY[role]}{ask}"
