"""The runtime reader after a write: what it re-reads, and a PostgreSQL snapshot that fails quietly.

A write raises the store's generation, so the next uncached read re-verifies the signed state; a
function whose signed digest did not change keeps what was verified of it (its rows are not read
again), one whose digest changed is verified afresh. On PostgreSQL the re-verification is
pipelined, and a connection lost inside it is one Disconnected and nothing on stderr.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE, fast_kdf

from faas_tui.store.vault import Vault
from faas_tui.toolbelt import SecretClient
from faas_tui.toolbelt import lean_reader as lean


@pytest.fixture
def two_functions(store_url: str, tmp_path: Path) -> Iterator[tuple[Vault, SecretClient]]:
    """`billing` (read by a runtime key file) and `other`, with a client already reading."""
    key_file = tmp_path / "runtime.key"
    vault = Vault.create(store_url, PASSPHRASE, kdf=fast_kdf())
    try:
        vault.add_function("billing")
        vault.add_secret("billing", "API_KEY", "first value")
        vault.add_function("other")
        vault.add_key_file(key_file, "runtime", functions=["billing"])
        with SecretClient("billing", store=store_url, key_file=key_file) as client:
            assert client.read_secret("API_KEY", use_cache=False) == "first value"
            yield vault, client
    finally:
        vault.close()


def _statements(client: SecretClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the client's driver runs from now on, in order."""
    driver: Any = client._reader._driver  # a test may look inside
    ran: list[str] = []
    one, batch = driver.one, driver.batch

    def counted_one(sql: str, params: tuple[Any, ...]) -> Any:
        ran.append(sql)
        return one(sql, params)

    def counted_batch(statements: Any) -> Any:
        ran.extend(sql for sql, _ in statements)
        return batch(statements)

    monkeypatch.setattr(driver, "one", counted_one)
    monkeypatch.setattr(driver, "batch", counted_batch)
    return ran


def test_a_write_to_another_function_re_verifies_the_state_but_not_the_function(
    two_functions: tuple[Vault, SecretClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    vault, client = two_functions
    ran = _statements(client, monkeypatch)
    vault.add_secret("other", "UNRELATED", "x")
    assert client.read_secret("API_KEY", use_cache=False) == "first value"
    assert lean.FUNCTIONS_SQL in ran and lean.SLOTS_SQL in ran  # the new signed state, verified
    assert lean.FUNCTION_SQL not in ran and lean.SECRETS_SQL not in ran
    ran.clear()
    assert client.read_secret("API_KEY", use_cache=False) == "first value"
    assert ran == [lean.VALUE_SQL]  # verified again: back to one statement a read


def test_a_write_to_the_function_read_verifies_its_rows_again(
    two_functions: tuple[Vault, SecretClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    vault, client = two_functions
    ran = _statements(client, monkeypatch)
    vault.update_secret("billing", "API_KEY", "second value")
    assert client.read_secret("API_KEY", use_cache=False) == "second value"
    assert lean.FUNCTION_SQL in ran and lean.SECRETS_SQL in ran and lean.VERSIONS_SQL in ran


def test_a_connection_lost_inside_a_snapshot_logs_nothing_and_reconnects(
    pg_store_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import psycopg

    from faas_tui.toolbelt.pg_reader import PgDriver, conninfo

    with Vault.create(pg_store_url, PASSPHRASE, kdf=fast_kdf()):
        pass
    driver = PgDriver(pg_store_url)
    killer = psycopg.connect(conninfo(pg_store_url), autocommit=True)
    caplog.set_level(logging.DEBUG, logger="psycopg")
    try:
        with pytest.raises(lean.Disconnected), driver.snapshot():
            driver.one(lean.STATE_SQL, ())
            killer.execute("SELECT pg_terminate_backend(%s)", (driver._con.info.backend_pid,))
            driver.batch(lean.STATE_READS)
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
        driver.reconnect()
        with driver.snapshot():
            assert len(driver.batch(lean.STATE_READS)) == 4
    finally:
        killer.close()
        driver.close()


@pytest.fixture
def pg_store_url() -> Iterator[str]:
    from conftest import _postgres_database

    yield from _postgres_database()
