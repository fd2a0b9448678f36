"""The screenshot script (screenshots/make_screenshots.py) drives the real app into every screen and
modal, and no stored value ever reaches a picture."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import fast_kdf

from app._support import CANARY
from faas_tui.core.values import SecretFormat

SCRIPT = Path(__file__).resolve().parents[2] / "screenshots" / "make_screenshots.py"
# Demo-shaped data whose every value carries the canary; the script also rotates one of them.
DATA = {
    "billing": {
        "STRIPE_API_KEY": (f"sk_{CANARY}_1", SecretFormat.PLAINTEXT),
        "STRIPE_WEBHOOK_SECRET": (f"wh_{CANARY}_2", SecretFormat.PLAINTEXT),
        "DATABASE_URL": (f"postgres://u:{CANARY}@db/x", SecretFormat.PLAINTEXT),
    },
    "hubspot-sync": {"HUBSPOT_APP_CONFIG": (f'{{"secret": "{CANARY}"}}', SecretFormat.JSON)},
    "mailer": {"SMTP_PASSWORD": (f"pw_{CANARY}_3", SecretFormat.PLAINTEXT)},
}


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def visible_text(svg: str) -> str:
    """The characters drawn in a Rich SVG, in order (each run is a <text> element)."""
    runs = re.findall(r"<text [^>]*>([^<]*)</text>", svg)
    return "".join(runs).replace("&#160;", " ")


@pytest.mark.slow
async def test_every_scene_is_written_and_shows_its_screen_without_any_value(
    tmp_path: Path,
) -> None:
    script = load_script()
    written = await script.make_all(tmp_path, DATA, kdf=fast_kdf())  # 15 cheap unlocks

    assert [p.name for p in written] == [f"{scene.file}.svg" for scene in script.SCENES]
    expected = {
        "unlock": "Unlock the store",
        "dashboard": "hubspot-sync",
        "function-settings": "system secrets",
        "function-overview": "read_secret",
        "add-secret": "HUBSPOT_API_KEY",
        "add-secret-json": "line 3, column 1",
        "update-value": "STRIPE_API_KEY",
        "delete": "You cannot undo this action",
        "system-secrets": "SYSTEM_API_TOKEN",
        "import-plan": "SENTRY_DSN",
        "audit": "PENDING_REDEPLOY",
        "event-log": "secret.update",
    }
    for path in written:
        svg = path.read_text()
        assert svg.startswith("<svg"), path.name
        assert CANARY not in svg, f"a stored value is drawn in {path.name}"
        if path.stem in expected:
            assert expected[path.stem] in visible_text(svg), path.name
