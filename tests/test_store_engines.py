"""One engine per store URL per process (store/database.py): Vaults opened again on a store share
it, closing one leaves the others working, a forked child makes its own, and only the most
recently used stores keep theirs."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import PASSPHRASE, fast_kdf

from faas_tui.core.values import SecretFormat
from faas_tui.store import database
from faas_tui.store.vault import Vault


def _store(tmp_path: Path, name: str = "store") -> str:
    store = str(tmp_path / name / "store.db")
    with Vault.create(store, PASSPHRASE, kdf=fast_kdf()) as vault:
        vault.add_function("billing")
        vault.add_secret("billing", "API_KEY", "value-1", SecretFormat.PLAINTEXT)
    return store


def test_vaults_on_one_store_share_its_engine_and_outlive_each_others_close(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    first = Vault.open(store, passphrase=PASSPHRASE)
    second = Vault.open(store, passphrase=PASSPHRASE)
    try:
        assert first.engine is second.engine
        first.close()  # disposes the idle connections, not the engine
        assert second.read_secret("billing", "API_KEY") == "value-1"
        second.update_secret("billing", "API_KEY", "value-2")
    finally:
        second.close()
    with Vault.open(store, passphrase=PASSPHRASE) as again:
        assert again.read_secret("billing", "API_KEY") == "value-2"
    other = _store(tmp_path, "other")
    with Vault.open(other, passphrase=PASSPHRASE) as elsewhere:
        assert elsewhere.engine is not again.engine


def test_only_the_most_recently_used_stores_keep_an_engine(tmp_path: Path) -> None:
    urls = [database.to_url(str(tmp_path / f"s{i}" / "store.db")) for i in range(3)]
    first = database.engine_for(urls[0])
    for i in range(database.ENGINES_KEPT + 1):
        database.engine_for(database.to_url(str(tmp_path / f"filler{i}" / "store.db")))
    assert database.engine_for(urls[0]) is not first  # pushed out, then made again
    kept = database.engine_for(urls[1])
    assert database.engine_for(urls[1]) is kept


def test_a_forked_child_makes_its_own_engine(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        parent_engine = id(vault.engine)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: a fresh engine, and the store still reads
            try:
                with Vault.open(store, passphrase=PASSPHRASE) as child:
                    fresh = id(child.engine) != parent_engine
                    ok = child.read_secret("billing", "API_KEY") == "value-1"
                os.write(write, b"ok" if fresh and ok else b"no")
            finally:
                os._exit(0)
        os.close(write)
        answer = os.read(read, 2)
        os.waitpid(pid, 0)
        os.close(read)
        assert answer == b"ok"
        assert vault.read_secret("billing", "API_KEY") == "value-1"  # the parent's still works
