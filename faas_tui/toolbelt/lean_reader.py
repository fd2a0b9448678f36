"""The runtime's lean read path, whatever the database: the SQL, the integrity checks, decryption.

A driver (sqlite_reader: stdlib `sqlite3`; pg_reader: psycopg) only runs these statements on one
kept connection; unlocking, the checks, AES-GCM and the texts of every refusal are written once,
here. This is a function's cold start: it imports `faas_tui.core` and the store's SQLAlchemy-free
`crypto`, `keyring` and `trust` (the Vault's own unlocking and signatures), never SQLAlchemy.

Refuse, never warn: the reader verifies the credential list and the content manifest against
their Ed25519 signatures and the function's rows against its signed digest before the first read,
and again whenever the hot read's row differs from what it verified (one extra snapshot after a
change, its statements pipelined where the driver can; a function whose signed digest did not
change keeps what was verified of it); the value's AES-GCM data binds its store, function, name,
version, format and write id; the function key comes from this credential's grant, checked
against the key's commitment; the credential's own slot is re-read with every value (revoked:
refused at once). docs/trust.md.
"""

from __future__ import annotations

import os
from _thread import allocate_lock  # threading.Lock itself, without importing threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol, TypeVar

from faas_tui.core.constants import SCHEMA_VERSION
from faas_tui.core.errors import (
    BindingBrokenError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    SecretNotFoundError,
    StoreError,
    WrongKeyError,
)
from faas_tui.core.kinds import SecretKind, SlotKind
from faas_tui.core.messages import (
    REKEYED,
    REVOKED_KEY_FILE,
    binding_broken,
    never_deployed,
    no_function,
    no_secret,
    no_store,
    schema_mismatch,
    version_missing,
)
from faas_tui.core.permissions import Action, require
from faas_tui.store import crypto, keyring, trust
from faas_tui.store.crypto import SecretKey
from faas_tui.toolbelt.source import Deployed, StoredValue

UPGRADE_SCHEMA = 1  # faas-tui 0.1.0's layout: an admin's passphrase upgrades it
UPGRADE_NEEDED = (
    "this store was written by faas-tui 0.1.0: an admin opens it once with its passphrase "
    "(any command, e.g. `faas-tui functions list`) to upgrade it; key files work after that"
)

