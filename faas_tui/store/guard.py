"""The unlocked credential at work inside a transaction: verifying the signed state before anything
is read or built on, opening function keys from grants, and re-signing after a change.

Refuse, never warn: every check here raises IntegrityError. docs/trust.md describes the state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import delete
from sqlmodel import Session, select

from faas_tui.core.errors import AccessDeniedError, IntegrityError, WrongKeyError
from faas_tui.core.kinds import Role, SlotKind
from faas_tui.core.messages import REVOKED_KEY_FILE
from faas_tui.store import eventlog, trust
from faas_tui.store.audit import driver_rows
from faas_tui.store.crypto import SecretKey
from faas_tui.store.keyring import Unlocked
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
from faas_tui.store.timestamps import utc_text
from faas_tui.store.trust import CREDENTIALS_TAMPERED, STORE_TAMPERED, function_tampered

VERIFIED = "faas_tui.verified"  # Session.info: (function id, digest) verified in its transaction
OPERATOR_GONE = "your operator slot was removed or replaced since you unlocked: unlock again"


class StoreState(NamedTuple):
    """What a verified store says: its generation and each function's (id, epoch, digest)."""

    generation: int
    functions: dict[str, tuple[int, int, bytes]]


def slot_manifest_rows(slots: Iterable[KeySlot]) -> list[tuple[Any, ...]]:
    """What the admin key signs of each credential. Its salt and KDF parameters are not in it:
    the credential's own box binds them (so `passwd` needs no admin), and they are range-checked
    before Argon2id runs."""
    return [
        (slot.id, slot.kind, slot.role, slot.operator, slot.label, slot.scope, slot.public_key)
        for slot in sorted(slots, key=lambda row: row.id)
    ]


def digest_rows(s: Session, function_id: int | None = None) -> dict[int, trust.FunctionRows]:
    """Per function id, the rows its digest covers (every function when none is given). Read as
    the driver's plain tuples, times as UTC text: the digest normalises them (trust.time_text)."""
    conn = s.connection()
    sqlite = conn.dialect.name == "sqlite"

    def rows(query: Any, column: Any) -> list[Any]:
        return driver_rows(conn, query if function_id is None else query.where(column == function_id))

    out: dict[int, trust.FunctionRows] = defaultdict(lambda: trust.FunctionRows([], [], [], []))
    secrets = select(
        Secret.function_id, Secret.name, Secret.kind, Secret.version, Secret.format,
        Secret.write_id, Secret.fingerprint, Secret.description, Secret.scopes,
        utc_text(Secret.created_at, sqlite), utc_text(Secret.updated_at, sqlite),
    ).order_by(Secret.function_id, Secret.name)
    for fid, *row in rows(secrets, Secret.function_id):
        out[fid].secrets.append(_timed(row, 8, 9))
    versions = (
        select(
            Secret.function_id, Secret.name, SecretVersion.version, SecretVersion.format,
            SecretVersion.write_id,
        )
        .join(Secret, Secret.id == SecretVersion.secret_id)
        .order_by(Secret.function_id, Secret.name, SecretVersion.version)
    )
    for fid, *row in rows(versions, Secret.function_id):
        out[fid].versions.append(row)
    deployments = select(
        Deployment.function_id, Deployment.number, Deployment.actor,
        utc_text(Deployment.created_at, sqlite),
    ).order_by(Deployment.function_id, Deployment.number)
    for fid, *row in rows(deployments, Deployment.function_id):
        out[fid].deployments.append(_timed(row, 2))
    bindings = (
        select(
            Deployment.function_id, Deployment.number, Binding.secret_name, Binding.version,
            Binding.write_id,
        )
        .join(Deployment, Deployment.id == Binding.deployment_id)
        .order_by(Deployment.function_id, Deployment.number, Binding.secret_name)
    )
    for fid, *row in rows(bindings, Deployment.function_id):
        out[fid].bindings.append(row)
    return out


def _timed(row: list[Any], *columns: int) -> list[Any]:
    for column in columns:
        row[column] = trust.time_text(row[column])
    return row


