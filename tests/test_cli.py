"""The `faas-tui` command line on a SQLite store: its commands, exit codes and messages.

Calls run `main()` in this process with weak Argon2id parameters (the `cli` fixture), except
`run`, which execs its command and so runs the installed console script (`cli_process`), as do a
few smoke tests of the real script.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE, Cli, CliProcess, CliResult, faas_tui_command

from faas_tui import demo
from faas_tui.core.kinds import SlotKind

CANARY = "canary-6f1d0c9e-plaintext"
JSON_CANARY = "canary-json-2b7e41"
NEW_PASSPHRASE = "another good passphrase"
PROMPT_LINES = ("This permanently deletes", "Type ")


# --- helpers ------------------------------------------------------------------------------------


class Run:
    """The `cli` fixture plus the checks every call must pass: no traceback, one-line errors.

    A `run` that is to exec its command goes to the console script on the same store and
    environment; one expected to be refused with an error line runs in-process (were it to reach
    its exec there, the fixture raises ExecAttempted).
    """

    def __init__(self, cli: Cli) -> None:
        self.cli = cli
        self.process = CliProcess(cli.store, cli.env)
        self.db = Path(cli.store)
        self.outputs: list[str] = []  # of every command but `run`, to search for leaked values

    def __call__(
        self,
        *args: str,
        input: str | bytes | None = None,
        env: dict[str, str] | None = None,
        code: int = 0,
        error_line: bool | None = None,
    ) -> CliResult:
        """Run and check the exit code; a failure must print one `error:` line (unless
        `error_line=False`: `verify`'s "no match", or `run` passing on its command's status)."""
        refused = code != 0 if error_line is None else error_line
        execs = args[0] == "run" and not refused
        result = (self.process if execs else self.cli)(*args, input=input, env=env)
        if args[0] != "run":  # `run` prints what its command prints: values, on purpose
            self.outputs.append(result.out + result.err)
        assert "Traceback" not in result.out + result.err, result.err
        assert result.code == code, (args, result.code, result.out, result.err)
        if refused:
            assert_one_error_line(result.err)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--format", "json").out)

    def add(self, function: str, name: str, value: str, *extra: str, **kwargs: Any) -> CliResult:
        return self("secrets", "add", function, name, *extra, input=value, **kwargs)

    def verify(self, function: str, name: str, candidate: str, **kwargs: Any) -> bool:
        result = self(
            "secrets", "verify", function, name, input=candidate, error_line=False, **kwargs
        )
        assert result.out in ("match\n", "no match\n")
        return result.out == "match\n"


def assert_one_error_line(err: str) -> None:
    """An error is exactly one line `error: …`, the last; other lines are warnings or a prompt."""
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, err
    assert lines[-1] == errors[0], err
    for line in lines:
        assert line.startswith(("error:", "warning:", *PROMPT_LINES)), err
        assert "error:" not in line[1:], err  # never glued to a prompt


@pytest.fixture
def run(cli: Cli) -> Run:
    r = Run(cli)
    r("init")
    return r


def hashes(db: Path) -> dict[str, str | None]:
    return {
        suffix: hashlib.sha256(Path(f"{db}{suffix}").read_bytes()).hexdigest()
        if Path(f"{db}{suffix}").exists()
        else None
        for suffix in ("", "-wal")
    }


def db_rows(db: Path, query: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def db_execute(db: Path, statement: str, *params: Any) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute(statement, params)
        conn.commit()
    finally:
        conn.close()


def table_dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY 1').fetchall() for n in names}
    finally:
        conn.close()


def current_version(db: Path, function: str, name: str) -> tuple[int, bytes, bytes]:
    rows = db_rows(
        db,
        "SELECT v.id, v.nonce, v.ciphertext FROM secret_version v "
        "JOIN secret s ON s.id = v.secret_id JOIN function f ON f.id = s.function_id "
        "WHERE f.name = ? AND s.name = ? AND v.version = s.version",
        function,
        name,
    )
    assert len(rows) == 1
    return rows[0]


@contextmanager
def wal_kept(db: Path) -> Iterator[None]:
    """Hold an idle connection so the CLI's exit does not delete the -wal: we can inspect it."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode").fetchone()
    try:
        yield
    finally:
        conn.close()


