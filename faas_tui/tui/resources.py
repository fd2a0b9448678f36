"""Where the app's stylesheets are: `styles/` in a checkout, `faas_tui/styles` in an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent  # faas_tui/tui


@cache
def styles_dir() -> Path:
    """The folder of `.tcss` files: the wheel's copy first, then the checkout's top-level folder."""
    for candidate in (_HERE.parent / "styles", _HERE.parent.parent / "styles"):
        if (candidate / "app.tcss").is_file():
            return candidate
    raise FileNotFoundError("faas-tui's styles/ folder is missing from this installation")


def stylesheet(name: str) -> Path:
    """The path of one stylesheet, e.g. `stylesheet("dashboard.tcss")`."""
    return styles_dir() / name
