"""Where a store lives: the default path, `--store`/FAAS_TUI_STORE resolution, SQLite file paths.

Light on purpose (no SQLAlchemy at import): the app's first frame and the runtime's cold start use it.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote

from faas_tui.core.errors import ValidationError

SQLITE_PREFIX = "sqlite:///"


def default_store_path() -> Path:
    """`store.db` in the user data dir, computed when asked (never at import time)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("faas-tui", appauthor=False)) / "store.db"


def resolve_store(option: str | None) -> str:
    """The store URL: the option wins over FAAS_TUI_STORE, which wins over the default path."""
    given = option or os.environ.get("FAAS_TUI_STORE") or str(default_store_path())
    return to_url(given)


def to_url(given: str) -> str:
    """A SQLite path or a SQLAlchemy URL, as a URL; anything else is refused with one line."""
    if "\x00" in given:
        raise ValidationError("invalid store: it contains a NUL character")
    if "://" not in given:
        if not given.strip():
            raise ValidationError("invalid store: the path is empty")
        try:
            full = Path(given).expanduser().absolute()
        except RuntimeError:  # ~user that does not exist, or no home directory
            raise ValidationError(f"invalid store path {given[:80]!r}: cannot expand '~'") from None
        _check_path(full)
        return SQLITE_PREFIX + str(full)
    if given.startswith(SQLITE_PREFIX):
        path = sqlite_path(given)
        if path is None or str(path) in ("", ":memory:", "."):
            raise ValidationError("invalid store URL: a SQLite store needs a file path")
        _check_path(path)
        return given
    return _server_url(given)


def _check_path(path: Path) -> None:
    """Refuse a path SQLite cannot open, before any file call fails with a raw OSError."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeError:  # bytes that are not UTF-8 in argv or the environment
        raise ValidationError(f"invalid store path {str(path)[:80]!r}: not UTF-8 text") from None
    if len(str(path)) >= 4096 or any(len(part.encode()) > 255 for part in path.parts):
        raise ValidationError(f"invalid store path {str(path)[:80]!r}…: it is too long")


def _server_url(given: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(given)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ValidationError(  # the URL is not repeated: it may hold a password
            "invalid store URL: give a file path, sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        ) from None
    if url.get_backend_name() == "postgresql":
        if url.get_driver_name() not in ("psycopg", "psycopg2"):
            raise ValidationError(
                "invalid store URL: use postgresql+psycopg://… (install faas-tui[postgres])"
            )
        return given
    raise ValidationError(
        f"unsupported store {url.get_backend_name()!r}: use a SQLite path or postgresql+psycopg://…"
    )


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite store URL, or None for a server database."""
    if not url.startswith(SQLITE_PREFIX):
        return None
    return Path(unquote(url[len(SQLITE_PREFIX) :].split("?", 1)[0]))


def display_store(url: str) -> str:
    """The store for messages: the path of a SQLite file (given as a URL or as a plain path), a
    server URL without its password."""
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    if "://" not in url:  # a plain path, not yet made a URL: nothing in it to hide
        return url
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def store_file_exists(url: str) -> bool:
    path = sqlite_path(url)
    return path is None or path.exists()
