"""The command line of the trust model: operators and their roles, scoped key files, `check`, the
record of store generations, exit codes 2/3/4/5, and what `run` hands to its command.

In-process (the `cli` fixture) except `run` that execs, which goes through the console script.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS, PASSPHRASE, Cli, _postgres_database, cli_on
from sqlalchemy.engine import make_url
from test_cli import Run, assert_one_error_line, db_execute

EDITOR_PASS = "editor passphrase 1"
AUDITOR_PASS = "auditor passphrase 2"
ADMIN2_PASS = "second admin passphrase"


class Team(Run):
    """A store made by the admin `alice`, with the editor `bob` and the auditor `carol`, the
    function `billing` (API_KEY deployed) and `mailer` (SMTP deployed); `as_(name)` runs as one."""

    passphrases = {"alice": PASSPHRASE, "bob": EDITOR_PASS, "carol": AUDITOR_PASS}

    def as_(self, operator: str, *args: str, **kwargs: Any) -> Any:
        env = {
            "FAAS_TUI_OPERATOR": operator,
            "FAAS_TUI_PASSPHRASE": self.passphrases[operator],
            **kwargs.pop("env", {}),
        }
        return self(*args, env=env, **kwargs)

    def key(self, path: Path, *args: str) -> str:
        """A new key file at `path` (admin alice); its id."""
        out = self.as_("alice", "key-file", "add", str(path), *args).out
        return out.split()[2]

    def with_key(self, key: Path, *args: str, **kwargs: Any) -> Any:
        """A command unlocked by a key file alone: no passphrase, no operator."""
        env = {k: v for k, v in self.cli.env.items() if k != "FAAS_TUI_PASSPHRASE"}
        result = Cli(self.cli.store, env)("--key-file", str(key), *args, **kwargs)
        assert "Traceback" not in result.err
        return result


class Teams:
    """The team of each backend, built once per test process by `_make_team`'s commands; each test
    gets a copy of its store, home folder and record of store generations (a file copy on SQLite,
    `CREATE DATABASE … TEMPLATE` on PostgreSQL), the same as if it had run them itself."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._built: dict[str, tuple[Path, str, list[str]]] = {}
        self._databases: list[Generator[str, None, None]] = []

    def copy(self, backend: str, tmp_path: Path) -> Iterator[Team]:
        folder, store, outputs = self._built.get(backend) or self._build(backend)
        shutil.copytree(folder, tmp_path, dirs_exist_ok=True)  # modes too: 0700 folder, 0600 db
        if backend == "sqlite":
            copies: Iterator[str] = iter([str(tmp_path / Path(store).relative_to(folder))])
        else:
            copies = _postgres_database(template=store)
        for copied in copies:
            team = Team(cli_on(copied, tmp_path))
            team.outputs = list(outputs)
            yield team

    def _build(self, backend: str) -> tuple[Path, str, list[str]]:
        folder = self._factory.mktemp(f"team-{backend}")
        if backend == "sqlite":
            url = store = str(folder / "store" / "store.db")
        else:
            self._databases.append(_postgres_database())
            url = next(self._databases[-1])
            store = make_url(url).database or ""
        built = self._built[backend] = (folder, store, _make_team(cli_on(url, folder)).outputs)
        return built

    def drop(self) -> None:
        for database in self._databases:
            database.close()


@pytest.fixture(scope="session")
def teams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Teams]:
    built = Teams(tmp_path_factory)
    yield built
    built.drop()


@pytest.fixture
def team(teams: Teams, tmp_path: Path) -> Iterator[Team]:
    """The team on SQLite (tests that edit the file behind the tool's back)."""
    yield from teams.copy("sqlite", tmp_path)


@pytest.fixture(params=BACKENDS)
def any_team(request: pytest.FixtureRequest, teams: Teams, tmp_path: Path) -> Iterator[Team]:
    """The team on each backend: SQLite and PostgreSQL."""
    yield from teams.copy(request.param, tmp_path)


def _make_team(cli: Cli) -> Team:
    t = Team(cli)
    t("init", env={"FAAS_TUI_OPERATOR": "alice"})
    t.as_(
        "alice",
        "operators",
        "add",
        "bob",
        "--role",
        "editor",
        env={"FAAS_TUI_NEW_PASSPHRASE": EDITOR_PASS},
    )
    t.as_(
        "alice",
        "operators",
        "add",
        "carol",
        "--role",
        "auditor",
        env={"FAAS_TUI_NEW_PASSPHRASE": AUDITOR_PASS},
    )
    for function, name, value in (
        ("billing", "api key", "billing-value"),
        ("mailer", "smtp", "mailer-value"),
    ):
        t.as_("alice", "functions", "add", function)
        t.as_("alice", "secrets", "add", function, name, input=value)
        t.as_("alice", "deploy", function)
    return t


