"""A credential that may not do something hears that first: a refusal (exit 5) comes before any
complaint about the input it sent, and listing who holds which credential is an admin's."""

from __future__ import annotations

from pathlib import Path

import pytest

from faas_tui.core.errors import AccessDeniedError
from faas_tui.core.values import SecretFormat
from faas_tui.store.vault import Vault
from trust._support import AUDITOR_PASSPHRASE, EDITOR_PASSPHRASE, FN, team_store


def test_an_auditor_is_refused_before_its_input_is_judged(store_url: str, tmp_path: Path) -> None:
    admin, _ = team_store(store_url, tmp_path)
    admin.close()
    with Vault.open(store_url, passphrase=AUDITOR_PASSPHRASE, operator="audrey") as auditor:
        for bad_input in (
            lambda: auditor.add_function("Not A Name"),
            lambda: auditor.set_source_dir(FN, str(tmp_path / "missing")),
            lambda: auditor.add_secret(FN, "!!", "v"),
            lambda: auditor.add_secret(FN, "CONFIG", "{not json", SecretFormat.JSON),
            lambda: auditor.import_secrets(FN, [("!!", "v", SecretFormat.PLAINTEXT)]),
            lambda: auditor.populate({"Not A Name": {}}),
        ):
            with pytest.raises(AccessDeniedError) as refused:
                bad_input()
            assert refused.value.exit_code == 5


def test_only_an_admin_lists_operators_and_key_files(store_url: str, tmp_path: Path) -> None:
    admin, _ = team_store(store_url, tmp_path)
    assert sorted(o.name for o in admin.list_operators()) == ["alice", "audrey", "eddie"]
    assert len(admin.list_key_files()) == 1
    admin.close()
    for operator, passphrase in (("eddie", EDITOR_PASSPHRASE), ("audrey", AUDITOR_PASSPHRASE)):
        with Vault.open(store_url, passphrase=passphrase, operator=operator) as vault:
            for listing in (vault.list_operators, vault.list_key_files):
                with pytest.raises(AccessDeniedError):
                    listing()
