"""The Vault service: the whole domain API. The CLI, the app and the toolbelt are thin faces on it.

Every operation first checks the credential's role (exit 5), then verifies the signed state it
reads or builds on (exit 4: refuse, never warn). Every change runs in one write transaction
(transactions.py), appends to the hash-chained event log (eventlog.py) and signs the new state
(guard.py) before it commits. Credentials and keys are administration.py's; docs/trust.md.
"""

from __future__ import annotations

import hmac
import os
import secrets as random_source
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from faas_tui.core.clock import Clock, utc_now
from faas_tui.core.errors import (
    ConflictError,
    IntegrityError,
    SecretNotFoundError,
    ValidationError,
)
from faas_tui.core.messages import no_secret
from faas_tui.core.names import function_name, secret_name
from faas_tui.core.passphrase import passphrase_problem
from faas_tui.core.permissions import Action, require
from faas_tui.core.records import (
    AuditRow,
    DeploymentInfo,
    EventInfo,
    FunctionInfo,
    ImportPlan,
    SecretInfo,
)
from faas_tui.core.values import SecretFormat, check_value, decode_value
from faas_tui.store import (
    audit,
    credentials,
    crypto,
    database,
    deployments,
    eventlog,
    function_rows,
    inputs,
    keyring,
    migration,
    opening,
    queries,
    secret_rows,
    trust,
)
from faas_tui.store.administration import Administration
from faas_tui.store.crypto import KdfParams
from faas_tui.store.generations import GenerationMemory
from faas_tui.store.guard import Guard
from faas_tui.store.models import Function, Secret, StoreMeta
from faas_tui.store.process import disable_core_dumps
from faas_tui.store.secret_rows import Codec
from faas_tui.store.timestamps import utc
from faas_tui.store.transactions import Transactions