class Guard:
    """One unlocked credential's keys, used through a session: verify, open keys, re-sign."""

    def __init__(self, store_id: str, unlocked: Unlocked) -> None:
        self.store_id = store_id
        self.unlocked = unlocked
        self.material = unlocked.material
        self.credential = unlocked.credential
        self._keys: dict[tuple[int, int, bytes], SecretKey] = {}
        self._fresh: dict[tuple[int, int], SecretKey] = {}  # keys this process just made
        self._digests: dict[int, tuple[tuple[Any, ...], trust.FunctionRows, bytes]] = {}

    def __repr__(self) -> str:
        return f"Guard(store={self.store_id!r})"

    # --- verifying ----------------------------------------------------------------------------

    def verify_store(self, s: Session) -> StoreState:
        """The credential list and the content manifest, each against its signature; the
        unlocking slot still there, unchanged. IntegrityError (or WrongKeyError) otherwise."""
        meta = s.get(StoreMeta, 1)
        if meta is None:
            raise IntegrityError(STORE_TAMPERED)
        slots = list(s.exec(select(KeySlot)).all())
        credentials = self.credential_bytes(slots)
        if not trust.signed_by(self.material.admin_vk, meta.credentials_signature, credentials):
            raise IntegrityError(CREDENTIALS_TAMPERED)
        mine = next((slot for slot in slots if slot.id == self.unlocked.slot_id), None)
        if mine is None or bytes(mine.wrapped) != self.unlocked.wrapped:
            is_key_file = self.credential.is_key_file
            raise WrongKeyError(REVOKED_KEY_FILE if is_key_file else OPERATOR_GONE)
        functions = s.exec(
            select(Function.name, Function.id, Function.epoch, Function.manifest_mac).order_by(
                Function.name
            )
        ).all()
        content = trust.content_manifest(
            self.store_id, meta.generation or 0, credentials, eventlog.head(s), functions
        )
        if not trust.signed_by(self.material.writer_vk, meta.signature, content):
            raise IntegrityError(STORE_TAMPERED)
        return StoreState(
            meta.generation or 0,
            {name: (fid, epoch or 0, bytes(digest)) for name, fid, epoch, digest in functions},
        )

    def credential_bytes(self, slots: Iterable[KeySlot]) -> bytes:
        return trust.credential_manifest(self.store_id, slot_manifest_rows(slots))

    def digest(self, fn: Function, rows: trust.FunctionRows) -> bytes:
        """The function's digest over these rows. Remembered per function with its exact inputs:
        a write verifies every function, and most of them hold the same rows as last time."""
        assert fn.id is not None
        header = (fn.name, fn.epoch or 0, bytes(fn.key_commit or b""), fn.source_dir)
        memo = self._digests.get(fn.id)
        if memo is not None and memo[0] == header and memo[1] == rows:
            return memo[2]
        digest = trust.function_digest(self.store_id, fn.id, *header, rows)
        self._digests[fn.id] = (header, rows, digest)
        return digest

    def verify_function(self, s: Session, fn: Function) -> None:
        """The function's rows against its signed digest (call after verify_store); free when
        this transaction already verified it (a write verifies every function first)."""
        assert fn.id is not None
        if (fn.id, bytes(fn.manifest_mac or b"")) in s.info.get(VERIFIED, ()):
            return
        if not trust.same(self.digest(fn, digest_rows(s, fn.id)[fn.id]), fn.manifest_mac):
            raise IntegrityError(function_tampered(fn.name))

    def verify_everything(self, s: Session) -> StoreState:
        """The signed state and every function's digest, in one snapshot and one pass over the
        rows: before any write (a write must not build on a store that fails anywhere), on
        opening, and for the audit."""
        state = self.verify_store(s)
        rows = digest_rows(s)
        verified: set[tuple[int, bytes]] = set()
        for fn in s.exec(select(Function)).all():
            assert fn.id is not None
            if not trust.same(self.digest(fn, rows[fn.id]), fn.manifest_mac):
                raise IntegrityError(function_tampered(fn.name))
            verified.add((fn.id, bytes(fn.manifest_mac)))
        s.info[VERIFIED] = verified  # this session's transaction: verify_function needs no pass
        return state

    # --- function keys ------------------------------------------------------------------------

    def function_key(self, s: Session, fn: Function) -> SecretKey:
        """The function's data key from this credential's grant, checked against its commitment."""
        assert fn.id is not None
        if not self.credential.reads(fn.name) or self.credential.role is Role.AUDITOR:
            raise AccessDeniedError(f"not allowed: this credential holds no key of {fn.name}")
        fresh = self._fresh.get((fn.id, fn.epoch or 0))
        if fresh is not None:  # made in this transaction (a new function, a re-key)
            return fresh
        grant = s.get(Grant, (self.unlocked.grant_slot, fn.id))
        if grant is None:
            raise IntegrityError(
                f"this credential's key grant of {fn.name} is missing: it was deleted behind "
                "faas-tui's back (an admin can review with `faas-tui check`)"
            )
        sealed = bytes(grant.sealed)
        cached = self._keys.get((fn.id, grant.epoch, sealed))
        if cached is not None and grant.epoch == fn.epoch:
            return cached
        if grant.epoch != fn.epoch:
            raise IntegrityError(f"the key grant of {fn.name} is from another epoch: it was edited")
        aad = trust.grant_aad(self.store_id, self.unlocked.grant_slot, fn.id, fn.name, grant.epoch)
        key = trust.open_grant(self.material.private, sealed, aad, what=fn.name)
        commit = trust.key_commit(key, self.store_id, fn.id, grant.epoch)
        if not trust.same(commit, fn.key_commit):
            raise IntegrityError(
                f"the key grant of {fn.name} holds another key than the function's: it was forged"
            )
        self._keys[(fn.id, grant.epoch, sealed)] = key
        return key

    def end_transaction(self) -> None:
        """Forget the keys made in a transaction once it ends (committed or rolled back)."""
        self._fresh.clear()

    def new_function_key(self, s: Session, fn: Function) -> SecretKey:
        """A fresh data key for the function (epoch + 1), granted to every credential allowed to
        read it; the old grants go. The caller re-encrypts the function's versions."""
        assert fn.id is not None
        key = SecretKey.generate()
        fn.epoch = (fn.epoch or 0) + 1
        fn.key_commit = trust.key_commit(key, self.store_id, fn.id, fn.epoch)
        s.add(fn)
        s.execute(delete(Grant).where(Grant.function_id == fn.id))
        for slot in s.exec(select(KeySlot)).all():
            if reads_function(slot, fn.name):
                self.grant(s, slot, fn, key)
        self._fresh[(fn.id, fn.epoch)] = key
        return key

    def grant(self, s: Session, slot: KeySlot, fn: Function, key: SecretKey) -> None:
        assert fn.id is not None and slot.public_key is not None
        aad = trust.grant_aad(self.store_id, slot.id, fn.id, fn.name, fn.epoch or 0)
        sealed = trust.seal_grant(bytes(slot.public_key), key, aad)
        s.add(Grant(slot_id=slot.id, function_id=fn.id, epoch=fn.epoch or 0, sealed=sealed))

    # --- signing ------------------------------------------------------------------------------

    def seal(self, s: Session, *functions: Function, credentials: bool = False) -> int:
        """After a change: the touched functions' digests, the credential list (when it changed;
        admin key), generation + 1, and the content manifest signed. Returns the generation."""
        if not self.material.writer_sk:
            raise AccessDeniedError("not allowed: this credential cannot sign changes")
        s.flush()
        every = digest_rows(s) if len(functions) > 8 else None  # one pass, not four per function
        for fn in functions:
            assert fn.id is not None
            rows = every[fn.id] if every is not None else digest_rows(s, fn.id)[fn.id]
            fn.manifest_mac = self.digest(fn, rows)
            s.add(fn)
        s.flush()
        meta = s.get(StoreMeta, 1)
        assert meta is not None
        slots = list(s.exec(select(KeySlot)).all())
        credential_list = self.credential_bytes(slots)
        if credentials:
            if not self.material.admin_sk:
                raise AccessDeniedError("not allowed: only an admin changes credentials")
            meta.credentials_signature = trust.sign(self.material.admin_sk, credential_list)
        meta.generation = (meta.generation or 0) + 1
        rows = s.exec(
            select(Function.name, Function.id, Function.epoch, Function.manifest_mac).order_by(
                Function.name
            )
        ).all()
        content = trust.content_manifest(
            self.store_id, meta.generation, credential_list, eventlog.head(s), rows
        )
        meta.signature = trust.sign(self.material.writer_sk, content)
        s.add(meta)
        s.flush()
        return meta.generation

    def seal_every_function(self, s: Session, *, credentials: bool = False) -> int:
        functions = list(s.exec(select(Function)).all())
        return self.seal(s, *functions, credentials=credentials)


def reads_function(slot: KeySlot, function: str) -> bool:
    """Whether a credential gets a grant of the function's key."""
    if slot.kind == SlotKind.LEGACY:
        return True
    if slot.kind not in (SlotKind.PASSPHRASE, SlotKind.KEY_FILE):
        return False
    if slot.role in (Role.ADMIN, Role.EDITOR):
        return True
    return slot.role == Role.RUNTIME and function in (slot.scope or "").split()
