"""User-facing texts that both the Vault and the runtime readers emit, written once.

Each is one line that says what was wrong and what to do; none ever holds a value.
"""

from __future__ import annotations

from collections.abc import Iterable

REVOKED_KEY_FILE = "this key file was revoked: ask for a new one (`faas-tui key-file add`)"
WRONG_STORE_KEY_FILE = "wrong key file: it belongs to another store; nothing changed"
NO_PASSPHRASE_SLOT = "the store has no passphrase slot: it is damaged"  # noqa: S105  # nosec B105
KEY_NEEDED = "a passphrase or a key file is needed to unlock the store"
REKEYED = (
    "the store's key changed since this client unlocked it (`faas-tui rotate-key` or "
    "`faas-tui passwd`): create a new client"
)


def no_function(name: str) -> str:
    return f"no function named {name!r}: see `faas-tui functions list`"


def no_secret(function: str, name: str) -> str:
    return f"{function} has no secret named {name}: see `faas-tui secrets list {function}`"


def no_store(location: str) -> str:
    return f"no store at {location}: create one with `faas-tui init`"


def schema_mismatch(found: object, expected: int) -> str:
    return f"this store has schema {found}; this faas-tui reads {expected}"


def store_busy(timeout_s: float) -> str:
    return f"the store is busy: another writer held it for more than {timeout_s:g} s; try again"


def never_deployed(function: str) -> str:
    return f"{function} has never been deployed: run `faas-tui deploy {function}` first"


def binding_broken(function: str, number: int, names: Iterable[str]) -> str:
    return (
        f"{function} deployment #{number} binds {', '.join(names)}, which was deleted: "
        f"update the code and redeploy (`faas-tui deploy {function}`)"
    )


def version_missing(function: str, name: str, version: int) -> str:
    return f"{function}/{name} version {version} is missing from the store"