# Placeholders are `?`; a driver whose database wants another style rewrites them once.
META_SQL = "SELECT store_id, schema_version FROM store_meta WHERE id = 1"
SLOT_SQL = f"SELECT {keyring.SLOT_COLUMNS} FROM key_slot WHERE id = ?"  # noqa: S608  # nosec B608
KDF_SLOT_SQL = f"SELECT {keyring.SLOT_COLUMNS} FROM key_slot WHERE kind = ?"  # noqa: S608  # nosec B608
# The whole signed state: the header's generation and signatures, every slot (the credential
# list), every function's (name, id, epoch, digest) and the event log's head.
STATE_SQL = "SELECT generation, signature, credentials_signature FROM store_meta WHERE id = 1"
SLOTS_SQL = (
    "SELECT id, kind, role, operator, label, scope, public_key, wrapped FROM key_slot ORDER BY id"
)
FUNCTIONS_SQL = "SELECT name, id, epoch, manifest_mac FROM function ORDER BY name"
HEAD_SQL = "SELECT seq, hash FROM event ORDER BY seq DESC LIMIT 1"
# One function's rows, exactly as its digest covers them (guard.digest_rows in the Vault).
FUNCTION_SQL = "SELECT id, epoch, manifest_mac, key_commit, source_dir FROM function WHERE name = ?"
SECRETS_SQL = (
    "SELECT name, kind, version, format, write_id, fingerprint, description, scopes, "
    "created_at, updated_at FROM secret WHERE function_id = ? ORDER BY name"
)
VERSIONS_SQL = (
    "SELECT s.name, v.version, v.format, v.write_id FROM secret_version AS v "
    "JOIN secret AS s ON s.id = v.secret_id WHERE s.function_id = ? ORDER BY s.name, v.version"
)
DEPLOYMENTS_SQL = (
    "SELECT number, actor, created_at FROM deployment WHERE function_id = ? ORDER BY number"
)
BINDING_ROWS_SQL = (
    "SELECT d.number, b.secret_name, b.version, b.write_id FROM binding AS b "
    "JOIN deployment AS d ON d.id = b.deployment_id WHERE d.function_id = ? "
    "ORDER BY d.number, b.secret_name"
)
FUNCTION_ROWS = (SECRETS_SQL, VERSIONS_SQL, DEPLOYMENTS_SQL, BINDING_ROWS_SQL)  # by function id
STATE_READS = ((STATE_SQL, ()), (SLOTS_SQL, ()), (FUNCTIONS_SQL, ()), (HEAD_SQL, ()))
GRANT_SQL = "SELECT epoch, sealed FROM key_grant WHERE slot_id = ? AND function_id = ?"
SLOT_WRAPPED_SQL = "SELECT wrapped FROM key_slot WHERE id = ?"
# The hot read: one statement, so one consistent snapshot, always exactly one row: this reader's
# slot (NULL once revoked), the state's generation and signature, the function (NULL: none), this
# credential's grant of its key, the secret (NULL: none) and its current version's ciphertext.
VALUE_SQL = """
SELECT (SELECT wrapped FROM key_slot WHERE id = ?), m.generation, m.signature,
       f.id, f.epoch, f.manifest_mac, g.epoch, g.sealed,
       s.kind, s.version, s.format, s.write_id, v.write_id, v.nonce, v.ciphertext
FROM (SELECT 1) AS one
LEFT JOIN store_meta AS m ON m.id = 1
LEFT JOIN function AS f ON f.name = ?
LEFT JOIN key_grant AS g ON g.slot_id = ? AND g.function_id = f.id
LEFT JOIN secret AS s ON s.function_id = f.id AND s.name = ?
LEFT JOIN secret_version AS v ON v.secret_id = s.id AND v.version = s.version
"""
DEPLOYMENT_SQL = (
    "SELECT id, number FROM deployment WHERE function_id = ? ORDER BY number DESC LIMIT 1"
)
BINDINGS_SQL = """
SELECT b.secret_name, b.secret_id, b.version, b.write_id, s.kind, v.format, v.write_id,
       v.nonce, v.ciphertext
FROM binding AS b
LEFT JOIN secret AS s ON s.id = b.secret_id
LEFT JOIN secret_version AS v ON v.secret_id = b.secret_id AND v.version = b.version
WHERE b.deployment_id = ?
ORDER BY b.secret_name
"""
STATEMENTS = (META_SQL, SLOT_SQL, KDF_SLOT_SQL, STATE_SQL, SLOTS_SQL, FUNCTIONS_SQL, HEAD_SQL)
STATEMENTS += (FUNCTION_SQL, SECRETS_SQL, VERSIONS_SQL, DEPLOYMENTS_SQL, BINDING_ROWS_SQL)
STATEMENTS += (GRANT_SQL, SLOT_WRAPPED_SQL, VALUE_SQL, DEPLOYMENT_SQL, BINDINGS_SQL)

Row = tuple[Any, ...]
Statement = tuple[str, tuple[Any, ...]]
T = TypeVar("T")
M = TypeVar("M", bound=Callable[..., Any])


class Disconnected(Exception):  # noqa: N818 - a signal between a driver and the reader, not shown
    """A driver lost its server connection; the reader reconnects once, then raises StoreError."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Driver(Protocol):
    """One kept connection to the store, read-only. Database errors come out as the tool's errors
    (NotFoundError, ConflictError, StoreError), or as Disconnected when the server went away."""

    location: str  # for messages and repr: a file path, or a server URL without password

    def one(self, sql: str, params: tuple[Any, ...]) -> Row | None: ...

    def all(self, sql: str, params: tuple[Any, ...]) -> list[Row]: ...

    def batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        """Every statement's rows, in order; sent in one round trip where the driver can."""

    def snapshot(self) -> AbstractContextManager[None]:
        """One read transaction: every statement inside sees the same committed state."""

    def reconnect(self) -> None:
        """A fresh connection in place of a lost one (raises Disconnected when it cannot)."""

    def close(self) -> None: ...


def lost_connection(location: str, reason: str) -> str:
    return (
        f"lost the connection to the store {location} and could not reconnect ({reason}): "
        "check that the server is running, then retry"
    )


def _refusing_corrupt_rows(method: M) -> M:
    """A row of the wrong type or shape read by `method` is an integrity failure (exit 4)."""

    def refusing(*args: Any, **kwargs: Any) -> Any:
        with trust.refusing_corrupt_rows():
            return method(*args, **kwargs)

    return refusing  # type: ignore[return-value]


class Verified(NamedTuple):
    """A function as this reader last verified it against its signed digest."""

    function_id: int
    epoch: int
    digest: bytes
    commit: bytes
    secrets: dict[str, tuple[Any, ...]]  # name -> (kind, version, format, write id)
    versions: dict[tuple[str, int], bytes]  # (name, version) -> write id


