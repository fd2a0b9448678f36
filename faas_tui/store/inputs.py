"""Checking what callers hand the Vault before a transaction starts: names, entries, folders."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from faas_tui.core.errors import ValidationError
from faas_tui.core.names import SYSTEM_PREFIX, secret_name
from faas_tui.core.values import SecretFormat, check_value
from faas_tui.store.slots import not_storable

Entries = dict[str, tuple[str, SecretFormat]]


def lookup_name(typed: str) -> str:
    """A name to look up: normalised like a typed name, SYSTEM_ names allowed."""
    return secret_name(typed, allow_system=True)


def source_dir(given: str | None) -> str | None:
    """The resolved code folder, None for none; refuses what is not a folder."""
    if given is None or given == "":
        return None
    try:
        path = Path(given).expanduser()
        found = path.is_dir()
    except (OSError, RuntimeError):  # ~unknown-user, a name too long
        found = False
    if not found:
        raise ValidationError(f"--source {given!r} is not a folder")
    resolved = str(path.resolve())
    if not_storable(resolved):
        raise ValidationError(f"--source {given!r}: the folder's path is not UTF-8 text")
    return resolved


def validated_entries(entries: Iterable[tuple[str, str, SecretFormat]]) -> Entries:
    """Normalise and check every entry first, so one bad entry refuses them all."""
    result: Entries = {}
    for typed, value, fmt in entries:
        name = secret_name(typed)
        if name.startswith(SYSTEM_PREFIX):
            raise ValidationError(f"the {SYSTEM_PREFIX} prefix is reserved for system secrets")
        try:
            check_value(value, fmt)
        except ValidationError as exc:
            raise ValidationError(f"{name}: {exc}") from None
        if name in result:
            raise ValidationError(f"{name} appears twice (after normalising {typed!r})")
        result[name] = (value, fmt)
    return result