class Vault(Administration):
    """An unlocked store. Create one with `Vault.create(...)` or `Vault.open(...)`."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        store_id: str,
        unlocked: keyring.Unlocked,
        *,
        read_only: bool,
        clock: Clock,
        memory: GenerationMemory | None = None,
    ) -> None:
        self.url = url
        self.store_id = store_id
        self.read_only = read_only
        self._clock = clock
        self._memory = memory
        self._generation = 0
        self._tx = Transactions(engine, read_only=read_only)
        self._guard = Guard(store_id, unlocked)
        self._codec = Codec(store_id, self._guard)

    def __repr__(self) -> str:
        return f"Vault(store={database.display_store(self.url)!r}, read_only={self.read_only})"

    @property
    def engine(self) -> Engine:
        """The database engine, for tests and tools that inspect the raw rows. Every change to a
        store goes through the Vault's methods: a row written here breaks the signatures."""
        return self._tx.engine

    @property
    def actor(self) -> str:
        """Who the event log names: the operator, or `key-file:ID`."""
        return self.credential.actor

    # --- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        store: str,
        passphrase: str,
        *,
        operator: str | None = None,
        clock: Clock = utc_now,
        kdf: KdfParams | None = None,
        memory: GenerationMemory | None = None,
        actor: str | None = None,
    ) -> Vault:
        """Create a new store whose first admin is `operator` (default: the login name).
        `actor` is the earlier name of `operator`, kept for callers written before operators."""
        operator = operator or actor
        problem = passphrase_problem(passphrase)
        if problem:
            raise ValidationError(problem)
        name = credentials.operator_name(operator or keyring.login_name())
        url = database.to_url(store)
        engine = opening.new_store(url)
        params = kdf or KdfParams.fresh()
        kek = crypto.derive_passphrase_key(passphrase, params)
        store_id = random_source.token_hex(16)
        now = utc(clock())
        with Transactions(engine, read_only=False).write() as s:
            unlocked = opening.initialise(s, store_id, name, kek, params, now)
            vault = cls(engine, url, store_id, unlocked, read_only=False, clock=clock, memory=memory)
            vault._log(s, "store.init")
            vault._seal(s, credentials=True)
        if memory is not None:
            memory.record(store_id, vault._generation)
        disable_core_dumps()
        return vault

    @classmethod
    def open(
        cls,
        store: str,
        *,
        passphrase: str | None = None,
        key_file: str | os.PathLike[str] | None = None,
        operator: str | None = None,
        read_only: bool = False,
        clock: Clock = utc_now,
        memory: GenerationMemory | None = None,
        inspect: bool = False,
        actor: str | None = None,
    ) -> Vault:
        """Unlock a store with an operator's passphrase or a key file (a key file wins).

        Verifies both signatures, the unlocking slot and the generation (against `memory`), and
        refuses (IntegrityError) when any fails; `inspect=True` (for `check` and `check --accept`)
        opens a failing store anyway, every other operation still refusing. A store written by
        faas-tui 0.1.0 is migrated first, in one transaction, when opened with its passphrase.
        `actor` is ignored (earlier releases took it): the event log names the credential.
        """
        del actor
        url = database.to_url(store)
        with trust.refusing_corrupt_rows():
            found = opening.find(url)
        if found.meta.schema_version == migration.OLD_SCHEMA:
            found = migration.upgrade(
                url,
                found, passphrase=passphrase, key_file=key_file, operator=operator, now=utc(clock())
            )
        try:
            with trust.refusing_corrupt_rows():
                unlocked = opening.unlock(
                    found, passphrase=passphrase, key_file=key_file, operator=operator
                )
        except BaseException:
            found.engine.dispose()
            raise
        vault = cls(
            found.engine, url, found.meta.store_id, unlocked,
            read_only=read_only, clock=clock, memory=memory,
        )
        disable_core_dumps()
        try:
            with vault._tx.read() as s, trust.refusing_corrupt_rows():
                vault._generation = vault._guard.verify_everything(s).generation
            if memory is not None:
                memory.check(vault.store_id, vault._generation, location=database.display_store(url))
                memory.record(vault.store_id, vault._generation)
        except IntegrityError:
            if not inspect:
                vault.close()
                raise
        return vault

    @staticmethod
    def exists(store: str) -> bool:
        """Whether a store has been created at this location."""
        return opening.store_exists(database.to_url(store))

    @staticmethod
    def operator_names(store: str) -> list[str]:
        """The store's operators, without unlocking it (the app's unlock prompt)."""
        return opening.operator_names(database.to_url(store))

    def close(self) -> None:
        self._tx.engine.dispose()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- functions ----------------------------------------------------------------------------

    def list_functions(self) -> list[FunctionInfo]:
        with self._reading(Action.LIST) as s:
            infos = queries.function_infos(s)
        return [info for info in infos if self.credential.reads(info.name)]

    def get_function(self, name: str) -> FunctionInfo:
        with self._reading(Action.LIST, name) as s:
            return queries.function_infos(s, name)[0]

    def add_function(self, name: str, source_dir: str | None = None) -> FunctionInfo:
        """A new function, with its system secrets and a data key of its own."""
        require(self.credential, Action.WRITE, name)  # a refusal before any complaint about input
        name = function_name(name)
        folder = inputs.source_dir(source_dir)
        with self._writing(Action.WRITE, name) as s:
            stamp = eventlog.Stamp(self.actor, self._now())
            function_rows.create(s, self._codec, self._guard, {name: {}}, folder, stamp)
            self._generation = _generation_of(s)
        return self.get_function(name)

    def set_source_dir(self, name: str, source_dir: str | None) -> None:
        """Name (or clear) the function's code folder, which the audit scans for references."""
        require(self.credential, Action.WRITE, name)
        source = inputs.source_dir(source_dir)
        with self._writing(Action.WRITE, name) as s:
            fn = self._function(s, name)
            fn.source_dir = source
            s.add(fn)
            self._log(s, "function.source", name)
            self._seal(s, fn)

    def delete_function(self, name: str) -> None:
        """Delete a function, its secrets, every stored version and its deployments. Permanent."""
        with self._writing(Action.WRITE, name, scrub=True) as s:
            fn = self._function(s, name)
            function_rows.remove(s, fn)
            self._log(s, "function.delete", name)
            self._seal(s)

    # --- secrets ------------------------------------------------------------------------------

    def list_secrets(self, function: str, *, include_system: bool = False) -> list[SecretInfo]:
        """Names and metadata of a function's secrets — never values."""
        with self._reading(Action.LIST, function) as s:
            fn = self._function(s, function)
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
        require(self.credential, Action.WRITE, function)
        name = secret_name(name)
        check_value(value, fmt)
        with self._writing(Action.WRITE, function) as s:
            fn = self._function(s, function)
            if secret_rows.find(s, fn, name) is not None:
                raise ConflictError(
                    f"{function} already has a secret named {name}: "
                    "use `faas-tui secrets update` to change its value"
                )
            secret_rows.insert_secrets(s, self._codec, fn, {name: (value, fmt)}, self._now())
            self._log(s, "secret.add", function, [name])
            self._seal(s, fn)
            return self._info(s, fn, name)

    def update_secret(
        self, function: str, name: str, value: str, fmt: SecretFormat | None = None
    ) -> SecretInfo:
        """Store a new version of the value (write-only). `fmt=None` keeps the current format."""
        with self._writing(Action.WRITE, function) as s:
            fn = self._function(s, function)
            row = secret_rows.user_secret(s, fn, name)
            new_format = fmt or SecretFormat(row.format)
            check_value(value, new_format)
            secret_rows.new_version(s, self._codec, fn, row, value, new_format, self._now())
            s.flush()
            secret_rows.collect_versions(s, fn)
            self._log(s, "secret.update", function, [row.name])
            self._seal(s, fn)
            return self._info(s, fn, row.name)

    def delete_secret(self, function: str, name: str) -> list[int]:
        """Delete a secret and every stored version of it. Permanent.

        Returns the deployment numbers that bound it: they now fail until redeployed.
        """
        with self._writing(Action.WRITE, function, scrub=True) as s:
            fn = self._function(s, function)
            row = secret_rows.user_secret(s, fn, name)
            broken = queries.deployments_binding(s, row.id)
            secret_rows.delete_secret(s, row)
            self._log(s, "secret.delete", function, [row.name])
            self._seal(s, fn)
        return broken

    def deployments_binding(self, function: str, name: str) -> list[int]:
        """Deployment numbers that still bind this secret (shown before a delete)."""
        with self._reading(Action.LIST, function) as s:
            fn = self._function(s, function)
            row = secret_rows.stored(s, fn, name)
            return queries.deployments_binding(s, row.id)

    def read_secret(self, function: str, name: str) -> str | dict[str, Any]:
        """The current value: a str (Plaintext) or a dict (JSON). For runtimes and tests only."""
        text_value, fmt = self.read_secret_text(function, name)
        return decode_value(text_value, fmt)

    def read_secret_text(self, function: str, name: str) -> tuple[str, SecretFormat]:
        with self._reading(Action.READ_VALUES, function) as s:
            fn = self._function(s, function)
            row = secret_rows.stored(s, fn, name)
            text, _ = secret_rows.read_value(
                s, self._codec, fn, row.id, row.name, row.version, row.write_id
            )
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
        require(self.credential, Action.WRITE, function)
        wanted = inputs.validated_entries(entries)
        with self._writing(Action.WRITE, function, dry_run=dry_run) as s:
            fn = self._function(s, function)
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
            self._seal(s, fn)
        return plan

    def populate(self, functions: Mapping[str, Mapping[str, tuple[str, SecretFormat]]]) -> None:
        """Create many functions with their secrets in one transaction (demo data, scale tests)."""
        require(self.credential, Action.WRITE)
        for name in functions:
            function_name(name)
        created = {
            fn: inputs.validated_entries((k, v, f) for k, (v, f) in items.items())
            for fn, items in functions.items()
        }
        with self._writing(Action.WRITE) as s:
            stamp = eventlog.Stamp(self.actor, self._now())
            function_rows.create(s, self._codec, self._guard, created, None, stamp)
            self._generation = _generation_of(s)

    # --- deployments --------------------------------------------------------------------------

    def deploy(self, function: str) -> int:
        """Bind the current version of every secret; returns the new deployment number."""
        with self._writing(Action.DEPLOY, function) as s:  # old versions may go (scrubbed)
            fn = self._function(s, function)
            number = deployments.deploy(s, fn, self.actor, self._now())
            secret_rows.collect_versions(s, fn)
            self._log(s, "deploy", function, [f"#{number}"])
            self._seal(s, fn)
        return number

    def deployments(self, function: str) -> list[DeploymentInfo]:
        with self._reading(Action.LIST, function) as s:
            fn = self._function(s, function)
            rows = queries.deployment_rows(s, fn)
        return [DeploymentInfo(function, d.number, d.created_at, d.actor) for d in rows]

    def bound_values(self, function: str) -> dict[str, tuple[str, SecretFormat]]:
        """The active deployment's binding: name → (value text, format).

        Refuses a function never deployed, and one whose deployment binds a deleted secret.
        """
        with self._reading(Action.READ_VALUES, function) as s:
            return deployments.bound_values(s, self._codec, self._function(s, function))

    # --- audit and event log ------------------------------------------------------------------

    def audit(self, stale_days: int = 90, *, now: datetime | None = None) -> list[AuditRow]:
        """Every secret of every function with its flags, plus MISSING names. No values.

        Nothing is decrypted: REUSED_VALUE compares the fingerprints writers stored and signed.
        Rows are sorted by function, then name, with a function's MISSING rows after its stored
        ones. A MISSING row's kind is the kind the name would have if created (`system` for a
        SYSTEM_ name, else `user`); its format, version, times and deployed version are None.
        Every function's digest is verified in the same snapshot first.
        """
        require(self.credential, Action.AUDIT)
        moment = utc(now) if now is not None else self._now()
        with trust.refusing_corrupt_rows():
            return audit.audit(self._tx, moment, stale_days, verify=self._guard.verify_everything)

    def events(self) -> list[EventInfo]:
        """The event log, oldest first: who did what to which name, and when. Never a value."""
        with self._reading(Action.LOG) as s:
            rows = eventlog.rows(s)
        return [EventInfo(e.seq, e.at, e.actor, e.action, e.function, e.name, e.hash) for e in rows]

    def verify_log(self) -> int:
        """Recompute the hash chain; the signed content manifest covers its last row.

        Returns the number of events, or raises IntegrityError naming the first broken row. The
        chain catches a row edited, inserted, deleted or moved; the writer key's signature over
        the last row's number and hash catches a cut tail and a chain recomputed after an edit.
        """
        require(self.credential, Action.LOG)
        with self._tx.read() as s, trust.refusing_corrupt_rows():
            count = eventlog.verify_chain(s, self._tx.sqlite)
            try:
                self._guard.verify_store(s)
            except IntegrityError:
                raise IntegrityError(
                    f"the event log is broken after row {count}: the store was signed with "
                    "another last row, so rows were cut from its end or the chain was rewritten "
                    "(or other rows of the store were changed behind faas-tui's back)"
                ) from None
        return count


    def _info(self, s: Session, fn: Function, name: str) -> SecretInfo:
        """What a listing would show of the secret just written, from the same transaction."""
        row = secret_rows.find(s, fn, name)
        assert row is not None
        return secret_rows.secret_info(fn.name, row, queries.bound_versions(s, fn))


def _generation_of(s: Session) -> int:
    meta = s.get(StoreMeta, 1)
    return (meta.generation or 0) if meta is not None else 0
