"""Hostile input through the Vault and the CLI, on each backend: accepted and read back exactly, or
refused with exactly one `error:` line (exit 1 or 2) — never a crash, never a change to the store.

The CLI cases run `faas_tui.cli.main` in-process (hundreds of cases in seconds); a representative
subset, including argv bytes that are not UTF-8, runs through the installed console script.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import PASSPHRASE, examples
from dotenv import dotenv_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faas_tui import cli
from faas_tui.cli import parser, prompts
from faas_tui.core.errors import FaasError
from faas_tui.core.names import function_name_problem, normalise_secret_name
from faas_tui.core.values import SecretFormat
from faas_tui.store.vault import Vault
from reliability._support import (
    Run,
    assert_one_error_line,
    backend_of,
    dump_store,
    record_figure,
    run_cli,
)

DEEP = 10_000

HOSTILE_NAMES = [
    "",
    " ",
    "\x00",
    "API\x00KEY",
    "AB",
    "a" * 10_000,
    "A" * 129,
    "A" * 128,
    "'; DROP TABLE secret; --",
    "KEY' OR '1'='1",
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\system32",
    "ＡＰＩ＿ＫＥＹ",
    "مفتاح_API",
    "\u202eKEY_NAME",
    "KEY\u200bNAME",
    "KEY\nNAME",
    "KEY\r\nNAME",
    "key\tname",
    "key\u2028name",
    "🔑_KEY",
    "KEY_🔑",
    "$(rm -rf /)",
    "`id`",
    "${HOME}",
    "KEY;ls",
    "KEY|cat",
    "KEY && x",
    "SYSTEM_API_TOKEN",
    "system api token",
    "1KEY",
    "___",
    "ſecret_key",
    "ﬃ_key",
    "\ufeffKEY",
    "KEY\x1b[31m",
    "%s%s%n",
    "{0}{1}",
    "__proto__",
    "null",
    "a.b-c d",
    "  stripe api key  ",
]

HOSTILE_FUNCTIONS = [
    "",
    "A",
    "billing\x00",
    "-x",
    "x" * 64,
    "x" * 63,
    "billing\n",
    "bill ing",
    "../x",
    "Ｂilling",
    "bıllıng",
    "billing;rm -rf",
    "$(id)",
    "münchen",
    "a_b",
    "'; DROP TABLE function; --",
    "\u202ebilling",
    "b🔑",
    "9lives",
    "ok-name-2",
]

PLAIN_VALUES: list[bytes] = [
    b"",
    b"\n",
    b"\x00",
    b"a\x00b",
    b"x" * 65_537,
    b"x" * 65_536,
    "🔑🔒 emoji".encode(),
    "\u202eRTL override".encode(),
    "שלום مرحبا".encode(),
    b"line1\nline2\n",
    b"\r\n",
    b" ",
    b"\xed\xa0\x80",  # a lone surrogate, as UTF-8 bytes: not UTF-8
    b"\xff\xfe",
    b"'; DROP TABLE secret_version; --",
    b"$(rm -rf ~) `id` ${HOME}",
    b"\x1b[2J\x1b]52;c;aGk=\x07",
    "\ufeffBOM first".encode(),
    b"\\x00 \\u0000",
]

JSON_VALUES: list[bytes] = [
    b"[" * DEEP + b"]" * DEEP,
    b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    b'{"a":' * 129 + b"1" + b"}" * 129,
    b'{"a":' * 100 + b"1" + b"}" * 100,
    b'{"a": NaN}',
    b'{"a": -Infinity}',
    b'{"a": 1e999}',
    b'{"a": 1, "a": 2}',
    b'{"x": {"b": 1, "b": 1}}',
    '\ufeff{"a": 1}'.encode(),
    b'{"a": "\\ud800"}',
    b'{"\\udfff": 1}',
    b'{"a": "\\u0000"}',
    b"[]",
    b"1",
    b'"s"',
    b"null",
    b"{",
    b'{"a": 1} x',
    b'{"a": 1,}',
    b"{'a': 1}",
    b'{"a": "\xff"}',
    '{"ключ": "значение", "🔑": ["\u202e", {"n": -0.0}]}'.encode(),
    b'{"big": 123456789012345678901234567890, "f": 1.5e300}',
    b'{"n": ' + b"9" * 5000 + b"}",
]

ENV_FILES: list[str] = [
    "",
    "# only a comment\n",
    "KEY_ONE=plain\nexport KEY_TWO='single $HOME'\nKEY_THREE=\"multi\nline\"\n",
    'KEY_ONE="unterminated\n',
    "KEY_ONE\n",
    "=novalue\n",
    "KEY_ONE=a\nkey-one=b\n",
    "KEY_ONE=${HOME}\nKEY_TWO=$(id)\n",
    "\ufeffKEY_ONE=bom\n",
    "SYSTEM_TOKEN=x\n",
    "1KEY=x\n",
    "KEY_ONE=\n",
    "KEY_ONE=a\x00b\n",
    "ＫＥＹ=x\n",
    "KEY_ONE='it''s'\n",
    'KEY_ONE="\\u00e9 \\n esc"\n',
    "KEY_ONE=🔑\nKEY_TWO=\u202eRTL\n",
    "KEY_ONE=" + "x" * 70_000 + "\n",
    "   \n\n\t\n",
    "export\n",
    "KEY_ONE = spaced = value\n",
]

OPTION_CASES: list[list[str]] = [
    ["--bogus"],
    ["secrets"],
    ["secrets", "list"],
    ["secrets", "list", "billing", "--format", "xml"],
    ["secrets", "list", "billing", "--format", ""],
    ["audit", "--stale-days", "-1"],
    ["audit", "--stale-days", "abc"],
    ["audit", "--stale-days", "99999999999"],
    ["audit", "--stale-days", "1e3"],
    ["audit", "--stale-days", "10000000"],
    ["audit", "--stale-days", "0"],
    ["audit", "--format", "csv"],
    ["log", "--format", "csv"],
    ["functions", "list", "--format", "json", "--format", "xml"],
    ["key-file", "revoke", ""],
    ["key-file", "revoke", "'; DROP TABLE key_slot; --"],
    ["key-file", "list", "--format", "yaml"],
    ["secrets", "add", "billing", "VALID_NAME", "--file", "/nonexistent/file"],
    ["secrets", "add", "billing", "VALID_NAME", "--file", "/"],
    ["secrets", "add", "billing", "VALID_NAME", "--file", "/dev/null"],
    ["secrets", "add", "billing", "VALID_NAME", "--json", "--file", "/dev/null"],
    ["secrets", "update", "billing", "VALID_NAME", "--json", "--plaintext"],
    ["secrets", "update", "billing", "SYSTEM_API_TOKEN"],
    ["secrets", "delete", "billing", "SYSTEM_API_TOKEN", "--yes"],
    ["secrets", "delete", "billing", "NOT_THERE"],
    ["secrets", "verify", "billing", "NOT_THERE"],
    ["secrets", "import", "billing", "/nonexistent.env"],
    ["secrets", "import", "billing", "/"],
    ["functions", "add", "newfn", "--source", "/nonexistent"],
    ["functions", "add", "newfn", "--source", "/dev/null"],
    ["functions", "delete", "nope", "--yes"],
    ["functions", "delete", "billing"],
    ["deploy", "nope"],
    ["run", "billing"],
    ["run", "billing", "--"],
    ["run", "billing", "--bogus", "--", "true"],
    ["run", "billing", "--store"],
    ["run", "nope", "--", "true"],
    ["system-secrets", "nope"],
    ["--key-file", "/nonexistent", "secrets", "list", "billing"],
    ["--key-file", "/", "secrets", "list", "billing"],
    ["--key-file", "/dev/null", "secrets", "list", "billing"],
    ["--read-only", "secrets", "list", "billing"],
    ["passwd"],
    ["key-file", "add", "/"],
    ["key-file", "add", "/nonexistent/dir/key"],
    ["key-file", "add", "/nonexistent/dir/key", "--function", "billing", "--role", "admin"],
    ["key-file", "add", "/tmp/k.key", "--role", "runtime"],
    ["key-file", "add", "/tmp/k.key", "--function", "'; DROP TABLE key_slot; --"],
    ["operators", "add", "someone"],
    ["operators", "add", "someone", "--role", "root"],
    ["operators", "add", "../../etc/passwd", "--role", "admin"],
    ["operators", "remove", "", "--yes"],
    ["operators", "remove", "'; DROP TABLE key_slot; --", "--yes"],
    ["check", "--format", "xml"],
]

STORE_URLS: list[str] = [
    " ",
    "mysql://u@h/db",
    "sqlite://",
    "sqlite:///",
    "sqlite:///:memory:",
    "sqlite:////nonexistent/dir/x.db",
    "postgresql+asyncpg://u@127.0.0.1/db",
    "postgresql+psycopg://nouser@127.0.0.1:1/db",
    "postgresql+psycopg://u:pw@@h:notaport/db",
    "postgresql+psycopg://u@[::1/db",
    "http://example.com/store",
    "file:///etc/passwd",
    "/dev/null",
    "/dev/null/x.db",
    "/proc/1/nope/store.db",
    "/nonexistent/dir/store.db",
    "~nonexistent-user/store.db",
    "relative/dir/store.db",
    "'; DROP TABLE secret; --",
    "$(id).db",
    "a" * 5000,
    "🔑/store.db",
]


# --- the in-process CLI ------------------------------------------------------------------------


@dataclass
class Cli:
    """`faas_tui.cli.main` in this process: no terminal, no exec, no app."""

    store: str
    tried: int = 0

    def __call__(self, *argv: str, stdin: bytes = b"") -> Run:
        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdin
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
        self.tried += 1
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = cli.main(list(argv))
                except SystemExit as exc:  # argparse's exits (usage errors, --help)
                    code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.stdin = saved
        return Run(code, out.getvalue(), err.getvalue(), 0.0)

    def accepted_or_refused(
        self, *argv: str, stdin: bytes = b"", codes: tuple[int, ...] = (1, 2)
    ) -> Run | None:
        """Run one case; a refusal must be one line and leave the store exactly as it was.

        Returns the result when the case was accepted (exit 0), None when it was refused.
        """
        before = dump_store(self.store)
        result = self(*argv, stdin=stdin)
        assert "Traceback" not in result.out + result.err
        if result.code == 0:
            return result
        assert_one_error_line(result, codes)
        assert dump_store(self.store) == before, (argv, result.err)
        return None


class _NoExec(Exception):
    pass


@pytest.fixture
def incli(store: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Cli]:
    for name in list(os.environ):
        if name.startswith("FAAS_TUI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FAAS_TUI_STORE", store)
    monkeypatch.setenv("FAAS_TUI_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("FAAS_TUI_NEW_PASSPHRASE", "x")  # too short: passwd is refused
    monkeypatch.setattr(prompts, "has_terminal", lambda: False)
    monkeypatch.setattr(parser, "cmd_app", _refuse_app)
    monkeypatch.setattr(os, "execvpe", _refuse_exec)
    monkeypatch.chdir(tmp_path)
    runner = Cli(store)
    yield runner


@pytest.fixture
def reader(store: str) -> Iterator[Vault]:
    """One unlocked Vault to read accepted cases back (each read is a fresh transaction)."""
    with _vault(store) as vault:
        yield vault


def _refuse_app(args: object) -> int:
    raise AssertionError("a hostile case opened the app")


def _refuse_exec(*args: object) -> None:
    raise _NoExec()


def _vault(store: str) -> Vault:
    return Vault.open(store, passphrase=PASSPHRASE)


# --- names, functions, values, .env files, options, store URLs through the CLI -----------------


def test_hostile_secret_names_through_the_cli(incli: Cli, store: str, reader: Vault) -> None:
    accepted = 0
    for typed in HOSTILE_NAMES:
        if "\x00" in typed:  # argv cannot carry NUL; the Vault test below covers it
            continue
        if incli.accepted_or_refused("secrets", "add", "billing", typed, stdin=b"v4lue"):
            accepted += 1
            with contextlib.nullcontext(reader) as vault:
                name = normalise_secret_name(typed)
                assert vault.read_secret_text("billing", name) == ("v4lue", SecretFormat.PLAINTEXT)
    assert 0 < accepted < len(HOSTILE_NAMES)
    record_figure("hostile", backend_of(store), incli.tried, kind="cli names")


def test_hostile_function_names_through_the_cli(incli: Cli, store: str, reader: Vault) -> None:
    for typed in HOSTILE_FUNCTIONS:
        if "\x00" in typed:
            continue
        result = incli.accepted_or_refused("functions", "add", typed)
        assert (result is not None) == (function_name_problem(typed) is None), typed
        if result is not None:
            with contextlib.nullcontext(reader) as vault:
                assert vault.get_function(typed).name == typed
        if result is None:
            assert incli.accepted_or_refused("secrets", "list", typed) is None
    record_figure("hostile", backend_of(store), incli.tried, kind="cli functions")


@pytest.mark.parametrize("fmt", ["plaintext", "json"])
def test_hostile_values_through_the_cli(incli: Cli, store: str, reader: Vault, fmt: str) -> None:
    values = PLAIN_VALUES + JSON_VALUES
    for i, raw in enumerate(values):
        name = f"VALUE_{i}"
        flags = ["--json"] if fmt == "json" else []
        if not incli.accepted_or_refused("secrets", "add", "billing", name, *flags, stdin=raw):
            continue
        expected = raw.decode("utf-8")
        expected = expected[:-2] if expected.endswith("\r\n") else expected.removesuffix("\n")
        with contextlib.nullcontext(reader) as vault:
            text, stored_format = vault.read_secret_text("billing", name)
            assert text == expected and stored_format.value == fmt
            if fmt == "json":
                assert vault.read_secret("billing", name) == json.loads(expected)
        if i % 4 == 0:  # `verify` reads the value back through the CLI as well
            assert incli("secrets", "verify", "billing", name, stdin=raw).out.strip() == "match"
    record_figure("hostile", backend_of(store), incli.tried, kind=f"cli {fmt} values")


def test_accepted_hostile_values_reach_a_deployed_command_exactly(
    store: str, env: dict[str, str], tmp_path: Path
) -> None:
    """`run` hands every accepted value to the command's environment, byte for byte."""
    chosen = [v for v in PLAIN_VALUES if _storable(v)][:8] + [JSON_VALUES[-3]]
    with _vault(store) as vault:
        for i, raw in enumerate(chosen):
            fmt = SecretFormat.JSON if raw is JSON_VALUES[-3] else SecretFormat.PLAINTEXT
            vault.add_secret("billing", f"RUN_{i}", raw.decode(), fmt)
        vault.deploy("billing")
    script = "import os, json; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith('RUN_')}))"
    result = run_cli("run", "billing", "--", sys.executable, "-c", script, env=env)
    assert result.code == 0, result.err
    seen = json.loads(result.out)
    for i, raw in enumerate(chosen):
        if raw is JSON_VALUES[-3]:
            assert json.loads(seen[f"RUN_{i}"]) == json.loads(raw)
        else:
            assert seen[f"RUN_{i}"] == raw.decode()


