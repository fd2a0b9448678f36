"""Fixtures for the Pilot tests: a store path, a seeded store, and the app on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app._support import seeded_vault
from faas_tui.store.vault import Vault


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A SQLite store path that does not exist yet."""
    return str(tmp_path / "store" / "store.db")


@pytest.fixture
def seeded(store: str) -> Iterator[Vault]:
    """An unlocked store with sample functions and secrets (see `_support.SAMPLE`)."""
    vault = seeded_vault(store)
    try:
        yield vault
    finally:
        vault.close()
