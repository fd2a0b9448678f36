"""Constants the Vault and the runtime readers must agree on, each defined here once."""

from __future__ import annotations

SCHEMA_VERSION = 2  # the store layout this faas-tui reads and writes
BUSY_TIMEOUT_S = 10.0  # how long a reader or writer waits for another writer's lock
