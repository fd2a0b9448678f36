"""The Vault service: the whole domain API. The CLI, the app and the toolbelt are thin faces on it.

Every change runs in one write transaction (BEGIN IMMEDIATE on SQLite, a row lock on PostgreSQL),
appends one event to the hash-chained log, and re-seals the manifest MACs before it commits; when
anything fails the transaction rolls back and the store is left exactly as it was.
"""

from __future__ import annotations

import getpass
import hmac
import os
import secrets as random_source
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, insert, inspect, text, update
from sqlalchemy import exc as sa_exc
from sqlmodel import Session, SQLModel, select

from faas_tui.core.errors import (
    BindingBrokenError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    ReadOnlyError,
    SecretNotFoundError,
    StoreError,
    ValidationError,
    WrongKeyError,
)
from faas_tui.core.names import SYSTEM_PREFIX, function_name, secret_name
from faas_tui.core.records import (
    AuditRow,
    DeploymentInfo,
    EventInfo,
    FunctionInfo,
    ImportPlan,
    KeyFileInfo,
    SecretInfo,
)
from faas_tui.core.references import scan_folder
from faas_tui.core.values import SecretFormat, check_value, decode_value
from faas_tui.store import crypto, database
from faas_tui.store.crypto import KdfParams, SecretKey
from faas_tui.store.eventlog import GENESIS, event_hash
from faas_tui.store.models import (
    SCHEMA_VERSION,
    Binding,
    Deployment,
    Event,
    Function,
    KeySlot,
    Secret,
    SecretVersion,
    StoreMeta,
)
from faas_tui.store.process import disable_core_dumps

MIN_PASSPHRASE = 8

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class SystemSecretSpec:
    name: str
    description: str
    scopes: tuple[str, ...]


