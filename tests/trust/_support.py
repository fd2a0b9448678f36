"""Shared pieces of the trust tests: a store with operators and key files, raw SQL behind the
tool's back, and copies of tables restored later (an attacker with write access to the database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import PASSPHRASE, fast_kdf
from sqlalchemy import text

from faas_tui.core.kinds import Role
from faas_tui.store.vault import Vault

FN, OTHER = "billing", "mailer"
EDITOR_PASSPHRASE = "the editor's own passphrase"
AUDITOR_PASSPHRASE = "the auditor's own passphrase"


def sql(vault: Vault, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Raw SQL on the store's database, outside the Vault (what an attacker with the file does)."""
    with vault.engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return [tuple(row) for row in result] if result.returns_rows else []


def copy_rows(vault: Vault, *tables: str) -> dict[str, list[dict[str, Any]]]:
    """The rows of the tables, to restore later as an old copy would."""
    with vault.engine.connect() as conn:
        return {
            table: [dict(row._mapping) for row in conn.execute(text(f'SELECT * FROM "{table}"'))]
            for table in tables
        }


def restore_rows(vault: Vault, copy: dict[str, list[dict[str, Any]]]) -> None:
    """Replace the tables' rows with the copy (children first out, parents first in)."""
    with vault.engine.begin() as conn:
        for table in reversed(list(copy)):
            conn.execute(text(f'DELETE FROM "{table}"'))
        for table, rows in copy.items():
            for row in rows:
                columns = ", ".join(f'"{name}"' for name in row)
                values = ", ".join(f":{name}" for name in row)
                conn.execute(text(f'INSERT INTO "{table}" ({columns}) VALUES ({values})'), row)


def team_store(url: str, tmp_path: Path) -> tuple[Vault, Path]:
    """A store with billing and mailer (each with a secret, billing deployed), an editor, an
    auditor and a runtime key file scoped to billing. Returns the admin's Vault and the key file."""
    admin = Vault.create(url, PASSPHRASE, operator="alice", kdf=fast_kdf())
    admin.add_function(FN)
    admin.add_secret(FN, "API_KEY", "billing-v1")
    admin.deploy(FN)
    admin.add_function(OTHER)
    admin.add_secret(OTHER, "SMTP_PASSWORD", "mailer-secret")
    admin.add_operator("eddie", Role.EDITOR, EDITOR_PASSPHRASE, kdf=fast_kdf())
    admin.add_operator("audrey", Role.AUDITOR, AUDITOR_PASSPHRASE, kdf=fast_kdf())
    key_file = tmp_path / "billing.key"
    admin.add_key_file(key_file, "billing runtime", functions=[FN])
    return admin, key_file
