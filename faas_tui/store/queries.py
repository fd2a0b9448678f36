"""Read queries the Vault's listings share: the active deployment (defined once), pending counts,
bound versions, the deployments binding a secret, and functions with their summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func
from sqlmodel import Session, select

from faas_tui.core.errors import NotFoundError
from faas_tui.core.kinds import SecretKind
from faas_tui.core.messages import no_function
from faas_tui.core.names import function_name_problem
from faas_tui.core.records import FunctionInfo
from faas_tui.store.models import Binding, Deployment, Function, Secret


def active_deployment_ids() -> Select[Any]:
    """The id of each function's latest deployment: the one whose bindings are live."""
    latest = (
        select(Deployment.function_id, func.max(Deployment.number).label("number"))
        .group_by(Deployment.function_id)
        .subquery()
    )
    return select(Deployment.id).join(
        latest,
        (latest.c.function_id == Deployment.function_id) & (latest.c.number == Deployment.number),
    )


def active_deployments(
    s: Session, function_id: int | None = None
) -> dict[int, tuple[int, datetime, int]]:
    """function id → (number, created_at, deployment id) of its active deployment."""
    query = select(
        Deployment.function_id, Deployment.number, Deployment.created_at, Deployment.id
    ).where(Deployment.id.in_(active_deployment_ids()))
    if function_id is not None:
        query = query.where(Deployment.function_id == function_id)
    return {fid: (number, at, did) for fid, number, at, did in s.exec(query).all()}


def function_row(s: Session, name: str) -> Function:
    """The function named `name`, or NotFoundError."""
    if function_name_problem(name):  # can never exist; NUL or bad UTF-8 must not reach SQL
        raise NotFoundError(no_function(name))
    fn = s.exec(select(Function).where(Function.name == name)).first()
    if fn is None:
        raise NotFoundError(no_function(name))
    return fn


def function_infos(s: Session, name: str | None = None) -> list[FunctionInfo]:
    """Every function (or the one named) with its secret count, active deployment and pending."""
    query = select(Function).order_by(Function.name)
    if name is not None:
        query = query.where(Function.name == function_row(s, name).name)
    functions = s.exec(query).all()
    only = functions[0].id if name is not None else None
    counts = dict(
        s.exec(
            _for_function(
                select(Secret.function_id, func.count()).where(Secret.kind == SecretKind.USER),
                Secret.function_id,
                only,
            ).group_by(Secret.function_id)
        ).all()
    )
    pending = pending_counts(s, only)
    deployed = active_deployments(s, only)
    return [
        FunctionInfo(
            name=f.name,
            secrets=counts.get(f.id, 0),
            deployed=deployed[f.id][0] if f.id in deployed else None,
            deployed_at=deployed[f.id][1] if f.id in deployed else None,
            pending=pending.get(f.id, 0),
            source_dir=f.source_dir,
            created_at=f.created_at,
        )
        for f in functions
    ]


def pending_counts(s: Session, function_id: int | None = None) -> dict[int, int]:
    """function id → user secrets changed since the active deployment, plus deleted bound ones."""
    unbound = (
        select(Secret.function_id, func.count())
        .select_from(Secret)
        .join(Binding, Binding.secret_id == Secret.id, isouter=True)
        .where(Secret.kind == SecretKind.USER)
        .where((Binding.id.is_(None)) | (Binding.version != Secret.version))
    )
    unbound = _for_function(unbound, Secret.function_id, function_id)
    counts = dict(s.exec(unbound.group_by(Secret.function_id)).all())
    broken = (
        select(Deployment.function_id, func.count())
        .select_from(Binding)
        .join(Deployment, Deployment.id == Binding.deployment_id)
        .where(Binding.secret_id.is_(None))
    )
    broken = _for_function(broken, Deployment.function_id, function_id)
    for fid, count in s.exec(broken.group_by(Deployment.function_id)).all():
        counts[fid] = counts.get(fid, 0) + count
    return counts


def bound_versions(s: Session, fn: Function) -> dict[int, int] | None:
    """secret id → version bound by the active deployment; None when never deployed."""
    active = active_deployments(s, fn.id).get(fn.id)
    if active is None:
        return None
    rows = s.exec(
        select(Binding.secret_id, Binding.version).where(Binding.deployment_id == active[2])
    ).all()
    return {sid: version for sid, version in rows if sid is not None}


def deployments_binding(s: Session, secret_id: int) -> list[int]:
    """Numbers of the deployments that bind the secret, oldest first."""
    rows = s.exec(
        select(Deployment.number)
        .join(Binding, Binding.deployment_id == Deployment.id)
        .where(Binding.secret_id == secret_id)
        .order_by(Deployment.number)
    ).all()
    return list(rows)


def deployment_rows(s: Session, fn: Function) -> list[Deployment]:
    """The function's deployments, oldest first."""
    query = select(Deployment).where(Deployment.function_id == fn.id).order_by(Deployment.number)
    return list(s.exec(query).all())


def _for_function(query: Select[Any], column: Any, function_id: int | None) -> Select[Any]:
    return query if function_id is None else query.where(column == function_id)