# Created with every function, for talking to internal services (SPEC §1). Read-only here.
SYSTEM_SECRETS = (
    SystemSecretSpec(
        "SYSTEM_API_TOKEN",
        "Token for the platform's internal API (invocations, logs, metrics)",
        ("functions:invoke", "logs:write", "metrics:write"),
    ),
    SystemSecretSpec(
        "SYSTEM_STORAGE_TOKEN",
        "Token for the function's own object-storage bucket",
        ("storage:read", "storage:write"),
    ),
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def passphrase_problem(passphrase: str) -> str | None:
    """Why a new passphrase is refused, or None."""
    if len(passphrase) < MIN_PASSPHRASE:
        return f"a passphrase needs at least {MIN_PASSPHRASE} characters"
    if "\x00" in passphrase:
        return "a passphrase cannot contain a NUL character"
    return None


def default_actor() -> str:
    explicit = os.environ.get("FAAS_TUI_ACTOR")
    if explicit:
        return explicit
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


class Vault:
    """An unlocked store. Create one with `Vault.create(...)` or `Vault.open(...)`."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        store_id: str,
        data_key: SecretKey,
        *,
        passphrase_kek: SecretKey | None,
        read_only: bool,
        clock: Clock,
        actor: str,
    ) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{database.WRITE_OPTION: True})
        self.url = url
        self.store_id = store_id
        self.read_only = read_only
        self.actor = actor
        self._clock = clock
        self._passphrase_kek = passphrase_kek
        self._set_data_key(data_key)
        self.integrity_warnings: list[str] = []
        self._sqlite = engine.dialect.name == "sqlite"

    def __repr__(self) -> str:
        return f"Vault(store={database.display_store(self.url)!r}, read_only={self.read_only})"

    def _set_data_key(self, data_key: SecretKey) -> None:
        self._data_key = data_key
        self._mac_key = data_key.subkey(crypto.MANIFEST_MAC_PURPOSE)
        self._fingerprint_key = data_key.subkey("faas-tui value fingerprint")

    # --- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        store: str,
        passphrase: str,
        *,
        clock: Clock = utc_now,
        actor: str | None = None,
        kdf: KdfParams | None = None,
    ) -> Vault:
        """Create a new store protected by a passphrase (`faas-tui init`)."""
        problem = passphrase_problem(passphrase)
        if problem:
            raise ValidationError(problem)
        url = database.to_url(store)
        path = database.sqlite_path(url)
        if path is not None:
            if path.exists() and path.stat().st_size > 0:
                raise ConflictError(f"a store already exists at {path}")
            database.prepare_private_file(path)
        engine = database.make_engine(url)
        if path is None and _has_store(engine):
            raise ConflictError(f"a store already exists at {database.display_store(url)}")
        try:
            SQLModel.metadata.create_all(engine)
        except sa_exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot create the store: {_db_reason(exc)}") from None
        now = clock()
        data_key = SecretKey.generate()
        params = kdf or KdfParams.fresh()
        kek = crypto.derive_passphrase_key(passphrase, params)
        vault = cls(
            engine,
            url,
            random_source.token_hex(16),
            data_key,
            passphrase_kek=kek,
            read_only=False,
            clock=clock,
            actor=actor or default_actor(),
        )
        with vault._write() as s:
            s.add(
                StoreMeta(
                    store_id=vault.store_id,
                    schema_version=SCHEMA_VERSION,
                    created_at=_utc(now),
                    manifest_mac=b"",
                )
            )
            vault._add_passphrase_slot(s, kek, params)
            vault._log(s, "store.init")
            vault._seal_store(s)
        disable_core_dumps()
        return vault

    @classmethod
    def open(
        cls,
        store: str,
        *,
        passphrase: str | None = None,
        key_file: str | os.PathLike[str] | None = None,
        read_only: bool = False,
        clock: Clock = utc_now,
        actor: str | None = None,
    ) -> Vault:
        """Unlock an existing store with its passphrase or a key file. Writes nothing."""
        url = database.to_url(store)
        if not database.store_file_exists(url):
            raise NotFoundError(
                f"no store at {database.display_store(url)}: create one with `faas-tui init`"
            )
        engine = database.make_engine(url)
        try:
            with Session(engine) as s:
                meta = s.get(StoreMeta, 1)
                slots = list(s.exec(select(KeySlot)).all())
        except sa_exc.SQLAlchemyError:
            raise NotFoundError(
                f"no store at {database.display_store(url)}: create one with `faas-tui init`"
            ) from None
        if meta is None:
            raise NotFoundError(f"no store at {database.display_store(url)}")
        if meta.schema_version != SCHEMA_VERSION:
            raise StoreError(
                f"this store has schema {meta.schema_version}; this faas-tui reads {SCHEMA_VERSION}"
            )
        kek: SecretKey | None = None
        if key_file is not None:
            data_key = _unlock_with_key_file(meta.store_id, slots, key_file)
        else:
            if passphrase is None:
                raise ValidationError("a passphrase or a key file is needed to unlock the store")
            data_key, kek = _unlock_with_passphrase(meta.store_id, slots, passphrase)
        vault = cls(
            engine,
            url,
            meta.store_id,
            data_key,
            passphrase_kek=kek,
            read_only=read_only,
            clock=clock,
            actor=actor or default_actor(),
        )
        disable_core_dumps()
        with vault._read() as s:
            vault._check_store_manifest(s, meta.manifest_mac)
        return vault

    @staticmethod
    def exists(store: str) -> bool:
        """Whether a store has been created at this location."""
        url = database.to_url(store)
        if not database.store_file_exists(url):
            return False
        path = database.sqlite_path(url)
        if path is not None and path.stat().st_size == 0:
            return False
        engine = database.make_engine(url)
        try:
            return _has_store(engine)
        finally:
            engine.dispose()

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- functions ----------------------------------------------------------------------------

    def list_functions(self) -> list[FunctionInfo]:
        with self._read() as s:
            functions = s.exec(select(Function).order_by(Function.name)).all()
            counts = dict(
                s.exec(
                    select(Secret.function_id, func.count())
                    .where(Secret.kind == "user")
                    .group_by(Secret.function_id)
                ).all()
            )
            pending = self._pending_counts(s)
            deployed = self._active_deployments(s)
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

    def get_function(self, name: str) -> FunctionInfo:
        for info in self.list_functions():
            if info.name == name:
                return info
        raise NotFoundError(_no_function(name))

    def add_function(self, name: str, source_dir: str | None = None) -> FunctionInfo:
        """A new function, with its system secrets."""
        name = function_name(name)
        source = _source_dir(source_dir)
        with self._write() as s:
            if s.exec(select(Function.id).where(Function.name == name)).first() is not None:
                raise ConflictError(f"a function named {name!r} already exists")
            fn = Function(name=name, source_dir=source, created_at=self._now(), manifest_mac=b"")
            s.add(fn)
            s.flush()
            for spec in SYSTEM_SECRETS:
                value = random_source.token_urlsafe(32)
                self._insert_secret(
                    s, fn, spec.name, value, SecretFormat.PLAINTEXT, kind="system", spec=spec
                )
            self._log(s, "function.add", name)
            self._seal(s, fn)
        return self.get_function(name)

    def set_source_dir(self, name: str, source_dir: str | None) -> None:
        """Name (or clear) the function's code folder, which the audit scans for references."""
        source = _source_dir(source_dir)
        with self._write() as s:
            fn = self._function(s, name)
            fn.source_dir = source
            s.add(fn)
            self._log(s, "function.source", name)
            self._seal_store(s)

    def delete_function(self, name: str) -> None:
        """Delete a function, its secrets, every stored version and its deployments. Permanent."""
        with self._write(scrub=True) as s:
            fn = self._function(s, name)
            ids = select(Secret.id).where(Secret.function_id == fn.id)
            deployments = select(Deployment.id).where(Deployment.function_id == fn.id)
            s.execute(delete(Binding).where(Binding.deployment_id.in_(deployments)))
            s.execute(delete(SecretVersion).where(SecretVersion.secret_id.in_(ids)))
            s.execute(delete(Secret).where(Secret.function_id == fn.id))
            s.execute(delete(Deployment).where(Deployment.function_id == fn.id))
            s.delete(fn)
            self._log(s, "function.delete", name)
            s.flush()
            self._seal_store(s)

    # --- secrets ------------------------------------------------------------------------------

    def list_secrets(self, function: str, *, include_system: bool = False) -> list[SecretInfo]:
        """Names and metadata of a function's secrets — never values."""
        with self._read() as s:
            fn = self._function(s, function)
            self._check_function_manifest(s, fn)
            query = select(Secret).where(Secret.function_id == fn.id)
            if not include_system:
                query = query.where(Secret.kind == "user")
            rows = s.exec(query.order_by(Secret.kind.desc(), Secret.name)).all()
            bound = self._bound_versions(s, fn)
        return [self._secret_info(fn.name, row, bound) for row in rows]

    def list_system_secrets(self, function: str) -> list[SecretInfo]:
        return [info for info in self.list_secrets(function, include_system=True) if info.is_system]

    def get_secret(self, function: str, name: str) -> SecretInfo:
        wanted = _lookup_name(name)
        for info in self.list_secrets(function, include_system=True):
            if info.name == wanted:
                return info
        raise SecretNotFoundError(_no_secret(function, wanted))

    def add_secret(
        self, function: str, name: str, value: str, fmt: SecretFormat = SecretFormat.PLAINTEXT
    ) -> SecretInfo:
        """Create a secret. The name is normalised as typed; the value is checked for its format."""
        name = secret_name(name)
        check_value(value, fmt)
        with self._write() as s:
            fn = self._function(s, function)
            if self._secret_row(s, fn, name) is not None:
                raise ConflictError(
                    f"{function} already has a secret named {name}: "
                    "use `faas-tui secrets update` to change its value"
                )
            self._insert_secret(s, fn, name, value, fmt)
            self._log(s, "secret.add", function, name)
            self._seal(s, fn)
        return self.get_secret(function, name)

    def update_secret(
        self, function: str, name: str, value: str, fmt: SecretFormat | None = None
    ) -> SecretInfo:
        """Store a new version of the value (write-only). `fmt=None` keeps the current format."""
        with self._write(scrub=True) as s:
            fn = self._function(s, function)
            row = self._user_secret(s, fn, name)
            new_format = fmt or SecretFormat(row.format)
            check_value(value, new_format)
            row.version += 1
            row.format = new_format.value
            row.updated_at = self._now()
            row.fingerprint = self._fingerprint(value)
            s.add(row)
            s.add(self._encrypt_version(fn.name, row, value))
            s.flush()
            self._collect_versions(s, fn)
            self._log(s, "secret.update", function, row.name)
            self._seal(s, fn)
        return self.get_secret(function, row.name)

    def delete_secret(self, function: str, name: str) -> list[int]:
        """Delete a secret and every stored version of it. Permanent.

        Returns the deployment numbers that bound it: they now fail until redeployed.
        """
        with self._write(scrub=True) as s:
            fn = self._function(s, function)
            row = self._user_secret(s, fn, name)
            broken = self._deployments_binding(s, row.id)
            s.execute(
                update(Binding)
                .where(Binding.secret_id == row.id)
                .values(secret_id=None, version=None)
            )
            s.execute(delete(SecretVersion).where(SecretVersion.secret_id == row.id))
            s.delete(row)
            self._log(s, "secret.delete", function, row.name)
            s.flush()
            self._seal(s, fn)
        return broken

    def deployments_binding(self, function: str, name: str) -> list[int]:
        """Deployment numbers that still bind this secret (shown before a delete)."""
        with self._read() as s:
            fn = self._function(s, function)
            row = self._secret_row(s, fn, _lookup_name(name))
            if row is None:
                raise SecretNotFoundError(_no_secret(function, name))
            return self._deployments_binding(s, row.id)

    def read_secret(self, function: str, name: str) -> str | dict[str, Any]:
        """The current value: a str (Plaintext) or a dict (JSON). For runtimes and tests only."""
        text_value, fmt = self.read_secret_text(function, name)
        return decode_value(text_value, fmt)

    def read_secret_text(self, function: str, name: str) -> tuple[str, SecretFormat]:
        with self._read() as s:
            fn = self._function(s, function)
            row = self._secret_row(s, fn, _lookup_name(name))
            if row is None:
                raise SecretNotFoundError(_no_secret(function, name))
            return self._decrypt(s, fn.name, row.id, row.name, row.version), SecretFormat(
                row.format
            )

    def verify_secret(self, function: str, name: str, candidate: str) -> bool:
        """Whether the candidate equals the stored value, compared in constant time."""
        stored, _ = self.read_secret_text(function, name)
        return hmac.compare_digest(
            stored.encode("utf-8"), candidate.encode("utf-8", "surrogatepass")
        )

    def import_secrets(
        self,
        function: str,
        entries: Iterable[tuple[str, str, SecretFormat]],
        *,
        overwrite: bool = False,
        dry_run: bool = False,
    ) -> ImportPlan:
        """Add many secrets in one transaction; any bad entry refuses them all.

        Entries are (typed name, value, format). Without `overwrite`, an existing name with a
        different value refuses the import. `dry_run` returns the plan and changes nothing.
        """
        wanted = _validated_entries(entries)
        with self._write(scrub=True, dry_run=dry_run) as s:
            fn = self._function(s, function)
            existing = {
                row.name: row for row in s.exec(select(Secret).where(Secret.function_id == fn.id))
            }
            added, replaced, unchanged, conflicts = [], [], [], []
            for name, (value, fmt) in wanted.items():
                row = existing.get(name)
                if row is None:
                    added.append(name)
                elif row.kind == "system":
                    raise ConflictError(f"{name} is a system secret: it is read-only here")
                elif row.format == fmt.value and crypto.same(
                    row.fingerprint, self._fingerprint(value)
                ):
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
            plan = ImportPlan(
                function, tuple(added), tuple(replaced), tuple(unchanged), not dry_run
            )
            if dry_run:
                return plan
            self._bulk_insert(s, fn, {name: wanted[name] for name in added})
            for name in replaced:
                value, fmt = wanted[name]
                row = existing[name]
                row.version += 1
                row.format = fmt.value
                row.updated_at = self._now()
                row.fingerprint = self._fingerprint(value)
                s.add(row)
                s.add(self._encrypt_version(fn.name, row, value))
            s.flush()
            self._collect_versions(s, fn)
            for name in (*added, *replaced):
                self._log(s, "secret.import", function, name)
            self._seal(s, fn)
        return plan

    def populate(self, functions: Mapping[str, Mapping[str, tuple[str, SecretFormat]]]) -> None:
        """Create many functions with their secrets in one transaction (demo data, scale tests)."""
        for name in functions:
            function_name(name)
        validated = {
            fn: _validated_entries((k, v, f) for k, (v, f) in items.items())
            for fn, items in functions.items()
        }
        with self._write() as s:
            clash = s.exec(select(Function.name).where(Function.name.in_(list(validated)))).first()
            if clash is not None:
                raise ConflictError(f"a function named {clash!r} already exists")
            for name, items in validated.items():
                fn = Function(name=name, created_at=self._now(), manifest_mac=b"")
                s.add(fn)
                s.flush()
                system = {
                    spec.name: (random_source.token_urlsafe(32), SecretFormat.PLAINTEXT)
                    for spec in SYSTEM_SECRETS
                }
                self._bulk_insert(s, fn, system, kind="system")
                self._bulk_insert(s, fn, items)
                self._log(s, "function.add", name)
                self._seal_function(s, fn)
            self._seal_store(s)

    # --- deployments --------------------------------------------------------------------------

    def deploy(self, function: str) -> int:
        """Bind the current version of every secret; returns the new deployment number."""
        with self._write(scrub=True) as s:
            fn = self._function(s, function)
            last = s.exec(
                select(func.max(Deployment.number)).where(Deployment.function_id == fn.id)
            ).one()
            number = (last or 0) + 1
            previous = select(Deployment.id).where(Deployment.function_id == fn.id)
            s.execute(delete(Binding).where(Binding.deployment_id.in_(previous)))
            deployment = Deployment(
                function_id=fn.id, number=number, created_at=self._now(), actor=self.actor
            )
            s.add(deployment)
            s.flush()
            rows = s.exec(
                select(Secret.id, Secret.name, Secret.version).where(Secret.function_id == fn.id)
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
                        }
                        for i, n, v in rows
                    ],
                )
            self._collect_versions(s, fn)
            self._log(s, "deploy", function, f"#{number}")
            self._seal(s, fn)
        return number

    def deployments(self, function: str) -> list[DeploymentInfo]:
        with self._read() as s:
            fn = self._function(s, function)
            rows = s.exec(
                select(Deployment)
                .where(Deployment.function_id == fn.id)
                .order_by(Deployment.number)
            ).all()
        return [DeploymentInfo(function, d.number, d.created_at, d.actor) for d in rows]

    def bound_values(self, function: str) -> dict[str, tuple[str, SecretFormat]]:
        """The active deployment's binding: name → (value text, format).

        Refuses a function never deployed, and one whose deployment binds a deleted secret.
        """
        with self._read() as s:
            fn = self._function(s, function)
            active = self._active_deployments(s, fn.id).get(fn.id)
            if active is None:
                raise ConflictError(
                    f"{function} has never been deployed: run `faas-tui deploy {function}` first"
                )
            number, _, deployment_id = active
            rows = s.exec(
                select(Binding.secret_name, Binding.secret_id, Binding.version, Secret.format)
                .join(Secret, Secret.id == Binding.secret_id, isouter=True)
                .where(Binding.deployment_id == deployment_id)
                .order_by(Binding.secret_name)
            ).all()
            broken = [name for name, secret_id, _, _ in rows if secret_id is None]
            if broken:
                raise BindingBrokenError(
                    f"{function} deployment #{number} binds {', '.join(broken)}, which was deleted: "
                    f"update the code and redeploy (`faas-tui deploy {function}`)"
                )
            result: dict[str, tuple[str, SecretFormat]] = {}
            for name, secret_id, version, _ in rows:
                value = self._decrypt(s, fn.name, secret_id, name, version)
                stored_format = s.exec(
                    select(SecretVersion.format).where(
                        SecretVersion.secret_id == secret_id, SecretVersion.version == version
                    )
                ).one()
                result[name] = (value, SecretFormat(stored_format))
            return result

    # --- keys ---------------------------------------------------------------------------------

    def change_passphrase(self, new_passphrase: str) -> None:
        """Re-wrap the data key under a new passphrase; values are not touched."""
        problem = passphrase_problem(new_passphrase)
        if problem:
            raise ValidationError(problem)
        params = KdfParams.fresh()
        kek = crypto.derive_passphrase_key(new_passphrase, params)
        with self._write(scrub=True) as s:
            s.execute(delete(KeySlot).where(KeySlot.kind == "passphrase"))
            self._add_passphrase_slot(s, kek, params)
            self._log(s, "store.passwd")
            self._seal_store(s)
        self._passphrase_kek = kek

    def rotate_key(self) -> list[str]:
        """A new data key; every value re-encrypted, one transaction.

        Key files hold keys this process never sees, so their slots cannot be re-wrapped: they
        are revoked, and their ids returned so the caller can say so.
        """
        if self._passphrase_kek is None:
            raise ConflictError("rotate-key needs the passphrase: unlock without --key-file")
        old = self._data_key
        new = SecretKey.generate()
        with self._write(scrub=True) as s:
            rows = s.exec(
                select(SecretVersion, Secret.name, Function.name)
                .join(Secret, Secret.id == SecretVersion.secret_id)
                .join(Function, Function.id == Secret.function_id)
            ).all()
            for version, name, fn_name in rows:
                value = self._decrypt_row(version, fn_name, name)
                aad = _value_aad(self.store_id, fn_name, name, version.version, version.format)
                version.nonce, version.ciphertext = crypto.seal(new, value.encode("utf-8"), aad)
                s.add(version)
            revoked = list(s.exec(select(KeySlot.id).where(KeySlot.kind == "key-file")).all())
            s.execute(delete(KeySlot).where(KeySlot.kind == "key-file"))
            slot = s.exec(select(KeySlot).where(KeySlot.kind == "passphrase")).one()
            slot.nonce, slot.wrapped = crypto.wrap_key(
                self._passphrase_kek, new, crypto.slot_aad(self.store_id, slot.id, slot.kind)
            )
            s.add(slot)
            self._set_data_key(new)
            try:
                for secret in s.exec(select(Secret, Function.name).join(Function)).all():
                    row, fn_name = secret
                    current = self._decrypt(s, fn_name, row.id, row.name, row.version)
                    row.fingerprint = self._fingerprint(current)
                    s.add(row)
                self._log(s, "store.rotate-key")
                s.flush()
                for fn in s.exec(select(Function)).all():
                    self._seal_function(s, fn)
                self._seal_store(s)
            except BaseException:
                self._set_data_key(old)
                raise
        return revoked

    def add_key_file(self, path: str | os.PathLike[str], label: str = "") -> KeyFileInfo:
        """Write a new random key, 0600, to PATH, and wrap the data key in a slot of its own."""
        target = Path(path)
        if target.exists():
            raise ConflictError(f"{target} already exists: choose a new path for the key file")
        key = SecretKey.generate()
        slot_id = random_source.token_hex(6)
        now = self._now()
        with self._write() as s:
            nonce, wrapped = crypto.wrap_key(
                key, self._data_key, crypto.slot_aad(self.store_id, slot_id, "key-file")
            )
            s.add(
                KeySlot(
                    id=slot_id,
                    kind="key-file",
                    label=label or target.name,
                    nonce=nonce,
                    wrapped=wrapped,
                    created_at=now,
                )
            )
            self._log(s, "key-file.add", None, slot_id)
            self._seal_store(s)
            s.flush()
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as exc:
                raise ValidationError(f"cannot write key file {target}: {exc.strerror}") from None
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(crypto.key_file_text(self.store_id, slot_id, key))
        return KeyFileInfo(slot_id, label or target.name, now)

    def list_key_files(self) -> list[KeyFileInfo]:
        with self._read() as s:
            rows = s.exec(
                select(KeySlot).where(KeySlot.kind == "key-file").order_by(KeySlot.created_at)
            ).all()
        return [KeyFileInfo(r.id, r.label, r.created_at) for r in rows]

    def revoke_key_file(self, slot_id: str) -> None:
        with self._write(scrub=True) as s:
            slot = s.get(KeySlot, slot_id)
            if slot is None or slot.kind != "key-file":
                raise NotFoundError(
                    f"no key file with id {slot_id!r}: see `faas-tui key-file list`"
                )
            s.delete(slot)
            self._log(s, "key-file.revoke", None, slot_id)
            s.flush()
            self._seal_store(s)

    # --- audit --------------------------------------------------------------------------------

    def audit(self, stale_days: int = 90, *, now: datetime | None = None) -> list[AuditRow]:
        """Every secret of every function with its flags (SPEC §5), plus MISSING names. No values."""
        moment = _utc(now) if now else self._clock()
        with self._read() as s:
            functions = {f.id: f for f in s.exec(select(Function))}
            rows = s.exec(
                select(
                    Secret.id,
                    Secret.function_id,
                    Secret.name,
                    Secret.kind,
                    Secret.format,
                    Secret.version,
                    Secret.created_at,
                    Secret.updated_at,
                    Secret.fingerprint,
                )
            ).all()
            bound = dict(
                s.exec(
                    select(Binding.secret_id, Binding.version).where(Binding.secret_id.is_not(None))
                ).all()
            )
            deployed = {fid for fid in self._active_deployments(s)}
        fingerprints = Counter(row.fingerprint for row in rows)
        scans = {
            fid: scan_folder(f.source_dir)
            for fid, f in functions.items()
            if f.source_dir and Path(f.source_dir).is_dir()
        }
        result: list[AuditRow] = []
        stored: dict[int, set[str]] = {}
        for row in rows:
            stored.setdefault(row.function_id, set()).add(row.name)
            flags = []
            age = moment - row.updated_at
            if age > timedelta(days=stale_days):
                flags.append("STALE")
            deployed_version = bound.get(row.id)
            if row.kind == "user" and (
                row.function_id not in deployed or deployed_version != row.version
            ):
                flags.append("PENDING_REDEPLOY")
            if fingerprints[row.fingerprint] > 1:
                flags.append("REUSED_VALUE")
            if row.kind == "system":
                flags.append("SYSTEM")
            scan = scans.get(row.function_id)
            if scan is not None and row.name not in scan.words:
                flags.append("UNREFERENCED")
            result.append(
                AuditRow(
                    function=functions[row.function_id].name,
                    name=row.name,
                    kind=row.kind,
                    format=SecretFormat(row.format),
                    version=row.version,
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                    age_days=age.days,
                    deployed_version=deployed_version,
                    flags=tuple(flags),
                )
            )
        for fid, scan in scans.items():
            for name in sorted(scan.reads - stored.get(fid, set())):
                result.append(
                    AuditRow(
                        functions[fid].name,
                        name,
                        "missing",
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        ("MISSING",),
                    )
                )
        result.sort(key=lambda r: (r.function, r.kind == "missing", r.name))
        return result

    # --- event log ----------------------------------------------------------------------------

    def events(self) -> list[EventInfo]:
        with self._read() as s:
            rows = s.exec(select(Event).order_by(Event.seq)).all()
        return [EventInfo(e.seq, e.at, e.actor, e.action, e.function, e.name, e.hash) for e in rows]

    def verify_log(self) -> int:
        """Recompute the hash chain; returns the number of events, or raises IntegrityError."""
        prev = GENESIS
        count = 0
        with self._read() as s:
            for e in s.exec(select(Event).order_by(Event.seq)):
                count += 1
                expected = event_hash(prev, e.seq, e.at, e.actor, e.action, e.function, e.name)
                if (
                    e.seq != count
                    or e.prev_hash != prev
                    or not crypto.same(e.hash.encode(), expected.encode())
                ):
                    raise IntegrityError(
                        f"the event log is broken at row {e.seq}: it was edited, inserted or deleted"
                    )
                prev = e.hash
        return count

    # --- internals: transactions --------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with Session(self._engine, expire_on_commit=False) as s, s.begin():
                yield s
        except sa_exc.SQLAlchemyError as exc:
            raise _store_failure(exc) from None

    @contextmanager
    def _write(self, *, scrub: bool = False, dry_run: bool = False) -> Iterator[Session]:
        """One write transaction. `scrub` wipes the WAL afterwards (rows were deleted)."""
        if self.read_only:
            raise ReadOnlyError("the store is open read-only (--read-only): changes are disabled")
        try:
            with Session(self._writer, expire_on_commit=False) as s:
                s.begin()
                try:
                    self._lock(s)
                    yield s
                    if dry_run:
                        s.rollback()
                    else:
                        s.commit()
                except BaseException:
                    s.rollback()
                    raise
        except sa_exc.SQLAlchemyError as exc:
            raise _store_failure(exc) from None
        if scrub and self._sqlite and not dry_run:
            self._checkpoint()

    def _lock(self, s: Session) -> None:
        """Serialise writers on PostgreSQL (SQLite already holds BEGIN IMMEDIATE's lock)."""
        if not self._sqlite:
            s.execute(text("SET LOCAL lock_timeout = '10s'"))
            s.exec(select(StoreMeta.id).where(StoreMeta.id == 1).with_for_update())

    def _checkpoint(self) -> None:
        """Move the WAL into the database and truncate it, so deleted ciphertexts leave no copy."""
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except sa_exc.OperationalError:
            pass  # a busy reader: the next checkpoint will do it; secure_delete already zeroed pages

    def _now(self) -> datetime:
        return _utc(self._clock())

    # --- internals: rows ----------------------------------------------------------------------

    def _function(self, s: Session, name: str) -> Function:
        fn = s.exec(select(Function).where(Function.name == name)).first()
        if fn is None:
            raise NotFoundError(_no_function(name))
        return fn

    def _secret_row(self, s: Session, fn: Function, name: str) -> Secret | None:
        return s.exec(
            select(Secret).where(Secret.function_id == fn.id, Secret.name == name)
        ).first()

    def _user_secret(self, s: Session, fn: Function, name: str) -> Secret:
        wanted = _lookup_name(name)
        row = self._secret_row(s, fn, wanted)
        if row is None:
            raise SecretNotFoundError(_no_secret(fn.name, wanted))
        if row.kind == "system":
            raise ConflictError(f"{row.name} is a system secret: it is read-only here")
        return row

    def _insert_secret(
        self,
        s: Session,
        fn: Function,
        name: str,
        value: str,
        fmt: SecretFormat,
        *,
        kind: str = "user",
        spec: SystemSecretSpec | None = None,
    ) -> Secret:
        now = self._now()
        row = Secret(
            function_id=fn.id,
            name=name,
            kind=kind,
            format=fmt.value,
            version=1,
            created_at=now,
            updated_at=now,
            description=spec.description if spec else "",
            scopes=" ".join(spec.scopes) if spec else "",
            fingerprint=self._fingerprint(value),
        )
        s.add(row)
        s.flush()
        s.add(self._encrypt_version(fn.name, row, value))
        return row

    def _bulk_insert(
        self,
        s: Session,
        fn: Function,
        items: Mapping[str, tuple[str, SecretFormat]],
        *,
        kind: str = "user",
    ) -> None:
        """Insert many secrets of one function with two executemany statements."""
        if not items:
            return
        now = self._now()
        specs = {spec.name: spec for spec in SYSTEM_SECRETS}
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
                    "description": specs[name].description if kind == "system" else "",
                    "scopes": " ".join(specs[name].scopes) if kind == "system" else "",
                    "fingerprint": self._fingerprint(value),
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
            nonce, ciphertext = crypto.seal(
                self._data_key,
                value.encode("utf-8"),
                _value_aad(self.store_id, fn.name, name, 1, fmt.value),
            )
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

    def _encrypt_version(self, function: str, row: Secret, value: str) -> SecretVersion:
        aad = _value_aad(self.store_id, function, row.name, row.version, row.format)
        nonce, ciphertext = crypto.seal(self._data_key, value.encode("utf-8"), aad)
        return SecretVersion(
            secret_id=row.id,
            version=row.version,
            format=row.format,
            nonce=nonce,
            ciphertext=ciphertext,
            created_at=self._now(),
        )

    def _decrypt(self, s: Session, function: str, secret_id: int, name: str, version: int) -> str:
        row = s.exec(
            select(SecretVersion).where(
                SecretVersion.secret_id == secret_id, SecretVersion.version == version
            )
        ).first()
        if row is None:
            raise IntegrityError(f"{function}/{name} version {version} is missing from the store")
        return self._decrypt_row(row, function, name)

    def _decrypt_row(self, row: SecretVersion, function: str, name: str) -> str:
        aad = _value_aad(self.store_id, function, name, row.version, row.format)
        plain = crypto.unseal(
            self._data_key, row.nonce, row.ciphertext, aad, what=f"the value of {function}/{name}"
        )
        return plain.decode("utf-8")

    def _fingerprint(self, value: str) -> bytes:
        return crypto.mac(self._fingerprint_key, value.encode("utf-8"))

    def _collect_versions(self, s: Session, fn: Function) -> None:
        """Remove versions that neither the current value nor a deployment uses."""
        current = (
            select(Secret.version).where(Secret.id == SecretVersion.secret_id).scalar_subquery()
        )
        bound = (
            select(Binding.id)
            .where(
                Binding.secret_id == SecretVersion.secret_id,
                Binding.version == SecretVersion.version,
            )
            .exists()
        )
        ids = select(Secret.id).where(Secret.function_id == fn.id)
        s.execute(
            delete(SecretVersion)
            .where(SecretVersion.secret_id.in_(ids))
            .where(SecretVersion.version != current)
            .where(~bound)
            .execution_options(synchronize_session=False)
        )

    def _bound_versions(self, s: Session, fn: Function) -> dict[int, int] | None:
        """secret id → version bound by the active deployment; None when never deployed."""
        active = self._active_deployments(s, fn.id).get(fn.id)
        if active is None:
            return None
        rows = s.exec(
            select(Binding.secret_id, Binding.version).where(Binding.deployment_id == active[2])
        ).all()
        return {sid: version for sid, version in rows if sid is not None}

    def _active_deployments(
        self, s: Session, function_id: int | None = None
    ) -> dict[int, tuple[int, datetime, int]]:
        """function id → (number, created_at, deployment id) of its latest deployment."""
        latest = select(
            Deployment.function_id, func.max(Deployment.number).label("number")
        ).group_by(Deployment.function_id)
        if function_id is not None:
            latest = latest.where(Deployment.function_id == function_id)
        sub = latest.subquery()
        rows = s.exec(
            select(
                Deployment.function_id, Deployment.number, Deployment.created_at, Deployment.id
            ).join(
                sub,
                (sub.c.function_id == Deployment.function_id) & (sub.c.number == Deployment.number),
            )
        ).all()
        return {fid: (number, at, did) for fid, number, at, did in rows}

    def _pending_counts(self, s: Session) -> dict[int, int]:
        """function id → user secrets changed since the active deployment, plus deleted bound ones."""
        unbound = (
            select(Secret.function_id, func.count())
            .select_from(Secret)
            .join(Binding, Binding.secret_id == Secret.id, isouter=True)
            .where(Secret.kind == "user")
            .where((Binding.id.is_(None)) | (Binding.version != Secret.version))
            .group_by(Secret.function_id)
        )
        counts = dict(s.exec(unbound).all())
        broken = (
            select(Deployment.function_id, func.count())
            .select_from(Binding)
            .join(Deployment, Deployment.id == Binding.deployment_id)
            .where(Binding.secret_id.is_(None))
            .group_by(Deployment.function_id)
        )
        for fid, count in s.exec(broken).all():
            counts[fid] = counts.get(fid, 0) + count
        return counts

    def _deployments_binding(self, s: Session, secret_id: int) -> list[int]:
        rows = s.exec(
            select(Deployment.number)
            .join(Binding, Binding.deployment_id == Deployment.id)
            .where(Binding.secret_id == secret_id)
            .order_by(Deployment.number)
        ).all()
        return list(rows)

    def _secret_info(self, function: str, row: Secret, bound: dict[int, int] | None) -> SecretInfo:
        deployed_version = bound.get(row.id) if bound is not None else None
        pending = row.kind == "user" and deployed_version != row.version
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

    def _add_passphrase_slot(self, s: Session, kek: SecretKey, params: KdfParams) -> None:
        slot_id = random_source.token_hex(6)
        nonce, wrapped = crypto.wrap_key(
            kek, self._data_key, crypto.slot_aad(self.store_id, slot_id, "passphrase")
        )
        s.add(
            KeySlot(
                id=slot_id,
                kind="passphrase",
                label="passphrase",
                salt=params.salt,
                kdf_memory_kib=params.memory_kib,
                kdf_iterations=params.iterations,
                kdf_lanes=params.lanes,
                nonce=nonce,
                wrapped=wrapped,
                created_at=self._now(),
            )
        )

    # --- internals: event log and manifests ----------------------------------------------------

    def _log(
        self, s: Session, action: str, function: str | None = None, name: str | None = None
    ) -> None:
        last = s.exec(select(Event.seq, Event.hash).order_by(Event.seq.desc()).limit(1)).first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = self._now()
        digest = event_hash(prev, seq, at, self.actor, action, function, name)
        s.add(
            Event(
                seq=seq,
                at=at,
                actor=self.actor,
                action=action,
                function=function,
                name=name,
                prev_hash=prev,
                hash=digest,
            )
        )

    def _seal(self, s: Session, fn: Function) -> None:
        s.flush()
        self._seal_function(s, fn)
        self._seal_store(s)

    def _seal_function(self, s: Session, fn: Function) -> None:
        fn.manifest_mac = self._function_manifest(s, fn)
        s.add(fn)
        s.flush()

    def _function_manifest(self, s: Session, fn: Function) -> bytes:
        rows = s.exec(
            select(Secret.name, Secret.version, Secret.format, Secret.kind)
            .where(Secret.function_id == fn.id)
            .order_by(Secret.name)
        ).all()
        return crypto.function_manifest(self._mac_key, self.store_id, fn.name, rows)

    def _store_manifest(self, s: Session) -> bytes:
        functions = s.exec(
            select(Function.name, Function.manifest_mac).order_by(Function.name)
        ).all()
        head = s.exec(select(Event.seq, Event.hash).order_by(Event.seq.desc()).limit(1)).first()
        slots = s.exec(select(KeySlot.id).order_by(KeySlot.id)).all()
        fields: list[str | bytes | int] = [field for row in functions for field in row]
        fields += ["events", *(head or (0, GENESIS)), "slots", *slots]
        fields += ["rows", *self._row_totals(s)]
        return crypto.mac(self._mac_key, crypto.encode_aad("store", self.store_id, *fields))

    def _row_totals(self, s: Session) -> tuple[int, ...]:
        """Counts the database computes in one query, so that opening a store notices secrets,
        versions or bindings deleted or rolled back behind faas-tui's back without reading them
        all; listing a function then checks its full manifest."""

        def scalar(query: Any) -> Any:
            return query.scalar_subquery()

        row = s.exec(
            select(
                scalar(select(func.count(Secret.id))),
                scalar(select(func.coalesce(func.sum(Secret.version), 0))),
                scalar(select(func.count(SecretVersion.id))),
                scalar(select(func.count(Binding.id))),
                scalar(select(func.count(Deployment.id))),
            )
        ).one()
        return tuple(int(value) for value in row)

    def _seal_store(self, s: Session) -> None:
        s.flush()
        meta = s.get(StoreMeta, 1)
        assert meta is not None
        meta.manifest_mac = self._store_manifest(s)
        s.add(meta)

    def _check_store_manifest(self, s: Session, stored: bytes) -> None:
        if not crypto.same(stored, self._store_manifest(s)):
            self._warn(
                "integrity warning: the store's manifest does not match its rows: functions, "
                "secrets, versions, deployments, events or key slots were deleted or rolled back "
                "behind faas-tui's back"
            )

    def _check_function_manifest(self, s: Session, fn: Function) -> None:
        if not crypto.same(fn.manifest_mac, self._function_manifest(s, fn)):
            self._warn(
                f"integrity warning: {fn.name}'s secrets do not match their manifest: rows were "
                "deleted or rolled back behind faas-tui's back"
            )

    def _warn(self, message: str) -> None:
        if message not in self.integrity_warnings:
            self.integrity_warnings.append(message)