# --- operators ------------------------------------------------------------------------------------


def test_operators_list_json_shape_and_table(any_team: Team) -> None:
    listed = json.loads(any_team.as_("alice", "operators", "list", "--format", "json").out)
    assert [list(o) for o in listed] == [["name", "role", "created_at"]] * 3
    assert {(o["name"], o["role"]) for o in listed} == {
        ("alice", "admin"),
        ("bob", "editor"),
        ("carol", "auditor"),
    }
    assert all(o["created_at"].endswith("Z") for o in listed)
    table = any_team.as_("alice", "operators", "list").out.splitlines()
    assert table[0].split() == ["NAME", "ROLE", "CREATED"]
    assert any(line.split()[:2] == ["bob", "editor"] for line in table)


def test_the_first_operator_is_named_by_the_option_or_the_login_name(cli: Cli) -> None:
    run = Run(cli)
    run("init", "--operator", "dana")
    listed = json.loads(run("operators", "list", "--format", "json").out)  # the only operator
    assert [(o["name"], o["role"]) for o in listed] == [("dana", "admin")]


def test_operators_add_asks_for_a_passphrase_and_refuses_bad_input(team: Team) -> None:
    result = team.as_("alice", "operators", "add", "dave", "--role", "editor", code=2)
    assert "FAAS_TUI_NEW_PASSPHRASE" in result.err  # no terminal to ask on
    assert "--role" in team.as_("alice", "operators", "add", "dave", code=2).err
    team.as_("alice", "operators", "add", "dave", "--role", "runtime", code=2)  # a key file's role
    new = {"FAAS_TUI_NEW_PASSPHRASE": ADMIN2_PASS}
    team.as_("alice", "operators", "add", "bob", "--role", "admin", env=new, code=1)  # exists
    team.as_("alice", "operators", "add", "bad name!", "--role", "admin", env=new, code=1)


def test_an_unknown_operator_or_their_wrong_passphrase_exits_3(team: Team) -> None:
    result = team("functions", "list", env={"FAAS_TUI_OPERATOR": "mallory"}, code=3)
    assert "no operator 'mallory'" in result.err and "operators list" in result.err
    # several operators and none chosen: the login name, which is none of them
    env = {k: v for k, v in team.cli.env.items() if k != "FAAS_TUI_OPERATOR"}
    assert Cli(team.cli.store, env)("functions", "list").code == 3
    team("functions", "list", env={"FAAS_TUI_OPERATOR": "bob"}, code=3)  # alice's passphrase
    team.as_("bob", "functions", "list")


def test_the_operator_option_wins_over_its_variable(team: Team) -> None:
    env = {"FAAS_TUI_OPERATOR": "mallory", "FAAS_TUI_PASSPHRASE": EDITOR_PASS}
    team("functions", "list", "--operator", "bob", env=env)
    team("--operator", "bob", "functions", "list", env=env)


def test_remove_confirms_by_name_and_never_removes_the_last_admin(any_team: Team) -> None:
    refused = any_team.as_("alice", "operators", "remove", "bob", input="bo\n", code=1)
    assert "not deleted" in refused.err
    any_team.as_("alice", "operators", "remove", "bob", input="bob\n")
    names = [
        o["name"]
        for o in json.loads(any_team.as_("alice", "operators", "list", "--format", "json").out)
    ]
    assert names == ["alice", "carol"]
    any_team(
        "functions",
        "list",
        env={"FAAS_TUI_OPERATOR": "bob", "FAAS_TUI_PASSPHRASE": EDITOR_PASS},
        code=3,
    )
    any_team.as_("alice", "operators", "remove", "nobody", "--yes", code=1)
    last = any_team.as_("alice", "operators", "remove", "alice", "--yes", code=1)
    assert "last admin" in last.err
    any_team.as_("alice", "functions", "list")  # still there


def test_passwd_changes_only_ones_own_passphrase(team: Team) -> None:
    team.as_("bob", "passwd", env={"FAAS_TUI_NEW_PASSPHRASE": "bob's new passphrase"})
    team.as_("bob", "functions", "list", code=3)
    team.as_("bob", "functions", "list", env={"FAAS_TUI_PASSPHRASE": "bob's new passphrase"})
    team.as_("alice", "functions", "list")
    team.as_("carol", "passwd", env={"FAAS_TUI_NEW_PASSPHRASE": "carol's new passphrase"})
    team.as_("carol", "audit", env={"FAAS_TUI_PASSPHRASE": "carol's new passphrase"})


