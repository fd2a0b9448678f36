"""The Vault's base: how every operation is checked (role, signed state, generation) and signed
again, and the administration of credentials and keys (operators, key files, passphrase,
rotate-key, check and accept). vault.py builds the functions, secrets and deployments on it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from faas_tui.core.clock import Clock
from faas_tui.core.errors import IntegrityError, ReadOnlyError, ValidationError
from faas_tui.core.kinds import Role
from faas_tui.core.passphrase import passphrase_problem
from faas_tui.core.permissions import Action, Credential, require
from faas_tui.core.records import CheckReport, KeyFileInfo, OperatorInfo
from faas_tui.store import (
    checks,
    credentials,
    crypto,
    eventlog,
    keyring,
    queries,
    slots,
    transactions,
    trust,
)
from faas_tui.store.crypto import KdfParams
from faas_tui.store.generations import GenerationMemory
from faas_tui.store.guard import Guard
from faas_tui.store.models import Function
from faas_tui.store.secret_rows import Codec
from faas_tui.store.timestamps import utc
from faas_tui.store.transactions import Compacted, Transactions


class Administration:
    """Shared internals of the Vault, and the operations on credentials and keys."""

    store_id: str
    url: str
    _tx: Transactions
    _guard: Guard
    _codec: Codec
    _clock: Clock
    _memory: GenerationMemory | None
    _generation: int

    @property
    def credential(self) -> Credential:
        """Who unlocked: the operator (or key file), its role and, for a runtime key, its scope."""
        return self._guard.credential

    @property
    def generation(self) -> int:
        """The store's generation as this Vault last verified or wrote it."""
        return self._generation

    # --- operators ----------------------------------------------------------------------------

    def add_operator(
        self, name: str, role: Role, passphrase: str, *, kdf: KdfParams | None = None
    ) -> OperatorInfo:
        """A new operator with a passphrase of their own (admin only)."""
        name = credentials.operator_name(name)
        role = Role(role)
        _check_passphrase(passphrase)
        params = kdf or KdfParams.fresh()
        kek = crypto.derive_passphrase_key(passphrase, params)
        with self._writing(Action.OPERATORS) as s:
            info = credentials.add_operator(s, self._guard, name, role, kek, params, self._now())
            self._log(s, "operator.add", None, [f"{name} ({role})"])
            self._seal(s, credentials=True)
        return info

    def list_operators(self) -> list[OperatorInfo]:
        """Who holds which role (admin only: the list is a map of whose passphrase to phish)."""
        with self._reading(Action.OPERATORS) as s:
            return credentials.operators(s)

    def remove_operator(self, name: str) -> None:
        """Remove an operator and re-key every function they could read (admin only)."""
        with self._writing(Action.OPERATORS, scrub=True) as s:
            self._log(s, "operator.remove", None, [name])
            credentials.remove_operator(s, self._guard, self._codec, name)
            self._generation = self._guard.seal_every_function(s, credentials=True)

    def change_passphrase(self, new_passphrase: str, *, kdf: KdfParams | None = None) -> None:
        """Re-seal the unlocking operator's own box under a new passphrase; values untouched.
        An editor's or admin's passwd is logged and signed; an auditor holds no signing key, so
        theirs changes only their own slot (its box binds the new salt and parameters).

        `kdf` is for tests only (weak parameters); the CLI and the app always use the defaults.
        """
        _check_passphrase(new_passphrase)
        params = kdf or KdfParams.fresh()
        kek = crypto.derive_passphrase_key(new_passphrase, params)
        with self._writing(Action.PASSWD, scrub=True) as s:
            wrapped = credentials.change_passphrase(s, self._guard, kek, params)
            if self._guard.material.writer_sk:  # an auditor's passwd signs nothing: no event
                self._log(s, "store.passwd")
                self._seal(s)
            old = self._guard.unlocked
            self._guard.unlocked = keyring.Unlocked(
                old.slot_id, wrapped, kek, old.material, old.credential
            )

    def rotate_key(self) -> list[str]:
        """Every function gets a new data key, every value re-encrypted, one transaction (admin).

        Grants are sealed to public keys, so every credential keeps working; no key file is
        revoked (the list returned is empty; it names revoked key files in earlier releases).
        """
        with self._writing(Action.ROTATE_KEY, scrub=True) as s:
            self._log(s, "store.rotate-key")
            credentials.rekey_everything(s, self._guard, self._codec)
            self._generation = self._guard.seal_every_function(s)
        return []

    # --- key files ----------------------------------------------------------------------------

    def add_key_file(
        self,
        path: str | os.PathLike[str],
        label: str = "",
        *,
        functions: Sequence[str] = (),
        role: Role | None = None,
    ) -> KeyFileInfo:
        """Write a new random key, 0600, to PATH: a runtime key reading `functions` only, or a
        headless operator with `role`. Exactly one of the two."""
        target = Path(path)
        label = label or target.name
        slots.check_new_key_file(target, label)
        with slots.key_file(target) as write, self._writing(Action.KEY_FILES) as s:
            # written inside the transaction, so a file that cannot be written adds no slot
            info = credentials.add_key_file(
                s, self._guard, label, functions, Role(role) if role else None, self._now(), write
            )
            self._log(s, "key-file.add", None, [info.id])
            self._seal(s, credentials=True)
        return info

    def list_key_files(self) -> list[KeyFileInfo]:
        """Every key file; legacy ones (from 0.1.0) share one key: revoking one revokes all.
        Admin only, as issuing and revoking them is."""
        with self._reading(Action.KEY_FILES) as s:
            return credentials.key_files(s)

    def revoke_key_file(self, slot_id: str) -> list[str]:
        """Revoke a key file and re-key everything it could read, in the same transaction."""
        with self._writing(Action.KEY_FILES, scrub=True) as s:
            revoked = credentials.revoke_key_file(s, self._guard, self._codec, slot_id)
            self._log(s, "key-file.revoke", None, revoked)
            self._generation = self._guard.seal_every_function(s, credentials=True)
        return revoked

    # --- check and accept ---------------------------------------------------------------------

    def check(self) -> CheckReport:
        """Verify the whole store; lists problems, never raises for them."""
        require(self.credential, Action.CHECK)
        try:
            with self._tx.read() as s, trust.refusing_corrupt_rows():
                problems, generation = checks.problems(s, self._guard, self._tx.sqlite)
        except IntegrityError as exc:
            problems, generation = [str(exc)], 0
        if self._memory is not None and generation < self._memory.seen(self.store_id):
            problems.append(
                f"the store was rolled back or restored from a backup (generation {generation}, "
                f"this machine has seen {self._memory.seen(self.store_id)})"
            )
        return CheckReport(not problems, problems, generation)

    def accept(self) -> CheckReport:
        """After review (admin): record the problems in the event log and sign the store again."""
        require(self.credential, Action.ACCEPT)
        report = self.check()
        seen = self._memory.seen(self.store_id) if self._memory is not None else 0
        with self._tx.write(scrub=True) as s:
            self._log(s, "integrity.accept", None, report.problems or [None])
            generation = checks.reseal(s, self._guard, seen)
        self._generation = generation
        if self._memory is not None:
            self._memory.accept(self.store_id, generation)
        return CheckReport(True, report.problems, generation)

    # --- maintenance --------------------------------------------------------------------------

    def compact(self) -> Compacted:
        """Reclaim the space of deleted rows and their old bytes (admin only; on PostgreSQL,
        readers wait while it runs), then log who did it. The store is verified first."""
        require(self.credential, Action.COMPACT)
        if self._tx.read_only:
            raise ReadOnlyError("the store is open read-only (--read-only): cannot compact it")
        with self._reading(Action.COMPACT) as s:
            self._guard.verify_everything(s)
        done = transactions.compact(self._tx.engine)
        with self._writing(Action.COMPACT) as s:
            self._log(s, "store.compact", None, [f"{done.before} -> {done.after} bytes"])
            self._seal(s)
        return done

    # --- internals ----------------------------------------------------------------------------

    @contextmanager
    def _reading(self, action: Action, function: str | None = None) -> Iterator[Session]:
        """A read snapshot of a verified store, for a credential allowed to do `action`."""
        require(self.credential, action, function)
        with self._tx.read() as s, trust.refusing_corrupt_rows():
            self._guard.verify_store(s)
            yield s

    @contextmanager
    def _writing(
        self, action: Action, function: str | None = None, *, scrub: bool = False,
        dry_run: bool = False,
    ) -> Iterator[Session]:
        """A write transaction that first verifies the whole state it builds on (signatures,
        every function's digest, the generation): while any part of the store fails its check,
        every write is refused, even in a session opened before the store was edited. The
        caller signs the result with `_seal`. The generation is remembered."""
        require(self.credential, action, function)
        try:
            with self._tx.write(scrub=scrub, dry_run=dry_run) as s, trust.refusing_corrupt_rows():
                state = self._guard.verify_everything(s)
                if self._memory is not None:
                    self._memory.check(self.store_id, state.generation, location=self.url)
                yield s
        finally:
            self._guard.end_transaction()
        if self._memory is not None and not dry_run:
            self._memory.record(self.store_id, self._generation)

    def _function(self, s: Session, name: str) -> Function:
        """The function row, its rows verified against its signed digest."""
        fn = queries.function_row(s, name)
        self._guard.verify_function(s, fn)
        return fn

    def _seal(self, s: Session, *functions: Function, credentials: bool = False) -> None:
        self._generation = self._guard.seal(s, *functions, credentials=credentials)

    def _log(
        self,
        s: Session,
        action: str,
        function: str | None = None,
        names: Iterable[str | None] = (None,),
    ) -> None:
        eventlog.append(s, eventlog.Stamp(self.credential.actor, self._now()), action, function, names)

    def _now(self) -> datetime:
        return utc(self._clock())


def _check_passphrase(passphrase: str) -> None:
    problem = passphrase_problem(passphrase)
    if problem:
        raise ValidationError(problem)