def _storable(raw: bytes) -> bool:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return 0 < len(text.encode()) <= 65_536 and "\x00" not in text


def test_hostile_env_files_through_the_cli(
    incli: Cli, store: str, reader: Vault, tmp_path: Path
) -> None:
    for i, content in enumerate(ENV_FILES):
        path = tmp_path / f"hostile{i}.env"
        path.write_text(content, encoding="utf-8")
        if not incli.accepted_or_refused("secrets", "import", "billing", str(path), "--overwrite"):
            continue
        expected = dotenv_values(path, interpolate=False)
        with contextlib.nullcontext(reader) as vault:
            for key, value in expected.items():
                assert value is not None
                name = normalise_secret_name(key)
                assert vault.read_secret_text("billing", name)[0] == value, (i, key)
    record_figure("hostile", backend_of(store), incli.tried, kind="cli .env files")


def test_hostile_option_values_through_the_cli(incli: Cli, store: str) -> None:
    for argv in OPTION_CASES:
        try:
            incli.accepted_or_refused(*argv)
        except _NoExec:
            pytest.fail(f"{argv} reached exec")
    record_figure("hostile", backend_of(store), incli.tried, kind="cli options")


def test_hostile_store_urls_through_the_cli(incli: Cli, store: str, tmp_path: Path) -> None:
    not_a_db = tmp_path / "not-a-database.db"
    not_a_db.write_bytes(b"this is not SQLite " * 100)
    os.chmod(not_a_db, 0o644)
    # a file that is there but is no SQLite database is a damaged store: exit 4, like tampering
    damaged = [str(not_a_db), f"sqlite:///{not_a_db}"]
    for url in [*STORE_URLS, *damaged, str(tmp_path)]:
        before = sorted(p.name for p in tmp_path.rglob("*"))
        codes = (4,) if url in damaged else (1, 2)
        refused = incli.accepted_or_refused("--store", url, "functions", "add", "x", codes=codes)
        assert refused is None, url
        assert sorted(p.name for p in tmp_path.rglob("*")) == before, url  # nothing created
    assert not_a_db.read_bytes() == b"this is not SQLite " * 100
    assert os.stat(not_a_db).st_mode & 0o777 == 0o644  # not even its mode changed
    record_figure("hostile", backend_of(store), incli.tried, kind="cli store URLs")


