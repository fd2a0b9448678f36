"""Which secret names a function's code folder mentions, for the audit's UNREFERENCED and MISSING."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from faas_tui.core.names import normalise_secret_name, secret_name_problem

_NAME = r"([A-Za-z_][A-Za-z0-9_]*)"
_QUOTED = r"""\s*["']""" + _NAME + r"""["']"""
# The ways function code reads a secret by its exact name; a match names a secret the code expects
# to exist. `environ`/`getenv` also match `from os import environ, getenv`; `env.` matches
# `bound_env(…).NAME` and `process.env.NAME`.
READ_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"\benv\." + _NAME,
        r"\benviron\[" + _QUOTED + r"\s*\]",
        r"\benviron\.get\(" + _QUOTED,
        r"\bgetenv\(" + _QUOTED,
        r"\bprocess\.env\." + _NAME,
    )
)
# Reads by a typed name, which the runtime normalises like the CLI does: read_secret("hubspot api
# key") and env["hubspot api key"] (bound_env, also process.env["…"]) read HUBSPOT_API_KEY.
_TYPED = r"""\s*(["'])([^"'\\\n]{1,200})\1"""
TYPED_READ_PATTERNS = (
    re.compile(r"\bread_secret\((?:\s*name\s*=)?" + _TYPED),
    re.compile(r"\benv\[" + _TYPED + r"\s*\]"),
)
# bound_env normalises attribute names too: env.stripe_key reads STRIPE_KEY. Counted as a mention
# (so not UNREFERENCED), never as a read (so not MISSING): `env.items` is a method, not a secret.
_ENV_ATTRIBUTE = re.compile(r"\benv\." + _NAME)
# Variables that runtimes and platforms set: code reads them through os.environ/process.env,
# but they are never secrets, so their absence from the store is not MISSING.
RUNTIME_VARIABLES = frozenset(
    {
        "HOME",
        "HOSTNAME",
        "LANG",
        "NODE_ENV",
        "PATH",
        "PORT",
        "PWD",
        "PYTHONPATH",
        "SHELL",
        "TERM",
        "TMPDIR",
        "USER",
    }
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
    # every identifier-like word in the folder, and env.<attribute> names uppercased: a stored name
    # in it is "mentioned" (not UNREFERENCED)
    words: frozenset[str]
    # valid secret names the code reads (READ_PATTERNS, TYPED_READ_PATTERNS normalised), except
    # RUNTIME_VARIABLES: one not stored is MISSING
    reads: frozenset[str]

    def mentions(self, name: str) -> bool:
        """Whether any file mentions the stored name (UNREFERENCED when not)."""
        return name in self.words or name in self.reads


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
            words.update(name.upper() for name in _ENV_ATTRIBUTE.findall(text))
            for pattern in READ_PATTERNS:
                reads.update(pattern.findall(text))
            for pattern in TYPED_READ_PATTERNS:
                reads.update(normalise_secret_name(typed) for _, typed in pattern.findall(text))
    return References(
        frozenset(words),
        frozenset(
            name
            for name in reads
            if name not in RUNTIME_VARIABLES
            and secret_name_problem(name, allow_system=True) is None
        ),
    )


def _read_text(path: Path) -> str | None:
    """The file's text; None for a symlink, a FIFO or device, a huge file or a binary one."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)  # a symlink fails here (O_NOFOLLOW); a FIFO does not block
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                return None
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_FILE_BYTES or b"\x00" in data[:4096]:
        return None  # grew while we read it, or binary
    return data.decode("utf-8", errors="replace")
