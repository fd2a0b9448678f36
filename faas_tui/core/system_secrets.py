"""The system secrets every function is created with: the platform's tokens, read-only for users."""

from __future__ import annotations

from typing import NamedTuple


class SystemSecretSpec(NamedTuple):
    """A system secret's name, what it is for, and the scopes it grants."""

    name: str
    description: str
    scopes: tuple[str, ...]


SYSTEM_SECRETS = (
    SystemSecretSpec(
        "SYSTEM_API_TOKEN",
        "Token for the platform's internal API (invocations, logs, metrics)",
        ("functions:invoke", "logs:write", "metrics:write"),
    ),
    SystemSecretSpec(
        "SYSTEM_STORAGE_TOKEN",
        "Token for the function's own object-storage bucket",
        ("storage:read", "storage:write"),
    ),
)
SYSTEM_SPECS = {spec.name: spec for spec in SYSTEM_SECRETS}
