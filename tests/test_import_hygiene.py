"""The domain and the command line are reachable without the terminal UI (after harlequin's
tests/unit_tests/test_import_hygiene.py): importing them must not pull in Textual or Rich.

Each check runs in a fresh interpreter, since this test process may have imported them already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

UI_PACKAGES = ("textual", "rich")


def modules_after_import(*modules: str) -> list[str]:
    script = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(proc.stdout)


@pytest.mark.parametrize(
    "module",
    [
        "faas_tui.core.errors",
        "faas_tui.core.names",
        "faas_tui.core.values",
        "faas_tui.core.records",
        "faas_tui.core.imports",
        "faas_tui.store.crypto",
        "faas_tui.core.export",
        "faas_tui.store.vault",
        "faas_tui.cli",
        "faas_tui.cli.parser",
        "faas_tui.cli.commands.store",
        "faas_tui.cli.commands.functions",
        "faas_tui.cli.commands.secrets",
        "faas_tui.cli.commands.deploy",
        "faas_tui.cli.commands.audit",
        "faas_tui.cli.commands.keys",
    ],
)
def test_importing_the_domain_does_not_import_the_ui(module: str) -> None:
    loaded = modules_after_import(module)
    assert module in loaded
    ui = [name for name in loaded if name.split(".")[0] in UI_PACKAGES]
    assert ui == [], f"importing {module} imported {ui[:5]}"


def test_core_imports_neither_the_ui_nor_the_database() -> None:
    loaded = modules_after_import(
        "faas_tui.core.errors",
        "faas_tui.core.names",
        "faas_tui.core.values",
        "faas_tui.core.export",
    )
    heavy = [
        name for name in loaded if name.split(".")[0] in (*UI_PACKAGES, "sqlalchemy", "sqlmodel")
    ]
    assert heavy == []


def test_the_check_itself_can_fail() -> None:
    """A hygiene test that cannot fail is a defect: importing the app does pull Textual in."""
    loaded = modules_after_import("faas_tui.tui.app")
    assert "textual" in loaded