def test_the_event_log_names_the_credential_not_faas_tui_actor(
    any_team: Team, tmp_path: Path
) -> None:
    any_team.as_("bob", "functions", "add", "by-bob", env={"FAAS_TUI_ACTOR": "someone-else"})
    key_id = any_team.key(tmp_path / "ci.key", "--role", "editor")
    assert any_team.with_key(tmp_path / "ci.key", "functions", "add", "by-key").code == 0
    events = json.loads(any_team.as_("alice", "log", "--format", "json").out)
    actors = {e["function"]: e["actor"] for e in events if e["action"] == "function.add"}
    assert actors["by-bob"] == "bob"
    assert actors["by-key"] == f"key-file:{key_id}"
    assert actors["billing"] == "alice"
    assert "someone-else" not in json.dumps(events)


# --- roles: exit 5 --------------------------------------------------------------------------------


def _denied(result: Any, *words: str) -> None:
    assert result.code == 5, (result.code, result.err)
    assert result.err.startswith("error: not allowed: ")
    assert_one_error_line(result.err)
    for word in words:
        assert word in result.err


def test_an_editor_may_change_secrets_but_not_operators_key_files_rotate_or_accept(
    any_team: Team, tmp_path: Path
) -> None:
    any_team.as_("bob", "secrets", "add", "billing", "new", input="v")
    any_team.as_("bob", "deploy", "billing")
    any_team.as_("bob", "secrets", "verify", "billing", "API_KEY", input="billing-value")
    any_team.as_("bob", "check")
    new = {"FAAS_TUI_NEW_PASSPHRASE": ADMIN2_PASS}
    for args in (
        ("operators", "add", "eve", "--role", "admin"),
        ("operators", "list"),
        ("operators", "remove", "carol", "--yes"),
        ("key-file", "add", str(tmp_path / "k.key"), "--function", "billing"),
        ("key-file", "list"),
        ("key-file", "revoke", "anything"),
        ("rotate-key",),
        ("check", "--accept"),
    ):
        result = any_team.as_("bob", *args, env=new, code=5)
        _denied(result, "bob is an editor")
    assert not (tmp_path / "k.key").exists()


def test_an_auditor_lists_audits_and_checks_but_reads_and_writes_nothing(
    any_team: Team, tmp_path: Path
) -> None:
    any_team.as_("carol", "functions", "list")
    any_team.as_("carol", "secrets", "list", "billing")
    any_team.as_("carol", "system-secrets", "billing")
    any_team.as_("carol", "audit", "--format", "csv")
    any_team.as_("carol", "log", "--verify")
    any_team.as_("carol", "check")
    env_file = tmp_path / "x.env"
    env_file.write_text("NEWKEY=v\n")
    for args, value in (
        (("secrets", "verify", "billing", "API_KEY"), "billing-value"),
        (("secrets", "add", "billing", "NEWKEY"), "v"),
        (("secrets", "update", "billing", "API_KEY"), "v"),
        (("secrets", "delete", "billing", "API_KEY", "--yes"), None),
        (("secrets", "import", "billing", str(env_file)), None),
        (("functions", "add", "x"), None),
        (("functions", "delete", "billing", "--yes"), None),
        (("functions", "set-source", "billing", str(tmp_path)), None),
        (("deploy", "billing"), None),
        (("run", "billing", "--", "true"), None),
        (("rotate-key",), None),
    ):
        _denied(any_team.as_("carol", *args, input=value, code=5), "carol is an auditor")


def test_a_runtime_key_reads_its_function_only_and_changes_nothing(
    any_team: Team, tmp_path: Path
) -> None:
    key = tmp_path / "billing.key"
    key_id = any_team.key(key, "--function", "billing", "--label", "billing runtime")
    ok = any_team.with_key(key, "secrets", "list", "billing")
    assert ok.code == 0 and "API_KEY" in ok.out
    ok = any_team.with_key(key, "secrets", "verify", "billing", "API_KEY", input="billing-value")
    assert (ok.code, ok.out) == (0, "match\n")
    for args, value in (
        (("secrets", "list", "mailer"), None),
        (("secrets", "verify", "mailer", "SMTP"), "mailer-value"),
        (("run", "mailer", "--", "true"), None),
        (("secrets", "add", "billing", "NEWKEY"), "v"),
        (("secrets", "update", "billing", "API_KEY"), "v"),
        (("functions", "add", "x"), None),
        (("deploy", "billing"), None),
        (("key-file", "add", str(tmp_path / "more.key"), "--function", "mailer"), None),
        (("passwd",), None),
        (("check", "--accept"), None),
    ):
        _denied(any_team.with_key(key, *args, input=value), f"key file {key_id}")
    assert "mailer-value" not in any_team.with_key(key, "secrets", "list", "mailer").out


