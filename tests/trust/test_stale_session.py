"""A session opened before the database was edited behind its back (the app left open, a long
script): what it verified earlier is never taken as verified later. Reads of the edited function
refuse, and every write refuses, on the intact function too."""

from __future__ import annotations

from pathlib import Path

import pytest

from faas_tui.core.errors import IntegrityError
from trust._support import FN, OTHER, sql, team_store


def test_an_open_session_refuses_after_the_rows_are_edited(store_url: str, tmp_path: Path) -> None:
    admin, _ = team_store(store_url, tmp_path)
    assert admin.read_secret(FN, "API_KEY") == "billing-v1"
    admin.update_secret(OTHER, "SMTP_PASSWORD", "verified and written")  # a write verified all
    sql(admin, "UPDATE secret SET description = 'edited behind its back' WHERE name = 'API_KEY'")
    for refused in (
        lambda: admin.list_secrets(FN),
        lambda: admin.read_secret(FN, "API_KEY"),
        lambda: admin.update_secret(FN, "API_KEY", "v2"),
        lambda: admin.update_secret(OTHER, "SMTP_PASSWORD", "again"),
        lambda: admin.add_function("newcomer"),
    ):
        with pytest.raises(IntegrityError):
            refused()
    assert admin.read_secret(OTHER, "SMTP_PASSWORD") == "verified and written"  # intact: reads
