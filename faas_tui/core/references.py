"""Which secret names a function's code folder mentions, for the audit's UNREFERENCED and MISSING."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_NAME = r"([A-Za-z_][A-Za-z0-9_]*)"
_QUOTED = r"""\s*["']""" + _NAME + r"""["']"""
# The ways function code reads a secret; a match names a secret the code expects to exist.
READ_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"\benv\." + _NAME,
        r"\bread_secret\(" + _QUOTED,
        r"\bos\.environ\[" + _QUOTED + r"\s*\]",
        r"\bos\.environ\.get\(" + _QUOTED,
        r"\bos\.getenv\(" + _QUOTED,
        r"\bprocess\.env\." + _NAME,
        r"\bprocess\.env\[" + _QUOTED,
    )
)
_WORD = re.compile(r"[A-Za-z0-9_]+")
SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    "dist",
    "build",
}
MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class References:
    words: frozenset[str]  # every identifier-like word in the folder: a name "mentioned" anywhere
    reads: frozenset[str]  # names read through one of READ_PATTERNS


def scan_folder(folder: str | Path) -> References:
    """Read every text file under the folder (skipping VCS, dependency and build folders)."""
    words: set[str] = set()
    reads: set[str] = set()
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for file_name in files:
            text = _read_text(Path(root) / file_name)
            if text is None:
                continue
            words.update(_WORD.findall(text))
            for pattern in READ_PATTERNS:
                reads.update(pattern.findall(text))
    return References(
        frozenset(words), frozenset(name for name in reads if name.isupper() or "_" in name)
    )


def _read_text(path: Path) -> str | None:
    try:
        if path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in data[:4096]:
        return None  # binary
    return data.decode("utf-8", errors="replace")
