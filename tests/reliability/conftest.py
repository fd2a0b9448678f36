"""Fixtures for the reliability tests: a created store on each backend and the CLI pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PASSPHRASE, fast_kdf

from faas_tui.store.vault import Vault
from reliability._support import clean_env, forget_dump_engines


@pytest.fixture(autouse=True)
def _dump_engines() -> Iterator[None]:
    """The engines `dump_store` keeps per store last as long as the test."""
    yield
    forget_dump_engines()


@pytest.fixture
def store(store_url: str) -> Iterator[str]:
    """A created store (fast KDF) with one function, `billing`, on each backend."""
    with Vault.create(store_url, PASSPHRASE, kdf=fast_kdf()) as vault:
        vault.add_function("billing")
    yield store_url


@pytest.fixture
def env(store: str, tmp_path: Path) -> dict[str, str]:
    """An environment for `faas-tui` subprocesses on `store`, unlocked by PASSPHRASE."""
    (tmp_path / "home").mkdir(exist_ok=True)
    return clean_env(store, PASSPHRASE, tmp_path / "home")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (skipped without FAAS_TUI_TEST_PG_URL)."""
    from conftest import _postgres_database

    yield from _postgres_database()