def files_under(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        if path.is_file():
            yield path


def assert_nowhere(needles: list[bytes], *places: Path) -> None:
    for place in places:
        for path in [place] if place.is_file() else files_under(place):
            data = path.read_bytes()
            for needle in needles:
                assert needle not in data, f"{needle!r} found in {path}"


def iso_utc(text: str) -> datetime:
    assert text.endswith("Z") and "T" in text, text
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None and moment.utcoffset() == UTC.utcoffset(None)
    return moment


# --- init, functions ----------------------------------------------------------------------------


def test_init_creates_a_private_store_once(cli: Cli) -> None:
    run = Run(cli)
    assert "created store at" in run("init").out
    db = Path(cli.store)
    assert db.stat().st_mode & 0o777 == 0o600
    assert db.parent.stat().st_mode & 0o777 == 0o700
    assert "already exists" in run("init", code=1).err
    assert (
        "at least 8 characters"
        in run(
            "init",
            "--store",
            str(db.parent / "other.db"),
            env={"FAAS_TUI_PASSPHRASE": "short"},
            code=1,
        ).err
    )


def test_functions_add_list_and_delete(run: Run) -> None:
    assert run("functions", "add", "billing").out == "added function billing\n"
    run("functions", "add", "mailer")
    for bad in ("Billing", "my_fn", "1fn", "a" * 64, "fné"):
        assert "invalid function name" in run("functions", "add", bad, code=1).err
    assert "already exists" in run("functions", "add", "billing", code=1).err
    assert run.json("functions", "list") == [
        {"name": "billing", "secrets": 0, "deployed": None, "pending": 0},
        {"name": "mailer", "secrets": 0, "deployed": None, "pending": 0},
    ]
    table = run("functions", "list").out.splitlines()
    assert table[0].split() == ["NAME", "SECRETS", "DEPLOYED", "LAST", "DEPLOY", "PENDING"]
    assert [line.split()[0] for line in table[1:]] == ["billing", "mailer"]

    # without --yes: the typed name comes from stdin's first line; anything else refuses
    mismatch = run("functions", "delete", "mailer", input="sk_live_piped_by_mistake\n", code=1)
    assert "does not match 'mailer'" in mismatch.err and "sk_live" not in mismatch.err
    assert "end of input" in run("functions", "delete", "mailer", input="", code=1).err
    assert "no function named 'nope'" in run("functions", "delete", "nope", "--yes", code=1).err
    assert [f["name"] for f in run.json("functions", "list")] == ["billing", "mailer"]
    run("functions", "delete", "mailer", input="mailer\nignored\n")
    run("functions", "delete", "billing", "--yes")
    assert run.json("functions", "list") == []


# --- secrets ------------------------------------------------------------------------------------


def test_values_come_from_file_or_stdin_never_argv(run: Run, tmp_path: Path) -> None:
    run("functions", "add", "billing")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "value").write_bytes(b"from-file\n\n")  # one trailing newline dropped, not two
    created = run("secrets", "add", "billing", "from file", "--file", str(inputs / "value")).out
    assert created == "created billing/FROM_FILE (version 1, Plaintext)\n"
    run.add("billing", "piped", "from-stdin\n")
    run.add("billing", "crlf", "windows\r\n")
    run.add("billing", "multi", "line one\nline two\n")
    run("secrets", "add", "billing", "dash", "--file", "-", input="dash-stdin")

    # the candidate is read like the value: one trailing newline dropped
    assert run.verify("billing", "FROM_FILE", "from-file\n\n")
    assert run.verify("billing", "PIPED", "from-stdin")
    assert run.verify("billing", "CRLF", "windows\n")
    assert run.verify("billing", "MULTI", "line one\nline two")
    assert run.verify("billing", "DASH", "dash-stdin\n")
    no_match = run(
        "secrets", "verify", "billing", "PIPED", input="from-stdin\n\n", code=1, error_line=False
    )
    assert (no_match.out, no_match.err) == ("no match\n", "")
    assert not run.verify("billing", "FROM_FILE", "from-file", code=1)

    # a value on the command line is a usage error, and nothing is stored
    result = run("secrets", "add", "billing", "ARGV_KEY", "argv-value", code=2)
    assert "1 unexpected argument" in result.err and "argv-value" not in result.err
    result = run("secrets", "add", "billing", "ARGV_KEY", "--colour", "-----BEGIN-KEY", code=2)
    assert "unknown option --colour" in result.err and "BEGIN" not in result.err
    # an empty value, a missing file, a bad name: refused before anything is stored
    assert "empty" in run.add("billing", "EMPTY_KEY", "\n", code=1).err
    missing = str(tmp_path / "nope")
    assert "cannot read --file" in run.add("billing", "NO_FILE", "", "--file", missing, code=1).err
    assert "invalid secret name 'ab'" in run.add("billing", "ab", "x", code=1).err
    assert "reserved for system secrets" in run.add("billing", "SYSTEM_X", "x", code=1).err
    assert "already has a secret named PIPED" in run.add("billing", "piped", "again", code=1).err
    assert "no function named 'nope'" in run.add("nope", "KEY_ONE", "x", code=1).err
    assert "64 KiB" in run.add("billing", "BIG", "x" * (64 * 1024 + 1), code=1).err
    assert [s["name"] for s in run.json("secrets", "list", "billing")] == [
        "CRLF",
        "DASH",
        "FROM_FILE",
        "MULTI",
        "PIPED",
    ]
    for output in run.outputs:
        assert "from-stdin" not in output and "from-file" not in output


def test_json_values_must_be_objects(run: Run) -> None:
    run("functions", "add", "billing")
    assert "not an array" in run.add("billing", "cfg", "[1,2]", "--json", code=1).err
    assert "not a string" in run.add("billing", "cfg", '"text"', "--json", code=1).err
    err = run.add("billing", "cfg", '{"a": 1', "--json", code=1).err
    assert "invalid JSON at line 1, column 8" in err
    err = run.add("billing", "cfg", '{\n  "a": 1,\n  "b"\n}', "--json", code=1).err
    assert "line 4, column 1" in err
    assert run.json("secrets", "list", "billing") == []
    run.add("billing", "cfg", '{"a": {"b": [1, 2]}}\n', "--json")
    assert run.json("secrets", "list", "billing")[0]["format"] == "json"
    run("secrets", "update", "billing", "cfg", "--plaintext", input="now text")
    assert run.json("secrets", "list", "billing")[0]["format"] == "plaintext"
    assert (
        "not an array"
        in run("secrets", "update", "billing", "cfg", "--json", input="[1]", code=1).err
    )
    assert run.json("secrets", "list", "billing")[0]["version"] == 2


