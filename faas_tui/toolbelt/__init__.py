"""What function code imports to read its secrets: `SecretClient`, `bound_env`.

Light on purpose: this is a function's cold start. On a SQLite store nothing here imports
SQLAlchemy, SQLModel, Textual or Rich (a subprocess test checks `sys.modules`).
"""

from faas_tui.core.errors import (
    AccessDeniedError,
    BindingBrokenError,
    IntegrityError,
    SecretNotFoundError,
    WrongKeyError,
)
from faas_tui.toolbelt.binding import BoundEnv, bound_env
from faas_tui.toolbelt.client import SecretClient
from faas_tui.toolbelt.notices import SystemSecretWarning, ToolbeltWarning

__all__ = [
    "AccessDeniedError",
    "BindingBrokenError",
    "BoundEnv",
    "IntegrityError",
    "SecretClient",
    "SecretNotFoundError",
    "SystemSecretWarning",
    "ToolbeltWarning",
    "WrongKeyError",
    "bound_env",
]
