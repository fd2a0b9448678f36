"""Secret rows and their encrypted versions: one insert path, one new-version path, encryption,
decryption, keyed fingerprints, and collecting versions nothing uses any more."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, insert, update
from sqlmodel import Session, select

from faas_tui.core.errors import ConflictError, IntegrityError, SecretNotFoundError
from faas_tui.core.kinds import SecretKind
from faas_tui.core.messages import no_secret, version_missing
from faas_tui.core.names import secret_name
from faas_tui.core.records import ImportPlan, SecretInfo
from faas_tui.core.system_secrets import SYSTEM_SPECS
from faas_tui.core.values import SecretFormat
from faas_tui.store import crypto
from faas_tui.store.crypto import SecretKey
from faas_tui.store.models import Binding, Function, Secret, SecretVersion
from faas_tui.store.transactions import VERSIONS_REMOVED

FINGERPRINT_PURPOSE = "faas-tui value fingerprint"  # HKDF info of the fingerprint sub-key

Items = Mapping[str, tuple[str, SecretFormat]]  # name → (value, format)
READ_ONLY_SYSTEM = "{} is a system secret: it is read-only here"


class Codec:
    """Encrypts, decrypts and fingerprints values under one store's data key."""

    __slots__ = ("_fingerprint_key", "data_key", "store_id")

    def __init__(self, store_id: str, data_key: SecretKey) -> None:
        self.store_id = store_id
        self.data_key = data_key
        self._fingerprint_key = data_key.subkey(FINGERPRINT_PURPOSE)

    def __repr__(self) -> str:
        return f"Codec(store={self.store_id!r})"

    def fingerprint(self, value: str) -> bytes:
        return crypto.mac(self._fingerprint_key, value.encode("utf-8"))

    def seal(
        self, function: str, name: str, version: int, fmt: str, value: str
    ) -> tuple[bytes, bytes]:
        aad = crypto.value_aad(self.store_id, function, name, version, fmt)
        return crypto.seal(self.data_key, value.encode("utf-8"), aad)

    def open(self, row: SecretVersion, function: str, name: str) -> str:
        aad = crypto.value_aad(self.store_id, function, name, row.version, row.format)
        plain = crypto.unseal(
            self.data_key, row.nonce, row.ciphertext, aad, what=f"the value of {function}/{name}"
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
        update(Binding).where(Binding.secret_id == row.id).values(secret_id=None, version=None)
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
        nonce, ciphertext = codec.seal(fn.name, name, 1, fmt.value, value)
        rows.append(
            {
                "secret_id": ids[name],
                "version": 1,
                "format": fmt.value,
                "nonce": nonce,
                "ciphertext": ciphertext,
                "created_at": now,
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
    s.add(row)
    nonce, ciphertext = codec.seal(fn.name, row.name, row.version, row.format, value)
    s.add(
        SecretVersion(
            secret_id=row.id,
            version=row.version,
            format=row.format,
            nonce=nonce,
            ciphertext=ciphertext,
            created_at=now,
        )
    )


def read_value(
    s: Session, codec: Codec, function: str, secret_id: int, name: str, version: int
) -> tuple[str, SecretFormat]:
    """One stored version decrypted, with its authenticated format."""
    row = s.exec(
        select(SecretVersion).where(
            SecretVersion.secret_id == secret_id, SecretVersion.version == version
        )
    ).first()
    if row is None:
        raise IntegrityError(version_missing(function, name, version))
    return codec.open(row, function, name), SecretFormat(row.format)


def reencrypt_all(s: Session, old: Codec, new: Codec) -> None:
    """Every stored version re-encrypted, and every fingerprint recomputed, under `new`'s key."""
    rows = s.exec(
        select(SecretVersion, Secret, Function.name)
        .join(Secret, Secret.id == SecretVersion.secret_id)
        .join(Function, Function.id == Secret.function_id)
    ).all()
    current: set[int | None] = set()
    for version, secret, fn_name in rows:
        value = old.open(version, fn_name, secret.name)
        version.nonce, version.ciphertext = new.seal(
            fn_name, secret.name, version.version, version.format, value
        )
        s.add(version)
        if version.version == secret.version:
            secret.fingerprint = new.fingerprint(value)
            s.add(secret)
            current.add(secret.id)
    for secret, fn_name in s.exec(select(Secret, Function.name).join(Function)).all():
        if secret.id not in current:  # its current version is gone: no fingerprint to compute
            raise IntegrityError(version_missing(fn_name, secret.name, secret.version))


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
