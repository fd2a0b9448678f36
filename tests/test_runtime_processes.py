"""The runtime across real processes: per-instance caches against a CLI update, `faas-tui run`
before and after deploys, a deleted bound secret, and the cold-start import contract.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import PASSPHRASE, Cli, CliProcess, cli_process_on, faas_tui_command, fast_kdf

from faas_tui.core.values import SecretFormat
from faas_tui.store.vault import Vault

FN = "billing"
OLD = "sk_live_old_value"
NEW = "sk_live_new_value"
NEWER = "sk_live_newer_value"
SHORT_TTL = 2.0
# Never imported on a SQLite store: the UI, the ORM, the Vault and the server driver.
FORBIDDEN = (
    "sqlalchemy",
    "sqlmodel",
    "textual",
    "rich",
    "psycopg",
    "faas_tui.tui",
    "faas_tui.store.vault",
    "faas_tui.store.models",
    "faas_tui.store.database",
)


@dataclass
class Runtime:
    cli: CliProcess  # the console script: `run` execs, and caches are per process
    key_file: Path
    admin: Cli  # the CLI's other commands (deploy, update, delete): main() in this process

    def env(self) -> dict[str, str]:
        """What a function runtime gets: the store and a key file, never the passphrase."""
        env = {k: v for k, v in self.cli.env.items() if k != "FAAS_TUI_PASSPHRASE"}
        return env | {"FAAS_TUI_KEY_FILE": str(self.key_file)}

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=60,
        )


def seeded_runtime(cli: CliProcess, tmp_path: Path) -> Runtime:
    """The CLI's store (fast KDF) with billing's secrets and a runtime key file."""
    key_file = tmp_path / "runtime.key"
    with Vault.create(cli.store, PASSPHRASE, kdf=fast_kdf()) as vault:
        vault.add_function(FN)
        vault.add_secret(FN, "STRIPE_API_KEY", OLD)
        vault.add_secret(FN, "CONFIG", '{"region": "eu", "retries": [1, 2]}', SecretFormat.JSON)
        vault.add_key_file(key_file, "runtime", functions=[FN])
    return Runtime(cli, key_file, Cli(cli.store, cli.env))


@pytest.fixture
def runtime(store_url: str, tmp_path: Path) -> Runtime:
    """On each backend: SQLite, and the PostgreSQL server of .ci/run."""
    return seeded_runtime(cli_process_on(store_url, tmp_path), tmp_path)


@pytest.fixture
def sqlite_runtime(cli_process: CliProcess, tmp_path: Path) -> Runtime:
    return seeded_runtime(cli_process, tmp_path)


# --- two processes, two caches ------------------------------------------------------------------

READER = """
import json, sys, time
from faas_tui.toolbelt import SecretClient

clients = {"long": SecretClient("billing", cache_ttl=600), "short": SecretClient("billing", cache_ttl=float(sys.argv[1]))}
for line in sys.stdin:
    which, mode = line.split()
    value = clients[which].read_secret("STRIPE_API_KEY", use_cache=(mode == "cached"))
    print(json.dumps({"value": value, "at": time.monotonic()}), flush=True)