# --- key files ------------------------------------------------------------------------------------


def test_key_file_add_needs_exactly_one_of_function_and_role(team: Team, tmp_path: Path) -> None:
    target = str(tmp_path / "k.key")
    for extra in ((), ("--function", "billing", "--role", "editor")):
        result = team.as_("alice", "key-file", "add", target, *extra, code=2)
        assert "needs --function F… (a runtime key) or --role ROLE" in result.err
    team.as_("alice", "key-file", "add", target, "--role", "runtime", code=2)
    assert not Path(target).exists()
    team.as_("alice", "key-file", "add", target, "--function", "nope", code=1)  # no such function


def test_key_file_list_shows_role_functions_and_legacy(any_team: Team, tmp_path: Path) -> None:
    runtime = any_team.key(tmp_path / "r.key", "--function", "billing", "--function", "mailer")
    headless = any_team.key(tmp_path / "ci.key", "--role", "auditor", "--label", "ci")
    listed = {
        k["id"]: k
        for k in json.loads(any_team.as_("alice", "key-file", "list", "--format", "json").out)
    }
    assert list(listed[runtime]) == ["id", "label", "role", "functions", "legacy", "created_at"]
    assert (listed[runtime]["role"], sorted(listed[runtime]["functions"])) == (
        "runtime",
        ["billing", "mailer"],
    )
    assert listed[headless]["role"] == "auditor" and listed[headless]["label"] == "ci"
    assert listed[headless]["functions"] == [] and not listed[runtime]["legacy"]
    table = any_team.as_("alice", "key-file", "list").out.splitlines()
    assert table[0].split() == ["ID", "LABEL", "ROLE", "FUNCTIONS", "LEGACY", "CREATED"]


# --- check and the record of generations ----------------------------------------------------------


def test_check_json_shape_and_a_tampered_store_exits_4(team: Team) -> None:
    report = json.loads(team.as_("carol", "check", "--format", "json").out)
    assert list(report) == ["ok", "problems", "generation"]
    assert report["ok"] is True and report["problems"] == [] and report["generation"] > 0
    assert team.as_("carol", "check").out == "ok\n"

    db_execute(team.db, "UPDATE key_slot SET label = 'forged' WHERE operator = 'carol'")
    failed = team.as_("alice", "check", code=4)
    assert failed.out.strip() and "check --accept" in failed.err
    shape = team.as_("alice", "check", "--format", "json", code=4)
    report = json.loads(shape.out)
    assert report["ok"] is False and report["problems"]
    team.as_("bob", "functions", "add", "blocked", code=4)  # no write can reseal over it
    accepted = team.as_("alice", "check", "--accept")
    assert accepted.out.splitlines()[-1].startswith("ok: the store is resealed at generation")
    assert team.as_("alice", "check").out == "ok\n"
    events = json.loads(team.as_("alice", "log", "--format", "json").out)
    assert events[-1]["action"] == "integrity.accept" and events[-1]["actor"] == "alice"


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite store (WAL included), as a backup would take it."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def test_a_store_rolled_back_to_an_older_copy_is_refused_until_accepted(
    team: Team, tmp_path: Path
) -> None:
    state = Path(team.cli.env["XDG_STATE_HOME"]) / "faas-tui" / "generations.json"
    assert state.stat().st_mode & 0o777 == 0o600  # the CLI keeps its record in the state folder
    old = tmp_path / "old.db"
    _copy(team.db, old)
    team.as_("alice", "secrets", "update", "billing", "API_KEY", input="rotated-value")
    _copy(old, team.db)  # the whole file restored from the backup
    result = team.as_("bob", "secrets", "list", "billing", code=4)
    assert "rolled back or restored from a backup" in result.err
    team.as_("bob", "secrets", "verify", "billing", "API_KEY", input="billing-value", code=4)
    team.as_("alice", "check", code=4)
    team.as_("bob", "check", "--accept", code=5)
    team.as_("alice", "check", "--accept")
    assert (
        team.as_("bob", "secrets", "verify", "billing", "API_KEY", input="billing-value").out
        == "match\n"
    )


# --- run ------------------------------------------------------------------------------------------