# --- module helpers ---------------------------------------------------------------------------


def _value_aad(store_id: str, function: str, name: str, version: int, fmt: str) -> bytes:
    return crypto.value_aad(store_id, function, name, version, fmt)  # shared with the toolbelt


def _utc(moment: datetime) -> datetime:
    """Every stored time is an aware UTC datetime (SQLModel refuses naive ones)."""
    return moment.astimezone(UTC)


def _lookup_name(typed: str) -> str:
    """A name to look up: normalised like a typed name, SYSTEM_ names allowed."""
    return secret_name(typed, allow_system=True)


def _no_function(name: str) -> str:
    return f"no function named {name!r}: see `faas-tui functions list`"


def _no_secret(function: str, name: str) -> str:
    return f"{function} has no secret named {name}: see `faas-tui secrets list {function}`"


def _source_dir(source_dir: str | None) -> str | None:
    if source_dir is None or source_dir == "":
        return None
    path = Path(source_dir).expanduser()
    if not path.is_dir():
        raise ValidationError(f"--source {source_dir!r} is not a folder")
    return str(path.resolve())


def _validated_entries(
    entries: Iterable[tuple[str, str, SecretFormat]],
) -> dict[str, tuple[str, SecretFormat]]:
    """Normalise and check every entry first, so one bad entry refuses them all."""
    result: dict[str, tuple[str, SecretFormat]] = {}
    for typed, value, fmt in entries:
        name = secret_name(typed)
        if name.startswith(SYSTEM_PREFIX):
            raise ValidationError(f"the {SYSTEM_PREFIX} prefix is reserved for system secrets")
        try:
            check_value(value, fmt)
        except ValidationError as exc:
            raise ValidationError(f"{name}: {exc}") from None
        if name in result:
            raise ValidationError(f"{name} appears twice (after normalising {typed!r})")
        result[name] = (value, fmt)
    return result


