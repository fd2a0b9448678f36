"""A canary value must not leak: not into DEBUG logs (SQLAlchemy included), exception text, a repr,
SQLAlchemy's error text, the database and -wal bytes, CLI outputs and exports, or the terminal's
scrollback. Core dumps are off while unlocked, and store files stay private under `umask 022`.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import os
import shlex
import shutil
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE, fast_kdf
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from store_support import data_key, raw_engine

from faas_tui import cli
from faas_tui.cli import prompts
from faas_tui.core.errors import FaasError
from faas_tui.core.values import SecretFormat
from faas_tui.store.location import sqlite_path, to_url
from faas_tui.store.vault import Vault
from reliability._support import backend_of, clean_env, record_figure, run_cli

NEW_PASSPHRASE = "the next passphrase, also secret"


def canary(tag: str) -> str:
    return f"CANARY{tag}{uuid.uuid4().hex[:16]}"


class Leaks:
    """Secrets to look for, and every place looked at (for the README's figures)."""

    def __init__(self, *secrets: str) -> None:
        self.secrets = [s for s in secrets if s]
        self.places: dict[str, int] = {}

    def add_secret(self, *more: str) -> None:
        self.secrets += [s for s in more if s]

    def check(self, place: str, content: str | bytes) -> None:
        data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
        for secret in self.secrets:
            needle = secret.encode()
            assert needle not in data, f"{secret[:12]}… leaked into {place}"
        self.places[place.split(":")[0]] = self.places.get(place.split(":")[0], 0) + 1

    @property
    def total(self) -> int:
        return sum(self.places.values())


@contextlib.contextmanager
def debug_logging() -> Iterator[io.StringIO]:
    """Root and SQLAlchemy loggers at DEBUG (statements, parameters, rows) into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    names = ["", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy.orm"]
    saved = {name: logging.getLogger(name).level for name in names}
    root = logging.getLogger()
    root.addHandler(handler)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def test_a_whole_vault_workflow_leaks_no_value_into_logs_errors_or_reprs(
    store_url: str, tmp_path: Path
) -> None:
    plain, in_json, imported, updated = canary("P"), canary("J"), canary("I"), canary("U")
    number = str(uuid.uuid4().int)[:18]  # a secret number inside a JSON value
    leaks = Leaks(plain, in_json, imported, updated, number, PASSPHRASE, NEW_PASSPHRASE)
    shown: list[tuple[str, Any]] = []  # (label, object the Vault returned)
    refusals: list[tuple[str, Callable[[], Any]]] = []
    with debug_logging() as log:
        vault = Vault.create(store_url, PASSPHRASE, kdf=fast_kdf())
        leaks.add_secret(*_key_forms(data_key(vault).raw))
        shown.append(("vault", vault))
        shown.append(("function", vault.add_function("billing")))
        shown.append(("secret", vault.add_secret("billing", "PLAIN_KEY", plain)))
        json_value = json.dumps({"token": in_json, "nested": {"list": [in_json]}})
        shown.append(
            ("json secret", vault.add_secret("billing", "JSON_KEY", json_value, SecretFormat.JSON))
        )
        shown.append(("deploy", vault.deploy("billing")))
        shown.append(("updated", vault.update_secret("billing", "PLAIN_KEY", updated)))
        shown.append(
            (
                "import plan",
                vault.import_secrets(
                    "billing", [("IMPORTED_KEY", imported, SecretFormat.PLAINTEXT)]
                ),
            )
        )
        shown.append(
            (
                "dry run",
                vault.import_secrets(
                    "billing",
                    [("IMPORTED_KEY", plain, SecretFormat.PLAINTEXT)],
                    overwrite=True,
                    dry_run=True,
                ),
            )
        )
        for label, call in [
            ("list", lambda: vault.list_secrets("billing", include_system=True)),
            ("get", lambda: vault.get_secret("billing", "PLAIN_KEY")),
            ("functions", vault.list_functions),
            ("audit", vault.audit),
            ("events", vault.events),
            ("deployments", lambda: vault.deployments("billing")),
            ("system", lambda: vault.list_system_secrets("billing")),
            ("binding", lambda: vault.deployments_binding("billing", "PLAIN_KEY")),
            ("verify", lambda: vault.verify_secret("billing", "PLAIN_KEY", updated)),
            ("log", vault.verify_log),
        ]:
            shown.append((label, call()))
        assert vault.read_secret("billing", "PLAIN_KEY") == updated  # the readers do work
        assert vault.bound_values("billing")["PLAIN_KEY"][0] == plain
        key_file = tmp_path / "leak.key"
        shown.append(("key file", vault.add_key_file(key_file, "runtime", functions=["billing"])))
        leaks.add_secret(key_file.read_text().split()[-1])
        shown.append(("key files", vault.list_key_files()))
        refusals += [
            ("duplicate", lambda: vault.add_secret("billing", "PLAIN_KEY", plain)),
            ("NUL", lambda: vault.add_secret("billing", "NUL_KEY", plain + "\x00")),
            ("too big", lambda: vault.add_secret("billing", "BIG_KEY", plain * 5000)),
            ("surrogate", lambda: vault.add_secret("billing", "SUR_KEY", plain + "\ud800")),
            (
                "json array",
                lambda: vault.add_secret("billing", "J1", f'["{plain}"]', SecretFormat.JSON),
            ),
            (
                "json syntax",
                lambda: vault.add_secret(
                    "billing", "J2", f'{{"a": "{plain}" x}}', SecretFormat.JSON
                ),
            ),
            (
                "json dup key",
                lambda: vault.add_secret(
                    "billing", "J3", f'{{"{plain}": 1, "{plain}": 2}}', SecretFormat.JSON
                ),
            ),
            (
                "json NaN",
                lambda: vault.add_secret("billing", "J4", f'{{"{plain}": NaN}}', SecretFormat.JSON),
            ),
            (
                "json huge number",
                lambda: vault.add_secret(
                    "billing", "J5", f'{{"a": {number}e999}}', SecretFormat.JSON
                ),
            ),
            (
                "json surrogate",
                lambda: vault.add_secret(
                    "billing", "J6", f'{{"{plain}": "\\ud800"}}', SecretFormat.JSON
                ),
            ),
            (
                "json deep",
                lambda: vault.add_secret(
                    "billing", "J7", f'{{"{plain}":' * 200 + "1" + "}" * 200, SecretFormat.JSON
                ),
            ),
            (
                "import conflict",
                lambda: vault.import_secrets(
                    "billing", [("PLAIN_KEY", plain, SecretFormat.PLAINTEXT)]
                ),
            ),
            (
                "import bad",
                lambda: vault.import_secrets(
                    "billing",
                    [
                        ("GOOD_KEY", plain, SecretFormat.PLAINTEXT),
                        ("X", plain, SecretFormat.PLAINTEXT),
                    ],
                ),
            ),
            ("system update", lambda: vault.update_secret("billing", "SYSTEM_API_TOKEN", plain)),
            ("missing update", lambda: vault.update_secret("billing", "MISSING_KEY", plain)),
            ("wrong passphrase", lambda: Vault.open(store_url, passphrase=plain)),
            ("short passphrase", lambda: vault.change_passphrase(plain[:5])),
        ]
        for label, attempt in refusals:
            with pytest.raises(FaasError) as refused:
                attempt()
            leaks.check(f"exception:{label}", str(refused.value) + repr(refused.value))
        vault.rotate_key()
        leaks.add_secret(*_key_forms(data_key(vault).raw))
        vault.change_passphrase(NEW_PASSPHRASE)
        vault.delete_secret("billing", "PLAIN_KEY")
        with pytest.raises(FaasError) as refused:
            vault.bound_values("billing")
        leaks.check("exception:deleted binding", str(refused.value) + repr(refused.value))
        vault.close()
        reopened = Vault.open(store_url, passphrase=NEW_PASSPHRASE)
        shown.append(("reopened vault", reopened))
        reopened.close()
    for label, obj in shown:
        leaks.check(f"repr:{label}", repr(obj) + str(obj))
    leaks.check("repr:vault attributes", repr(vars(reopened)))  # it keeps no value, no passphrase
    logged = log.getvalue()
    assert "INSERT INTO secret_version" in logged  # SQLAlchemy really logged at DEBUG
    leaks.check("debug log", logged)
    record_figure("canary", backend_of(store_url), leaks.total, places=dict(leaks.places))


def _key_forms(raw: bytes) -> list[str]:
    """A key as it could show up in text: hex, base64, urlsafe base64."""
    return [raw.hex(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()]


def test_the_runtime_client_leaks_no_value_into_reprs_or_errors(store: str) -> None:
    toolbelt = pytest.importorskip("faas_tui.toolbelt")
    value = canary("R")
    leaks = Leaks(value, PASSPHRASE)
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        vault.add_secret("billing", "RUNTIME_KEY", value)
    with debug_logging() as log:
        client = toolbelt.SecretClient("billing", store=store, passphrase=PASSPHRASE)
        assert client.read_secret("RUNTIME_KEY") == value  # cached now
        leaks.check("repr:client", repr(client) + str(client))
        with pytest.raises(KeyError) as missing:
            client.read_secret("MISSING_KEY")
        leaks.check("exception:client missing", str(missing.value))
        client.close()
    leaks.check("debug log:client", log.getvalue())
    record_figure("canary", backend_of(store), leaks.total, places=dict(leaks.places))


def test_sqlalchemy_error_text_never_holds_parameters(store: str) -> None:
    value = canary("S")
    leaks = Leaks(value)
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        with pytest.raises(SQLAlchemyError) as failed, raw_engine(vault).connect() as conn:
            conn.execute(text("SELECT no_such_column FROM secret WHERE name = :p"), {"p": value})
        message = str(failed.value)
        assert "hidden due to hide_parameters" in message
        leaks.check("sqlalchemy error", message + repr(failed.value))
        with raw_engine(vault).begin() as conn:  # break the store behind the tool's back
            conn.execute(text("DROP TABLE binding"))
        with pytest.raises(FaasError) as refused:
            vault.add_secret("billing", "AFTER_DROP", value)
        leaks.check("store failure", str(refused.value))
    record_figure("canary", backend_of(store), leaks.total, places=dict(leaks.places))


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_database_and_wal_bytes_hold_no_value_and_no_deleted_ciphertext(store: str) -> None:
    value, kept = canary("D"), canary("K")
    leaks = Leaks(value, kept, PASSPHRASE)
    path = sqlite_path(to_url(store))
    assert path is not None
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        vault.add_secret("billing", "DOOMED_KEY", value)
        vault.add_secret("billing", "KEPT_KEY", kept)
        vault.update_secret("billing", "DOOMED_KEY", value + "2")
        with raw_engine(vault).connect() as conn:
            doomed = [
                bytes(c)
                for c in conn.execute(
                    text(
                        "SELECT v.ciphertext FROM secret_version v JOIN secret s "
                        "ON s.id = v.secret_id WHERE s.name = 'DOOMED_KEY'"
                    )
                ).scalars()
            ]
        _check_files(leaks, path, "with the vault open")
        vault.delete_secret("billing", "DOOMED_KEY")
        files = _check_files(leaks, path, "after delete")
        for ciphertext in doomed:
            assert ciphertext[:24] not in files, "a deleted ciphertext is still in the files"
    _check_files(leaks, path, "after close")
    record_figure("canary", "sqlite", leaks.total, places=dict(leaks.places))


def _check_files(leaks: Leaks, path: Path, when: str) -> bytes:
    everything = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        file = Path(f"{path}{suffix}")
        if file.exists():
            data = file.read_bytes()
            leaks.check(f"file {suffix or 'db'}: {when}", data)
            everything += data
    return everything


@pytest.mark.postgres
def test_postgresql_tables_and_wal_hold_no_plaintext(pg_url: str) -> None:
    value = canary("G")
    leaks = Leaks(value, PASSPHRASE)
    with Vault.create(pg_url, PASSPHRASE, kdf=fast_kdf()) as vault:
        vault.add_function("billing")
        vault.add_secret("billing", "PG_KEY", value)
        vault.update_secret("billing", "PG_KEY", value + "2")
        with raw_engine(vault).connect() as conn:
            try:
                conn.execute(text("CHECKPOINT"))
                paths = (
                    conn.execute(
                        text(
                            "SELECT pg_relation_filepath(oid) FROM pg_class WHERE relkind IN "
                            "('r', 't', 'i') AND relnamespace IN (SELECT oid FROM pg_namespace "
                            "WHERE nspname IN ('public', 'pg_toast'))"
                        )
                    )
                    .scalars()
                    .all()
                )
                wal = conn.execute(text("SELECT pg_walfile_name(pg_current_wal_lsn())")).scalar()
                read = text("SELECT pg_read_binary_file(:p)")
                tables = b"".join(bytes(conn.execute(read, {"p": p}).scalar()) for p in paths if p)
                leaks.check("pg table, TOAST and index files", tables)
                segment = bytes(conn.execute(read, {"p": f"pg_wal/{wal}"}).scalar())
                leaks.check("pg current WAL segment", segment)
            except SQLAlchemyError as exc:
                pytest.skip(
                    f"cannot read the server's files (not a superuser?): {type(exc).__name__}"
                )
    record_figure("canary", "postgres", leaks.total, places=dict(leaks.places))


# --- the CLI: every output and export --------------------------------------------------------------


def test_cli_outputs_and_exports_never_show_a_value(
    store: str, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    value, json_value = canary("C"), canary("CJ")
    leaks = Leaks(value, json_value, PASSPHRASE, NEW_PASSPHRASE)
    for name in list(os.environ):
        if name.startswith("FAAS_TUI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FAAS_TUI_STORE", store)
    monkeypatch.setenv("FAAS_TUI_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr(prompts, "has_terminal", lambda: False)
    env_file = tmp_path / "leak.env"
    env_file.write_text(f"IMPORTED_KEY=\"{value}\"\nOTHER_KEY='{json_value}'\n")
    bad_env = tmp_path / "bad.env"
    bad_env.write_text(f'GOOD_KEY=fine\nBROKEN_KEY="{value}\n')
    calls: list[tuple[list[str], bytes]] = [
        (["secrets", "add", "billing", "CLI_KEY"], value.encode() + b"\n"),
        (
            ["secrets", "add", "billing", "CLI_JSON", "--json"],
            json.dumps({"t": json_value}).encode(),
        ),
        (
            ["secrets", "add", "billing", "CLI_BAD", "--json"],
            f'{{"{value}": 1, "{value}": 2}}'.encode(),
        ),
        (["secrets", "add", "billing", "CLI_NUL"], value.encode() + b"\x00"),
        (["secrets", "add", "billing", "CLI_KEY"], value.encode()),
        (["secrets", "verify", "billing", "CLI_KEY"], value.encode()),
        (["secrets", "verify", "billing", "CLI_KEY"], json_value.encode()),
        (["secrets", "import", "billing", str(env_file), "--dry-run"], b""),
        (["secrets", "import", "billing", str(env_file)], b""),
        (["secrets", "import", "billing", str(bad_env)], b""),
        (["secrets", "update", "billing", "CLI_KEY"], json_value.encode()),
        (["deploy", "billing"], b""),
        (["secrets", "list", "billing"], b""),
        (["secrets", "list", "billing", "--format", "json"], b""),
        (["functions", "list", "--format", "json"], b""),
        (["system-secrets", "billing"], b""),
        (["audit"], b""),
        (["audit", "--format", "json"], b""),
        (["audit", "--format", "csv"], b""),
        (["log"], b""),
        (["log", "--format", "json"], b""),
        (["log", "--verify"], b""),
        (["key-file", "add", str(tmp_path / "cli.key"), "--function", "billing"], b""),
        (["key-file", "list", "--format", "json"], b""),
        (["secrets", "delete", "billing", "CLI_KEY"], b"WRONG_NAME\n"),
        (["secrets", "delete", "billing", "CLI_KEY", "--yes"], b""),
        (["run", "billing", "--", "true"], b""),
        (["rotate-key"], b""),
    ]
    for argv, stdin in calls:
        out, err = _call_main(argv, stdin, monkeypatch)
        leaks.check(f"cli output:{' '.join(argv[:2])}", out + err)
    monkeypatch.setenv("FAAS_TUI_NEW_PASSPHRASE", NEW_PASSPHRASE)
    out, err = _call_main(["passwd"], b"", monkeypatch)
    leaks.check("cli output:passwd", out + err)
    # The real console script too: an add and an export, as a user's shell sees them.
    env = {**env, "FAAS_TUI_PASSPHRASE": NEW_PASSPHRASE}
    result = run_cli("secrets", "add", "billing", "SCRIPT_KEY", env=env, input=value.encode())
    assert result.code == 0, result.err
    leaks.check("cli output:script add", result.out + result.err)
    result = run_cli("audit", "--format", "csv", env=env)
    leaks.check("cli output:script audit", result.out + result.err)
    record_figure("canary", backend_of(store), leaks.total, places=dict(leaks.places))


def _call_main(argv: list[str], stdin: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    monkeypatch.setattr(os, "execvpe", _no_exec)
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        contextlib.suppress(SystemExit),
    ):
        cli.main(argv)
    assert "Traceback" not in err.getvalue()
    return out.getvalue(), err.getvalue()


def _no_exec(*args: object) -> None:
    raise SystemExit(0)  # `run` would replace this process with the command


# --- the terminal: the prompt's scrollback ------------------------------------------------------


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """A private tmux server (its own socket), killed at the end."""
    if shutil.which("tmux") is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("tmux is missing in CI: .ci/run installs it")
        pytest.skip("tmux is not installed")
    socket = f"faas-leaks-{uuid.uuid4().hex[:8]}"

    def tmux_cmd(*args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30, check=True
        ).stdout

    try:
        yield tmux_cmd
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=30)


def _wait_for(tmux: Callable[..., str], pane: str, needle: str, timeout: float = 60) -> str:
    """The whole scrollback once a line *starts* with `needle` (typed commands do not count)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", pane)
        if any(line.startswith(needle) for line in screen.splitlines()):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} did not appear:\n{screen}")


