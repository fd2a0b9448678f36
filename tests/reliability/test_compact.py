"""`faas-tui compact`: VACUUM on SQLite, VACUUM FULL on PostgreSQL, from the CLI, on each backend."""

from __future__ import annotations

import pytest
from conftest import PASSPHRASE, fast_kdf

from faas_tui.core.kinds import Role
from faas_tui.store.vault import Vault
from reliability._support import assert_one_error_line, run_cli


def test_compact_reclaims_deleted_rows_and_keeps_every_live_value(
    store: str, env: dict[str, str]
) -> None:
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        for i in range(30):
            vault.add_secret("billing", f"GONE_{i}", f"{i}-" + "x" * 2000)
        vault.add_secret("billing", "KEPT", "the kept value")
        vault.update_secret("billing", "KEPT", "the newest kept value")
        for i in range(30):
            vault.delete_secret("billing", f"GONE_{i}")
    done = run_cli("compact", env=env)
    assert done.code == 0, done.err
    assert done.out.startswith("compacted ") and "backups keep" in done.out
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        assert vault.read_secret_text("billing", "KEPT")[0] == "the newest kept value"
        assert [s.name for s in vault.list_secrets("billing")] == ["KEPT"]


def test_compact_is_a_change_and_read_only_refuses_it(store: str, env: dict[str, str]) -> None:
    refused = run_cli("--read-only", "compact", env=env)
    assert_one_error_line(refused)
    assert "read-only" in refused.err


def test_compact_is_for_admins_only(store: str, env: dict[str, str]) -> None:
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        vault.add_operator("eddie", Role.EDITOR, "eddie's own passphrase", kdf=fast_kdf())
    editor = {**env, "FAAS_TUI_OPERATOR": "eddie", "FAAS_TUI_PASSPHRASE": "eddie's own passphrase"}
    refused = run_cli("compact", env=editor)
    assert_one_error_line(refused, codes=(5,))
    assert "admin" in refused.err


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_compact_on_a_missing_store_is_one_clear_line(store: str, env: dict[str, str]) -> None:
    missing = run_cli("compact", "--store", store + ".missing", env=env)
    assert_one_error_line(missing, codes=(1, 2, 3))
