"""One exception hierarchy for the whole tool; each class carries the CLI exit code listed in the README.

Messages are one line that says what was wrong and how to fix it. They never contain a secret value.
"""

from __future__ import annotations


class FaasError(Exception):
    """Base of every error the tool reports to a user."""

    exit_code = 1


class ValidationError(FaasError):
    """Input refused: a bad name, value, file or option value."""


class NotFoundError(FaasError):
    """A function, secret, key file or store that does not exist."""


class SecretNotFoundError(NotFoundError, KeyError):
    """A secret name that the function does not have (a `KeyError`, as the runtime API promises)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnboundNameError(SecretNotFoundError, AttributeError):
    """`env.NAME` for a name the deployment does not bind: caught as SecretNotFoundError (like
    `env["NAME"]`) or as AttributeError (so `hasattr` and `getattr(env, name, default)` work)."""


class ConflictError(FaasError):
    """The change clashes with what is stored: a duplicate name, a read-only secret, a busy store."""


class ReadOnlyError(FaasError):
    """The store was opened with --read-only."""


class BindingBrokenError(FaasError):
    """A deployment binds a secret that has since been deleted."""


class StoreError(FaasError):
    """The store cannot be reached or used: missing, locked for too long, unsupported URL."""


class UsageError(FaasError):
    """The command was called wrongly (exit 2)."""

    exit_code = 2


class WrongKeyError(FaasError):
    """A wrong passphrase or key file (exit 3). Detected before anything is read."""

    exit_code = 3


class IntegrityError(FaasError):
    """Tampered or corrupt data (exit 4). The value concerned is never returned."""

    exit_code = 4


class AccessDeniedError(FaasError):
    """The credential is valid, but its role or scope does not permit this (exit 5)."""

    exit_code = 5


def damaged_store(location: str, reason: str) -> IntegrityError | None:
    """The integrity failure (exit 4) for SQLite's reason when a store file is no database, or
    a damaged one; None for any other reason. Shared by the Vault and the runtime reader."""
    if "not a database" in reason or "malformed" in reason:
        return IntegrityError(
            f"{location} is damaged or not a faas-tui store ({reason}); restore a backup"
        )
    return None
