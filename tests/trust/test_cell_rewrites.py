"""Hypothesis: rewrite random cells of a copied store — with values from an older copy of the same
store, from another row, or arbitrary — and no reader ever returns an old or foreign value with
success: each read either returns the current value or raises."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE, examples, fast_kdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faas_tui.core.errors import FaasError
from faas_tui.store.vault import Vault
from faas_tui.toolbelt import SecretClient

TABLES = (
    "store_meta",
    "key_slot",
    "key_grant",
    "function",
    "secret",
    "secret_version",
    "deployment",
    "binding",
    "event",
)
CURRENT = {
    ("billing", "API_KEY"): "billing-v3",
    ("billing", "TOKEN_KEY"): "token-v2",
    ("mailer", "SMTP_PASSWORD"): "mailer-v2",
}
OLD_VALUES = {"billing-v1", "billing-v2", "token-v1", "mailer-v1"}


class Stores:
    """A store at two moments: `old` (older values) and `current`, plus a runtime key file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.current = folder / "current.db"
        self.key_file = folder / "runtime.key"
        with Vault.create(str(self.current), PASSPHRASE, kdf=fast_kdf()) as vault:
            for function in ("billing", "mailer"):
                vault.add_function(function)
            vault.add_secret("billing", "API_KEY", "billing-v1")
            vault.add_secret("billing", "TOKEN_KEY", "token-v1")
            vault.add_secret("mailer", "SMTP_PASSWORD", "mailer-v1")
            vault.deploy("billing")
            vault.add_key_file(self.key_file, "runtime", functions=["billing", "mailer"])
            self.old_rows = _rows(self.current)
            vault.update_secret("billing", "API_KEY", "billing-v2")
            vault.deploy("billing")
            vault.update_secret("billing", "API_KEY", "billing-v3")
            vault.update_secret("billing", "TOKEN_KEY", "token-v2")
            vault.update_secret("mailer", "SMTP_PASSWORD", "mailer-v2")
        _checkpoint(self.current)
        self.rows = _rows(self.current)


def _checkpoint(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def _rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return {
            t: [dict(r) for r in con.execute(f'SELECT rowid AS _rowid, * FROM "{t}"')]
            for t in TABLES
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def stores() -> Any:
    with tempfile.TemporaryDirectory() as folder:
        yield Stores(Path(folder))


@st.composite
def rewrites(draw: st.DrawFn, stores: Stores) -> list[tuple[str, int, str, Any]]:
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        table = draw(st.sampled_from(TABLES))
        rows = stores.rows[table]
        if not rows:
            continue
        row = draw(st.sampled_from(rows))
        column = draw(st.sampled_from([c for c in row if c != "_rowid"]))
        donors = [r[column] for r in stores.old_rows[table] + rows if column in r]
        value = draw(
            st.one_of(
                st.sampled_from(donors),  # from the older copy, or another row
                st.none(),
                st.integers(-2, 5),
                st.binary(max_size=40),
                st.text(max_size=8),
            )
        )
        edits.append((table, row["_rowid"], column, value))
    return edits


def _apply(path: Path, edits: list[tuple[str, int, str, Any]]) -> None:
    con = sqlite3.connect(path)
    for table, rowid, column, value in edits:
        with contextlib.suppress(sqlite3.Error):  # a constraint refused it: the row stays
            con.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', (value, rowid))
    con.commit()
    con.close()


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_rewrite_of_cells_makes_a_reader_return_an_old_or_foreign_value(
    stores: Stores, data: st.DataObject
) -> None:
    edits = data.draw(rewrites(stores))
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "store" / "store.db"
        copy.parent.mkdir(mode=0o700)
        shutil.copyfile(stores.current, copy)
        copy.chmod(0o600)
        _apply(copy, edits)
        returned: list[tuple[tuple[str, str], Any]] = []
        for function, name in CURRENT:
            try:
                with SecretClient(function, store=str(copy), key_file=stores.key_file) as client:
                    returned.append(((function, name), client.read_secret(name)))
            except (FaasError, KeyError):
                pass
        try:
            with Vault.open(str(copy), passphrase=PASSPHRASE) as vault:
                for function, name in CURRENT:
                    with contextlib.suppress(FaasError):
                        returned.append(((function, name), vault.read_secret(function, name)))
                try:
                    bound = vault.bound_values("billing")
                    returned.append((("billing", "API_KEY#bound"), bound["API_KEY"][0]))
                except (FaasError, KeyError):
                    pass
        except FaasError:
            pass
    for key, value in returned:
        if key == ("billing", "API_KEY#bound"):
            assert value == "billing-v2", edits  # deployment 2 binds v2
        else:
            assert value == CURRENT[key], edits
            assert value not in OLD_VALUES
