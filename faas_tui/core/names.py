"""Secret and function names: normalisation as typed, and validation with one-line reasons."""

from __future__ import annotations

import re

from faas_tui.core.errors import ValidationError

SYSTEM_PREFIX = "SYSTEM_"
MAX_SECRET_NAME = 128

_SEPARATORS = re.compile(r"[\s.\-]+")
_SECRET_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_FUNCTION_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
_SPACES_AND_UNDERSCORES = re.compile(r"[\s_]+")


def normalise_secret_name(typed: str) -> str:
    """`hubspot api key` → `HUBSPOT_API_KEY`: trim, runs of spaces/dashes/dots become `_`, uppercase."""
    return _SEPARATORS.sub("_", typed.strip()).upper()


def secret_name_problem(name: str, *, allow_system: bool = False) -> str | None:
    """Why a normalised name is not valid, or None when it is."""
    if len(name) < 3:
        return "a secret name needs at least 3 characters"
    if len(name) > MAX_SECRET_NAME:
        return f"a secret name has at most {MAX_SECRET_NAME} characters"
    if name[0].isdigit():
        return "a secret name cannot start with a digit"
    if not _SECRET_NAME.fullmatch(name):
        bad = next((c for c in name if not (c.isascii() and (c.isalnum() or c == "_"))), "?")
        return f"a secret name may use only A-Z, 0-9 and _ (not {bad!r})"
    if name.startswith(SYSTEM_PREFIX) and not allow_system:
        return f"the {SYSTEM_PREFIX} prefix is reserved for system secrets"
    return None


def secret_name(typed: str, *, allow_system: bool = False) -> str:
    """Normalise a typed secret name and validate it, or raise ValidationError."""
    name = normalise_secret_name(typed)
    problem = secret_name_problem(name, allow_system=allow_system)
    if problem:
        raise ValidationError(f"invalid secret name {_show(typed)}: {problem}")
    return name


def function_name_problem(name: str) -> str | None:
    """Why a function name is not valid (names are not normalised), or None when it is."""
    if not name:
        return "a function name cannot be empty"
    if len(name) > 63:
        return "a function name has at most 63 characters"
    if not _FUNCTION_NAME.fullmatch(name):
        bad = _function_name_faults(name)
        if bad:
            hint = f"it has {bad}"
            suggestion = _SPACES_AND_UNDERSCORES.sub("-", name.strip()).lower()
            if _FUNCTION_NAME.fullmatch(suggestion):
                hint += f"; try {suggestion!r}"
            return f"a function name may use only a-z, 0-9 and - ({hint})"
        return f"a function name starts with a lowercase letter a-z, not {name[0]!r}"
    return None


def _function_name_faults(name: str) -> str:
    """What in a function name is outside a-z, 0-9 and -, in words: `uppercase letters and a
    space`, `'_'`; empty when every character is allowed."""
    counts: dict[str, int] = {}
    for char in name:
        if not ("a" <= char <= "z" or "0" <= char <= "9" or char == "-"):
            kind = "uppercase" if "A" <= char <= "Z" else "space" if char == " " else repr(char)
            counts[kind] = counts.get(kind, 0) + 1
    words = [_FAULT_WORDS.get(kind, (kind, kind))[n > 1] for kind, n in counts.items()]
    if len(words) > 4:
        words = [*words[:3], "other characters"]
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


_FAULT_WORDS = {
    "uppercase": ("an uppercase letter", "uppercase letters"),
    "space": ("a space", "spaces"),
}


def function_name(name: str) -> str:
    """Validate a function name as given, or raise ValidationError."""
    problem = function_name_problem(name)
    if problem:
        raise ValidationError(f"invalid function name {_show(name)}: {problem}")
    return name


def _show(text: str, limit: int = 40) -> str:
    """A name quoted for an error line: control characters escaped, long names cut."""
    shown = text if len(text) <= limit else text[:limit] + "…"
    return repr(shown)
