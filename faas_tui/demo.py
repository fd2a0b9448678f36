"""Sample data for `faas-tui demo`: realistic functions and secrets, or many generated ones for scale."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING

from faas_tui.core.values import SecretFormat

if TYPE_CHECKING:
    from faas_tui.store.vault import Vault

# The throw-away demo store's passphrase, shown by the app: it guards sample data only.
DEMO_PASSPHRASE = "demo-passphrase"  # noqa: S105  # nosec B105

# name → {secret: (value, format)}; values are random at fill time.
_SAMPLES: dict[str, dict[str, SecretFormat]] = {
    "billing": {
        "STRIPE_API_KEY": SecretFormat.PLAINTEXT,
        "STRIPE_WEBHOOK_SECRET": SecretFormat.PLAINTEXT,
        "DATABASE_URL": SecretFormat.PLAINTEXT,
    },
    "hubspot-sync": {
        "HUBSPOT_API_KEY": SecretFormat.PLAINTEXT,
        "HUBSPOT_APP_CONFIG": SecretFormat.JSON,
    },
    "mailer": {
        "SENDGRID_API_KEY": SecretFormat.PLAINTEXT,
        "SMTP_PASSWORD": SecretFormat.PLAINTEXT,
    },
    "image-resizer": {"S3_CREDENTIALS": SecretFormat.JSON},
    "slack-alerts": {"SLACK_WEBHOOK_URL": SecretFormat.PLAINTEXT},
}


def demo_data(
    functions: int | None = None, secrets_per_function: int | None = None
) -> dict[str, dict[str, tuple[str, SecretFormat]]]:
    """The sample functions, or N generated functions with M secrets each when either is given."""
    if functions is None and secrets_per_function is None:
        return {
            fn: {name: (_random_value(fmt), fmt) for name, fmt in names.items()}
            for fn, names in _SAMPLES.items()
        }
    count = len(_SAMPLES) if functions is None else functions
    per = 3 if secrets_per_function is None else secrets_per_function
    width = max(4, len(str(count)))
    return {
        f"fn-{i:0{width}d}": {
            f"SECRET_{j:03d}": (_random_value(SecretFormat.PLAINTEXT), SecretFormat.PLAINTEXT)
            for j in range(per)
        }
        for i in range(count)
    }


def fill_demo(
    vault: Vault,
    functions: int | None = None,
    secrets_per_function: int | None = None,
    data: Mapping[str, Mapping[str, tuple[str, SecretFormat]]] | None = None,
) -> tuple[int, int]:
    """Fill a store as `faas-tui demo` does: every other function deployed and, for the sample
    data, one change after the deploy (so "pending redeploy" shows). Returns (functions, secrets).
    """
    if data is None:
        data = demo_data(functions, secrets_per_function)
    vault.populate(data)
    for name in demo_deployments(data):
        vault.deploy(name)
    if data and functions is None and secrets_per_function is None:
        first = next(iter(data))
        first_secret = next(iter(data[first]), None)
        if first_secret:
            fmt = data[first][first_secret][1]
            vault.update_secret(first, first_secret, _random_value(fmt), fmt)
    return len(data), sum(len(items) for items in data.values())


def demo_deployments(data: Mapping[str, object]) -> list[str]:
    """Functions the demo deploys, so the dashboard shows both deployed and pending states."""
    return [name for i, name in enumerate(data) if i % 2 == 0]


def _random_value(fmt: SecretFormat) -> str:
    token = secrets.token_urlsafe(24)
    if fmt is SecretFormat.JSON:
        return json.dumps({"client_id": secrets.token_hex(6), "client_secret": token})
    return token
