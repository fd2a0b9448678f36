"""Plaintext and JSON values: objects only, syntax errors with line and column, 1 byte to 64 KiB."""

from __future__ import annotations

import json

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from faas_tui.core.errors import ValidationError
from faas_tui.core.values import (
    MAX_VALUE_BYTES,
    SecretFormat,
    check_value,
    decode_value,
    env_text,
    json_problem,
    value_problem,
)

PLAIN = SecretFormat.PLAINTEXT
JSON = SecretFormat.JSON


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("[1,2]", "an array"),
        ('"text"', "a string"),
        ("42", "a number"),
        ("1.5", "a number"),
        ("true", "a boolean"),
        ("null", "null"),
    ],
)
def test_json_that_is_not_an_object_is_refused_saying_so(text: str, kind: str) -> None:
    problem = json_problem(text)
    assert problem == f"a JSON secret must be an object {{…}}, not {kind}"
    with pytest.raises(ValidationError, match="must be an object"):
        check_value(text, JSON)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{"a": 1', 1, 8),
        ('{\n  "a": 1,\n  "b": \n}', 4, 1),
        ('{"a" 1}', 1, 6),
        ("", 1, 1),
        ("{'a': 1}", 1, 2),
    ],
)
def test_a_syntax_error_gives_line_and_column(text: str, line: int, column: int) -> None:
    problem = json_problem(text)
    assert problem is not None
    assert problem.startswith(f"invalid JSON at line {line}, column {column}: ")
    assert "\n" not in problem


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("NaN", "NaN is not a JSON value"),
        ('{"a": NaN}', "NaN is not a JSON value"),
        ('{"a": Infinity}', "Infinity is not a JSON value"),
        ('{"a": -Infinity}', "-Infinity is not a JSON value"),
        ('{"a": 1, "a": 2}', "appears twice"),
        ('{"x": {"b": 1, "b": 1}}', "appears twice"),
        ('\ufeff{"a": 1}', "byte-order mark"),
        ("[" * 10_000 + "]" * 10_000, "nested too deeply"),
        ('{"a":' * 10_000 + "1" + "}" * 10_000, "nested too deeply"),
        ('{"a": 1e999}', "finite"),
        ('{"a": ' + "1" * 5000 + "}", "digits"),
    ],
    ids=lambda item: item[:20] if isinstance(item, str) else None,
)
def test_strict_json_refusals_are_one_line(text: str, words: str) -> None:
    problem = json_problem(text)
    assert problem is not None
    assert words in problem
    assert "\n" not in problem
    with pytest.raises(ValidationError):
        check_value(text, JSON)


def test_a_json_object_is_accepted_and_decoded_as_a_dict() -> None:
    text = '{\n  "client_id": "abc",\n  "nested": {"n": [1, 2.5, null, true]}\n}'
    assert check_value(text, JSON) == text
    assert decode_value(text, JSON) == {"client_id": "abc", "nested": {"n": [1, 2.5, None, True]}}
    assert env_text(text, JSON) == '{"client_id":"abc","nested":{"n":[1,2.5,null,true]}}'


def test_plaintext_is_kept_exactly() -> None:
    text = "  line one\nline two\t\n"
    assert check_value(text, PLAIN) == text
    assert decode_value(text, PLAIN) == text
    assert env_text(text, PLAIN) == text


def test_json_looking_text_is_fine_as_plaintext() -> None:
    assert value_problem("[1,2]", PLAIN) is None
    assert value_problem('{"a": 1', PLAIN) is None


@pytest.mark.parametrize("fmt", [PLAIN, JSON])
def test_size_limits_are_one_byte_to_64_kib(fmt: SecretFormat) -> None:
    def sized(n: int) -> str:
        if fmt is PLAIN:
            return "x" * n
        return '{"k":"' + "x" * (n - 8) + '"}'

    assert value_problem(sized(MAX_VALUE_BYTES), fmt) is None
    too_big = value_problem(sized(MAX_VALUE_BYTES + 1), fmt)
    assert too_big is not None and "64 KiB" in too_big and "65,537" in too_big
    assert value_problem("", fmt) == "the value is empty; a secret needs at least 1 byte"
    if fmt is PLAIN:
        assert value_problem("x", fmt) is None


def test_the_limit_counts_utf8_bytes_not_characters() -> None:
    euro = "€"  # 3 bytes
    fits = euro * (MAX_VALUE_BYTES // 3)
    assert value_problem(fits, PLAIN) is None
    assert value_problem(fits + "€", PLAIN) is not None


@pytest.mark.parametrize(
    ("text", "words"),
    [("a\x00b", "NUL"), ("a\ud800b", "lone surrogate")],
)
def test_values_no_environment_can_carry_are_refused(text: str, words: str) -> None:
    problem = value_problem(text, PLAIN)
    assert problem is not None and words in problem


_JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_JSON_VALUE = st.recursive(
    _JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _JSON_VALUE, max_size=6), st.booleans())
@settings(max_examples=examples(200))
def test_any_json_object_round_trips(obj: dict, pretty: bool) -> None:
    text = json.dumps(obj, indent=2 if pretty else None, ensure_ascii=pretty)
    assert json_problem(text) is None
    assert decode_value(text, JSON) == obj
    assert json.loads(env_text(text, JSON)) == obj


@given(st.text(max_size=400))
@settings(max_examples=examples(500))
def test_checking_any_text_never_crashes(text: str) -> None:
    for fmt in (PLAIN, JSON):
        problem = value_problem(text, fmt)
        assert problem is None or ("\n" not in problem and problem)


@given(st.binary(max_size=200))
@settings(max_examples=examples(300))
def test_checking_any_decoded_bytes_as_json_never_crashes(data: bytes) -> None:
    problem = json_problem(data.decode("utf-8", errors="replace"))
    assert problem is None or "\n" not in problem
