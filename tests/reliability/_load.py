"""Worker processes for the load test: writers add and update secrets, readers check every value.

Each worker opens the store, waits at a barrier until all are ready, works for `hold_s` seconds,
then writes a JSON report; the test adds them up. Workers catch every exception and report it
(type and one-line text), so a failure is never silent.
"""

from __future__ import annotations

import json
import random
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FUNCTION = "load"
SHARED = [f"SHARED_{i}" for i in range(4)]


@dataclass
class Report:
    role: str
    ident: str
    ops: int = 0
    added: list[str] = field(default_factory=list)
    updates: dict[str, int] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # own secrets: name -> last value
    errors: list[str] = field(default_factory=list)
    torn: int = 0
    longest_wait_s: float = 0.0


def _problem(exc: BaseException) -> str:
    from faas_tui.core.errors import FaasError

    kind = "refused" if isinstance(exc, FaasError) else "crash"
    lines = traceback.format_exception_only(type(exc), exc)
    return f"{kind}: {type(exc).__name__}: {' '.join(line.strip() for line in lines)[:300]}"


def _save(report: Report, out: str) -> None:
    Path(out).write_text(json.dumps(asdict(report)))


def writer(
    store: str, passphrase: str, ident: str, start: Any, hold_s: float, max_ops: int, out: str
) -> None:
    """Alternately add an own secret and update a shared one, until the deadline or max_ops."""
    from faas_tui.core.values import SecretFormat
    from faas_tui.store.vault import Vault
    from reliability._support import checked_value

    report = Report("writer", ident)
    rng = random.Random(ident)
    try:
        with Vault.open(store, passphrase=passphrase, actor=ident) as vault:
            start.wait(timeout=120)
            deadline = time.time() + hold_s
            seq = 0
            while (time.time() < deadline or seq == 0) and report.ops < max_ops:
                seq += 1
                value = checked_value(ident, seq, pad=rng.randint(8, 64))
                started = time.monotonic()
                try:
                    if seq % 2:
                        name = f"{ident.upper()}_{seq}"
                        vault.add_secret(FUNCTION, name, value, SecretFormat.JSON)
                        report.added.append(name)
                        report.values[name] = value
                    else:
                        name = rng.choice(SHARED)
                        vault.update_secret(FUNCTION, name, value)
                        report.updates[name] = report.updates.get(name, 0) + 1
                    report.ops += 1
                except Exception as exc:  # every failure is a finding; keep going
                    report.errors.append(_problem(exc))
                report.longest_wait_s = max(report.longest_wait_s, time.monotonic() - started)
    except Exception as exc:
        report.errors.append(_problem(exc))
        start.abort()  # the others stop waiting: the test fails fast
    _save(report, out)


def reader(
    store: str, passphrase: str, ident: str, start: Any, hold_s: float, use_client: bool, out: str
) -> None:
    """Read shared and freshly added secrets in a loop; every value must pass its self-check."""
    from faas_tui.core.errors import SecretNotFoundError
    from faas_tui.store.vault import Vault
    from reliability._support import value_is_intact

    report = Report("reader", ident)
    rng = random.Random(ident)
    try:
        with Vault.open(store, passphrase=passphrase, read_only=True) as vault:
            read = _client_reader(store, passphrase) if use_client else vault.read_secret
            known = list(SHARED)
            start.wait(timeout=120)
            deadline = time.time() + hold_s
            while time.time() < deadline:
                if report.ops % 25 == 0:  # pick up names the writers added meanwhile
                    known = [info.name for info in vault.list_secrets(FUNCTION)]
                name = rng.choice(known)
                started = time.monotonic()
                try:
                    value = read(FUNCTION, name)
                    report.longest_wait_s = max(report.longest_wait_s, time.monotonic() - started)
                    if not value_is_intact(value):
                        report.torn += 1
                    report.ops += 1
                except SecretNotFoundError:
                    report.errors.append(f"lost: {name} was listed, then not found")
                except Exception as exc:
                    report.errors.append(_problem(exc))
    except Exception as exc:
        report.errors.append(_problem(exc))
        start.abort()  # the others stop waiting: the test fails fast
    _save(report, out)


def _client_reader(store: str, passphrase: str) -> Any:
    """The runtime client (faas_tui.toolbelt), uncached, as a function runtime would use it."""
    from faas_tui.toolbelt import SecretClient

    client = SecretClient(FUNCTION, store=store, passphrase=passphrase, cache_ttl=0)

    def read(function: str, name: str) -> Any:
        return client.read_secret(name, use_cache=False)

    return read
