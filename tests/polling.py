"""The one wait of the tests that watch another process (a terminal, a child, a file it makes):
look again until a condition holds, fail with a description after a bound. Never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(
    predicate: Callable[[], T],
    timeout: float = 30.0,
    what: str | Callable[[], str] = "",
    every: float = 0.2,
) -> T:
    """Look every `every` seconds until `predicate()` holds, and return what it returned; fail
    after `timeout` with `what` (a text, or a callable that describes the last look)."""
    deadline = time.monotonic() + timeout
    while not (seen := predicate()):
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            raise AssertionError(described or f"never happened: {predicate}")
        time.sleep(every)
    return seen
