"""Import files: `.env` read exactly as python-dotenv reads it (no `${VAR}` expansion), JSON objects."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import examples
from dotenv import dotenv_values
from dotenv.parser import parse_stream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faas_tui.core.errors import ValidationError
from faas_tui.core.imports import parse_env_entries, parse_json_entries, read_import_file
from faas_tui.core.values import SecretFormat

PLAIN = SecretFormat.PLAINTEXT
CANARY = "sk_live_CANARY_4f9a2b"

ENV_SAMPLE = r"""# a comment line
   # an indented comment

export STRIPE_KEY=sk_test_123
PLAIN=unquoted value   # trailing comment
DOUBLE="double # not a comment"
SINGLE='single \n stays raw'
ESCAPES="tab\tnewline\nquote\"back\\slash"
MULTI="first line
second line"
MULTI_SINGLE='a
b'
REF=${STRIPE_KEY}
REF_QUOTED="${STRIPE_KEY}-x"
  SPACED  =  spaced value
EQUALS=a=b=c
EMPTY_QUOTED_LATER="x"
UNICODE=clé ✓
"""


def _dotenv(text: str) -> dict[str, str | None]:
    return dict(dotenv_values(stream=io.StringIO(text), interpolate=False))


def test_env_sample_is_read_exactly_as_python_dotenv_reads_it() -> None:
    entries = parse_env_entries(ENV_SAMPLE)
    assert dict((k, v) for k, v, _ in entries) == _dotenv(ENV_SAMPLE)
    assert [k for k, _, _ in entries] == list(_dotenv(ENV_SAMPLE))
    assert all(fmt is PLAIN for _, _, fmt in entries)
    values = {k: v for k, v, _ in entries}
    assert values["STRIPE_KEY"] == "sk_test_123"
    assert values["PLAIN"] == "unquoted value"
    assert values["DOUBLE"] == "double # not a comment"
    assert values["SINGLE"] == r"single \n stays raw"
    assert values["ESCAPES"] == 'tab\tnewline\nquote"back\\slash'
    assert values["MULTI"] == "first line\nsecond line"
    assert values["REF"] == "${STRIPE_KEY}"  # no ${VAR} expansion
    assert values["REF_QUOTED"] == "${STRIPE_KEY}-x"
    assert values["SPACED"] == "spaced value"
    assert values["EQUALS"] == "a=b=c"


# Pieces of .env lines, including awkward ones, from which Hypothesis builds whole files.
_KEY = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,12}", fullmatch=True)
_BARE = st.text(
    alphabet=st.characters(blacklist_characters="\n\r\"'#\\ \x00", codec="utf-8"), max_size=12
)
_INNER = st.text(alphabet=st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=15)
_VALUE = st.one_of(
    _BARE,
    _BARE.map(lambda v: f"{v} # comment"),
    _INNER.map(lambda v: '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    _INNER.map(lambda v: "'" + v.replace("'", "") + "'"),
    st.sampled_from(['"a\\nb\\tc"', "'a\\nb'", '"${HOME}"', "${HOME}", '"x\ny"', "'p\nq'", '"é"']),
    _INNER,  # raw, possibly broken text
)
_LINE = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", _KEY, _VALUE),
    st.builds(lambda k, v: f"export {k}={v}", _KEY, _VALUE),
    st.builds(lambda k, v: f"  {k} = {v}", _KEY, _VALUE),
    st.builds(lambda c: f"# {c}", _BARE),
    st.just(""),
    _INNER,  # anything at all
)


@given(st.lists(_LINE, max_size=8), st.sampled_from(["\n", "\r\n"]))
@settings(max_examples=examples(400), suppress_health_check=[HealthCheck.too_slow])
def test_env_files_read_like_dotenv_or_are_refused_whole(lines: list[str], newline: str) -> None:
    text = newline.join(lines) + newline
    bindings = list(parse_stream(io.StringIO(text)))
    dotenv_refuses = any(b.error or (b.key is not None and b.value is None) for b in bindings)
    try:
        entries = parse_env_entries(text)
    except ValidationError as exc:
        assert dotenv_refuses, f"refused a file dotenv reads: {exc}"
        assert "\n" not in str(exc) and str(exc).startswith("line ")
        return
    assert not dotenv_refuses
    assert dict((k, v) for k, v, _ in entries) == _dotenv(text)


@given(st.text(max_size=300))
@settings(max_examples=examples(300))
def test_env_parsing_of_any_text_never_crashes(text: str) -> None:
    try:
        entries = parse_env_entries(text)
    except ValidationError as exc:
        assert "\n" not in str(exc)
    else:
        assert dict((k, v) for k, v, _ in entries) == _dotenv(text)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f'A=1\nB=2\nBROKEN="{CANARY}\n', 3),
        (f"A=1\n\n# c\nBROKEN='{CANARY}\n", 4),
        (f'A="multi\nline"\nB="x" {CANARY}\n', 3),
        (f"A=1\n{CANARY} oops\n", 2),
    ],
)
def test_a_bad_line_refuses_the_file_with_its_number_and_without_its_value(
    text: str, line: int
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_env_entries(text)
    message = str(caught.value)
    assert message.startswith(f"line {line}: ")
    assert CANARY not in message
    assert "\n" not in message


def test_a_key_without_a_value_is_refused_without_repeating_the_line() -> None:
    # a line without `=` is often part of an unquoted multi-line value (a PEM key): not echoed
    with pytest.raises(ValidationError, match=r"^line 2: a key without a value \(write KEY=value"):
        parse_env_entries("A=1\nLONELY\n")


def test_duplicate_keys_are_kept_in_order_for_the_vault_to_refuse() -> None:
    # dotenv keeps the last; the import refuses the file (the Vault checks, see test_store_vault).
    assert [v for _, v, _ in parse_env_entries("A=1\nA=2\n")] == ["1", "2"]


def test_json_import_file_gives_plaintext_and_json_entries(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(
        json.dumps({"stripe key": "sk_1", "S3_CREDENTIALS": {"id": "a", "secret": "b"}}),
        encoding="utf-8",
    )
    entries = read_import_file(path)
    assert entries[0] == ("stripe key", "sk_1", PLAIN)
    name, text, fmt = entries[1]
    assert (name, fmt) == ("S3_CREDENTIALS", SecretFormat.JSON)
    assert json.loads(text) == {"id": "a", "secret": "b"}


def test_a_json_object_file_is_recognised_by_its_text_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "secrets.txt"
    path.write_text('\n  {"stripe key": "sk_1"}\n', encoding="utf-8")
    assert read_import_file(path) == [("stripe key", "sk_1", PLAIN)]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[1, 2]", "an import file must be an object"),
        ('"text"', "an import file must be an object"),
        ('{"a": 1', "line 1, column 8"),
        ('{"A": 1}', "must be a string or an object, not int"),
        ('{"A": ["x"]}', "not list"),
        ('{"A": null}', "not NoneType"),
        ('{"A": "x", "A": "y"}', "appears twice"),
        ('{"A": NaN}', "NaN"),
    ],
)
def test_bad_json_import_files_are_refused_in_one_line(content: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_json_entries(content)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_env_file_is_read_from_disk_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(ENV_SAMPLE, encoding="utf-8")
    assert dict((k, v) for k, v, _ in read_import_file(path)) == dict(
        dotenv_values(path, interpolate=False)
    )


def test_unreadable_import_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no file at"):
        read_import_file(tmp_path / "missing.env")
    latin = tmp_path / "latin.env"
    latin.write_bytes(b"A=caf\xe9\n")
    with pytest.raises(ValidationError, match=r"not UTF-8 text \(bad byte at offset 5\)"):
        read_import_file(latin)
    huge = tmp_path / "huge.env"
    with huge.open("wb") as handle:
        handle.truncate(16 * 1024 * 1024 + 1)
    with pytest.raises(ValidationError, match="larger than 16 MiB"):
        read_import_file(huge)
    with pytest.raises(ValidationError, match="cannot read"):
        read_import_file(tmp_path)
