"""Secret rows and their encrypted versions: one insert path, one new-version path, encryption,
decryption, keyed fingerprints, and collecting versions nothing uses any more."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, insert, update
from sqlmodel import Session, select

from faas_tui.core.errors import (
    AccessDeniedError,
    ConflictError,
    IntegrityError,
    SecretNotFoundError,
)
from faas_tui.core.kinds import SecretKind
from faas_tui.core.messages import no_secret, version_missing
from faas_tui.core.names import secret_name
from faas_tui.core.records import ImportPlan, SecretInfo
from faas_tui.core.system_secrets import SYSTEM_SPECS
from faas_tui.core.values import SecretFormat
from faas_tui.store import crypto, trust
from faas_tui.store.crypto import SecretKey
from faas_tui.store.guard import Guard
from faas_tui.store.models import Binding, Function, Secret, SecretVersion
from faas_tui.store.transactions import VERSIONS_REMOVED

Items = Mapping[str, tuple[str, SecretFormat]]  # name → (value, format)
READ_ONLY_SYSTEM = "{} is a system secret: it is read-only here"


def new_write_id() -> bytes:
    """16 random bytes naming one stored value: in its associated data and its function's digest."""
    return os.urandom(16)


class Codec:
    """Encrypts, decrypts and fingerprints values under the functions' keys (through the guard)."""

    __slots__ = ("guard", "store_id")

    def __init__(self, store_id: str, guard: Guard) -> None:
        self.store_id = store_id
        self.guard = guard

    def __repr__(self) -> str:
        return f"Codec(store={self.store_id!r})"

    def fingerprint(self, value: str) -> bytes:
        key = self.guard.material.fingerprint
        if not key:
            raise AccessDeniedError("not allowed: this credential cannot write values")
        return crypto.mac(SecretKey(key), value.encode("utf-8"))

    def seal(
        self, s: Session, fn: Function, name: str, version: int, fmt: str, value: str,
        write_id: bytes,
    ) -> tuple[bytes, bytes]:
        return self.seal_with(self.guard.function_key(s, fn), fn, name, version, fmt, value, write_id)

    def seal_with(
        self, key: SecretKey, fn: Function, name: str, version: int, fmt: str, value: str,
        write_id: bytes,
    ) -> tuple[bytes, bytes]:
        aad = trust.value_aad(self.store_id, fn.name, name, version, fmt, write_id)
        return crypto.seal(key, value.encode("utf-8"), aad)

    def open(self, s: Session, fn: Function, row: SecretVersion, name: str) -> str:
        return self.open_with(self.guard.function_key(s, fn), fn, row, name)

    def open_with(self, key: SecretKey, fn: Function, row: SecretVersion, name: str) -> str:
        aad = trust.value_aad(
            self.store_id, fn.name, name, row.version, row.format, bytes(row.write_id or b"")
        )
        plain = crypto.unseal(
            key, row.nonce, row.ciphertext, aad, what=f"the value of {fn.name}/{name}"
        )
        return plain.decode("utf-8")


def find(s: Session, fn: Function, name: str) -> Secret | None:
    """The function's secret row of that (normalised) name, or None."""
    return s.exec(select(Secret).where(Secret.function_id == fn.id, Secret.name == name)).first()


def stored(s: Session, fn: Function, typed: str) -> Secret:
    """The secret row of a typed name (SYSTEM_ names too), or SecretNotFoundError."""
    row = find(s, fn, secret_name(typed, allow_system=True))
    if row is None:
        raise SecretNotFoundError(no_secret(fn.name, typed))
    return row


def user_secret(s: Session, fn: Function, typed: str) -> Secret:
    """The user secret to change, or why not: missing, or a read-only system secret."""
    wanted = secret_name(typed, allow_system=True)
    row = find(s, fn, wanted)
    if row is None:
        raise SecretNotFoundError(no_secret(fn.name, wanted))
    if row.kind == SecretKind.SYSTEM:
        raise ConflictError(READ_ONLY_SYSTEM.format(row.name))
    return row


def delete_secret(s: Session, row: Secret) -> None:
    """The secret and every stored version; the deployments that bound it keep a broken binding."""
    s.execute(
        update(Binding)
        .where(Binding.secret_id == row.id)
        .values(secret_id=None, version=None, write_id=None)
    )
    s.execute(delete(SecretVersion).where(SecretVersion.secret_id == row.id))
    s.delete(row)


def listed(s: Session, fn: Function, *, include_system: bool) -> list[Secret]:
    """The function's secret rows, system ones first when included, then by name."""
    query = select(Secret).where(Secret.function_id == fn.id)
    if not include_system:
        query = query.where(Secret.kind == SecretKind.USER)
    return list(s.exec(query.order_by(Secret.kind.desc(), Secret.name)).all())


def insert_secrets(
    s: Session,
    codec: Codec,
    fn: Function,
    items: Items,
    now: datetime,
    kind: SecretKind = SecretKind.USER,
) -> None:
    """Insert secrets of one function at version 1 with two statements. The one insert path:
    a single add, an import, populate and a function's system secrets all come through here."""
    if not items:
        return
    system = kind == SecretKind.SYSTEM
    key = codec.guard.function_key(s, fn)
    write_ids = {name: new_write_id() for name in items}
    s.execute(
        insert(Secret),
        [
            {
                "function_id": fn.id,
                "name": name,
                "kind": kind,
                "format": fmt.value,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "description": SYSTEM_SPECS[name].description if system else "",
                "scopes": " ".join(SYSTEM_SPECS[name].scopes) if system else "",
                "fingerprint": codec.fingerprint(value),
                "write_id": write_ids[name],
            }
            for name, (value, fmt) in items.items()
        ],
    )
    ids = dict(
        s.exec(
            select(Secret.name, Secret.id).where(
                Secret.function_id == fn.id, Secret.name.in_(list(items))
            )
        ).all()
    )
    rows = []
    for name, (value, fmt) in items.items():
        nonce, ciphertext = codec.seal_with(key, fn, name, 1, fmt.value, value, write_ids[name])
        rows.append(
            {
                "secret_id": ids[name],
                "version": 1,
                "format": fmt.value,
                "nonce": nonce,
                "ciphertext": ciphertext,
                "created_at": now,
                "write_id": write_ids[name],
            }
        )
    s.execute(insert(SecretVersion), rows)