@pytest.mark.e2e
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_prompted_add_leaves_no_value_or_passphrase_in_the_scrollback(
    store: str, env: dict[str, str], tmux: Callable[..., str]
) -> None:
    value = canary("T")
    leaks = Leaks(value, PASSPHRASE)
    shell_env = {k: v for k, v in env.items() if k != "FAAS_TUI_PASSPHRASE"}
    command = " ".join(
        [
            "env",
            "-i",
            *(f"{k}={shlex.quote(v)}" for k, v in shell_env.items()),
            "sh",
            "-c",
            shlex.quote("faas-tui secrets add billing tty_key; echo EXIT=$?; sleep 600"),
        ]
    )
    tmux("new-session", "-d", "-s", "leak", "-x", "120", "-y", "30", command)
    pane = "leak:0.0"
    _wait_for(tmux, pane, "Passphrase:")
    tmux("send-keys", "-t", pane, "-l", PASSPHRASE)
    tmux("send-keys", "-t", pane, "Enter")
    _wait_for(tmux, pane, "Value for TTY_KEY")
    tmux("send-keys", "-t", pane, "-l", value)
    tmux("send-keys", "-t", pane, "Enter")
    _wait_for(tmux, pane, "Repeat it")
    tmux("send-keys", "-t", pane, "-l", value)
    tmux("send-keys", "-t", pane, "Enter")
    screen = _wait_for(tmux, pane, "EXIT=", timeout=120)
    assert "EXIT=0" in screen and "created billing/TTY_KEY" in screen, screen
    with_escapes = tmux("capture-pane", "-p", "-e", "-S", "-", "-E", "-", "-t", pane)
    leaks.check("scrollback", screen)
    leaks.check("scrollback with escapes", with_escapes)
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        assert vault.read_secret("billing", "TTY_KEY") == value
    record_figure("canary", "sqlite", leaks.total, places=dict(leaks.places))


