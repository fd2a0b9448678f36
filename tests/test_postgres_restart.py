"""A PostgreSQL server restarting under an open SecretClient and an open Vault: both carry on.

The test starts a private server of its own (initdb into a temporary folder owned by `postgres`, a
free port) so that restarting it never disturbs the shared server other tests use. Skipped when the
PostgreSQL binaries are absent, unless CI=true (then it fails: CI must run it).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PASSPHRASE, fast_kdf

from faas_tui.core.errors import StoreError
from faas_tui.store.vault import Vault
from faas_tui.toolbelt import SecretClient

FN = "billing"
VALUE = "sk_live_restart_value"


class PrivateServer:
    """A PostgreSQL server in a temporary folder, run as the `postgres` user."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="faas-tui-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            "pg_ctl", action, "-w", "-D", str(self.data), "-l", str(self.root / "log"),
            "-o", options, *extra,
        )  # fmt: skip

    def _as_postgres(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{tool} {args[0]}: {done.stderr or done.stdout}"

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found and shutil.which("runuser") and os.geteuid() == 0:
        return Path(found[-1]).parent
    return None


@pytest.fixture
def server() -> Iterator[PrivateServer]:
    bindir = _bindir()
    if bindir is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but no PostgreSQL binaries (or no root for runuser) to restart")
        pytest.skip("needs the PostgreSQL server binaries and root (runuser -u postgres)")
    private = PrivateServer(bindir)
    try:
        private.start()
        yield private
    finally:
        private.remove()


def test_a_client_and_a_vault_carry_on_after_the_server_restarts(
    server: PrivateServer, tmp_path: Path
) -> None:
    key_file = tmp_path / "runtime.key"
    with Vault.create(server.url, PASSPHRASE, kdf=fast_kdf()) as setup:
        setup.add_function(FN)
        setup.add_secret(FN, "API_KEY", VALUE)
        setup.add_key_file(key_file, "runtime", functions=[FN])
    client = SecretClient(FN, store=server.url, key_file=key_file)
    vault = Vault.open(server.url, passphrase=PASSPHRASE)
    try:
        assert client.read_secret("API_KEY", use_cache=False) == VALUE
        assert vault.read_secret_text(FN, "API_KEY")[0] == VALUE

        server.restart()  # every connection the two held is gone

        assert client.read_secret("API_KEY", use_cache=False) == VALUE
        assert vault.read_secret_text(FN, "API_KEY")[0] == VALUE
        vault.update_secret(FN, "API_KEY", "after the restart")
        assert client.read_secret("API_KEY", use_cache=False) == "after the restart"

        server.stop()  # one retry, then one clear line

        with pytest.raises(StoreError) as client_error:
            client.read_secret("API_KEY", use_cache=False)
        with pytest.raises(StoreError) as vault_error:
            vault.read_secret_text(FN, "API_KEY")
        for caught in (client_error, vault_error):
            message = str(caught.value)
            assert "\n" not in message and "after the restart" not in message
        assert "could not reconnect" in str(client_error.value)
        assert "check that the server is running" in str(vault_error.value)
        assert client.read_secret("API_KEY") == "after the restart"  # the cache still serves
    finally:
        client.close()
        vault.close()


@pytest.mark.postgres
def test_a_forked_child_reads_on_its_own_connection_and_leaves_the_parents_alone(
    tmp_path: Path,
) -> None:
    """A runtime that forks (a pre-fork server) after creating its client: the child opens its own
    connection; closing or using it never ends the parent's session."""
    from conftest import _postgres_database

    databases = _postgres_database()
    url = next(databases)
    try:
        key_file = tmp_path / "runtime.key"
        with Vault.create(url, PASSPHRASE, kdf=fast_kdf()) as setup:
            setup.add_function(FN)
            setup.add_secret(FN, "API_KEY", VALUE)
            setup.add_key_file(key_file, "runtime", functions=[FN])
        with SecretClient(FN, store=url, key_file=key_file) as client:
            assert client.read_secret("API_KEY", use_cache=False) == VALUE
            backend = _backend_pid(client)
            pid = os.fork()
            if pid == 0:  # the child: read, close, exit without running the parent's finalizers
                code = 1
                try:
                    if client.read_secret("API_KEY", use_cache=False) == VALUE:
                        code = 0 if _backend_pid(client) != backend else 3
                    client.close()
                except BaseException:
                    code = 2
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            assert client.read_secret("API_KEY", use_cache=False) == VALUE
            assert _backend_pid(client) == backend  # the same session: never reconnected
    finally:
        next(databases, None)


def _backend_pid(client: SecretClient) -> int:
    """The server process of the client's connection (white-box: the psycopg driver's session)."""
    return int(client._reader._driver._con.info.backend_pid)  # type: ignore[attr-defined]
