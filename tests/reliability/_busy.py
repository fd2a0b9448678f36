"""Worker processes for the reads-under-writers test: operators writing, a runtime reading uncached.

Spawned (not forked), so each imports what it needs; each writes a JSON report the test reads.
Failures are reported (type and one line), never silent.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

READ_FUNCTION = "billing"
READ_NAME = "API_KEY"
BUSY_FUNCTION = "busy"
BUSY_SECRETS = 500  # the secrets of the function the operators write to


def fill_store(store: str, key_file: Path) -> None:
    """The scene's store: the one secret the runtime reads (its key file scoped to that function)
    and a function of BUSY_SECRETS secrets that the operators change."""
    from conftest import PASSPHRASE, fast_kdf

    from faas_tui.core.values import SecretFormat
    from faas_tui.store.vault import Vault

    with Vault.create(store, PASSPHRASE, kdf=fast_kdf()) as vault:
        vault.add_function(READ_FUNCTION)
        vault.add_secret(READ_FUNCTION, READ_NAME, "sk_live_read_under_load")
        vault.add_function(BUSY_FUNCTION)
        seeds = [(f"SEED_{i}", f"seed value {i}", SecretFormat.PLAINTEXT) for i in range(BUSY_SECRETS)]
        vault.import_secrets(BUSY_FUNCTION, seeds)
        vault.add_key_file(key_file, "runtime", functions=[READ_FUNCTION])


def operator(store: str, passphrase: str, ident: str, start: Any, stop: Any, out: str) -> None:
    """Update, add and delete secrets of the big function until told to stop."""
    from faas_tui.store.vault import Vault
    from reliability._load import _problem

    ops, errors = 0, []
    try:
        with Vault.open(store, passphrase=passphrase, actor=ident) as vault:
            start.wait(timeout=120)
            while not stop.is_set():
                try:
                    vault.update_secret(BUSY_FUNCTION, f"SEED_{ops % 50}", f"{ident}-{ops}")
                    name = f"{ident.upper()}_{ops}"
                    vault.add_secret(BUSY_FUNCTION, name, f"added by {ident}")
                    vault.delete_secret(BUSY_FUNCTION, name)
                    ops += 3
                except Exception as exc:  # a finding; keep going
                    errors.append(_problem(exc))
    except Exception as exc:
        errors.append(_problem(exc))
        start.abort()
    Path(out).write_text(json.dumps({"ops": ops, "errors": errors}))


def runtime(store: str, key_file: str, start: Any, hold_s: float, stop: Any, out: str) -> None:
    """Uncached reads for `hold_s` seconds: how many, the slowest one, and the CPU time this
    process had meanwhile (a reader that gets less CPU reads less, locks or not)."""
    from faas_tui.toolbelt import SecretClient
    from reliability._load import _problem

    reads, worst, cpu, errors = 0, 0.0, 0.0, []
    try:
        with SecretClient(READ_FUNCTION, store=store, key_file=key_file) as client:
            expected = client.read_secret(READ_NAME, use_cache=False)
            start.wait(timeout=120)
            cpu = time.process_time()
            deadline = time.monotonic() + hold_s
            while (now := time.monotonic()) < deadline:
                value = client.read_secret(READ_NAME, use_cache=False)
                worst = max(worst, time.monotonic() - now)
                if value != expected:
                    errors.append("a read returned another value")
                reads += 1
            cpu = time.process_time() - cpu
    except Exception as exc:
        errors.append(_problem(exc))
        start.abort()
    finally:
        stop.set()
    Path(out).write_text(
        json.dumps({"reads": reads, "worst_s": worst, "cpu_s": cpu, "errors": errors})
    )