def test_list_update_deploy_run_and_the_json_shapes(run: Run) -> None:
    run("functions", "add", "billing")
    run.add("billing", "api key", "value-1")
    run.add("billing", "config", '{"region": "eu", "n": 1}', "--json")
    (secret,) = [s for s in run.json("secrets", "list", "billing") if s["name"] == "API_KEY"]
    assert list(secret) == [
        "name",
        "format",
        "version",
        "created_at",
        "updated_at",
        "pending_redeploy",
    ]
    assert (secret["format"], secret["version"], secret["pending_redeploy"]) == (
        "plaintext",
        1,
        True,
    )
    assert iso_utc(secret["created_at"]) <= iso_utc(secret["updated_at"])
    table = run("secrets", "list", "billing").out
    assert "API_KEY" in table and "CONFIG" in table and "value-1" not in table

    assert run("deploy", "billing").out == "1\n"
    assert run.json("functions", "list") == [
        {"name": "billing", "secrets": 2, "deployed": 1, "pending": 0}
    ]
    assert not any(s["pending_redeploy"] for s in run.json("secrets", "list", "billing"))
    printed = run(
        "run",
        "billing",
        "--",
        sys.executable,
        "-c",
        "import os; print(os.environ['API_KEY'], os.environ['CONFIG'], "
        "'FAAS_TUI_PASSPHRASE' in os.environ)",
    ).out
    assert printed == 'value-1 {"region":"eu","n":1} False\n'

    updated = run("secrets", "update", "billing", "api key", input="value-2").out
    assert updated == "updated billing/API_KEY to version 2; pending redeploy\n"
    (secret,) = [s for s in run.json("secrets", "list", "billing") if s["name"] == "API_KEY"]
    assert (secret["version"], secret["pending_redeploy"]) == (2, True)
    assert run.json("functions", "list")[0]["pending"] == 1
    script = "import os, sys; sys.exit(7 if os.environ['API_KEY'] == 'value-1' else 0)"
    run("run", "billing", "--", sys.executable, "-c", script, code=7, error_line=False)
    assert run("deploy", "billing").out == "2\n"
    run("run", "billing", "--", sys.executable, "-c", script)

    events = run.json("log")
    assert list(events[0]) == ["seq", "at", "actor", "action", "function", "name", "hash"]
    iso_utc(events[-1]["at"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert "hash chain intact" in run("log", "--verify").out
    audit = run.json("audit")
    assert list(audit[0]) == [
        "function",
        "name",
        "kind",
        "format",
        "version",
        "created_at",
        "updated_at",
        "age_days",
        "deployed_version",
        "flags",
    ]
    assert {(a["name"], a["kind"]) for a in audit} >= {
        ("API_KEY", "user"),
        ("SYSTEM_API_TOKEN", "system"),
    }

    assert "no function named 'nope'" in run("run", "nope", "--", "true", code=1).err
    run("functions", "add", "fresh")
    assert "never been deployed" in run("run", "fresh", "--", "true", code=1).err
    assert "no command to run" in run("run", "billing", code=2).err
    assert "value-1" not in "".join(run.outputs) and "value-2" not in "".join(run.outputs)


def test_system_secrets_are_listed_and_read_only(run: Run) -> None:
    run("functions", "add", "billing")
    result = run("system-secrets", "billing")
    assert "SYSTEM_API_TOKEN" in result.out and "SYSTEM_STORAGE_TOKEN" in result.out
    assert "functions:invoke" in result.out and "storage:write" in result.out
    assert result.err.startswith("warning:") and "may change without notice" in result.err
    assert run.json("secrets", "list", "billing") == []
    assert (
        "read-only"
        in run("secrets", "update", "billing", "SYSTEM_API_TOKEN", input="mine", code=1).err
    )
    # the Vault's rule and its words: the command line does not repeat it
    refused = run("secrets", "update", "billing", "SYSTEM_API_TOKEN", input="mine", code=1)
    assert refused.err == "error: SYSTEM_API_TOKEN is a system secret: it is read-only here\n"
    assert (
        "read-only" in run("secrets", "delete", "billing", "system api token", "--yes", code=1).err
    )
    assert "no function named" in run("system-secrets", "nope", code=1).err


def test_delete_asks_for_the_name_and_removes_every_trace(run: Run) -> None:
    run("functions", "add", "billing")
    run.add("billing", "doomed", CANARY)
    run.add("billing", "kept", "kept-value")
    run("deploy", "billing")
    run("secrets", "update", "billing", "doomed", input=CANARY + "-v2")
    db = run.db
    old = [
        bytes(row[0])
        for row in db_rows(
            db,
            "SELECT ciphertext FROM secret_version v JOIN secret s ON s.id = v.secret_id "
            "WHERE s.name = 'DOOMED'",
        )
    ]
    assert len(old) == 2  # the bound version 1 and the current version 2

    refused = run("secrets", "delete", "billing", "doomed", input="DOOMEDX\n", code=1)
    assert "does not match" in refused.err and "deployment #1" in refused.err
    assert "end of input" in run("secrets", "delete", "billing", "doomed", code=1).err
    assert "DOOMED" in [s["name"] for s in run.json("secrets", "list", "billing")]

    with wal_kept(db):
        result = run("secrets", "delete", "billing", "doomed", input="DOOMED\n")
        assert result.out == "deleted billing/DOOMED\n"
        assert "deployment #1 bound it" in result.err
        assert_nowhere(old, db, Path(f"{db}-wal"))
    assert_nowhere([*old, CANARY.encode()], db.parent)
    assert [s["name"] for s in run.json("secrets", "list", "billing")] == ["KEPT"]
    err = run("run", "billing", "--", "true", code=1).err
    assert "DOOMED" in err and "redeploy" in err
    run("deploy", "billing")
    run("run", "billing", "--", "true")


def test_no_plaintext_reaches_the_store_files(run: Run, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "import.env").write_text(f"IMPORTED_ONE={CANARY}-imported\n")
    (inputs / "import.json").write_text(json.dumps({"IMPORTED_CFG": {"token": JSON_CANARY}}))
    (inputs / "value").write_text(CANARY + "-file\n")
    db = run.db
    needles = [CANARY.encode(), JSON_CANARY.encode(), CANARY.encode("utf-16-le")]
    run("functions", "add", "billing")
    wal = Path(f"{db}-wal")
    with wal_kept(db):  # the -wal outlives each command, so we can read what it wrote there
        run.add("billing", "added", CANARY + "-added")
        run("secrets", "add", "billing", "from file", "--file", str(inputs / "value"))
        run.add("billing", "cfg", json.dumps({"token": JSON_CANARY + "-added"}), "--json")
        assert wal.stat().st_size > 0
        assert_nowhere(needles, db, wal)
        run("secrets", "update", "billing", "added", input=CANARY + "-updated")
        assert_nowhere(needles, db, wal)
        run("deploy", "billing")
        assert_nowhere(needles, db, wal)
        run("secrets", "import", "billing", str(inputs / "import.env"))
        run("secrets", "import", "billing", str(inputs / "import.json"))
        assert_nowhere(needles, db, wal)
    assert_nowhere(
        needles, *(p for p in (db.parent, tmp_path / "home", tmp_path / "xdg") if p.exists())
    )
    for output in run.outputs:
        assert CANARY not in output and JSON_CANARY not in output
    assert run.verify("billing", "added", CANARY + "-updated")


# --- import -------------------------------------------------------------------------------------

ENV_FILE = """# production settings
export STRIPE_KEY=sk_live_1
DATABASE_URL="postgres://u:p@db/x?sslmode=require"   # trailing comment
SINGLE='raw \\n stays'
MULTI="line one
line two"
hubspot-api.key=hs_1
REF=${STRIPE_KEY}
"""


def test_import_env_and_json_files_with_dry_run_first(run: Run, tmp_path: Path) -> None:
    run("functions", "add", "billing")
    env_file = tmp_path / "prod.env"
    env_file.write_text(ENV_FILE)
    before = table_dump(run.db)
    plan = run("secrets", "import", "billing", str(env_file), "--dry-run").out
    assert (
        "added (6): " in plan and "HUBSPOT_API_KEY" in plan and "(dry run: nothing changed)" in plan
    )
    assert "sk_live_1" not in plan
    assert table_dump(run.db) == before
    result = run("secrets", "import", "billing", str(env_file))
    assert "6 secrets were written to billing" in result.out
    names = [s["name"] for s in run.json("secrets", "list", "billing")]
    assert names == ["DATABASE_URL", "HUBSPOT_API_KEY", "MULTI", "REF", "SINGLE", "STRIPE_KEY"]
    for name, value in [
        ("STRIPE_KEY", "sk_live_1"),
        ("DATABASE_URL", "postgres://u:p@db/x?sslmode=require"),
        ("SINGLE", "raw \\n stays"),
        ("MULTI", "line one\nline two"),
        ("REF", "${STRIPE_KEY}"),
    ]:
        assert run.cli("secrets", "verify", "billing", name, input=value).out == "match\n", name

    # a changed value needs --overwrite; unchanged ones are reported as such
    env_file.write_text("STRIPE_KEY=sk_live_2\nDATABASE_URL=postgres://u:p@db/x?sslmode=require\n")
    err = run("secrets", "import", "billing", str(env_file), code=1).err
    assert "STRIPE_KEY with a different value" in err and "--overwrite" in err
    out = run("secrets", "import", "billing", str(env_file), "--overwrite").out
    assert "replaced (1): STRIPE_KEY" in out and "unchanged (1): DATABASE_URL" in out

    json_file = tmp_path / "secrets.json"
    json_file.write_text(json.dumps({"s3 creds": {"id": "a", "secret": "b"}, "TOKEN": "t"}))
    run("secrets", "import", "billing", str(json_file))
    listed = {s["name"]: s["format"] for s in run.json("secrets", "list", "billing")}
    assert (listed["S3_CREDS"], listed["TOKEN"]) == ("json", "plaintext")


BAD_IMPORTS = [
    ('GOOD_ONE=1\nBROKEN="unterminated sk_live_zz\nGOOD_TWO=2\n', ".env", "line 2"),
    ("GOOD_ONE=1\nab=2\n", ".env", "invalid secret name 'ab'"),
    ("GOOD_ONE=1\nSYSTEM_TOKEN=2\n", ".env", "reserved for system secrets"),
    ("GOOD_ONE=1\nEMPTY=\n", ".env", "EMPTY: the value is empty"),
    ("GOOD_ONE=1\ngood-one=2\n", ".env", "appears twice"),
    ("GOOD_ONE=1\nNO_VALUE\n", ".env", "line 2: a key without a value"),
    ('{"GOOD_ONE": "1", "BAD": 2}', ".json", "must be a string or an object"),
    ('{"GOOD_ONE": "1"', ".json", "line 1, column 17"),
    ("[1, 2]", ".json", "must be an object"),
]


def test_one_bad_entry_refuses_the_whole_import(run: Run, tmp_path: Path) -> None:
    run("functions", "add", "billing")
    run.add("billing", "existing", "kept")
    before = table_dump(run.db)
    for index, (content, suffix, words) in enumerate(BAD_IMPORTS):
        path = tmp_path / f"bad{index}{suffix}"
        path.write_text(content)
        err = run("secrets", "import", "billing", str(path), code=1).err
        assert words in err, (content, err)
        assert "sk_live_zz" not in err
    assert table_dump(run.db) == before
    assert [s["name"] for s in run.json("secrets", "list", "billing")] == ["EXISTING"]


# --- keys -------------------------------------------------------------------------------------


def test_a_wrong_passphrase_exits_3_and_leaves_the_files_unchanged(
    run: Run, tmp_path: Path
) -> None:
    run("functions", "add", "billing")
    run.add("billing", "api key", "v")
    env_file = tmp_path / "x.env"
    env_file.write_text("NEW_KEY=v\n")
    wrong = {"FAAS_TUI_PASSPHRASE": "not the passphrase"}
    before = hashes(run.db)
    for args, value in [
        (("functions", "list"), None),
        (("secrets", "list", "billing"), None),
        (("secrets", "add", "billing", "NEW_KEY"), "v"),
        (("secrets", "update", "billing", "API_KEY"), "w"),
        (("secrets", "delete", "billing", "API_KEY", "--yes"), None),
        (("secrets", "import", "billing", str(env_file)), None),
        (("deploy", "billing"), None),
        (("passwd",), None),
        (("rotate-key",), None),
        (("functions", "add", "other"), None),
    ]:
        result = run(*args, input=value, env=wrong, code=3)
        assert (
            result.err
            == "error: wrong passphrase: the store was not unlocked and nothing changed\n"
        )
        assert hashes(run.db) == before, args


def test_passwd_and_rotate_key(run: Run) -> None:
    run("functions", "add", "billing")
    run.add("billing", "api key", "value-one")
    run.add("billing", "cfg", '{"a": 1}', "--json")
    run("deploy", "billing")
    run("secrets", "update", "billing", "api key", input="value-two")

    assert "at least 8" in run("passwd", env={"FAAS_TUI_NEW_PASSPHRASE": "short"}, code=1).err
    assert (
        "passphrase changed" in run("passwd", env={"FAAS_TUI_NEW_PASSPHRASE": NEW_PASSPHRASE}).out
    )
    assert run("functions", "list", code=3).err.startswith("error: wrong passphrase")
    new = {"FAAS_TUI_PASSPHRASE": NEW_PASSPHRASE}
    assert (
        run("secrets", "verify", "billing", "API_KEY", input="value-two", env=new).out == "match\n"
    )

    ciphertexts = set(db_rows(run.db, "SELECT ciphertext FROM secret_version"))
    assert "re-encrypted" in run("rotate-key", env=new).out
    assert ciphertexts.isdisjoint(db_rows(run.db, "SELECT ciphertext FROM secret_version"))
    run("functions", "list", code=3)
    assert (
        run("secrets", "verify", "billing", "API_KEY", input="value-two", env=new).out == "match\n"
    )
    assert run("secrets", "verify", "billing", "cfg", input='{"a": 1}', env=new).out == "match\n"
    script = "import os, sys; sys.exit(os.environ['API_KEY'] != 'value-one')"
    run("run", "billing", "--", sys.executable, "-c", script, env=new)  # the bound old version
    assert "hash chain intact" in run("log", "--verify", env=new).out
    assert "warning" not in run("secrets", "list", "billing", env=new).err


def test_key_files_add_list_use_and_revoke(run: Run, tmp_path: Path) -> None:
    run("functions", "add", "billing")
    run.add("billing", "api key", "value-one")
    key = tmp_path / "keys" / "ci.key"
    key.parent.mkdir()
    written = run("key-file", "add", str(key), "--function", "billing", "--label", "ci").out
    assert "written to" in written
    assert key.stat().st_mode & 0o777 == 0o600
    assert "already exists" in run("key-file", "add", str(key), "--role", "admin", code=1).err
    (entry,) = run.json("key-file", "list")
    assert list(entry) == ["id", "label", "role", "functions", "legacy", "created_at"]
    assert (entry["label"], entry["role"], entry["functions"]) == ("ci", "runtime", ["billing"])
    iso_utc(entry["created_at"])

    no_passphrase = {**run.cli.env}
    del no_passphrase["FAAS_TUI_PASSPHRASE"]
    headless = Cli(run.cli.store, no_passphrase)
    result = headless(
        "secrets", "verify", "billing", "API_KEY", "--key-file", str(key), input="value-one"
    )
    assert (result.code, result.out) == (0, "match\n")
    result = headless("secrets", "list", "billing", env={"FAAS_TUI_KEY_FILE": str(key)})
    assert result.code == 0 and "API_KEY" in result.out
    os.chmod(key, 0o644)
    result = headless("secrets", "list", "billing", "--key-file", str(key))
    assert result.code == 1 and "readable by group or others" in result.err
    assert_one_error_line(result.err)
    os.chmod(key, 0o600)

    assert "no key file with id" in run("key-file", "revoke", "nope", code=1).err
    run("key-file", "revoke", entry["id"])
    assert run.json("key-file", "list") == []
    result = headless("secrets", "list", "billing", "--key-file", str(key))
    assert result.code == 3 and "revoked" in result.err
    assert_one_error_line(result.err)


# --- tampering ------------------------------------------------------------------------------------


def test_a_tampered_value_exits_4_and_listing_still_works(run: Run) -> None:
    run("functions", "add", "billing")
    run.add("billing", "source", "source-value")
    run.add("billing", "target", "target-value")
    run.add("billing", "flipped", "flipped-value")
    run("deploy", "billing")
    db = run.db
    _, nonce, ciphertext = current_version(db, "billing", "SOURCE")
    target_id, _, _ = current_version(db, "billing", "TARGET")
    db_execute(
        db,
        "UPDATE secret_version SET nonce = ?, ciphertext = ? WHERE id = ?",
        nonce,
        ciphertext,
        target_id,
    )
    flip_id, _, flip = current_version(db, "billing", "FLIPPED")
    flipped = bytearray(flip)
    flipped[len(flipped) // 2] ^= 0x04
    db_execute(db, "UPDATE secret_version SET ciphertext = ? WHERE id = ?", bytes(flipped), flip_id)

    for name, value in (("TARGET", "source-value"), ("FLIPPED", "flipped-value")):
        result = run("secrets", "verify", "billing", name, input=value, code=4)
        assert "failed its integrity check" in result.err and value not in result.err
    result = run("run", "billing", "--", "env", code=4)
    assert "source-value" not in result.out and "flipped-value" not in result.out
    assert run("secrets", "verify", "billing", "SOURCE", input="source-value").out == "match\n"
    names = [s["name"] for s in run.json("secrets", "list", "billing")]
    assert names == ["FLIPPED", "SOURCE", "TARGET"]
    run("functions", "list")
    run("audit")


def test_a_damaged_database_file_exits_4_on_every_path_and_the_runtime_refuses(
    run: Run, tmp_path: Path
) -> None:
    run("functions", "add", "billing")
    key = tmp_path / "ci.key"
    run("key-file", "add", str(key), "--function", "billing")
    with open(run.db, "r+b") as handle:  # SQLite's header, overwritten
        handle.write(b"this is not SQLite at all")
    for extra in ((), ("--key-file", str(key))):
        result = run("secrets", "list", "billing", *extra, code=4)
        assert "damaged or not a faas-tui store" in result.err
    code = (
        "from faas_tui.toolbelt import SecretClient, IntegrityError\n"
        "try:\n    SecretClient('billing')\nexcept IntegrityError as exc:\n    print('refused', exc)"
    )
    env = {**run.cli.env, "FAAS_TUI_KEY_FILE": str(key)}
    reader = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert reader.stdout.startswith("refused") and "damaged" in reader.stdout, reader.stderr


def test_read_only_refuses_every_change_and_still_reads(run: Run) -> None:
    run("functions", "add", "billing")
    run.add("billing", "api key", "value-one")
    for args, value in (
        (("functions", "add", "other"), None),
        (("secrets", "add", "billing", "NEW_KEY"), "v"),
        (("secrets", "update", "billing", "API_KEY"), "v2"),
        (("secrets", "delete", "billing", "API_KEY", "--yes"), None),
        (("deploy", "billing"), None),
        (("init",), None),
        (("demo", "--no-tui"), None),
    ):
        result = run("--read-only", *args, input=value, code=1)
        assert "read-only" in result.err, args
    assert (
        run("secrets", "list", "billing", "--read-only").out.splitlines()[1].startswith("API_KEY")
    )
    assert [f["name"] for f in run.json("functions", "list")] == ["billing"]
    assert run.verify("billing", "API_KEY", "value-one")


def test_demo_no_tui_fills_a_named_store_with_n_functions_of_m_secrets(
    cli: Cli, tmp_path: Path
) -> None:
    store = str(tmp_path / "demo" / "store.db")
    result = cli(
        "demo", "--store", store, "--functions", "12", "--secrets-per-function", "4", "--no-tui"
    )
    assert (result.code, result.out) == (0, f"filled {store}: 12 functions, 48 secrets\n"), (
        result.err
    )
    listed = cli("functions", "list", "--store", store, "--format", "json")
    functions = json.loads(listed.out)
    assert len(functions) == 12 and {f["secrets"] for f in functions} == {4}
    assert [f["deployed"] for f in functions[:2]] == [1, None]  # every other one deployed
    sample = cli("demo", "--store", str(tmp_path / "sample.db"), "--no-tui")
    assert sample.code == 0 and "5 functions, 9 secrets" in sample.out
    pending = json.loads(
        cli("functions", "list", "--store", str(tmp_path / "sample.db"), "--format", "json").out
    )
    assert pending[0] == {"name": "billing", "secrets": 3, "deployed": 1, "pending": 1}


def test_rows_deleted_behind_the_tools_back_are_refused_until_accepted(run: Run) -> None:
    run("functions", "add", "billing")
    run.add("billing", "kept", "k")
    run.add("billing", "dropped", "d")
    db_execute(
        run.db,
        "DELETE FROM secret_version WHERE secret_id = (SELECT id FROM secret WHERE name='DROPPED')",
    )
    db_execute(run.db, "DELETE FROM secret WHERE name = 'DROPPED'")
    result = run("functions", "list", code=4)
    assert "billing's secrets" in result.err and "signed digest" in result.err
    result = run("secrets", "list", "billing", code=4)
    assert "billing's secrets" in result.err and "behind faas-tui's back" in result.err
    run("functions", "add", "other", code=4)  # no write reseals over the tampering
    assert "billing" in run("check", code=4).out
    run("check", "--accept")
    result = run("secrets", "list", "billing")
    assert result.out.splitlines()[1].startswith("KEPT")


def test_an_edited_event_log_fails_verification(run: Run) -> None:
    run("functions", "add", "billing")
    run.add("billing", "api key", "v")
    db_execute(run.db, "UPDATE event SET name = 'OTHER' WHERE action = 'secret.add'")
    err = run("log", "--verify", code=4).err
    assert "event log is broken" in err and "row 3" in err


# --- errors and usage --------------------------------------------------------------------------------


def test_usage_errors_exit_2_in_one_line(run: Run) -> None:
    for args in (
        ("nonsense",),
        ("secrets",),
        ("secrets", "add"),
        ("secrets", "list", "billing", "--format", "xml"),
        ("functions", "list", "--bogus"),
        ("demo", "--functions", "many"),
    ):
        run(*args, code=2)


def test_a_missing_store_or_passphrase_is_one_error_line(cli: Cli, tmp_path: Path) -> None:
    run = Run(cli)
    assert "create one with `faas-tui init`" in run("functions", "list", code=1).err
    assert not Path(cli.store).exists()
    run("init")
    env = {k: v for k, v in cli.env.items() if k != "FAAS_TUI_PASSPHRASE"}
    proc = subprocess.run(
        [*faas_tui_command(), "functions", "list"],
        capture_output=True,
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal: nobody to ask
        timeout=60,
    )
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr.decode())
    assert "FAAS_TUI_PASSPHRASE" in proc.stderr.decode()
    assert (
        "unsupported store 'mysql'"
        in run("functions", "list", "--store", "mysql://x/y", code=1).err
    )


# --- imports ---------------------------------------------------------------------------------------


def test_commands_that_do_not_open_the_app_do_not_import_textual(run: Run, tmp_path: Path) -> None:
    run("functions", "add", "billing")
    run.add("billing", "api key", "v")
    value = tmp_path / "value"
    value.write_text("v2")
    env_file = tmp_path / "more.env"
    env_file.write_text("IMPORTED=1\n")
    commands = [
        ["functions", "list"],
        ["secrets", "list", "billing"],
        ["secrets", "add", "billing", "NEW_KEY", "--file", str(value)],
        ["secrets", "update", "billing", "NEW_KEY", "--file", str(value)],
        ["secrets", "verify", "billing", "NEW_KEY", "--file", str(value)],
        ["secrets", "import", "billing", str(env_file)],
        ["audit"],
        ["log", "--verify"],
        ["system-secrets", "billing"],
        ["deploy", "billing"],
        ["key-file", "list"],
        ["operators", "list"],
        ["check"],
        ["passwd"],
        ["rotate-key"],
        ["secrets", "delete", "billing", "API_KEY", "--yes"],
        ["init", "--store", str(tmp_path / "other.db")],
        ["demo", "--no-tui", "--store", str(tmp_path / "demo.db")],
    ]
    script = (
        "import json, os, sys\n"
        "from faas_tui import cli\n"
        "from faas_tui.store.crypto import KdfParams\n"
        "def kdf():\n"
        "    return KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1, lanes=1)\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    assert cli.main(argv, kdf=kdf) == 0, argv\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))\n"
    )
    env = run.cli.env | {"FAAS_TUI_NEW_PASSPHRASE": PASSPHRASE}
    proc = subprocess.run(
        [sys.executable, "-c", script, json.dumps(commands)],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().splitlines()[-1] == "[]"


# --- the demo, and messages that say what was typed and what to do ------------------------------


def test_demo_no_tui_on_a_throw_away_store_prints_its_path_and_passphrase(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where mkdtemp makes the folder
    no_store = {"FAAS_TUI_STORE": ""}
    result = cli("demo", "--no-tui", env=no_store)
    assert result.code == 0, result.err
    (folder,) = scratch.iterdir()
    store = folder / "store.db"
    assert result.out.splitlines() == [
        f"filled {store}: 5 functions, 9 secrets",
        f"passphrase: {demo.DEMO_PASSPHRASE}",
    ]
    assert str(folder) in result.err  # how to remove it when done
    opened = {"FAAS_TUI_STORE": str(store), "FAAS_TUI_PASSPHRASE": demo.DEMO_PASSPHRASE}
    listed = json.loads(cli("functions", "list", "--format", "json", env=opened).out)
    assert [f["name"] for f in listed][:2] == ["billing", "hubspot-sync"]

    # a fill that fails (here interrupted) takes its throw-away folder with it
    def interrupted(*args: object) -> tuple[int, int]:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "fill_demo", interrupted)
    result = cli("demo", "--no-tui", env=no_store)
    assert result.code == 130 and result.err.startswith("error: interrupted")
    assert list(scratch.iterdir()) == [folder]


def test_passwd_without_a_new_passphrase_names_the_variable_it_needs(run: Run) -> None:
    result = run("passwd", code=2)
    assert result.err == (
        "error: a new passphrase is needed: set FAAS_TUI_NEW_PASSPHRASE (no terminal to ask on)\n"
    )
    run("functions", "list")  # the old passphrase still opens the store


def test_set_source_names_the_folder_as_typed(run: Run, tmp_path: Path) -> None:
    run("functions", "add", "billing")
    err = run("functions", "set-source", "billing", "/nonexistent", code=1).err
    assert err == (
        "error: '/nonexistent' is not a folder: give the function's code folder, "
        "or no DIR to clear it\n"
    )
    assert (
        "--source '/nonexistent'"
        in run("functions", "add", "mailer", "--source", "/nonexistent", code=1).err
    )  # there it is an option
    assert run("functions", "set-source", "billing", str(tmp_path)).out == (
        f"source of billing: {tmp_path}\n"
    )
    assert run("functions", "set-source", "billing").out == "source of billing: none\n"


def test_a_function_name_is_refused_for_what_is_wrong_with_it(run: Run) -> None:
    err = run("functions", "add", "My Func", code=1).err
    assert err == (
        "error: invalid function name 'My Func': a function name may use only a-z, 0-9 and - "
        "(it has uppercase letters and a space; try 'my-func')\n"
    )


def test_import_counts_one_secret_in_the_singular(run: Run, tmp_path: Path) -> None:
    run("functions", "add", "billing")
    env_file = tmp_path / "one.env"
    env_file.write_text("ONLY_KEY=v\n")
    dry = run("secrets", "import", "billing", str(env_file), "--dry-run").out.splitlines()
    assert dry[-1] == "1 secret would be written to billing (dry run: nothing changed)"
    assert run("secrets", "import", "billing", str(env_file)).out.splitlines()[-1] == (
        "1 secret was written to billing"
    )
    again = run("secrets", "import", "billing", str(env_file)).out.splitlines()
    assert again[-1] == "0 secrets were written to billing"


def test_a_key_file_into_a_missing_folder_names_the_folder(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "keys" / "ci.key"
    err = run("key-file", "add", str(target), "--role", "editor", code=1).err
    assert err == (
        f"error: no folder {target.parent} for the key file: create it first "
        f"(mkdir -p {target.parent}) or give another PATH\n"
    )
    assert run.json("key-file", "list") == []
    target.parent.mkdir()
    run("key-file", "add", str(target), "--role", "editor")
    assert len(run.json("key-file", "list")) == 1


# --- the installed console script ------------------------------------------------------------------


def test_the_console_script_answers_help_version_and_usage_errors(cli_process: CliProcess) -> None:
    helped = cli_process("--help")
    assert helped.code == 0 and helped.out.startswith("usage: faas-tui")
    assert all(word in helped.out for word in ("secrets", "deploy", "run", "key-file"))
    assert cli_process("secrets", "--help").code == 0
    version = cli_process("--version")
    assert version.code == 0 and version.out.startswith("faas-tui ")
    refused = cli_process("nonsense")
    assert refused.code == 2 and refused.out == ""
    assert_one_error_line(refused.err)
    module = subprocess.run(
        [sys.executable, "-m", "faas_tui", "--version"], capture_output=True, text=True, timeout=60
    )
    assert (module.returncode, module.stdout) == (0, version.out)


def test_only_tests_choose_weak_key_derivation(cli: Cli, cli_process: CliProcess) -> None:
    """The console script creates a store with the default Argon2id parameters whatever its
    environment holds; `main(kdf=…)` (what the in-process fixture passes) is the only way in."""
    assert cli_process("init", env={"FAAS_TUI_KDF": "fast", "FAAS_TUI_DEBUG": "1"}).code == 0
    db = Path(cli.store)
    query = "SELECT kdf_memory_kib, kdf_iterations FROM key_slot WHERE kind = ?"
    assert db_rows(db, query, SlotKind.PASSPHRASE.value) == [(64 * 1024, 3)]
    cli("passwd", env={"FAAS_TUI_NEW_PASSPHRASE": NEW_PASSPHRASE})  # in-process: weak, on purpose
    assert db_rows(db, query, SlotKind.PASSPHRASE.value) == [(8 * 1024, 1)]
    # `passwd` through the console script: tests/test_cli_prompts.py checks its parameters