"""


class ReaderProcess:
    """A long-running function instance that reads on command, over stdin/stdout."""

    def __init__(self, runtime: Runtime, script: Path) -> None:
        script.write_text(READER)
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(SHORT_TTL)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=runtime.env(),
        )

    def read(self, which: str, mode: str = "cached") -> tuple[str, float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{which} {mode}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            assert self.proc.stderr is not None
            raise AssertionError(f"reader died: {self.proc.stderr.read()}")
        answer = json.loads(line)
        return answer["value"], answer["at"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def reader(runtime: Runtime, tmp_path: Path) -> Iterator[ReaderProcess]:
    process = ReaderProcess(runtime, tmp_path / "reader.py")
    yield process
    process.close()


def test_a_running_instance_keeps_its_cached_value_until_ttl_or_use_cache_false(
    runtime: Runtime, reader: ReaderProcess
) -> None:
    assert reader.read("long")[0] == OLD
    value, short_cached_at = reader.read("short")
    assert value == OLD

    updated = runtime.admin("secrets", "update", FN, "STRIPE_API_KEY", input=NEW)
    assert updated.code == 0, updated.err

    # Another instance (a new process) has no cache: it sees the new value at once.
    fresh = runtime.python(
        "from faas_tui.toolbelt import SecretClient; "
        "print(SecretClient('billing').read_secret('STRIPE_API_KEY'))"
    )
    assert fresh.stdout.strip() == NEW, fresh.stderr
    # The running instance still answers from its cache...
    assert reader.read("long")[0] == OLD
    value, at = reader.read("short")
    if at - short_cached_at < SHORT_TTL:  # (the CLI took less than the TTL: it usually does)
        assert value == OLD
    # ...until the entry expires,
    time.sleep(max(0.0, short_cached_at + SHORT_TTL + 0.05 - time.monotonic()))
    assert reader.read("short")[0] == NEW
    # ...or until it reads with use_cache=False, which also refreshes the entry.
    assert reader.read("long", "fresh")[0] == NEW
    assert reader.read("long")[0] == NEW
    updated = runtime.admin("secrets", "update", FN, "STRIPE_API_KEY", input=NEWER)
    assert updated.code == 0, updated.err
    assert reader.read("long")[0] == NEW
    assert reader.read("long", "fresh")[0] == NEWER


# --- faas-tui run -------------------------------------------------------------------------------

PRINT_ENV = "import os; print(os.environ['STRIPE_API_KEY']); print(os.environ['CONFIG'])"


def run(runtime: Runtime, *command: str, input: str = "") -> tuple[int, str, str]:
    result = runtime.cli("run", FN, "--", *command, input=input, env=runtime.env())
    return result.code, result.out, result.err


def test_run_refuses_before_deploy_then_binds_what_each_deploy_snapshotted(
    runtime: Runtime,
) -> None:
    code, out, err = run(runtime, sys.executable, "-c", PRINT_ENV)
    assert code == 1 and out == ""
    assert err == "error: billing has never been deployed: run `faas-tui deploy billing` first\n"

    deployed = runtime.admin("deploy", FN)
    assert (deployed.code, deployed.out.strip()) == (0, "1")
    code, out, err = run(runtime, sys.executable, "-c", PRINT_ENV)
    assert (code, out.splitlines()) == (0, [OLD, '{"region":"eu","retries":[1,2]}']), err

    assert runtime.admin("secrets", "update", FN, "STRIPE_API_KEY", input=NEW).code == 0
    code, out, _ = run(runtime, sys.executable, "-c", PRINT_ENV)
    assert (code, out.splitlines()[0]) == (0, OLD)  # pending redeploy

    deployed = runtime.admin("deploy", FN)
    assert (deployed.code, deployed.out.strip()) == (0, "2")
    code, out, _ = run(runtime, sys.executable, "-c", PRINT_ENV)
    assert (code, out.splitlines()[0]) == (0, NEW)


def test_run_passes_exit_status_stdin_and_signals_through(runtime: Runtime) -> None:
    assert runtime.admin("deploy", FN).code == 0
    assert run(runtime, "sh", "-c", "exit 7")[0] == 7
    code, out, _ = run(
        runtime, sys.executable, "-c", "import sys; print(sys.stdin.read().upper())", input="hi"
    )
    assert (code, out.strip()) == (0, "HI")
    code, _, _ = run(
        runtime, sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    )
    assert code == -signal.SIGTERM  # `run` became the command (exec): the signal is its own
    code, out, _ = run(
        runtime, sys.executable, "-c", "import os; print('FAAS_TUI_PASSPHRASE' in os.environ)"
    )
    assert (code, out.strip()) == (0, "False")


def test_run_leaves_the_commands_own_double_dash_and_options_to_the_command(
    runtime: Runtime,
) -> None:
    assert runtime.admin("deploy", FN).code == 0
    code, out, err = run(runtime, "sh", "-c", 'echo "$STRIPE_API_KEY $0 $1"', "--", "x")
    assert (code, out.strip()) == (0, f"{OLD} -- x"), err
    # options of ours between FUNCTION and `--`; a later `--` still belongs to the command
    result = runtime.cli(
        "run",
        FN,
        "--store",
        runtime.cli.store,
        "--",
        "sh",
        "-c",
        "echo $1",
        "--",
        "y",
        env=runtime.env(),
    )
    assert (result.code, result.out.strip()) == (0, "y"), result.err
    refused = runtime.cli("run", FN, "--store", runtime.cli.store, "sh", env=runtime.env())
    assert refused.code == 2 and refused.err.startswith("error: put options before `--`")


def test_run_gives_the_command_the_usual_core_limit_back(runtime: Runtime) -> None:
    """faas-tui itself dumps no core while it holds the key; the command it becomes may."""
    assert runtime.admin("deploy", FN).code == 0
    inner = " ".join([*faas_tui_command(), "run", FN, "--", "sh", "-c", "'ulimit -c'"])
    result = subprocess.run(
        ["sh", "-c", f"ulimit -c 2048 && {inner}"],
        capture_output=True,
        text=True,
        env=runtime.env(),
        timeout=60,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "2048"), result.stderr


BOUND_ENV = """
from faas_tui.toolbelt import bound_env
try:
    env = bound_env("billing")