def new_version(
    s: Session,
    codec: Codec,
    fn: Function,
    row: Secret,
    value: str,
    fmt: SecretFormat,
    now: datetime,
) -> None:
    """The one new-version path (update, import with overwrite): the next version, encrypted."""
    row.version += 1
    row.format = fmt.value
    row.updated_at = now
    row.fingerprint = codec.fingerprint(value)
    row.write_id = new_write_id()
    s.add(row)
    nonce, ciphertext = codec.seal(s, fn, row.name, row.version, row.format, value, row.write_id)
    s.add(
        SecretVersion(
            secret_id=row.id,
            version=row.version,
            format=row.format,
            nonce=nonce,
            ciphertext=ciphertext,
            created_at=now,
            write_id=row.write_id,
        )
    )


def read_value(
    s: Session,
    codec: Codec,
    fn: Function,
    secret_id: int,
    name: str,
    version: int,
    write_id: bytes | None,
) -> tuple[str, SecretFormat]:
    """One stored version decrypted, with its authenticated format; `write_id` is the write the
    secret row or binding names: a version row of another write is refused."""
    row = s.exec(
        select(SecretVersion).where(
            SecretVersion.secret_id == secret_id, SecretVersion.version == version
        )
    ).first()
    if row is None:
        raise IntegrityError(version_missing(fn.name, name, version))
    if not trust.same(bytes(row.write_id or b""), bytes(write_id or b"")):
        raise IntegrityError(
            f"the value of {fn.name}/{name} is not the one its function's digest names: it was "
            "copied from another write; it is not returned"
        )
    return codec.open(s, fn, row, name), SecretFormat(row.format)


def reencrypt_function(s: Session, codec: Codec, fn: Function, old: SecretKey, new: SecretKey) -> None:
    """Every stored version of the function re-encrypted from `old` to `new` (same write ids)."""
    rows = s.exec(
        select(SecretVersion, Secret.name)
        .join(Secret, Secret.id == SecretVersion.secret_id)
        .where(Secret.function_id == fn.id)
    ).all()
    for version, name in rows:
        value = codec.open_with(old, fn, version, name)
        version.nonce, version.ciphertext = codec.seal_with(
            new, fn, name, version.version, version.format, value, bytes(version.write_id or b"")
        )
        s.add(version)


def collect_versions(s: Session, fn: Function) -> None:
    """Remove versions that neither the current value nor a deployment uses; the transaction
    then scrubs their copies once it commits."""
    current = select(Secret.version).where(Secret.id == SecretVersion.secret_id).scalar_subquery()
    bound = (
        select(Binding.id)
        .where(
            Binding.secret_id == SecretVersion.secret_id,
            Binding.version == SecretVersion.version,
        )
        .exists()
    )
    ids = select(Secret.id).where(Secret.function_id == fn.id)
    removed = s.execute(
        delete(SecretVersion)
        .where(SecretVersion.secret_id.in_(ids))
        .where(SecretVersion.version != current)
        .where(~bound)
        .execution_options(synchronize_session=False)
    )
    if removed.rowcount:
        s.info[VERSIONS_REMOVED] = True


def secret_info(function: str, row: Secret, bound: dict[int, int] | None) -> SecretInfo:
    """What listings show of a secret row: never its value."""
    deployed_version = bound.get(row.id) if bound is not None else None
    pending = row.kind == SecretKind.USER and deployed_version != row.version
    return SecretInfo(
        function=function,
        name=row.name,
        kind=row.kind,
        format=SecretFormat(row.format),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deployed_version=deployed_version,
        pending_redeploy=pending,
        description=row.description,
        scopes=tuple(row.scopes.split()),
    )


def plan_import(
    codec: Codec,
    function: str,
    wanted: Items,
    existing: Mapping[str, Secret],
    *,
    overwrite: bool,
    dry_run: bool,
) -> ImportPlan:
    """What an import adds, replaces and leaves; refuses system names and unasked changes."""
    added, replaced, unchanged, conflicts = [], [], [], []
    for name, (value, fmt) in wanted.items():
        row = existing.get(name)
        if row is None:
            added.append(name)
        elif row.kind == SecretKind.SYSTEM:
            raise ConflictError(READ_ONLY_SYSTEM.format(name))
        elif row.format == fmt.value and crypto.same(row.fingerprint, codec.fingerprint(value)):
            unchanged.append(name)
        elif overwrite:
            replaced.append(name)
        else:
            conflicts.append(name)
    if conflicts:
        raise ConflictError(
            f"{function} already has {', '.join(conflicts)} with a different value: "
            "pass --overwrite to replace"
        )
    return ImportPlan(function, tuple(added), tuple(replaced), tuple(unchanged), not dry_run)


def check_plan(plan: ImportPlan, expected: ImportPlan | None) -> None:
    """Refuse an import whose plan differs from the one the user confirmed (`expected`)."""
    if expected is not None and (plan.added, plan.replaced, plan.unchanged) != (
        expected.added,
        expected.replaced,
        expected.unchanged,
    ):
        raise ConflictError(
            f"{plan.function} changed since the preview; nothing was imported: "
            "preview the import again"
        )
