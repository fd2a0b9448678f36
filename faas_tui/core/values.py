"""Secret values: the Plaintext and JSON formats, size limits, and JSON errors with line and column."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from typing import Any

from faas_tui.core.errors import ValidationError

MAX_VALUE_BYTES = 64 * 1024
# Deeper values parse at `add` but may not at runtime: json's C parser recurses once per level,
# and a reader deep in a web framework's stack has fewer of Python's 1,000 frames left.
MAX_JSON_DEPTH = 128


class SecretFormat(StrEnum):
    PLAINTEXT = "plaintext"
    JSON = "json"

    @property
    def label(self) -> str:
        return "Plaintext" if self is SecretFormat.PLAINTEXT else "JSON"


def value_problem(value: str, fmt: SecretFormat) -> str | None:
    """Why a value cannot be stored in this format, or None when it can."""
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return "the value is not valid text (it contains a lone surrogate)"
    if size == 0:
        return "the value is empty; a secret needs at least 1 byte"
    if size > MAX_VALUE_BYTES:
        return f"the value is {size:,} bytes; the limit is {MAX_VALUE_BYTES:,} bytes (64 KiB)"
    if "\x00" in value:
        return "the value contains a NUL byte, which no environment variable can carry"
    if fmt is SecretFormat.JSON:
        return json_problem(value)
    return None


def check_value(value: str, fmt: SecretFormat) -> str:
    """Return the value unchanged if it can be stored, or raise ValidationError saying why not."""
    problem = value_problem(value, fmt)
    if problem:
        raise ValidationError(problem)
    return value


def json_problem(text: str) -> str | None:
    """Why text is not a JSON object (with line and column for a syntax error), or None."""
    if text.startswith("\ufeff"):
        return "invalid JSON at line 1, column 1: remove the byte-order mark (BOM)"
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        return f"invalid JSON: the value is nested too deeply (more than {MAX_JSON_DEPTH} levels)"
    try:
        parsed = parse_json(text)
    except json.JSONDecodeError as exc:
        return f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    except _DuplicateKey:  # the key is part of the value: never in a message
        return "invalid JSON: a key appears twice in one object"
    except _NotJson as exc:
        return f"invalid JSON: {exc.args[0]} is not a JSON value"
    except _NotFinite:  # the number is part of the value: never in a message
        return "invalid JSON: a number is too large to be a finite number"
    except ValueError:  # int() refuses numbers of more than 4,300 digits
        return "invalid JSON: a number has too many digits"
    except RecursionError:
        return "invalid JSON: the value is nested too deeply"
    if not isinstance(parsed, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        return f"a JSON secret must be an object {{…}}, not {kind.get(type(parsed), 'a number')}"
    try:  # an escaped lone surrogate ("\ud800") parses, but no environment or UTF-8 can carry it
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "invalid JSON: a string holds an escaped lone surrogate (\\ud800–\\udfff)"
    return None


def _nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest, counted without recursion (brackets in strings skipped)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json(text: str) -> Any:
    """Strict JSON: no NaN/Infinity (written or overflowing, like 1e999), no duplicate keys."""
    return json.loads(
        text,
        object_pairs_hook=_unique_object,
        parse_constant=_refuse_constant,
        parse_float=_finite_float,
    )


def decode_value(text: str, fmt: SecretFormat) -> str | dict[str, Any]:
    """The runtime form of a stored value: a str for Plaintext, a dict for JSON."""
    return parse_json(text) if fmt is SecretFormat.JSON else text


def env_text(text: str, fmt: SecretFormat) -> str:
    """The environment-variable form: JSON values as compact JSON text."""
    if fmt is SecretFormat.JSON:
        return json.dumps(parse_json(text), separators=(",", ":"), ensure_ascii=False)
    return text


class _DuplicateKey(ValueError):
    pass


class _NotJson(ValueError):
    pass


class _NotFinite(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = item
    return result


def _refuse_constant(name: str) -> Any:
    raise _NotJson(name)


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _NotFinite(text)
    return number
