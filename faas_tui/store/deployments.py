"""Deployments: snapshotting a function's current versions, and reading the active binding back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert
from sqlmodel import Session, select

from faas_tui.core.errors import BindingBrokenError, ConflictError
from faas_tui.core.messages import binding_broken, never_deployed
from faas_tui.core.values import SecretFormat
from faas_tui.store.models import Binding, Deployment, Function, Secret
from faas_tui.store.queries import active_deployments
from faas_tui.store.secret_rows import Codec, read_value


def deploy(s: Session, fn: Function, actor: str, now: datetime) -> int:
    """A new deployment binding every secret's current version; the old binding is released
    (the caller then collects the versions nothing uses any more). Returns its number."""
    last = s.exec(select(func.max(Deployment.number)).where(Deployment.function_id == fn.id)).one()
    number = (last or 0) + 1
    previous = select(Deployment.id).where(Deployment.function_id == fn.id)
    s.execute(delete(Binding).where(Binding.deployment_id.in_(previous)))
    deployment = Deployment(function_id=fn.id, number=number, created_at=now, actor=actor)
    s.add(deployment)
    s.flush()
    rows = s.exec(
        select(Secret.id, Secret.name, Secret.version, Secret.write_id).where(
            Secret.function_id == fn.id
        )
    ).all()
    if rows:
        s.execute(
            insert(Binding),
            [
                {
                    "deployment_id": deployment.id,
                    "secret_name": n,
                    "secret_id": i,
                    "version": v,
                    "write_id": w,
                }
                for i, n, v, w in rows
            ],
        )
    return number


def bound_values(s: Session, codec: Codec, fn: Function) -> dict[str, tuple[str, SecretFormat]]:
    """The active deployment's binding, name → (value text, format), decrypted.

    Refuses a function never deployed, and one whose deployment binds a deleted secret.
    """
    active = active_deployments(s, fn.id).get(fn.id)
    if active is None:
        raise ConflictError(never_deployed(fn.name))
    number, _, deployment_id = active
    rows = s.exec(
        select(Binding.secret_name, Binding.secret_id, Binding.version, Binding.write_id)
        .where(Binding.deployment_id == deployment_id)
        .order_by(Binding.secret_name)
    ).all()
    broken = [name for name, secret_id, _, _ in rows if secret_id is None]
    if broken:
        raise BindingBrokenError(binding_broken(fn.name, number, broken))
    return {
        name: read_value(s, codec, fn, secret_id, name, version, write_id)
        for name, secret_id, version, write_id in rows
    }
