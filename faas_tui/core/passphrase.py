"""The rule a new passphrase must follow (init, passwd, the app's unlock screen)."""

from __future__ import annotations

MIN_PASSPHRASE = 8


def passphrase_problem(passphrase: str) -> str | None:
    """Why a new passphrase is refused, or None."""
    if len(passphrase) < MIN_PASSPHRASE:
        return f"a passphrase needs at least {MIN_PASSPHRASE} characters"
    if "\x00" in passphrase:
        return "a passphrase cannot contain a NUL character"
    return None
