"""Where the toolbelt reads from: the store and key named by arguments or variables, and the reader.

A SQLite store and a `postgresql+psycopg://` store are read by the lean readers (stdlib `sqlite3` or
psycopg, and AES-GCM; no SQLAlchemy), which keep a function's cold start short; any other server URL
is read through the Vault service.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple, Protocol

from faas_tui.core.errors import ValidationError

PLAINTEXT = "plaintext"  # SecretFormat values, as stored (core.values is imported only for JSON)
JSON = "json"


class StoredValue(NamedTuple):
    """One decrypted value as the store holds it: the text and its authenticated format."""

    name: str
    kind: str  # a SecretKind value
    text: str
    format: str


class Deployed(NamedTuple):
    """A function's active deployment: its number and the values it binds, by name."""

    number: int
    values: dict[str, StoredValue]


class Reader(Protocol):
    """What SecretClient and bound_env need from a store."""

    location: str  # for messages and repr: a file path, or a server URL without password

    def check_function(self, function: str) -> None:
        """Raise NotFoundError when the function does not exist, IntegrityError when it fails
        its check."""

    def read(self, function: str, name: str) -> StoredValue:
        """The current value of a secret (name already normalised)."""

    def deployed(self, function: str) -> Deployed:
        """The active deployment's binding; refuses never-deployed and broken bindings."""

    def close(self) -> None: ...


def open_reader(
    store: str | None = None,
    key_file: str | os.PathLike[str] | None = None,
    passphrase: str | None = None,
) -> Reader:
    """Unlock the store named by the arguments, else by FAAS_TUI_STORE / FAAS_TUI_KEY_FILE /
    FAAS_TUI_PASSPHRASE. An explicit argument wins over every variable; a key file wins over a
    passphrase given the same way.
    """
    if key_file is None and passphrase is None:
        key_file = os.environ.get("FAAS_TUI_KEY_FILE") or None
        if key_file is None:
            passphrase = os.environ.get("FAAS_TUI_PASSPHRASE")
    if key_file is None and passphrase is None:
        raise ValidationError(
            "no key to unlock the store: set FAAS_TUI_KEY_FILE to a key file "
            "(`faas-tui key-file add PATH`) or pass key_file=…"
        )
    given = store or os.environ.get("FAAS_TUI_STORE") or None
    if given is not None and postgres_url(given):
        from faas_tui.toolbelt.pg_reader import PgReader

        return PgReader(given, key_file=key_file, passphrase=passphrase)
    path = sqlite_file(given)
    if path is not None:
        from faas_tui.toolbelt.sqlite_reader import SqliteReader

        return SqliteReader(path, key_file=key_file, passphrase=passphrase)
    from faas_tui.toolbelt.vault_reader import VaultReader

    assert given is not None
    return VaultReader(given, key_file=key_file, passphrase=passphrase)


def postgres_url(given: str) -> bool:
    """Whether the lean PostgreSQL reader opens this store: a well-formed `postgresql+psycopg://`
    URL. Anything else (and a malformed one) goes the Vault's way, which refuses it with its text."""
    if not given.startswith("postgresql+psycopg://") or "\x00" in given:
        return False
    from urllib.parse import urlsplit

    try:
        _ = urlsplit(given).port  # raises ValueError for a port that is not a number
    except ValueError:
        return False
    return True


def sqlite_file(given: str | None) -> str | None:
    """The file of a SQLite store, or None for a server URL. Resolves and validates exactly like
    `--store` and the Vault do (both runtime readers see the same refusals)."""
    from faas_tui.store import location

    url = location.resolve_store(given)
    path = location.sqlite_path(url)
    return None if path is None else str(path)


def decode(text: str, fmt: str) -> str | dict[str, Any]:
    """The runtime form of a value: a str for Plaintext, a dict for JSON (core.values rules)."""
    if fmt == PLAINTEXT:
        return text
    from faas_tui.core.values import SecretFormat, decode_value

    return decode_value(text, SecretFormat(fmt))


def copy_json(value: Any) -> Any:
    """A copy of a decoded JSON value, so a caller's changes never reach the cache."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value
