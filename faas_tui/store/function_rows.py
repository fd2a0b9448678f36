"""Function rows: creating functions with their system and user secrets, and deleting one whole."""

from __future__ import annotations

import secrets as random_source
from collections.abc import Mapping

from sqlalchemy import delete
from sqlmodel import Session, select

from faas_tui.core.errors import ConflictError
from faas_tui.core.kinds import SecretKind
from faas_tui.core.system_secrets import SYSTEM_SECRETS
from faas_tui.core.values import SecretFormat
from faas_tui.store import eventlog
from faas_tui.store.guard import Guard
from faas_tui.store.models import Binding, Deployment, Function, Grant, Secret, SecretVersion
from faas_tui.store.secret_rows import Codec, Items, insert_secrets


def create(
    s: Session,
    codec: Codec,
    guard: Guard,
    functions: Mapping[str, Items],
    source_dir: str | None,
    stamp: eventlog.Stamp,
) -> None:
    """New functions, each with fresh system secrets and the given user secrets, logged and
    signed with the store; refuses them all if one name is taken. Each gets its own data key,
    granted to every credential that may read it."""
    now = stamp.at
    clash = s.exec(select(Function.name).where(Function.name.in_(list(functions)))).first()
    if clash is not None:
        raise ConflictError(f"a function named {clash!r} already exists")
    created: list[Function] = []
    for name, items in functions.items():
        fn = Function(name=name, source_dir=source_dir, created_at=now, manifest_mac=b"", epoch=0)
        s.add(fn)
        s.flush()
        guard.new_function_key(s, fn)
        created.append(fn)
        system = {
            spec.name: (random_source.token_urlsafe(32), SecretFormat.PLAINTEXT)
            for spec in SYSTEM_SECRETS
        }
        insert_secrets(s, codec, fn, system, now, SecretKind.SYSTEM)
        insert_secrets(s, codec, fn, items, now)
        eventlog.append(s, stamp, "function.add", name)
        eventlog.append(s, stamp, "secret.add", name, items)
    guard.seal(s, *created)


def remove(s: Session, fn: Function) -> None:
    """The function, its secrets, every stored version, its deployments, their bindings and the
    grants of its key."""
    secret_ids = select(Secret.id).where(Secret.function_id == fn.id)
    deployments = select(Deployment.id).where(Deployment.function_id == fn.id)
    s.execute(delete(Binding).where(Binding.deployment_id.in_(deployments)))
    s.execute(delete(SecretVersion).where(SecretVersion.secret_id.in_(secret_ids)))
    s.execute(delete(Secret).where(Secret.function_id == fn.id))
    s.execute(delete(Deployment).where(Deployment.function_id == fn.id))
    s.execute(delete(Grant).where(Grant.function_id == fn.id))
    s.delete(fn)
