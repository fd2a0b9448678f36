"""How the app shows times, deploy states and usage snippets: one place, so every screen agrees."""

from __future__ import annotations

from datetime import UTC, datetime

from faas_tui.core.records import FunctionInfo


def utc(moment: datetime) -> datetime:
    """A datetime in UTC; naive ones (as SQLite returns them) are taken as UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def when(moment: datetime | None, empty: str = "—") -> str:
    """`2025-03-01 14:05 UTC`, or `empty` for None."""
    if moment is None:
        return empty
    return utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def last_deploy(info: FunctionInfo) -> str:
    """The dashboard's "last deploy" cell: `#3 · 2025-03-01 14:05 UTC` or `never`."""
    if info.deployed is None:
        return "never"
    return f"#{info.deployed} · {when(info.deployed_at)}"


def usage_snippet(function: str, name: str) -> str:
    """The two ways function code reads a secret."""
    return (
        f'env = bound_env("{function}")\n'
        f"env.{name}\n"
        f'client = SecretClient("{function}")\n'
        f'client.read_secret("{name}")'
    )


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
