"""`faas-tui` with no command opens the app without building the full parser or importing any
other command, and reads its options exactly as the full parser does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from faas_tui.cli import app_arguments
from faas_tui.cli.parser import build_parser

APP_ONLY = [
    [],
    ["--read-only"],
    ["--store", "s.db"],
    ["--store=s.db"],
    ["--store", "init"],  # a value, not the command
    ["--key-file", "k", "--operator", "alice", "--read-only"],
    ["--store", "a.db", "--store", "b.db"],  # the last one wins, as in argparse
    ["--operator=bob", "--store", "postgresql+psycopg://u@h/db"],
]
OTHERS = [
    ["init"],
    ["--store", "s.db", "audit"],
    ["--help"],
    ["-h"],
    ["--version"],
    ["--sto", "s.db"],  # an abbreviation: the full parser decides
    ["--store"],
    ["--store", "-x"],
    ["--store="],
    ["--read-only=yes"],
    ["--"],
    ["--unknown"],
    ["stray"],
]


@pytest.mark.parametrize("argv", APP_ONLY)
def test_the_app_s_options_are_read_as_the_full_parser_reads_them(argv: list[str]) -> None:
    assert app_arguments(argv) == build_parser().parse_args(argv)


@pytest.mark.parametrize("argv", OTHERS)
def test_anything_else_goes_to_the_full_parser(argv: list[str]) -> None:
    assert app_arguments(argv) is None


def loaded_after(argv: list[str], tmp_path: Path) -> list[str]:
    """The parser's and other commands' modules imported by `main(argv)` (the app stubbed)."""
    code = (
        "import sys\n"
        "import faas_tui.tui.app as app\n"
        "app.run_app = lambda *args, **options: 0\n"
        "from faas_tui.cli import main\n"
        f"main({argv!r})\n"
        "names = ('faas_tui.cli.parser', 'faas_tui.cli.commands.secrets', 'faas_tui.cli.output',"
        " 'faas_tui.core.records', 'faas_tui.tui.messages', 'faas_tui.store.vault', 'sqlalchemy')\n"
        "print(' '.join(name for name in names if name in sys.modules))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FAAS_TUI_STORE": str(tmp_path / "s")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return out.stdout.split()


def test_no_command_imports_neither_the_parser_nor_other_commands(tmp_path: Path) -> None:
    assert loaded_after([], tmp_path) == []
    assert loaded_after(["--read-only", "--store", str(tmp_path / "s")], tmp_path) == []
    assert "faas_tui.cli.parser" in loaded_after(["functions", "list"], tmp_path)  # can fail
