"""Reading a bulk-import file: a `.env` file (exactly as python-dotenv parses it) or a JSON object.

Every entry is checked before anything is stored; one bad line refuses the whole file.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from faas_tui.core.errors import ValidationError
from faas_tui.core.values import SecretFormat, json_problem, parse_json

Entry = tuple[str, str, SecretFormat]  # (key as written, value, format)
MAX_IMPORT_BYTES = 16 * 1024 * 1024
_ENV_KEY = re.compile(r"(?:export\s+)?([\w.\-]{1,64})")


def read_import_file(path: str | Path) -> list[Entry]:
    """Entries of a JSON object file (named `.json`, or whose text starts with `{`), else `.env`."""
    file = Path(path)
    try:
        raw = file.read_bytes() if file.stat().st_size <= MAX_IMPORT_BYTES else None
    except FileNotFoundError:
        raise ValidationError(f"no file at {file}") from None
    except OSError as exc:
        raise ValidationError(f"cannot read {file}: {exc.strerror}") from None
    if raw is None:
        raise ValidationError(f"{file} is larger than 16 MiB")
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{file} is not UTF-8 text (bad byte at offset {exc.start})"
        ) from None
    if file.suffix.lower() == ".json" or content.lstrip().startswith("{"):
        return parse_json_entries(content)  # no .env line starts with "{"
    return parse_env_entries(content)


def parse_env_entries(content: str) -> list[Entry]:
    """`.env` text through python-dotenv's own parser, without `${VAR}` expansion."""
    from dotenv.parser import parse_stream

    entries: list[Entry] = []
    line = 1
    for binding in parse_stream(io.StringIO(content)):
        if binding.error:
            raise ValidationError(
                f"line {line}: cannot parse {_entry_label(binding.original.string)}; "
                "check its quotes, or fix or remove the line"
            )
        if binding.key is not None:
            if binding.value is None:
                # not named: a line without `=` is often part of an unquoted multi-line value
                raise ValidationError(
                    f"line {line}: a key without a value (write KEY=value, and put a "
                    "multi-line value in quotes)"
                )
            entries.append((binding.key, binding.value, SecretFormat.PLAINTEXT))
        line += binding.original.string.count("\n")
    return entries


def _entry_label(text: str) -> str:
    """The key of a line that failed to parse, for the error; never the rest, which may be a value."""
    key = text.split("=", 1)[0].strip() if "=" in text else ""
    match = _ENV_KEY.fullmatch(key)
    if match:
        return f"the entry for {match.group(1)}"
    return "this line"


def parse_json_entries(content: str) -> list[Entry]:
    """A JSON object: string values become Plaintext secrets, object values JSON secrets."""
    problem = json_problem(content)
    if problem:
        raise ValidationError(problem.replace("a JSON secret", "an import file"))
    entries: list[Entry] = []
    for key, value in parse_json(content).items():
        if isinstance(value, str):
            entries.append((key, value, SecretFormat.PLAINTEXT))
        elif isinstance(value, dict):
            entries.append((key, json.dumps(value, ensure_ascii=False), SecretFormat.JSON))
        else:
            raise ValidationError(
                f"{key!r}: an imported value must be a string or an object, not {type(value).__name__}"
            )
    return entries