ENV_SCRIPT = (
    "import json, os; print(json.dumps({k: os.environ.get(k) for k in "
    "('FAAS_TUI_STORE', 'FAAS_TUI_KEY_FILE', 'FAAS_TUI_PASSPHRASE', 'API_KEY')}))"
)


def test_run_passes_the_store_and_a_runtime_key_file_never_a_passphrase(
    any_team: Team, tmp_path: Path
) -> None:
    key = tmp_path / "billing.key"
    any_team.key(key, "--function", "billing")
    env = {**any_team.cli.env, "FAAS_TUI_KEY_FILE": str(key), "FAAS_TUI_PASSPHRASE": PASSPHRASE}
    client = (
        "from faas_tui.toolbelt import SecretClient, AccessDeniedError\n"
        "print(SecretClient('billing').read_secret('API_KEY'))\n"
        "try:\n    SecretClient('mailer').read_secret('SMTP')\n"
        "except AccessDeniedError:\n    print('mailer refused')\n"
    )
    result = any_team.process("run", "billing", "--", sys.executable, "-c", client, env=env)
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["billing-value", "mailer refused"]
    seen = json.loads(
        any_team.process("run", "billing", "--", sys.executable, "-c", ENV_SCRIPT, env=env).out
    )
    assert seen == {
        "FAAS_TUI_STORE": any_team.cli.store,
        "FAAS_TUI_KEY_FILE": str(key),
        "FAAS_TUI_PASSPHRASE": None,
        "API_KEY": "billing-value",
    }


@pytest.mark.parametrize("credential", ["passphrase", "admin-key-file"])
def test_run_never_hands_an_operators_credential_to_the_command(
    team: Team, tmp_path: Path, credential: str
) -> None:
    env = {**team.cli.env, "FAAS_TUI_OPERATOR": "bob", "FAAS_TUI_PASSPHRASE": EDITOR_PASS}
    if credential == "admin-key-file":
        key = tmp_path / "admin.key"
        team.key(key, "--role", "admin")
        env["FAAS_TUI_KEY_FILE"] = str(key)
    result = team.process("run", "billing", "--", sys.executable, "-c", ENV_SCRIPT, env=env)
    assert result.code == 0, result.err
    seen = json.loads(result.out)
    assert seen["FAAS_TUI_PASSPHRASE"] is None and seen["FAAS_TUI_KEY_FILE"] is None
    assert seen["FAAS_TUI_STORE"] == team.cli.store and seen["API_KEY"] == "billing-value"


def test_run_options_take_the_operator_before_the_double_dash(team: Team) -> None:
    env = {**team.cli.env, "FAAS_TUI_PASSPHRASE": EDITOR_PASS}
    script = "import os, sys; sys.exit(os.environ['API_KEY'] != 'billing-value')"
    result = team.process(
        "run", "billing", "--operator", "bob", "--", sys.executable, "-c", script, env=env
    )
    assert result.code == 0, result.err


def test_the_console_script_exits_5_in_one_line(team: Team) -> None:
    env = {**team.cli.env, "FAAS_TUI_OPERATOR": "carol", "FAAS_TUI_PASSPHRASE": AUDITOR_PASS}
    result = team.process("secrets", "add", "billing", "NEWKEY", input="v", env=env)
    assert result.code == 5
    assert result.err.startswith("error: not allowed: carol is an auditor")
    assert_one_error_line(result.err)


def test_a_legacy_key_file_is_listed_as_legacy_and_reads_without_writing(
    tmp_path: Path,
) -> None:
    fixtures = Path(__file__).parent / "fixtures"
    store = tmp_path / "old" / "store.db"
    store.parent.mkdir()
    store.write_bytes((fixtures / "store_v0_1_0.db").read_bytes())
    key = tmp_path / "old.key"
    key.write_bytes((fixtures / "store_v0_1_0.key").read_bytes())
    key.chmod(0o600)
    run = Team(cli_on(str(store), tmp_path))
    # opening with the 0.1.0 passphrase migrates the store; its passphrase becomes the admin alice
    (entry,) = json.loads(run("--operator", "alice", "key-file", "list", "--format", "json").out)
    assert (entry["legacy"], entry["role"], entry["functions"]) == (True, "runtime", [])
    table = run("--operator", "alice", "key-file", "list").out.splitlines()
    assert table[1].split()[2:5] == ["runtime", "all", "yes"]
    assert "billing" in run.with_key(key, "functions", "list").out  # every function
    refused = run.with_key(key, "functions", "add", "newfn")
    _denied(refused, "legacy key file", "--function F")