def _wait_screen(tmux: Callable[..., str], pane: str, needle: str, timeout: float = 60) -> str:
    """The visible screen once it contains `needle` (the app draws on the alternate screen)."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", pane)
        if needle in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} did not appear:\n{screen}")


@pytest.mark.e2e
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_app_leaves_no_value_in_the_scrollback_after_it_exits(
    store: str, env: dict[str, str], tmux: Callable[..., str]
) -> None:
    """Unlock, add a secret in the Add modal, quit: the terminal keeps neither value nor passphrase."""
    pytest.importorskip("faas_tui.tui.app")
    value = canary("A")
    leaks = Leaks(value, PASSPHRASE)
    app_env = {k: v for k, v in env.items() if k != "FAAS_TUI_PASSPHRASE"}
    app_env["TERM"] = "xterm-256color"
    command = " ".join(
        [
            "env",
            "-i",
            *(f"{k}={shlex.quote(v)}" for k, v in app_env.items()),
            "sh",
            "-c",
            shlex.quote("faas-tui; echo EXIT=$?; sleep 600"),
        ]
    )
    tmux("new-session", "-d", "-s", "app", "-x", "120", "-y", "35", command)
    pane = "app:0.0"
    _wait_screen(tmux, pane, "assphrase")
    tmux("send-keys", "-t", pane, "-l", PASSPHRASE)
    tmux("send-keys", "-t", pane, "Enter")
    _wait_screen(tmux, pane, "billing")
    tmux("send-keys", "-t", pane, "Enter")
    _wait_screen(tmux, pane, "Add a secret")
    tmux("send-keys", "-t", pane, "n")
    _wait_screen(tmux, pane, "Key")
    tmux("send-keys", "-t", pane, "-l", "app key")
    _wait_screen(tmux, pane, "APP_KEY")  # the live preview: the key was taken
    tmux("send-keys", "-t", pane, "Tab", "Tab")  # Key → Format → Value, in one burst
    tmux("send-keys", "-t", pane, "-l", value)
    _wait_screen(tmux, pane, value)  # visible in the modal while typed, as the spec allows
    tmux("send-keys", "-t", pane, "C-s")
    shown = _wait_screen(tmux, pane, "Saved APP_KEY")  # the modal closed, a notice says so
    leaks.check("app screen after create", shown)
    tmux("send-keys", "-t", pane, "C-q")
    screen = _wait_for(tmux, pane, "EXIT=", timeout=60)
    assert "EXIT=0" in screen, screen
    leaks.check("scrollback after the app", screen)
    leaks.check(
        "scrollback after the app with escapes",
        tmux("capture-pane", "-p", "-e", "-S", "-", "-E", "-", "-t", pane),
    )
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        assert vault.read_secret("billing", "APP_KEY") == value
    record_figure("canary", "sqlite", leaks.total, places=dict(leaks.places))


# --- the process and its files ------------------------------------------------------------------


def test_core_dumps_are_off_once_the_store_is_unlocked(store: str) -> None:
    """A fresh process is dumpable; after Vault.open (and SecretClient) it is not."""
    if not sys.platform.startswith("linux"):
        pytest.skip("prctl(PR_GET_DUMPABLE) is Linux only")
    script = (
        "import resource, sys\n"
        "from faas_tui.store.process import is_dumpable\n"
        "from faas_tui.store.vault import Vault\n"
        "before = is_dumpable()\n"
        "v = Vault.open(sys.argv[1], passphrase=sys.argv[2])\n"
        "print(before, is_dumpable(), resource.getrlimit(resource.RLIMIT_CORE)[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, store, PASSPHRASE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "0"]


def test_the_runtime_client_writes_no_core_file_once_unlocked(store: str) -> None:
    """The toolbelt sets RLIMIT_CORE's soft limit to 0 (a library leaves PR_SET_DUMPABLE to its
    host on SQLite). The pytest worker's limit is 0 already, so the call itself is recorded."""
    pytest.importorskip("faas_tui.toolbelt")
    script = (
        "import resource, sys\n"
        "calls = []\n"
        "real = resource.setrlimit\n"
        "def record(which, limits):\n"
        "    calls.append((which, limits[0]))\n"
        "    real(which, limits)\n"
        "resource.setrlimit = record\n"
        "from faas_tui.toolbelt import SecretClient\n"
        "before = (resource.RLIMIT_CORE, 0) in calls\n"
        "c = SecretClient('billing', store=sys.argv[1], passphrase=sys.argv[2])\n"
        "print(before, (resource.RLIMIT_CORE, 0) in calls, resource.getrlimit(resource.RLIMIT_CORE)[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, store, PASSPHRASE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "0"]


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_files_stay_private_under_umask_022(store_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "runtime.key"
    key_file.parent.mkdir()
    checked = 0
    with umask(0o022):
        vault = Vault.create(store_url, PASSPHRASE, kdf=fast_kdf())
        try:
            vault.add_function("billing")
            vault.add_secret("billing", "API_KEY", "value")  # -wal and -shm exist while open
            vault.add_key_file(key_file, functions=["billing"])
            assert _mode(key_file) == 0o600
            checked += 1
            path = sqlite_path(to_url(store_url))
            if path is not None:
                assert _mode(path.parent) == 0o700
                for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    assert file.exists(), file
                    assert _mode(file) == 0o600, (file, oct(_mode(file)))
                checked += 4
                reader = Vault.open(store_url, passphrase=PASSPHRASE, read_only=True)
                reader.list_functions()
                assert _mode(Path(f"{path}-shm")) == 0o600
                reader.close()
        finally:
            vault.close()
    record_figure("canary", backend_of(store_url), checked, places={"private file modes": checked})


def test_a_store_in_an_existing_folder_is_private_and_leaves_the_folder_alone(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    os.chmod(folder, 0o755)
    path = folder / "store.db"
    with umask(0o022), Vault.create(str(path), PASSPHRASE, kdf=fast_kdf()) as vault:
        vault.add_function("billing")
        assert _mode(path) == 0o600 and _mode(Path(f"{path}-wal")) == 0o600
    assert _mode(folder) == 0o755  # not ours to change (it could be someone's $HOME)


def test_cli_init_under_umask_022_makes_a_private_folder_and_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    path = tmp_path / "new-folder" / "deeper" / "store.db"
    env = clean_env(str(path), PASSPHRASE, home)
    key = tmp_path / "cli.key"
    script = (
        "umask 022 && faas-tui init && faas-tui functions add billing && "
        f"printf v | faas-tui secrets add billing api_key && faas-tui key-file add {key} --function billing"
    )
    result = subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert _mode(path.parent) == 0o700  # the store's own folder; parents are like `mkdir -p`
    assert _mode(path) == 0o600 and _mode(key) == 0o600
    for suffix in ("-wal", "-shm"):
        companion = Path(f"{path}{suffix}")
        if companion.exists():
            assert _mode(companion) == 0o600
