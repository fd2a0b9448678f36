"""Key files are read only when they are regular files: a FIFO, a folder or a device is refused at
once (never a hang), in-process and through the console script."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import Cli, CliProcess, faas_tui_command

from faas_tui.core.errors import ValidationError
from faas_tui.core.files import read_regular_file


def test_reads_a_regular_file_up_to_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10_000)
    assert read_regular_file(path, limit=4096) == b"x" * 4096
    assert read_regular_file(path, limit=20_000) == b"x" * 10_000


def test_a_symlink_to_a_regular_file_is_followed(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"key")
    (tmp_path / "link").symlink_to(tmp_path / "f")
    assert read_regular_file(tmp_path / "link", limit=10) == b"key"


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no writer: a blocking open would wait forever
    with pytest.raises(ValidationError, match=r"is a named pipe \(FIFO\), not a key file"):
        read_regular_file(fifo, limit=4096, what="key file")


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is a folder, not a key file"):
        read_regular_file(tmp_path, limit=4096, what="key file")


def test_a_device_is_refused() -> None:
    with pytest.raises(ValidationError, match="is a character device, not a key file"):
        read_regular_file("/dev/zero", limit=4096, what="key file")


def test_missing_and_shared_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="^no key file at "):
        read_regular_file(tmp_path / "nope", limit=10, what="key file")
    shared = tmp_path / "shared"
    shared.write_bytes(b"x")
    shared.chmod(0o644)
    with pytest.raises(ValidationError, match=r"readable by group or others \(mode 644\)"):
        read_regular_file(shared, limit=10, what="key file", private=True)
    assert read_regular_file(shared, limit=10) == b"x"  # not private: a value file may be shared


def test_cli_refuses_a_fifo_and_a_folder_as_key_file(cli: Cli, tmp_path: Path) -> None:
    assert cli("init").code == 0
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = cli("--key-file", str(fifo), "functions", "list")
    assert result.code == 1
    assert result.err.strip().endswith(
        "is a named pipe (FIFO), not a key file: give the path of a key file"
    )
    assert result.err.count("\n") == 1
    result = cli("--key-file", str(tmp_path), "functions", "list")
    assert result.code == 1 and "is a folder, not a key file" in result.err


def test_console_script_with_a_fifo_key_file_exits_at_once(
    cli_process: CliProcess, tmp_path: Path
) -> None:
    assert cli_process("init").code == 0
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    env = {**cli_process.env, "FAAS_TUI_KEY_FILE": str(fifo)}
    proc = subprocess.run(
        [*faas_tui_command(), "functions", "list"],
        capture_output=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=30,  # a hang is the bug: TimeoutExpired fails the test
    )
    assert proc.returncode == 1
    assert b"is a named pipe (FIFO), not a key file" in proc.stderr
