"""The Vault service: the whole domain API. The CLI, the app and the toolbelt are thin faces on it.

Every change runs in one write transaction (BEGIN IMMEDIATE on SQLite, a row lock on PostgreSQL),
appends one event to the hash-chained log, and re-seals the manifest MACs before it commits; when
anything fails the transaction rolls back and the store is left exactly as it was.
"""

from __future__ import annotations

import gc
import getpass
import hmac
import os
import secrets as random_source
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    String,
    delete,
    func,
    insert,
    inspect,
    text,
    type_coerce,
    update,
)
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
    damaged_store,
)
from faas_tui.core.names import SYSTEM_PREFIX, function_name, function_name_problem, secret_name
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
VACUUM_LOCK_WAIT_MS = 2000  # PostgreSQL: how long a scrub may make readers queue behind it
_VERSIONS_REMOVED = "faas_tui.versions_removed"  # Session.info: a ciphertext row was deleted

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
    try:
        actor = os.environ.get("FAAS_TUI_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"
    return actor.encode("utf-8", "backslashreplace").decode("utf-8")  # bad UTF-8 bytes in env


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
        # Reads see one snapshot (SQLite's read transactions already do); on PostgreSQL, READ
        # COMMITTED would let a reader see a secret's version row, then a writer's commit that
        # removed that version: a false "missing from the store" under load.
        self._reader = (
            engine if self._sqlite else engine.execution_options(isolation_level="REPEATABLE READ")
        )

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
        except sa_exc.SQLAlchemyError as exc:
            failure = _store_failure(exc)
            if isinstance(failure, IntegrityError):
                raise failure from None
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
        with vault._read() as s:  # the MAC and the rows from one snapshot: a writer may commit now
            vault._check_store_manifest(s, (s.get(StoreMeta, 1) or meta).manifest_mac)
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
        with self._write() as s:
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
        expected: ImportPlan | None = None,
    ) -> ImportPlan:
        """Add many secrets in one transaction; any bad entry refuses them all.

        Entries are (typed name, value, format). Without `overwrite`, an existing name with a
        different value refuses the import. `dry_run` returns the plan and changes nothing.
        `expected` (the plan a user confirmed) refuses the import if the store has changed since
        in a way that would make the plan differ.
        """
        wanted = _validated_entries(entries)
        with self._write(dry_run=dry_run) as s:
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
            if expected is not None and (plan.added, plan.replaced, plan.unchanged) != (
                expected.added,
                expected.replaced,
                expected.unchanged,
            ):
                raise ConflictError(
                    f"{function} changed since the preview; nothing was imported: "
                    "preview the import again"
                )
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
            self._log_many(s, "secret.import", function, (*added, *replaced))
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
                self._log_many(s, "secret.add", name, items)
                self._seal_function(s, fn)
            self._seal_store(s)

    # --- deployments --------------------------------------------------------------------------

    def deploy(self, function: str) -> int:
        """Bind the current version of every secret; returns the new deployment number."""
        with self._write() as s:  # releasing the old binding may remove versions (scrubbed then)
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

    def change_passphrase(self, new_passphrase: str, *, kdf: KdfParams | None = None) -> None:
        """Re-wrap the data key under a new passphrase; values are not touched.

        `kdf` is for tests only (weak parameters); the CLI and the app always use the defaults.
        """
        problem = passphrase_problem(new_passphrase)
        if problem:
            raise ValidationError(problem)
        params = kdf or KdfParams.fresh()
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
                self._log_many(s, "key-file.revoke", None, revoked)
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
        if _not_storable(label or target.name):
            raise ValidationError("a key file's label must be UTF-8 text without NUL characters")
        try:
            exists = target.exists()
        except OSError as exc:  # a name too long, a loop of links
            raise ValidationError(f"cannot write key file {target}: {exc.strerror}") from None
        if exists:
            raise ConflictError(f"{target} already exists: choose a new path for the key file")
        key = SecretKey.generate()
        slot_id = random_source.token_hex(6)
        now = self._now()
        written = False
        try:
            with self._write() as s:
                self._add_slot(s, slot_id, "key-file", label or target.name, key, created_at=now)
                self._log(s, "key-file.add", None, slot_id)
                self._seal_store(s)
                s.flush()
                # written inside the transaction, so a file that cannot be written adds no slot
                try:
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except OSError as exc:
                    raise ValidationError(
                        f"cannot write key file {target}: {exc.strerror}"
                    ) from None
                written = True
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(crypto.key_file_text(self.store_id, slot_id, key))
        except BaseException:
            if written:  # the commit failed (a busy store): no slot, so no key file either
                target.unlink(missing_ok=True)
            raise
        return KeyFileInfo(slot_id, label or target.name, now)

    def list_key_files(self) -> list[KeyFileInfo]:
        with self._read() as s:
            rows = s.exec(
                select(KeySlot).where(KeySlot.kind == "key-file").order_by(KeySlot.created_at)
            ).all()
        return [KeyFileInfo(r.id, r.label, r.created_at) for r in rows]

    def revoke_key_file(self, slot_id: str) -> None:
        with self._write(scrub=True) as s:
            # ids are hex; anything else (NUL, bad UTF-8) can never match and must not reach SQL
            slot = s.get(KeySlot, slot_id) if slot_id.isascii() and slot_id.isalnum() else None
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
        """Every secret of every function with its flags (SPEC §5), plus MISSING names. No values.

        Nothing is decrypted: REUSED_VALUE compares keyed fingerprints. Rows are sorted by
        function, then name, with a function's MISSING rows after its stored ones. A MISSING
        row's kind is the kind the name would have if created (`system` for a SYSTEM_ name,
        else `user`); its format, version, times and deployed version are None.
        """
        # Tens of thousands of new tuples in one go: the cycle collector would rescan them (and
        # the whole heap) several times over, for about a quarter of the audit's time, and find
        # nothing to collect: they hold no cycles.
        with _gc_paused():
            return self._audit(stale_days, now)

    def _audit(self, stale_days: int, now: datetime | None) -> list[AuditRow]:
        moment = _utc(now) if now is not None else self._now()
        stale_before = _days_before(moment, stale_days)
        with self._read() as s:
            conn = s.connection()
            functions: dict[int, str] = dict(conn.execute(select(Function.id, Function.name)).all())
            sources = conn.execute(
                select(Function.id, Function.source_dir).where(Function.source_dir.is_not(None))
            ).all()
            rows = _driver_rows(conn, _audit_query(self._sqlite))
        rows.sort(key=_function_then_name)
        uses = Counter(map(_fingerprint_of, rows))
        reused = {fingerprint for fingerprint, n in uses.items() if n > 1}
        scans = {fid: scan_folder(source) for fid, source in sources if Path(source).is_dir()}
        formats = {fmt.value: fmt for fmt in SecretFormat}
        # Secrets created or updated together share their time: parse it, age it once.
        times: dict[Any, tuple[datetime, int, int]] = {}
        by_function: dict[int, list[AuditRow]] = {}
        for fid, group in groupby(rows, _function_of):
            function, scan = functions[fid], scans.get(fid)
            entries = by_function[fid] = []
            for _, name, kind, fmt, version, created, updated, deployed, fingerprint in group:
                known = times.get(updated)
                if known is None:
                    moment_updated = _stored_time(updated)
                    known = times[updated] = (
                        moment_updated,
                        max((moment - moment_updated).days, 0),
                        _STALE if moment_updated < stale_before else 0,
                    )
                updated_at, age_days, mask = known
                if kind == "user":
                    if deployed != version:  # None when never deployed
                        mask |= _PENDING_REDEPLOY
                    if scan is not None and not scan.mentions(name):
                        mask |= _UNREFERENCED  # never for system secrets: unused is the aim
                elif kind == "system":
                    mask |= _SYSTEM
                if fingerprint in reused:
                    mask |= _REUSED_VALUE
                entries.append(
                    AuditRow(
                        function,
                        name,
                        kind,
                        formats.get(fmt) or SecretFormat(fmt),
                        version,
                        updated_at if created is None else _stored_time(created),
                        updated_at,
                        age_days,
                        deployed,
                        _FLAG_SETS[mask],
                    )
                )
        result: list[AuditRow] = []
        for fid in sorted(functions, key=functions.__getitem__):
            entries = by_function.get(fid, [])
            result += entries
            if fid in scans:
                stored = {entry.name for entry in entries}
                result += (
                    _missing_row(functions[fid], name) for name in sorted(scans[fid].reads - stored)
                )
        return result

    # --- event log ----------------------------------------------------------------------------

    def events(self) -> list[EventInfo]:
        """The event log, oldest first: who did what to which name, and when. Never a value."""
        with self._read() as s:
            rows = s.exec(select(Event).order_by(Event.seq)).all()
        return [EventInfo(e.seq, e.at, e.actor, e.action, e.function, e.name, e.hash) for e in rows]

    def verify_log(self) -> int:
        """Recompute the hash chain and check its last row against the sealed store manifest.

        Returns the number of events, or raises IntegrityError naming the first broken row. The
        chain catches a row edited, inserted, deleted or moved; the manifest MAC, keyed by the data
        key and covering the last row's number and hash, catches a cut tail and a chain that was
        recomputed after an edit (anyone can recompute SHA-256; nobody without the key the MAC).
        """
        prev = GENESIS
        count = 0
        with self._read() as s:
            rows = s.connection().execute(
                select(
                    Event.seq,
                    _utc_text(Event.at, self._sqlite),
                    Event.actor,
                    Event.action,
                    Event.function,
                    Event.name,
                    Event.prev_hash,
                    Event.hash,
                ).order_by(Event.seq)
            )
            for seq, at, actor, action, function, name, prev_hash, digest in rows:
                count += 1
                problem = _chain_problem(
                    count, prev, (seq, at, actor, action, function, name, prev_hash, digest)
                )
                if problem:
                    raise IntegrityError(f"the event log is broken: {problem}")
                prev = digest
            meta = s.get(StoreMeta, 1)
            if meta is None or not crypto.same(meta.manifest_mac, self._store_manifest(s)):
                raise IntegrityError(
                    f"the event log is broken after row {count}: the store was sealed with another "
                    "last row, so rows were cut from its end or the chain was rewritten (or other "
                    "rows of the store were deleted or rolled back behind faas-tui's back)"
                )
        return count

    def _log_many(
        self, s: Session, action: str, function: str | None, names: Iterable[str]
    ) -> None:
        """One event per name, chained in memory and inserted in one statement (bulk changes)."""
        s.flush()
        last = s.exec(select(Event.seq, Event.hash).order_by(Event.seq.desc()).limit(1)).first()
        seq, prev = last if last else (0, GENESIS)
        at = self._now()
        events = []
        for name in names:
            seq += 1
            digest = event_hash(prev, seq, at, self.actor, action, function, name)
            events.append(
                {
                    "seq": seq,
                    "at": at,
                    "actor": self.actor,
                    "action": action,
                    "function": function,
                    "name": name,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        if events:
            s.execute(insert(Event), events)

    # --- internals: transactions --------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with Session(self._reader, expire_on_commit=False) as s, s.begin():
                yield s
        except sa_exc.SQLAlchemyError as exc:
            raise _store_failure(exc) from None

    @contextmanager
    def _write(self, *, scrub: bool = False, dry_run: bool = False) -> Iterator[Session]:
        """One write transaction. `scrub` wipes the WAL (SQLite) or rewrites the tables
        (PostgreSQL) afterwards, because rows were deleted; `_collect_versions` asks for it too
        when it removed a version."""
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
                scrub = scrub or s.info.get(_VERSIONS_REMOVED, False)
        except sa_exc.SQLAlchemyError as exc:
            raise _store_failure(exc) from None
        if scrub and not dry_run:
            if self._sqlite:
                self._checkpoint()
            else:
                self._vacuum()

    def _lock(self, s: Session) -> None:
        """Serialise writers on PostgreSQL (SQLite already holds BEGIN IMMEDIATE's lock)."""
        if not self._sqlite:
            s.execute(text(f"SET LOCAL lock_timeout = '{int(database.BUSY_TIMEOUT_S * 1000)}ms'"))
            s.exec(select(StoreMeta.id).where(StoreMeta.id == 1).with_for_update())

    def _checkpoint(self) -> None:
        """Move the WAL into the database and truncate it, so deleted ciphertexts leave no copy."""
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except sa_exc.OperationalError:
            pass  # a busy reader: the next checkpoint will do it; secure_delete already zeroed pages

    def _vacuum(self) -> None:
        """PostgreSQL: rewrite the tables that hold ciphertexts and wrapped keys, so a deleted
        version or a replaced key slot is in no table file any more (a plain VACUUM leaves dead
        bytes in free space and in TOAST). Outside the transaction and best effort: a short lock
        wait, then the next delete retries. WAL segments, replicas and backups keep old
        ciphertexts until they are recycled; the README's threat model says so."""
        try:
            with self._engine.connect() as conn:
                auto = conn.execution_options(isolation_level="AUTOCOMMIT")
                auto.exec_driver_sql(f"SET lock_timeout = '{VACUUM_LOCK_WAIT_MS}ms'")
                try:
                    auto.exec_driver_sql("VACUUM FULL secret_version, key_slot")
                finally:
                    auto.exec_driver_sql("RESET lock_timeout")
        except sa_exc.SQLAlchemyError:
            pass  # busy readers, or not the tables' owner: the committed change stands

    def _now(self) -> datetime:
        return _utc(self._clock())

    # --- internals: rows ----------------------------------------------------------------------

    def _function(self, s: Session, name: str) -> Function:
        if function_name_problem(name):  # can never exist; NUL or bad UTF-8 must not reach SQL
            raise NotFoundError(_no_function(name))
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
        removed = s.execute(
            delete(SecretVersion)
            .where(SecretVersion.secret_id.in_(ids))
            .where(SecretVersion.version != current)
            .where(~bound)
            .execution_options(synchronize_session=False)
        )
        if removed.rowcount:  # a ciphertext is gone: scrub its copies once the change commits
            s.info[_VERSIONS_REMOVED] = True

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
        self._add_slot(
            s,
            random_source.token_hex(6),
            "passphrase",
            "passphrase",
            kek,
            created_at=self._now(),
            salt=params.salt,
            kdf_memory_kib=params.memory_kib,
            kdf_iterations=params.iterations,
            kdf_lanes=params.lanes,
        )

    def _add_slot(
        self,
        s: Session,
        slot_id: str,
        kind: str,
        label: str,
        kek: SecretKey,
        *,
        created_at: datetime,
        **kdf: Any,
    ) -> None:
        """A key slot: the data key wrapped under `kek`, bound to this store, slot and kind."""
        nonce, wrapped = crypto.wrap_key(
            kek, self._data_key, crypto.slot_aad(self.store_id, slot_id, kind)
        )
        s.add(
            KeySlot(
                id=slot_id,
                kind=kind,
                label=label,
                nonce=nonce,
                wrapped=wrapped,
                created_at=created_at,
                **kdf,
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
    try:
        path = Path(source_dir).expanduser()
        found = path.is_dir()
    except (OSError, RuntimeError):  # ~unknown-user, a name too long
        found = False
    if not found:
        raise ValidationError(f"--source {source_dir!r} is not a folder")
    resolved = str(path.resolve())
    if _not_storable(resolved):
        raise ValidationError(f"--source {source_dir!r}: the folder's path is not UTF-8 text")
    return resolved


def _not_storable(text: str) -> bool:
    """Text no database column can hold as given: a NUL, or a lone surrogate (bad UTF-8 in argv)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return "\x00" in text


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
            f"the store is busy: another writer held it for more than {database.BUSY_TIMEOUT_S:g} s; "
            "try again"
        )
    if isinstance(exc, sa_exc.IntegrityError):
        return ConflictError(f"the change clashes with the store: {reason}")
    damaged = damaged_store("the store's file", reason)
    if damaged is not None:
        return damaged
    return StoreError(f"the store failed: {reason}")


# --- audit and event log helpers ---------------------------------------------------------------

# The audit's flags (SPEC §5) in bit order, and every combination as a shared tuple.
AUDIT_FLAGS = ("STALE", "PENDING_REDEPLOY", "REUSED_VALUE", "SYSTEM", "UNREFERENCED")
_FLAG_SETS = tuple(
    tuple(flag for bit, flag in enumerate(AUDIT_FLAGS) if mask >> bit & 1)
    for mask in range(1 << len(AUDIT_FLAGS))
)
_STALE, _PENDING_REDEPLOY, _REUSED_VALUE, _SYSTEM, _UNREFERENCED = (1 << b for b in range(5))
_function_of = itemgetter(0)
_function_then_name = itemgetter(0, 1)
_fingerprint_of = itemgetter(8)

EventFields = tuple[Any, Any, Any, Any, Any, Any, Any, Any]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (reference counting still frees everything at once).

    Process-wide, so it is restored only if it was on: another thread may have paused it too.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _days_before(moment: datetime, days: int) -> datetime:
    """`moment` minus `days` days; the earliest time when that is before year 1."""
    try:
        return moment - timedelta(days=days)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def _stored_time(raw: str | datetime) -> datetime:
    """A time column read as `_utc_text` gives it (or as a datetime, as a driver may)."""
    if isinstance(raw, datetime):
        return raw.astimezone(UTC) if raw.tzinfo else raw.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(raw + "+00:00")  # 5x faster than parse, then .replace()
    except ValueError:
        return _stored_time(datetime.fromisoformat(raw))  # text that carries its own offset


def _active_deployment_ids() -> Select[Any]:
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


def _utc_text(column: Any, sqlite: bool) -> Any:
    """A time column as UTC text, `YYYY-MM-DD HH:MM:SS.ffffff`, for `_stored_time` to parse.

    SQLite stores just that. PostgreSQL is asked to format it: a timestamptz would arrive as a
    datetime in the session's time zone, slow to hash and to convert 50,000 times.
    """
    if sqlite:
        return type_coerce(column, String)
    utc = func.timezone("UTC", column)
    return type_coerce(func.to_char(utc, "YYYY-MM-DD HH24:MI:SS.US"), String)


def _audit_query(sqlite: bool) -> Select[Any]:
    """Per secret, what the audit shows, its live bound version and its fingerprint. No value.

    Times come as UTC text, and created_at as NULL when it equals updated_at: most secrets are
    never updated, so most rows need one time parsed instead of two.
    """
    return (
        select(
            Secret.function_id,
            Secret.name,
            Secret.kind,
            Secret.format,
            Secret.version,
            _utc_text(func.nullif(Secret.created_at, Secret.updated_at), sqlite),
            _utc_text(Secret.updated_at, sqlite),
            Binding.version,
            Secret.fingerprint,
        )
        .select_from(Secret)
        .outerjoin(
            Binding,
            (Binding.secret_id == Secret.id) & Binding.deployment_id.in_(_active_deployment_ids()),
        )
    )


def _driver_rows(conn: Connection, statement: Select[Any]) -> list[Any]:
    """Run a statement through SQLAlchemy, but take the driver's plain tuples.

    Compiling, parameters and execute errors stay SQLAlchemy's; only SQLAlchemy's Row objects are
    skipped, which for 50,000 rows cost as much as the query. For columns that need no result
    processing only (no ORM types: times are read through `_utc_text`).
    """
    result = conn.execute(statement)
    try:
        return list(result.cursor.fetchall())
    except conn.dialect.loaded_dbapi.Error as exc:
        raise StoreError(f"the store failed: {str(exc).strip().splitlines()[0]}") from None
    finally:
        result.close()


def _missing_row(function: str, name: str) -> AuditRow:
    """A name the function's code reads that the store does not hold."""
    kind = "system" if name.startswith(SYSTEM_PREFIX) else "user"
    return AuditRow(function, name, kind, None, None, None, None, None, None, ("MISSING",))


def _chain_problem(expected_seq: int, prev: str, row: EventFields) -> str | None:
    """Why an event row does not continue the chain after `prev`, or None when it does."""
    seq, at, actor, action, function, name, prev_hash, digest = row
    if seq != expected_seq:
        if seq < expected_seq:
            return f"row {seq} is out of sequence (expected row {expected_seq})"
        if expected_seq == 1:
            return f"row 1 is missing: the log starts at row {seq}"
        return f"row {expected_seq} is missing: row {expected_seq - 1} is followed by row {seq}"
    if prev_hash != prev:
        return f"row {seq} does not point to the hash of the row before it"
    try:
        expected = event_hash(prev, seq, _stored_time(at), actor, action, function, name)
    except (TypeError, ValueError):
        expected = ""  # an unreadable time or field: edited
    if not crypto.same(str(digest).encode(), expected.encode()):
        return f"row {seq} was edited: its hash does not match its fields"
    return None
