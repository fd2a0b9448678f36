"""The record of store generations: keeps the highest, refuses an older store with one clear line,
written atomically as 0600 in a 0700 folder, and a damaged record is an error, not a traceback."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from faas_tui.core.errors import IntegrityError, StoreError
from faas_tui.store.generations import GenerationMemory


@pytest.fixture
def memory(tmp_path: Path) -> GenerationMemory:
    return GenerationMemory(tmp_path / "state" / "faas-tui" / "generations.json")


def test_a_store_never_seen_is_generation_0_and_writes_nothing(memory: GenerationMemory) -> None:
    assert memory.seen("s1") == 0
    memory.check("s1", 0)
    assert not memory.path.exists()


def test_record_keeps_the_highest_per_store(memory: GenerationMemory) -> None:
    memory.record("s1", 5)
    memory.record("s1", 3)
    memory.record("s2", 1)
    assert memory.seen("s1") == 5
    assert memory.seen("s2") == 1
    memory.record("s1", 7)
    assert memory.seen("s1") == 7


def test_an_older_generation_is_refused_with_one_line(memory: GenerationMemory) -> None:
    memory.record("s1", 9)
    memory.check("s1", 9)
    memory.check("s1", 10)
    with pytest.raises(IntegrityError) as caught:
        memory.check("s1", 4, location="/srv/store.db")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        "the store at /srv/store.db was rolled back or restored from a backup"
    )
    assert "(generation 4, this machine has seen 9)" in message
    assert "`faas-tui check --accept`" in message
    assert IntegrityError.exit_code == 4


def test_accept_lowers_the_record(memory: GenerationMemory) -> None:
    memory.record("s1", 9)
    memory.accept("s1", 4)
    memory.check("s1", 4)
    assert memory.seen("s1") == 4


def test_the_file_is_0600_in_a_0700_folder_and_replaced_whole(memory: GenerationMemory) -> None:
    memory.record("s1", 2)
    assert stat.S_IMODE(memory.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(memory.path.parent.stat().st_mode) == 0o700
    inode = memory.path.stat().st_ino
    memory.record("s1", 3)
    assert memory.path.stat().st_ino != inode  # a new file renamed over the old one
    leftovers = [p.name for p in memory.path.parent.iterdir() if p.name.startswith(".generations-")]
    assert leftovers == []
    assert json.loads(memory.path.read_text())["stores"] == {"s1": 3}


def test_concurrent_records_lose_nothing(memory: GenerationMemory) -> None:
    def record(store: str) -> None:
        for generation in range(1, 21):
            GenerationMemory(memory.path).record(store, generation)

    threads = [threading.Thread(target=record, args=(f"s{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {f"s{i}": memory.seen(f"s{i}") for i in range(4)} == {f"s{i}": 20 for i in range(4)}


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe", b"[]", b'{"version": 1, "stores": {"s1": -3}}', b'{"stores": {}}'],
    ids=["not-json", "not-utf8", "a-list", "negative", "no-version"],
)
def test_a_damaged_record_is_one_clear_line(memory: GenerationMemory, content: bytes) -> None:
    memory.path.parent.mkdir(parents=True)
    memory.path.write_bytes(content)
    for call in (lambda: memory.seen("s1"), lambda: memory.record("s1", 1)):
        with pytest.raises(IntegrityError) as caught:
            call()
        message = str(caught.value)
        assert "\n" not in message
        assert f"the record of store generations at {memory.path} is damaged" in message
        assert "remove it" in message


def test_an_unwritable_folder_is_a_store_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("")
        memory = GenerationMemory(blocker / "sub" / "generations.json")  # a file as a folder
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        memory = GenerationMemory(locked / "sub" / "generations.json")
    with pytest.raises(StoreError, match="cannot keep the record of store generations"):
        memory.record("s1", 1)


def test_the_default_path_is_the_user_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    assert GenerationMemory().path == tmp_path / "xdg-state" / "faas-tui" / "generations.json"