def _has_store(engine: Engine) -> bool:
    try:
        if not inspect(engine).has_table("store_meta"):
            return False
        with Session(engine) as s:
            return s.get(StoreMeta, 1) is not None
    except sa_exc.SQLAlchemyError as exc:
        raise _store_failure(exc) from None


def _unlock_with_passphrase(
    store_id: str, slots: list[KeySlot], passphrase: str
) -> tuple[SecretKey, SecretKey]:
    slot = next((slot for slot in slots if slot.kind == "passphrase"), None)
    if slot is None or slot.salt is None:
        raise IntegrityError("the store has no passphrase slot: it is damaged")
    params = KdfParams(
        slot.salt, slot.kdf_memory_kib or 0, slot.kdf_iterations or 0, slot.kdf_lanes or 0
    )
    kek = crypto.derive_passphrase_key(passphrase, params)
    aad = crypto.slot_aad(store_id, slot.id, slot.kind)
    return crypto.unwrap_key(kek, slot.nonce, slot.wrapped, aad, what="passphrase"), kek


def _unlock_with_key_file(
    store_id: str, slots: list[KeySlot], path: str | os.PathLike[str]
) -> SecretKey:
    file_store, slot_id, key = crypto.read_key_file(path)
    if file_store != store_id:
        raise WrongKeyError("wrong key file: it belongs to another store; nothing changed")
    slot = next((slot for slot in slots if slot.id == slot_id and slot.kind == "key-file"), None)
    if slot is None:
        raise WrongKeyError(
            "this key file was revoked: ask for a new one (`faas-tui key-file add`)"
        )
    return crypto.unwrap_key(
        key,
        slot.nonce,
        slot.wrapped,
        crypto.slot_aad(store_id, slot.id, slot.kind),
        what="key file",
    )


def _db_reason(exc: sa_exc.SQLAlchemyError) -> str:
    """The database's own one-line reason, without the SQL statement."""
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def _store_failure(exc: sa_exc.SQLAlchemyError) -> Exception:
    reason = _db_reason(exc)
    if "locked" in reason or "busy" in reason or "lock timeout" in reason:
        return ConflictError(
            "the store is busy: another writer held it for more than 10 s; try again"
        )
    if isinstance(exc, sa_exc.IntegrityError):
        return ConflictError(f"the change clashes with the store: {reason}")
    return StoreError(f"the store failed: {reason}")
