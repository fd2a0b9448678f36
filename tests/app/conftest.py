"""Fixtures for the Pilot tests: a store path, a seeded store, and the app on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app._support import seeded_vault
from faas_tui.store.vault import Vault


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The record of store generations in the test's own folder, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


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
