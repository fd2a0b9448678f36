"""`faas-tui check`: verify the whole store and list every problem (never raising for one), and
`check --accept`: sign the store again as it is, after an admin reviewed the problems."""

from __future__ import annotations

from sqlmodel import Session, select

from faas_tui.core.errors import FaasError
from faas_tui.core.kinds import Role, SlotKind
from faas_tui.store import eventlog, trust
from faas_tui.store.guard import (
    CREDENTIALS_TAMPERED,
    STORE_TAMPERED,
    Guard,
    digest_rows,
    function_tampered,
)
from faas_tui.store.models import (
    Binding,
    Deployment,
    Function,
    Grant,
    KeySlot,
    Secret,
    SecretVersion,
    StoreMeta,
)
from faas_tui.store.secret_rows import Codec


def problems(s: Session, guard: Guard, sqlite: bool) -> tuple[list[str], int]:
    """Every problem found, one line each, and the store's generation."""
    found: list[str] = []
    meta = s.get(StoreMeta, 1)
    if meta is None:
        return ["the store's header row is missing"], 0
    slots = list(s.exec(select(KeySlot)).all())
    credentials = guard.credential_bytes(slots)
    if not trust.signed_by(guard.material.admin_vk, meta.credentials_signature, credentials):
        found.append(CREDENTIALS_TAMPERED)
    for slot in slots:
        if slot.kind == SlotKind.PASSPHRASE:
            problem = trust.kdf_problem(
                slot.salt, slot.kdf_memory_kib, slot.kdf_iterations, slot.kdf_lanes
            )
            if problem:
                found.append(f"operator {slot.operator!r}: {problem}")
    functions = list(s.exec(select(Function).order_by(Function.name)).all())
    content = trust.content_manifest(
        guard.store_id,
        meta.generation or 0,
        credentials,
        eventlog.head(s),
        [(fn.name, fn.id, fn.epoch, fn.manifest_mac) for fn in functions],
    )
    if not trust.signed_by(guard.material.writer_vk, meta.signature, content):
        found.append(STORE_TAMPERED)
    rows = digest_rows(s)
    for fn in functions:
        assert fn.id is not None
        if not trust.same(guard.digest(fn, rows[fn.id]), fn.manifest_mac):
            found.append(function_tampered(fn.name))
        found += _values(s, guard, fn)
    try:
        eventlog.verify_chain(s, sqlite)
    except FaasError as exc:
        found.append(str(exc))
    return found, meta.generation or 0


def _values(s: Session, guard: Guard, fn: Function) -> list[str]:
    """Each value of the function this credential holds the key of, decrypted; write ids linked."""
    found: list[str] = []
    for grant in s.exec(select(Grant).where(Grant.function_id == fn.id)).all():
        if grant.epoch != fn.epoch:
            found.append(f"{fn.name}: the key grant of slot {grant.slot_id} is from another epoch")
    versions = s.exec(
        select(SecretVersion, Secret)
        .join(Secret, Secret.id == SecretVersion.secret_id)
        .where(Secret.function_id == fn.id)
    ).all()
    current = {
        (secret.id, secret.version): bytes(secret.write_id or b"")
        for secret in s.exec(select(Secret).where(Secret.function_id == fn.id)).all()
    }
    stored = {(v.secret_id, v.version): bytes(v.write_id or b"") for v, _ in versions}
    for key, write_id in current.items():
        if stored.get(key) != write_id:
            found.append(f"{fn.name}: a secret's current value is missing or of another write")
    bindings = s.exec(
        select(Binding)
        .join(Deployment, Deployment.id == Binding.deployment_id)
        .where(Deployment.function_id == fn.id, Binding.secret_id.is_not(None))
    ).all()
    for binding in bindings:
        if stored.get((binding.secret_id, binding.version)) != bytes(binding.write_id or b""):
            found.append(f"{fn.name}: binding {binding.secret_name} names a value of another write")
    if guard.credential.role is Role.AUDITOR or not guard.credential.reads(fn.name):
        return found  # no key of this function: its values are checked by those who hold one
    codec = Codec(guard.store_id, guard)
    try:
        key = guard.function_key(s, fn)
    except FaasError as exc:
        return [*found, str(exc)]
    for version, secret in versions:
        try:
            codec.open_with(key, fn, version, secret.name)
        except FaasError as exc:
            found.append(str(exc))
    return found


def reseal(s: Session, guard: Guard, seen: int) -> int:
    """Sign the store as it is now, above any generation this machine has seen."""
    meta = s.get(StoreMeta, 1)
    assert meta is not None
    meta.generation = max(meta.generation or 0, seen)
    s.add(meta)
    return guard.seal_every_function(s, credentials=True)