# --- the same through the real console script (argv bytes that are not UTF-8 included) --------

SUBPROCESS_CASES: list[tuple[list[str | bytes], bytes]] = [
    (["secrets", "add", "billing", b"KEY_\xff\xfe"], b"v"),
    (["secrets", "add", "billing", "a" * 10_000], b"v"),
    (["secrets", "add", "billing", "VALUE_DEEP", "--json"], b"[" * DEEP + b"]" * DEEP),
    (["secrets", "add", "billing", "VALUE_SURROGATE", "--json"], b'{"a": "\\ud800"}'),
    (["secrets", "list", b"bill\xffing"], b""),
    (["functions", "add", b"\xc3\x28"], b""),
    (["--store", b"/tmp/\xff/store.db", "secrets", "list", "billing"], b""),
    (["--store", "postgresql+psycopg://u:pw@@h:notaport/db", "audit"], b""),
    (["--key-file", b"/tmp/\xff.key", "audit"], b""),
    (["run", "billing", "--bogus", "--", "true"], b""),
]


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_hostile_cases_through_the_console_script(store: str, env: dict[str, str]) -> None:
    before = dump_store(store)
    for argv, stdin in SUBPROCESS_CASES:
        result = run_cli(*argv, env=env, input=stdin)  # type: ignore[arg-type]
        assert_one_error_line(result)
        assert dump_store(store) == before, argv
    record_figure("hostile", "sqlite", len(SUBPROCESS_CASES), kind="console script")


