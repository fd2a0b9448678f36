"""The attacks of a security review, through the command line and `run`: someone with write access
to the database file (and a runtime key file) edits rows, and every credential refuses the result.

SQLite files are edited with the standard library behind the tool's back.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli
from test_cli import Run, current_version, db_execute, db_rows

AUDITOR_PASS = "auditor passphrase 2"


@pytest.fixture
def run(cli: Cli) -> Run:
    cli.env["FAAS_TUI_OPERATOR"] = "alice"  # the admin; carol joins in some tests
    r = Run(cli)
    r("init")
    r("functions", "add", "billing")
    r("functions", "add", "mailer")
    r.add("mailer", "smtp", "mailer-value")
    r("deploy", "mailer")
    return r


def _refused(result: Any, *values: str) -> None:
    """Refused as tampering or a wrong key (exit 4 or 3), in one line, no value shown."""
    assert result.code in (3, 4), (result.code, result.err)
    assert "Traceback" not in result.err and "unexpected" not in result.err
    for value in values:
        assert value not in result.out + result.err


def _with_key(run: Run, key: Path, *args: str, **kwargs: Any) -> Any:
    env = {k: v for k, v in run.cli.env.items() if k != "FAAS_TUI_PASSPHRASE"}
    return Cli(run.cli.store, env)("--key-file", str(key), *args, **kwargs)


def test_a_leaked_ciphertext_copied_into_a_re_added_name_is_refused(run: Run) -> None:
    run.add("billing", "api key", "leaked-value")
    old = db_rows(
        run.db,
        "SELECT v.nonce, v.ciphertext, v.write_id FROM secret_version v "
        "JOIN secret s ON s.id = v.secret_id WHERE s.name = 'API_KEY'",
    )
    run("secrets", "delete", "billing", "API_KEY", "--yes")
    run.add("billing", "api key", "fresh-value")  # version 1 again
    run("deploy", "billing")
    new_id, _, _ = current_version(run.db, "billing", "API_KEY")
    ((nonce, ciphertext, write_id),) = old
    db_execute(
        run.db,
        "UPDATE secret_version SET nonce = ?, ciphertext = ?, write_id = ? WHERE id = ?",
        nonce,
        ciphertext,
        write_id,
        new_id,
    )
    _refused(run("secrets", "verify", "billing", "API_KEY", input="leaked-value", code=4))
    _refused(run("run", "billing", "--", "env", code=4), "leaked-value", "fresh-value")
    run("functions", "add", "laundry", code=4)  # no write reseals over it


def test_a_binding_pointed_at_another_version_is_refused(run: Run) -> None:
    run.add("billing", "api key", "deployed-value")
    run("deploy", "billing")
    run("secrets", "update", "billing", "API_KEY", input="not-yet-deployed")
    db_execute(run.db, "UPDATE binding SET version = 2 WHERE secret_name = 'API_KEY'")
    _refused(run("run", "billing", "--", "env", code=4), "not-yet-deployed", "deployed-value")


def test_an_old_copy_of_a_revoked_slot_opens_nothing_written_later(
    run: Run, tmp_path: Path
) -> None:
    run.add("billing", "api key", "before-revoke")
    run("deploy", "billing")
    key = tmp_path / "billing.key"
    key_id = run("key-file", "add", str(key), "--function", "billing").out.split()[2]
    slot = db_rows(run.db, "SELECT * FROM key_slot WHERE id = ?", key_id)
    grants = db_rows(run.db, "SELECT * FROM key_grant WHERE slot_id = ?", key_id)
    (epoch_before,) = db_rows(run.db, "SELECT epoch FROM function WHERE name = 'billing'")
    run("key-file", "revoke", key_id)
    (epoch_after,) = db_rows(run.db, "SELECT epoch FROM function WHERE name = 'billing'")
    assert epoch_after[0] > epoch_before[0]  # billing got a new data key when the key was revoked
    run("secrets", "update", "billing", "API_KEY", input="after-revoke")
    run("deploy", "billing")
    for table, rows in (("key_slot", slot), ("key_grant", grants)):
        for row in rows:
            marks = ", ".join("?" * len(row))
            db_execute(run.db, f"INSERT INTO {table} VALUES ({marks})", *row)  # noqa: S608
    verify = _with_key(run, key, "secrets", "verify", "billing", "API_KEY", input="after-revoke")
    _refused(verify)
    assert verify.out != "match\n"
    _refused(_with_key(run, key, "run", "billing", "--", "env"), "after-revoke")


@pytest.mark.parametrize("column, value", [("kdf_memory_kib", 0), ("kdf_iterations", 2**40)])
def test_bad_kdf_parameters_are_an_integrity_failure_with_a_clear_line(
    run: Run, column: str, value: int
) -> None:
    db_execute(run.db, f"UPDATE key_slot SET {column} = ? WHERE operator = 'alice'", value)  # noqa: S608
    result = run("functions", "list", code=4)
    _refused(result)


def test_a_widened_scope_reads_nothing_more(run: Run, tmp_path: Path) -> None:
    key = tmp_path / "billing.key"
    key_id = run("key-file", "add", str(key), "--function", "billing").out.split()[2]
    db_execute(run.db, "UPDATE key_slot SET scope = 'billing mailer' WHERE id = ?", key_id)
    result = _with_key(run, key, "secrets", "verify", "mailer", "SMTP", input="mailer-value")
    _refused(result)
    assert result.out != "match\n"
    _refused(_with_key(run, key, "run", "mailer", "--", "env"), "mailer-value")


def test_an_auditor_promoted_in_the_database_reads_and_changes_nothing(run: Run) -> None:
    new = {"FAAS_TUI_NEW_PASSPHRASE": AUDITOR_PASS}
    run("operators", "add", "carol", "--role", "auditor", env=new)
    db_execute(run.db, "UPDATE key_slot SET role = 'admin' WHERE operator = 'carol'")
    carol = {"FAAS_TUI_OPERATOR": "carol", "FAAS_TUI_PASSPHRASE": AUDITOR_PASS}
    result = run.cli("secrets", "verify", "mailer", "SMTP", input="mailer-value", env=carol)
    _refused(result)
    assert result.out != "match\n"
    _refused(run.cli("operators", "add", "mallory", "--role", "admin", env={**carol, **new}))
    db_execute(run.db, "UPDATE key_slot SET role = 'auditor' WHERE operator = 'carol'")
    assert "mallory" not in run("operators", "list").out


def test_run_refuses_a_tampered_binding_through_the_console_script(run: Run) -> None:
    run.add("billing", "api key", "deployed-value")
    run("deploy", "billing")
    db_execute(run.db, "UPDATE binding SET write_id = X'00' WHERE secret_name = 'API_KEY'")
    script = "print('command ran')"
    result = run.process("run", "billing", "--", sys.executable, "-c", script)
    assert result.code == 4 and "command ran" not in result.out
    assert result.err.startswith("error: ") and "deployed-value" not in result.err
