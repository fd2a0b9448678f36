"""Warning categories the runtime toolbelt emits; filter them with the `warnings` module as usual."""

from __future__ import annotations


class ToolbeltWarning(UserWarning):
    """Base of the toolbelt's warnings."""


class SystemSecretWarning(ToolbeltWarning):
    """Function code read a system secret: it works, but its permissions may change at any time."""


def system_secret_message(function: str, name: str) -> str:
    return (
        f"{function}/{name} is a system secret: using it in function code is discouraged, "
        "because its permissions and scopes may change without notice"
    )