# --- Hypothesis, through the Vault ------------------------------------------------------------

HYPOTHESIS = settings(
    max_examples=examples(50),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

any_text = st.text(st.characters(exclude_categories=()), max_size=300) | st.text(max_size=40)
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text()
json_values = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _texts(values: list[bytes]) -> list[str]:
    """The byte cases that are text (lone surrogates kept, as a Python caller could pass them)."""
    texts = []
    for raw in values:
        with contextlib.suppress(UnicodeDecodeError):
            texts.append(raw.decode("utf-8", "surrogatepass"))
    return texts


def _refused_cleanly(exc: FaasError) -> None:
    message = str(exc)
    assert message and "\n" not in message and "\r" not in message


class VaultProbe:
    """One open Vault; every call either works and reads back, or refuses and changes nothing."""

    def __init__(self, store: str) -> None:
        self.store = store
        self.vault = _vault(store)
        self.tried = 0

    def attempt(self, action, *args):  # type: ignore[no-untyped-def]
        self.tried += 1
        before = dump_store(self.store)
        try:
            return action(*args), True
        except FaasError as exc:
            _refused_cleanly(exc)
            assert dump_store(self.store) == before, args
            return None, False


@pytest.fixture
def probe(store: str) -> Iterator[VaultProbe]:
    p = VaultProbe(store)
    yield p
    p.vault.close()


def test_hypothesis_secret_names_through_the_vault(probe: VaultProbe) -> None:
    @HYPOTHESIS
    @given(st.sampled_from(HOSTILE_NAMES) | any_text)
    def check(typed: str) -> None:
        info, ok = probe.attempt(probe.vault.add_secret, "billing", typed, "v")
        if ok:
            assert info.name == normalise_secret_name(typed)
            assert probe.vault.read_secret("billing", typed) == "v"
        probe.attempt(probe.vault.get_secret, "billing", typed)
        probe.attempt(probe.vault.read_secret, typed, "API_KEY")  # a hostile *function* name

    check()
    record_figure("hostile", backend_of(probe.store), probe.tried, kind="vault names")


def test_hypothesis_function_names_through_the_vault(probe: VaultProbe) -> None:
    @HYPOTHESIS
    @given(st.sampled_from(HOSTILE_FUNCTIONS) | any_text)
    def check(typed: str) -> None:
        info, ok = probe.attempt(probe.vault.add_function, typed)
        assert ok == (function_name_problem(typed) is None) or typed == "billing"
        if ok:
            assert info.name == typed
        probe.attempt(probe.vault.list_secrets, typed)

    check()
    record_figure("hostile", backend_of(probe.store), probe.tried, kind="vault functions")


def test_hypothesis_plaintext_values_through_the_vault(probe: VaultProbe) -> None:
    @HYPOTHESIS
    @given(any_text | st.sampled_from(_texts(PLAIN_VALUES)))
    def check(value: str) -> None:
        name = f"PLAIN_{probe.tried}"
        _, ok = probe.attempt(probe.vault.add_secret, "billing", name, value)
        if ok:
            assert probe.vault.read_secret("billing", name) == value
            assert probe.vault.verify_secret("billing", name, value)

    check()
    record_figure("hostile", backend_of(probe.store), probe.tried, kind="vault plaintext")


def test_hypothesis_json_values_through_the_vault(probe: VaultProbe) -> None:
    @HYPOTHESIS
    @given(
        json_values.map(lambda v: json.dumps(v, allow_nan=True, ensure_ascii=False))
        | json_values.map(lambda v: json.dumps(v, allow_nan=True))
        | any_text
        | st.sampled_from(_texts(JSON_VALUES))
    )
    def check(text: str) -> None:
        name = f"JSON_{probe.tried}"
        _, ok = probe.attempt(probe.vault.add_secret, "billing", name, text, SecretFormat.JSON)
        if ok:
            assert probe.vault.read_secret_text("billing", name)[0] == text
            assert probe.vault.read_secret("billing", name) == json.loads(text)

    check()
    record_figure("hostile", backend_of(probe.store), probe.tried, kind="vault json")


def test_hypothesis_import_entries_through_the_vault(probe: VaultProbe) -> None:
    @HYPOTHESIS
    @given(st.lists(st.tuples(st.sampled_from(HOSTILE_NAMES) | any_text, any_text), max_size=5))
    def check(entries: list[tuple[str, str]]) -> None:
        rows = [(k, v, SecretFormat.PLAINTEXT) for k, v in entries]
        _, ok = probe.attempt(probe.vault.import_secrets, "billing", rows)
        if ok:
            for key, value in entries:
                assert probe.vault.read_secret("billing", key) == value

    check()
    record_figure("hostile", backend_of(probe.store), probe.tried, kind="vault imports")
