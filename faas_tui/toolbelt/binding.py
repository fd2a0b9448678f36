"""bound_env: the values a function's active deployment bound, as attributes and as a mapping.

This is what a deployed function sees: `deploy` snapshots secret versions, and later changes stay
*pending redeploy*. A function never deployed, or whose deployment binds a since-deleted secret,
is refused with a message saying what to do.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from faas_tui.core.errors import SecretNotFoundError, UnboundNameError
from faas_tui.core.kinds import SecretKind
from faas_tui.core.names import function_name, normalise_secret_name
from faas_tui.toolbelt.notices import (
    SystemSecretWarning,
    system_secret_message,
)
from faas_tui.toolbelt.source import StoredValue, copy_json, decode, open_reader


class BoundEnv(Mapping[str, Any]):
    """A deployment's binding: `env.STRIPE_API_KEY` or `env["STRIPE_API_KEY"]`.

    Plaintext values are str, JSON values dict (a fresh copy on each access). `environ()` gives the
    environment-variable form that `faas-tui run` passes (JSON as compact JSON text).
    """

    __slots__ = ("_deployment", "_function", "_stored", "_values")

    def __init__(self, function: str, deployment: int, stored: Mapping[str, StoredValue]) -> None:
        object.__setattr__(self, "_function", function)
        object.__setattr__(self, "_deployment", deployment)
        object.__setattr__(self, "_stored", dict(stored))
        object.__setattr__(
            self, "_values", {name: decode(v.text, v.format) for name, v in stored.items()}
        )

    @property
    def function(self) -> str:
        return self._function

    @property
    def deployment(self) -> int:
        """The number of the deployment these values come from."""
        return self._deployment

    def environ(self) -> dict[str, str]:
        """Name -> environment-variable text, exactly what `faas-tui run` puts in the environment."""
        from faas_tui.core.values import SecretFormat, env_text

        return {name: env_text(v.text, SecretFormat(v.format)) for name, v in self._stored.items()}

    def __getitem__(self, name: str) -> Any:
        return self._get(name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._get(name)
        except SecretNotFoundError as exc:
            raise UnboundNameError(str(exc)) from None

    def _get(self, name: str) -> Any:
        key = name
        if key not in self._values and isinstance(name, str):
            key = normalise_secret_name(name)
        if key not in self._values:
            raise SecretNotFoundError(
                f"{self._function} deployment #{self._deployment} binds no secret named {name}: "
                f"add it, then redeploy (`faas-tui deploy {self._function}`)"
            )
        # a system secret works, but the user should know why not to use it
        if self._stored[key].kind == SecretKind.SYSTEM:
            warnings.warn(
                SystemSecretWarning(system_secret_message(self._function, key)),
                stacklevel=3,  # the caller of __getitem__ or __getattr__
            )
        value = self._values[key]
        return copy_json(value) if isinstance(value, dict) else value

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a deployment's binding is read-only")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        if name in self._values:
            return True
        return isinstance(name, str) and normalise_secret_name(name) in self._values

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._values]

    def __repr__(self) -> str:
        names = ", ".join(self._values)
        return (
            f"BoundEnv(function={self._function!r}, deployment={self._deployment}, names=[{names}])"
        )

    def __getstate__(self) -> Any:
        raise TypeError("a BoundEnv holds secret values and cannot be pickled")


def bound_env(
    function: str,
    store: str | None = None,
    key_file: str | os.PathLike[str] | None = None,
    passphrase: str | None = None,
) -> BoundEnv:
    """The active deployment's binding of `function`, read once from the store.

    Store and key default to FAAS_TUI_STORE, FAAS_TUI_KEY_FILE and FAAS_TUI_PASSPHRASE. Raises
    ConflictError when the function was never deployed, BindingBrokenError (naming the secret)
    when the deployment binds a secret deleted since.
    """
    name = function_name(function)
    reader = open_reader(store, key_file, passphrase)
    try:
        deployed = reader.deployed(name)
    finally:
        reader.close()
    return BoundEnv(name, deployed.number, deployed.values)
