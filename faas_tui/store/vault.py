"""The Vault service: the whole domain API. The CLI, the app and the toolbelt are thin faces on it.

Every change runs in one write transaction (transactions.py), appends to the hash-chained event log
(eventlog.py), and re-seals the manifest MACs (integrity.py) before it commits; when anything fails
the transaction rolls back and the store is left exactly as it was. The rows themselves are
secret_rows.py's, the shared reads queries.py's, the keys keyring.py's and slots.py's.
"""

from __future__ import annotations

import hmac
import os
import secrets as random_source
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from faas_tui.core.clock import Clock, utc_now
from faas_tui.core.errors import ConflictError, SecretNotFoundError, ValidationError
from faas_tui.core.messages import no_secret
from faas_tui.core.names import function_name, secret_name
from faas_tui.core.passphrase import passphrase_problem
from faas_tui.core.records import (
    AuditRow,
    DeploymentInfo,
    EventInfo,
    FunctionInfo,
    ImportPlan,
    KeyFileInfo,
    SecretInfo,
)
from faas_tui.core.values import SecretFormat, check_value, decode_value
from faas_tui.store import (
    audit,
    crypto,
    database,
    deployments,
    eventlog,
    function_rows,
    inputs,
    opening,
    queries,
    secret_rows,
    slots,
)
from faas_tui.store.crypto import KdfParams, SecretKey
from faas_tui.store.integrity import Manifests
from faas_tui.store.models import Secret, StoreMeta
from faas_tui.store.process import disable_core_dumps
from faas_tui.store.secret_rows import Codec
from faas_tui.store.timestamps import utc
from faas_tui.store.transactions import Transactions


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
        self.url = url
        self.store_id = store_id
        self.read_only = read_only
        self.actor = actor
        self.integrity_warnings: list[str] = []
        self._clock = clock
        self._passphrase_kek = passphrase_kek
        self._tx = Transactions(engine, read_only=read_only)
        self._codec, self._manifests = _keys(store_id, data_key)

    def __repr__(self) -> str:
        return f"Vault(store={database.display_store(self.url)!r}, read_only={self.read_only})"

    @property
    def engine(self) -> Engine:
        """The database engine, for tests and tools that inspect the raw rows. Every change to a
        store goes through the Vault's methods: a row written here breaks the manifests."""
        return self._tx.engine

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
        engine = opening.new_store(url)
        params = kdf or KdfParams.fresh()
        kek = crypto.derive_passphrase_key(passphrase, params)
        vault = cls(
            engine,
            url,
            random_source.token_hex(16),
            SecretKey.generate(),
            passphrase_kek=kek,
            read_only=False,
            clock=clock,
            actor=actor or inputs.default_actor(),
        )
        with vault._tx.write() as s:
            opening.initialise(s, vault.store_id, vault._codec.data_key, kek, params, vault._now())
            vault._log(s, "store.init")
            vault._manifests.seal(s)
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
        engine, meta, unlocked = opening.unlock(url, passphrase=passphrase, key_file=key_file)
        vault = cls(
            engine,
            url,
            meta.store_id,
            unlocked.data_key,
            passphrase_kek=unlocked.kek,
            read_only=read_only,
            clock=clock,
            actor=actor or inputs.default_actor(),
        )
        disable_core_dumps()
        with vault._tx.read() as s:  # the MAC and the rows from one snapshot: a writer may commit
            stored = (s.get(StoreMeta, 1) or meta).manifest_mac
            _note(vault.integrity_warnings, vault._manifests.store_problem(s, stored))
        return vault

    @staticmethod
    def exists(store: str) -> bool:
        """Whether a store has been created at this location."""
        return opening.store_exists(database.to_url(store))

    def close(self) -> None:
        self._tx.engine.dispose()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- functions ----------------------------------------------------------------------------

    def list_functions(self) -> list[FunctionInfo]:
        with self._tx.read() as s:
            return queries.function_infos(s)

    def get_function(self, name: str) -> FunctionInfo:
        with self._tx.read() as s:
            return queries.function_infos(s, name)[0]

    def add_function(self, name: str, source_dir: str | None = None) -> FunctionInfo:
        """A new function, with its system secrets."""
        name = function_name(name)
        folder = inputs.source_dir(source_dir)
        with self._tx.write() as s:
            stamp = eventlog.Stamp(self.actor, self._now())
            function_rows.create(s, self._codec, self._manifests, {name: {}}, folder, stamp)
        return self.get_function(name)

    def set_source_dir(self, name: str, source_dir: str | None) -> None:
        """Name (or clear) the function's code folder, which the audit scans for references."""
        source = inputs.source_dir(source_dir)
        with self._tx.write() as s:
            fn = queries.function_row(s, name)
            fn.source_dir = source
            s.add(fn)
            self._log(s, "function.source", name)
            self._manifests.seal(s)

    def delete_function(self, name: str) -> None:
        """Delete a function, its secrets, every stored version and its deployments. Permanent."""
        with self._tx.write(scrub=True) as s:
            fn = queries.function_row(s, name)
            function_rows.remove(s, fn)
            self._log(s, "function.delete", name)
            self._manifests.seal(s)

    # --- secrets ------------------------------------------------------------------------------

    def list_secrets(self, function: str, *, include_system: bool = False) -> list[SecretInfo]:
        """Names and metadata of a function's secrets — never values."""
        with self._tx.read() as s:
            fn = queries.function_row(s, function)
            _note(self.integrity_warnings, self._manifests.function_problem(s, fn))
            rows = secret_rows.listed(s, fn, include_system=include_system)
            bound = queries.bound_versions(s, fn)
        return [secret_rows.secret_info(fn.name, row, bound) for row in rows]

    def list_system_secrets(self, function: str) -> list[SecretInfo]:
        return [info for info in self.list_secrets(function, include_system=True) if info.is_system]

    def get_secret(self, function: str, name: str) -> SecretInfo:
        wanted = inputs.lookup_name(name)
        for info in self.list_secrets(function, include_system=True):
            if info.name == wanted:
                return info
        raise SecretNotFoundError(no_secret(function, wanted))

    def add_secret(
        self, function: str, name: str, value: str, fmt: SecretFormat = SecretFormat.PLAINTEXT
    ) -> SecretInfo:
        """Create a secret. The name is normalised as typed; the value is checked for its format."""
        name = secret_name(name)
        check_value(value, fmt)
        with self._tx.write() as s:
            fn = queries.function_row(s, function)
            if secret_rows.find(s, fn, name) is not None:
                raise ConflictError(
                    f"{function} already has a secret named {name}: "
                    "use `faas-tui secrets update` to change its value"
                )
            secret_rows.insert_secrets(s, self._codec, fn, {name: (value, fmt)}, self._now())
            self._log(s, "secret.add", function, [name])
            self._manifests.seal(s, fn)
        return self.get_secret(function, name)

    def update_secret(
        self, function: str, name: str, value: str, fmt: SecretFormat | None = None
    ) -> SecretInfo:
        """Store a new version of the value (write-only). `fmt=None` keeps the current format."""
        with self._tx.write() as s:
            fn = queries.function_row(s, function)
            row = secret_rows.user_secret(s, fn, name)
            new_format = fmt or SecretFormat(row.format)
            check_value(value, new_format)
            secret_rows.new_version(s, self._codec, fn, row, value, new_format, self._now())
            s.flush()
            secret_rows.collect_versions(s, fn)
            self._log(s, "secret.update", function, [row.name])
            self._manifests.seal(s, fn)
        return self.get_secret(function, row.name)

    def delete_secret(self, function: str, name: str) -> list[int]:
        """Delete a secret and every stored version of it. Permanent.

        Returns the deployment numbers that bound it: they now fail until redeployed.
        """
        with self._tx.write(scrub=True) as s:
            fn = queries.function_row(s, function)
            row = secret_rows.user_secret(s, fn, name)
            broken = queries.deployments_binding(s, row.id)
            secret_rows.delete_secret(s, row)
            self._log(s, "secret.delete", function, [row.name])
            self._manifests.seal(s, fn)
        return broken

    def deployments_binding(self, function: str, name: str) -> list[int]:
        """Deployment numbers that still bind this secret (shown before a delete)."""
        with self._tx.read() as s:
            fn = queries.function_row(s, function)
            row = secret_rows.stored(s, fn, name)
            return queries.deployments_binding(s, row.id)

    def read_secret(self, function: str, name: str) -> str | dict[str, Any]:
        """The current value: a str (Plaintext) or a dict (JSON). For runtimes and tests only."""
        text_value, fmt = self.read_secret_text(function, name)
        return decode_value(text_value, fmt)

    def read_secret_text(self, function: str, name: str) -> tuple[str, SecretFormat]:
        with self._tx.read() as s:
            fn = queries.function_row(s, function)
            row = secret_rows.stored(s, fn, name)
            text, _ = secret_rows.read_value(s, self._codec, fn.name, row.id, row.name, row.version)
            return text, SecretFormat(row.format)

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
        wanted = inputs.validated_entries(entries)
        with self._tx.write(dry_run=dry_run) as s:
            fn = queries.function_row(s, function)
            existing = {
                row.name: row for row in s.exec(select(Secret).where(Secret.function_id == fn.id))
            }
            plan = secret_rows.plan_import(
                self._codec, function, wanted, existing, overwrite=overwrite, dry_run=dry_run
            )
            if dry_run:
                return plan
            secret_rows.check_plan(plan, expected)
            now = self._now()
            added = {name: wanted[name] for name in plan.added}
            secret_rows.insert_secrets(s, self._codec, fn, added, now)
            for name in plan.replaced:
                value, fmt = wanted[name]
                secret_rows.new_version(s, self._codec, fn, existing[name], value, fmt, now)
            s.flush()
            secret_rows.collect_versions(s, fn)
            self._log(s, "secret.import", function, (*plan.added, *plan.replaced))
            self._manifests.seal(s, fn)
        return plan

    def populate(self, functions: Mapping[str, Mapping[str, tuple[str, SecretFormat]]]) -> None:
        """Create many functions with their secrets in one transaction (demo data, scale tests)."""
        for name in functions:
            function_name(name)
        created = {
            fn: inputs.validated_entries((k, v, f) for k, (v, f) in items.items())
            for fn, items in functions.items()
        }
        with self._tx.write() as s:
            stamp = eventlog.Stamp(self.actor, self._now())
            function_rows.create(s, self._codec, self._manifests, created, None, stamp)

    # --- deployments --------------------------------------------------------------------------

    def deploy(self, function: str) -> int:
        """Bind the current version of every secret; returns the new deployment number."""
        with self._tx.write() as s:  # releasing the old binding may remove versions (scrubbed)
            fn = queries.function_row(s, function)
            number = deployments.deploy(s, fn, self.actor, self._now())
            secret_rows.collect_versions(s, fn)
            self._log(s, "deploy", function, [f"#{number}"])
            self._manifests.seal(s, fn)
        return number

    def deployments(self, function: str) -> list[DeploymentInfo]:
        with self._tx.read() as s:
            fn = queries.function_row(s, function)
            rows = queries.deployment_rows(s, fn)
        return [DeploymentInfo(function, d.number, d.created_at, d.actor) for d in rows]

    def bound_values(self, function: str) -> dict[str, tuple[str, SecretFormat]]:
        """The active deployment's binding: name → (value text, format).

        Refuses a function never deployed, and one whose deployment binds a deleted secret.
        """
        with self._tx.read() as s:
            return deployments.bound_values(s, self._codec, queries.function_row(s, function))

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
        with self._tx.write(scrub=True) as s:
            data_key = self._codec.data_key
            slots.replace_passphrase_slot(s, self.store_id, data_key, kek, params, self._now())
            self._log(s, "store.passwd")
            self._manifests.seal(s)
        self._passphrase_kek = kek

    def rotate_key(self) -> list[str]:
        """A new data key; every value re-encrypted, one transaction.

        Key files hold keys this process never sees, so their slots cannot be re-wrapped: they
        are revoked, and their ids returned so the caller can say so.
        """
        if self._passphrase_kek is None:
            raise ConflictError("rotate-key needs the passphrase: unlock without --key-file")
        old_codec, old_manifests = self._codec, self._manifests
        new = SecretKey.generate()
        with self._tx.write(scrub=True) as s:
            self._codec, self._manifests = _keys(self.store_id, new)
            try:
                secret_rows.reencrypt_all(s, old_codec, self._codec)
                revoked = slots.rekey(s, self.store_id, self._passphrase_kek, new)
                self._log(s, "store.rotate-key")
                self._log(s, "key-file.revoke", None, revoked)
                self._manifests.seal_all(s)
            except BaseException:
                self._codec, self._manifests = old_codec, old_manifests
                raise
        return revoked

    def add_key_file(self, path: str | os.PathLike[str], label: str = "") -> KeyFileInfo:
        """Write a new random key, 0600, to PATH, and wrap the data key in a slot of its own."""
        target = Path(path)
        label = label or target.name
        slots.check_new_key_file(target, label)
        now = self._now()
        with slots.key_file(target) as write, self._tx.write() as s:
            # written inside the transaction, so a file that cannot be written adds no slot
            slot_id = slots.add_key_file_slot(
                s, self.store_id, self._codec.data_key, label, now, write
            )
            self._log(s, "key-file.add", None, [slot_id])
            self._manifests.seal(s)
        return KeyFileInfo(slot_id, label, now)

    def list_key_files(self) -> list[KeyFileInfo]:
        with self._tx.read() as s:
            rows = slots.key_file_slots(s)
        return [KeyFileInfo(r.id, r.label, r.created_at) for r in rows]

    def revoke_key_file(self, slot_id: str) -> None:
        with self._tx.write(scrub=True) as s:
            s.delete(slots.key_file_slot(s, slot_id))
            self._log(s, "key-file.revoke", None, [slot_id])
            self._manifests.seal(s)

    # --- audit and event log ------------------------------------------------------------------

    def audit(self, stale_days: int = 90, *, now: datetime | None = None) -> list[AuditRow]:
        """Every secret of every function with its flags, plus MISSING names. No values.

        Nothing is decrypted: REUSED_VALUE compares keyed fingerprints. Rows are sorted by
        function, then name, with a function's MISSING rows after its stored ones. A MISSING
        row's kind is the kind the name would have if created (`system` for a SYSTEM_ name,
        else `user`); its format, version, times and deployed version are None.
        """
        moment = utc(now) if now is not None else self._now()
        return audit.audit(self._tx, moment, stale_days)

    def events(self) -> list[EventInfo]:
        """The event log, oldest first: who did what to which name, and when. Never a value."""
        with self._tx.read() as s:
            rows = eventlog.rows(s)
        return [EventInfo(e.seq, e.at, e.actor, e.action, e.function, e.name, e.hash) for e in rows]

    def verify_log(self) -> int:
        """Recompute the hash chain and check its last row against the sealed store manifest.

        Returns the number of events, or raises IntegrityError naming the first broken row. The
        chain catches a row edited, inserted, deleted or moved; the manifest MAC, keyed by the data
        key and covering the last row's number and hash, catches a cut tail and a chain that was
        recomputed after an edit (anyone can recompute SHA-256; nobody without the key the MAC).
        """
        with self._tx.read() as s:
            count = eventlog.verify_chain(s, self._tx.sqlite)
            self._manifests.check_log_head(s, count)
        return count

    # --- internals ----------------------------------------------------------------------------

    def _log(
        self,
        s: Session,
        action: str,
        function: str | None = None,
        names: Iterable[str | None] = (None,),
    ) -> None:
        eventlog.append(s, eventlog.Stamp(self.actor, self._now()), action, function, names)

    def _now(self) -> datetime:
        return utc(self._clock())


def _keys(store_id: str, data_key: SecretKey) -> tuple[Codec, Manifests]:
    """What the data key is used through: values and fingerprints, and the manifest MACs."""
    return Codec(store_id, data_key), Manifests(
        store_id, data_key.subkey(crypto.MANIFEST_MAC_PURPOSE)
    )


def _note(warnings: list[str], message: str | None) -> None:
    """Keep an integrity warning once, for the caller to show."""
    if message is not None and message not in warnings:
        warnings.append(message)
