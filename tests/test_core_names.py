"""Secret-name normalisation and validation, and function-name rules."""

from __future__ import annotations

import pytest
from conftest import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st

from faas_tui.core.errors import ValidationError
from faas_tui.core.names import (
    function_name,
    function_name_problem,
    normalise_secret_name,
    secret_name,
    secret_name_problem,
)

VALID_NAME = r"[A-Z_][A-Z0-9_]{2,}"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hubspot api key", "HUBSPOT_API_KEY"),
        ("  stripe-api.key  ", "STRIPE_API_KEY"),
        ("a -- b .. c", "A_B_C"),
        ("db\turl", "DB_URL"),
        ("ALREADY_OK", "ALREADY_OK"),
        ("key_2", "KEY_2"),
    ],
)
def test_typed_names_are_normalised(typed: str, expected: str) -> None:
    assert normalise_secret_name(typed) == expected
    assert secret_name(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("ab", "at least 3 characters"),
        ("1abc", "cannot start with a digit"),
        ("clé api", "only A-Z, 0-9 and _"),
        ("SYSTEM_X", "reserved for system secrets"),
        ("system x", "reserved for system secrets"),
        ("a$b", "only A-Z, 0-9 and _"),
        ("", "at least 3 characters"),
        ("   ", "at least 3 characters"),
        ("A" * 129, "at most 128"),
    ],
)
def test_bad_names_are_refused_with_a_one_line_reason(typed: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        secret_name(typed)
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message
    assert message.startswith("invalid secret name")


def test_a_refused_name_is_shown_escaped_and_cut() -> None:
    with pytest.raises(ValidationError) as caught:
        secret_name("bad\nname$" + "x" * 100)
    message = str(caught.value)
    assert "\n" not in message
    assert "…" in message
    assert len(message) < 200


def test_system_names_are_allowed_where_asked() -> None:
    assert secret_name("SYSTEM_API_TOKEN", allow_system=True) == "SYSTEM_API_TOKEN"


@given(st.text())
@example("hubspot api key")
@example("ß_x")
@example("\x1fabc")
@settings(max_examples=examples(500))
def test_normalisation_is_idempotent(typed: str) -> None:
    once = normalise_secret_name(typed)
    assert normalise_secret_name(once) == once


@given(st.text())
@settings(max_examples=examples(500))
def test_normalised_name_is_valid_or_refused_with_a_reason(typed: str) -> None:
    import re

    name = normalise_secret_name(typed)
    problem = secret_name_problem(name)
    if problem is None:
        assert re.fullmatch(VALID_NAME, name)
        assert not name.startswith("SYSTEM_")
        assert secret_name(typed) == name
    else:
        assert problem and "\n" not in problem
        with pytest.raises(ValidationError):
            secret_name(typed)


_WORD = st.from_regex(r"[a-zA-Z][a-zA-Z0-9]{0,8}", fullmatch=True)
_SEPARATOR = st.from_regex(r"[ .\-]+", fullmatch=True)


@given(
    st.lists(st.tuples(_WORD, _SEPARATOR), min_size=1, max_size=4),
    st.from_regex(r"[ \t]*", fullmatch=True),
    st.from_regex(r"[ \t]*", fullmatch=True),
)
def test_words_and_separator_runs_become_one_underscore(
    parts: list[tuple[str, str]], lead: str, trail: str
) -> None:
    words = [word for word, _ in parts]
    typed = lead + "".join(word + sep for word, sep in parts[:-1]) + words[-1] + trail
    expected = "_".join(words).upper()
    assert normalise_secret_name(typed) == expected


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
@settings(max_examples=examples(300))
def test_function_name_rules_never_crash_and_match_the_spec(name: str) -> None:
    import re

    problem = function_name_problem(name)
    spec_valid = re.fullmatch(r"[a-z][a-z0-9-]{0,62}", name) is not None
    assert (problem is None) == spec_valid
    if problem:
        assert "\n" not in problem


@pytest.mark.parametrize("name", ["billing", "a", "hubspot-sync", "f1", "a" * 63, "a-"])
def test_valid_function_names_are_kept_as_given(name: str) -> None:
    assert function_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "cannot be empty"),
        ("Billing", "only a-z, 0-9 and - (it has an uppercase letter; try 'billing')"),
        ("1fn", "starts with a lowercase letter"),
        ("-fn", "starts with a lowercase letter"),
        ("é", "only a-z, 0-9 and - (it has 'é')"),
        ("my_fn", "only a-z, 0-9 and -"),
        ("my fn", "only a-z, 0-9 and -"),
        ("fné", "only a-z, 0-9 and -"),
        ("a" * 64, "at most 63"),
    ],
)
def test_bad_function_names_are_refused_not_normalised(name: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        function_name(name)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("My Func", "(it has uppercase letters and a space; try 'my-func')"),
        ("my_fn", "(it has '_'; try 'my-fn')"),
        ("Big_Data Job", "(it has uppercase letters, '_' and a space; try 'big-data-job')"),
        ("fn!", "(it has '!')"),
        ("1fn", "starts with a lowercase letter a-z, not '1'"),
    ],
)
def test_a_bad_function_name_says_what_is_wrong_with_it(name: str, reason: str) -> None:
    """Not a rule that the name already keeps ("My Func" does start with a letter)."""
    problem = function_name_problem(name)
    assert problem is not None and reason in problem
    if name[0].isalpha():
        assert "starts with" not in problem