except Exception as exc:
    print(type(exc).__name__, exc)
else:
    print("ok", sorted(env))
"""


def test_deleting_a_bound_secret_breaks_run_and_bound_env_until_redeploy(
    runtime: Runtime,
) -> None:
    assert runtime.admin("deploy", FN).code == 0
    deleted = runtime.admin("secrets", "delete", FN, "STRIPE_API_KEY", "--yes")
    assert deleted.code == 0 and "redeploy" in deleted.err

    code, out, err = run(runtime, sys.executable, "-c", PRINT_ENV)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "STRIPE_API_KEY" in err and "update the code and redeploy" in err
    broken = runtime.python(BOUND_ENV).stdout
    assert broken.startswith("BindingBrokenError ")
    assert "STRIPE_API_KEY" in broken and "update the code and redeploy" in broken

    assert runtime.admin("deploy", FN).code == 0
    code, out, _ = run(runtime, sys.executable, "-c", "import os; print(os.environ['CONFIG'])")
    assert code == 0 and out.strip() == '{"region":"eu","retries":[1,2]}'
    assert runtime.python(BOUND_ENV).stdout.startswith("ok ['CONFIG', 'SYSTEM_API_TOKEN'")


# --- the cold-start import contract -------------------------------------------------------------

IMPORTS = """
import json, sys
import faas_tui.toolbelt
after_import = sorted(sys.modules)
from faas_tui.toolbelt import SecretClient, bound_env
value = SecretClient("billing").read_secret("STRIPE_API_KEY", use_cache=False)
names = sorted(bound_env("billing"))
print(json.dumps({"value": value, "names": names, "after_import": after_import, "after_read": sorted(sys.modules)}))
"""


def test_the_toolbelt_imports_no_ui_no_orm_and_no_vault_on_a_sqlite_store(
    sqlite_runtime: Runtime,
) -> None:
    runtime = sqlite_runtime
    assert runtime.admin("deploy", FN).code == 0
    result = runtime.python(IMPORTS)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["value"] == OLD and "STRIPE_API_KEY" in report["names"]  # it really read
    for stage in ("after_import", "after_read"):
        loaded = [
            m for m in report[stage] if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)
        ]
        assert loaded == [], f"{stage}: {loaded}"
    assert "faas_tui.toolbelt.sqlite_reader" in report["after_read"]


def test_a_key_file_readable_by_others_is_refused_in_a_runtime(runtime: Runtime) -> None:
    os.chmod(runtime.key_file, 0o644)
    result = runtime.python(
        "from faas_tui.toolbelt import SecretClient\n"
        "try:\n    SecretClient('billing')\nexcept Exception as exc:\n    print(type(exc).__name__, exc)"
    )
    assert result.stdout.startswith("ValidationError ") and "chmod 600" in result.stdout