class LeanReader:
    """An unlocked, read-only reader of one store over a driver. Safe to share between threads."""

    def __init__(
        self,
        driver: Driver,
        *,
        key_file: str | os.PathLike[str] | None = None,
        passphrase: str | None = None,
        operator: str | None = None,
    ) -> None:
        self._driver = driver
        self.location = driver.location
        self._lock = allocate_lock()
        self._state: tuple[Any, bytes] | None = None  # (generation, signature) verified
        self._manifest: dict[str, tuple[int, int, bytes]] = {}  # name -> (id, epoch, digest)
        self._verified: dict[str, Verified] = {}
        self._keys: dict[str, tuple[int, bytes, SecretKey]] = {}  # name -> (epoch, grant, key)
        try:
            with self._lock:
                self._retrying(lambda: self._unlock(key_file, passphrase, operator))
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    # --- opening ------------------------------------------------------------------------------

    @_refusing_corrupt_rows
    def _unlock(
        self, key_file: str | os.PathLike[str] | None, passphrase: str | None, operator: str | None
    ) -> None:
        meta = self._driver.one(META_SQL, ())
        if meta is None:
            raise NotFoundError(no_store(self.location))
        self.store_id, schema = meta
        if schema == UPGRADE_SCHEMA:
            raise StoreError(UPGRADE_NEEDED)
        if schema != SCHEMA_VERSION:
            raise StoreError(schema_mismatch(schema, SCHEMA_VERSION))
        unlocked = keyring.unlock(  # the Vault's own unlocking, on rows read by the driver
            self.store_id,
            passphrase=passphrase,
            key_file=key_file,
            operator=operator or os.environ.get("FAAS_TUI_OPERATOR") or None,
            passphrase_slots=lambda: [
                keyring.SlotTuple(*row) for row in self._driver.all(KDF_SLOT_SQL, (SlotKind.PASSPHRASE.value,))
            ],
            slot_by_id=lambda slot_id: self._slot_row(slot_id),
        )
        self.credential = unlocked.credential
        self._material = unlocked.material
        self._slot_id: str = unlocked.slot_id
        self._slot_wrapped: bytes = unlocked.wrapped
        self._grant_slot = unlocked.grant_slot
        self._key_file = key_file is not None

    def _slot_row(self, slot_id: str) -> keyring.SlotRow | None:
        row = self._driver.one(SLOT_SQL, (slot_id,))
        return None if row is None else keyring.SlotTuple(*row)

    # --- reading ------------------------------------------------------------------------------

    @_refusing_corrupt_rows
    def check_function(self, function: str) -> None:
        require(self.credential, Action.READ_VALUES, function)

        def check() -> None:
            with self._driver.snapshot():
                self._check_slot(self._current_slot())
                self._verify_state()
                self._verify_function(function)

        with self._lock:
            self._retrying(check)

    @_refusing_corrupt_rows
    def read(self, function: str, name: str) -> StoredValue:
        require(self.credential, Action.READ_VALUES, function)
        params = (self._slot_id, function, self._grant_slot, name)
        driver = self._driver

        def fetch() -> Row:
            row = driver.one(VALUE_SQL, params)
            assert row is not None  # the statement always yields one row
            self._check_slot(row[0])
            if self._consistent(function, name, row):
                return row
            # Verify the signed state and the function in one snapshot: the value and the whole
            # signed state in one round trip; the function's rows only when its signed digest
            # changed (a write to another function leaves what was verified of this one valid).
            with driver.snapshot():
                value, *state = driver.batch(((VALUE_SQL, params), *STATE_READS))
                row = value[0]
                self._check_slot(row[0])
                self._verify_state(state)
                if row[3] is None and function not in self._manifest:
                    raise NotFoundError(no_function(function))
                if not self._consistent(function, name, row):
                    self._verify_function(function)
            if row[8] is None:
                raise SecretNotFoundError(no_secret(function, name))
            if not self._consistent(function, name, row):
                raise IntegrityError(
                    f"the value of {function}/{name} is not the one its function's signed digest "
                    "names: it was copied from another write or is missing; it is not returned"
                )
            return row

        with self._lock:
            row = self._retrying(fetch)
            if row[8] is None:
                raise SecretNotFoundError(no_secret(function, name))
            _, _, _, fid, epoch, _, g_epoch, sealed = row[:8]
            key = self._function_key(function, fid, epoch, g_epoch, sealed)
        kind, version, fmt, write_id, _, nonce, ciphertext = row[8:]
        return StoredValue(
            name, kind, self._decrypt(key, function, name, version, fmt, write_id, nonce, ciphertext), fmt
        )

    @_refusing_corrupt_rows
    def deployed(self, function: str) -> Deployed:
        require(self.credential, Action.READ_VALUES, function)
        driver = self._driver

        def fetch() -> tuple[SecretKey, int, list[Row]]:
            with driver.snapshot():
                self._check_slot(self._current_slot())
                self._verify_state()
                verified = self._verify_function(function)
                grant = driver.one(GRANT_SQL, (self._grant_slot, verified.function_id))
                key = self._function_key(
                    function, verified.function_id, verified.epoch,
                    grant[0] if grant else None, grant[1] if grant else None,
                )
                active = driver.one(DEPLOYMENT_SQL, (verified.function_id,))
                if active is None:
                    raise ConflictError(never_deployed(function))
                deployment_id, number = active
                return key, number, driver.all(BINDINGS_SQL, (deployment_id,))

        with self._lock:
            key, number, rows = self._retrying(fetch)
        broken = [name for name, secret_id, *_ in rows if secret_id is None]
        if broken:
            raise BindingBrokenError(binding_broken(function, number, broken))
        values: dict[str, StoredValue] = {}
        for name, _, version, bound_write, kind, fmt, write_id, nonce, ciphertext in rows:
            if nonce is None:
                raise IntegrityError(version_missing(function, name, version))
            if bytes(bound_write or b"") != bytes(write_id or b""):
                raise IntegrityError(
                    f"{function} deployment #{number} binds {name} to a value of another write: "
                    "it was edited behind faas-tui's back; nothing is returned"
                )
            text = self._decrypt(key, function, name, version, fmt, write_id, nonce, ciphertext)
            values[name] = StoredValue(name, kind or SecretKind.USER, text, fmt)
        return Deployed(number, values)

    def close(self) -> None:
        self._driver.close()

    # --- verifying ----------------------------------------------------------------------------

    def _verify_state(self, fetched: Sequence[list[Row]] | None = None) -> None:
        """Both signatures over the credential list and the content manifest (inside a
        snapshot); skipped when the generation and signature are those last verified. `fetched`:
        the rows of STATE_READS already read in this snapshot (else: the header first, the rest
        in one round trip only when it changed)."""
        driver = self._driver
        states = driver.all(STATE_SQL, ()) if fetched is None else fetched[0]
        if not states:
            raise IntegrityError(trust.STORE_TAMPERED)
        generation, signature, credentials_signature = states[0]
        if self._state is not None and self._state == (generation, bytes(signature or b"")):
            return
        if fetched is None:
            fetched = [states, *driver.batch(STATE_READS[1:])]
        _, slots, functions, heads = fetched
        credentials = trust.credential_manifest(self.store_id, [row[:7] for row in slots])
        if not trust.signed_by(self._material.admin_vk, credentials_signature, credentials):
            raise IntegrityError(trust.CREDENTIALS_TAMPERED)
        self._check_slot(next((row[7] for row in slots if row[0] == self._slot_id), None))
        head = heads[0] if heads else trust.EMPTY_LOG_HEAD
        content = trust.content_manifest(
            self.store_id, generation or 0, credentials, tuple(head), functions
        )
        if not trust.signed_by(self._material.writer_vk, signature, content):
            raise IntegrityError(trust.STORE_TAMPERED)
        self._state = (generation, bytes(signature))
        manifest = {name: (fid, epoch or 0, bytes(digest)) for name, fid, epoch, digest in functions}
        self._manifest = manifest
        # What was verified of a function stays valid while the signed state names the same
        # digest (SHA-256 over all of its rows): the same rows.
        self._verified = {
            name: verified
            for name, verified in self._verified.items()
            if manifest.get(name) == (verified.function_id, verified.epoch, verified.digest)
        }

    def _verify_function(self, function: str) -> Verified:
        """The function's rows against its digest in the verified manifest (inside a snapshot)."""
        driver = self._driver
        signed = self._manifest.get(function)
        if signed is None:
            if driver.one(FUNCTION_SQL, (function,)) is None:
                raise NotFoundError(no_function(function))
            raise IntegrityError(trust.STORE_TAMPERED)
        fid = signed[0]  # the rows are read by the signed id, in one round trip
        found_rows, secrets, versions, deployments, bindings = driver.batch(
            ((FUNCTION_SQL, (function,)), *((sql, (fid,)) for sql in FUNCTION_ROWS))
        )
        found = found_rows[0] if found_rows else None
        if found is None or signed != (found[0], found[1] or 0, bytes(found[2])):
            raise IntegrityError(trust.STORE_TAMPERED)
        _, epoch, digest, commit, source_dir = found
        secrets = [_timed(row, 8, 9) for row in secrets]
        rows = trust.FunctionRows(secrets, versions, [_timed(r, 2) for r in deployments], bindings)
        computed = trust.function_digest(
            self.store_id, fid, function, epoch or 0, bytes(commit or b""), source_dir, rows
        )
        if not trust.same(computed, bytes(digest)):
            raise IntegrityError(trust.function_tampered(function))
        verified = Verified(
            fid, epoch or 0, bytes(digest), bytes(commit or b""),
            {row[0]: (row[1], row[2], row[3], bytes(row[4] or b"")) for row in secrets},
            {(row[0], row[1]): bytes(row[3] or b"") for row in versions},
        )
        self._verified[function] = verified
        return verified

    def _consistent(self, function: str, name: str, row: Row) -> bool:
        """Whether the hot read's row is the state this reader verified: same signed state,
        same function digest, the secret and its version's write id as the digest names them."""
        if self._state is None or (row[1], row[2]) != self._state:
            return False
        verified = self._verified.get(function)
        if verified is None or (row[3], row[4], row[5]) != (
            verified.function_id, verified.epoch, verified.digest
        ):
            return False
        if row[8] is None:
            return name not in verified.secrets
        kind, version, fmt, write_id, version_write = row[8:13]
        current = (kind, version, fmt, bytes(write_id or b""))
        return verified.secrets.get(name) == current and verified.versions.get(
            (name, version)
        ) == bytes(version_write or b"") == current[3]

    def _function_key(
        self, function: str, fid: int, epoch: int, grant_epoch: int | None, sealed: bytes | None
    ) -> SecretKey:
        """The function's key from this credential's grant, checked against its commitment."""
        cached = self._keys.get(function)
        if cached is not None and sealed is not None and cached[:2] == (epoch, bytes(sealed)):
            return cached[2]
        if sealed is None or grant_epoch != epoch:
            raise IntegrityError(
                f"this credential's key grant of {function} is missing or from another epoch: "
                "it was edited behind faas-tui's back"
            )
        aad = trust.grant_aad(self.store_id, self._grant_slot, fid, function, epoch)
        key = trust.open_grant(self._material.private, bytes(sealed), aad, what=function)
        verified = self._verified.get(function)
        commit = trust.key_commit(key, self.store_id, fid, epoch)
        if verified is None or not trust.same(commit, verified.commit):
            raise IntegrityError(
                f"the key grant of {function} holds another key than the function's: it was forged"
            )
        self._keys[function] = (epoch, bytes(sealed), key)
        return key

    # --- internals ----------------------------------------------------------------------------

    def _retrying(self, operation: Callable[[], T]) -> T:
        """Run a read; after a lost server connection, reconnect and run it once more."""
        try:
            return operation()
        except Disconnected:
            pass
        try:
            self._driver.reconnect()
            return operation()
        except Disconnected as exc:
            raise StoreError(lost_connection(self.location, exc.reason)) from None

    def _current_slot(self) -> bytes | None:
        found = self._driver.one(SLOT_WRAPPED_SQL, (self._slot_id,))
        return bytes(found[0]) if found else None

    def _decrypt(
        self, key: SecretKey, function: str, name: str, version: int, fmt: str,
        write_id: bytes | None, nonce: bytes, ciphertext: bytes,
    ) -> str:
        aad = trust.value_aad(self.store_id, function, name, version, fmt, bytes(write_id or b""))
        what = f"the value of {function}/{name}"
        return crypto.unseal(key, bytes(nonce), bytes(ciphertext), aad, what=what).decode("utf-8")

    def _check_slot(self, wrapped: bytes | None) -> None:
        """A key file whose slot is gone (revoked) stops working at once; an operator whose slot
        changed (`passwd`, removed) is told to create a new client."""
        if wrapped is None or bytes(wrapped) != self._slot_wrapped:
            raise WrongKeyError(REVOKED_KEY_FILE if self._key_file else REKEYED)


def _timed(row: Row, *columns: int) -> Row:
    """The row with its time columns as the digest encodes them, however the driver gave them."""
    out = list(row)
    for column in columns:
        out[column] = trust.time_text(out[column])
    return tuple(out)
