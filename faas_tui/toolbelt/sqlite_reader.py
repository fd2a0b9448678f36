"""The lean reader of a SQLite store: stdlib `sqlite3` opened read-only, and AES-GCM. No SQLAlchemy.

This is a function's cold start, so it imports only `faas_tui.core`, `faas_tui.store.crypto` and
`faas_tui.store.keyring` (the Vault's own unlocking, which needs no SQLAlchemy). It reads the tables
the Vault writes (faas_tui/store/models.py) with the same associated data and manifest MAC
(`crypto.value_aad`, `crypto.function_manifest`), and raises the same texts
(`faas_tui.core.messages`), so the two readers cannot drift apart.

Integrity checks on this path:
- every value is authenticated by AES-GCM with its store, function, name, version and format;
- the function's manifest MAC is verified when the client first sees the function, and again
  whenever a value read does not match the manifest it last verified (cheap: one extra query only
  after a change); a mismatch warns (StoreIntegrityWarning), as the Vault does;
- the key slot the client unlocked with is re-read with every value: a revoked key file stops working.
The store-wide manifest (all functions, event log head, key slots) is left to the Vault.
"""

from __future__ import annotations

import os
import sqlite3
from _thread import allocate_lock  # threading.Lock itself, without importing threading
from typing import Any, NamedTuple

from faas_tui.core import constants
from faas_tui.core.constants import SCHEMA_VERSION
from faas_tui.core.errors import (
    BindingBrokenError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    SecretNotFoundError,
    StoreError,
    WrongKeyError,
    damaged_store,
)
from faas_tui.core.kinds import SecretKind, SlotKind
from faas_tui.core.messages import (
    REKEYED,
    REVOKED_KEY_FILE,
    binding_broken,
    manifest_mismatch,
    never_deployed,
    no_function,
    no_secret,
    no_store,
    schema_mismatch,
    store_busy,
    version_missing,
)
from faas_tui.store import crypto, keyring
from faas_tui.store.crypto import SecretKey
from faas_tui.toolbelt.source import Deployed, StoredValue

_META_SQL = "SELECT store_id, schema_version FROM store_meta WHERE id = 1"
_SLOT_SQL = (
    "SELECT id, kind, nonce, wrapped, salt, kdf_memory_kib, kdf_iterations, kdf_lanes "
    "FROM key_slot WHERE id = ?"
)
_KDF_SLOT_SQL = (
    "SELECT id, kind, nonce, wrapped, salt, kdf_memory_kib, kdf_iterations, kdf_lanes "
    "FROM key_slot WHERE kind = ?"
)
# One statement, so one consistent snapshot, and always exactly one row: the key slot this reader
# unlocked with (NULL once revoked), the function's manifest MAC (NULL: no such function), the
# secret (NULL: no such secret) and its current version's ciphertext.
_VALUE_SQL = """
SELECT (SELECT wrapped FROM key_slot WHERE id = ?), f.manifest_mac, s.kind, s.version, s.format,
       v.version, v.format, v.nonce, v.ciphertext
FROM (SELECT 1) AS one
LEFT JOIN function AS f ON f.name = ?
LEFT JOIN secret AS s ON s.function_id = f.id AND s.name = ?
LEFT JOIN secret_version AS v ON v.secret_id = s.id AND v.version = s.version
"""
_SLOT_WRAPPED_SQL = "SELECT wrapped FROM key_slot WHERE id = ?"
_FUNCTION_SQL = "SELECT id, manifest_mac FROM function WHERE name = ?"
_MANIFEST_ROWS_SQL = (
    "SELECT name, version, format, kind FROM secret WHERE function_id = ? ORDER BY name"
)
_DEPLOYMENT_SQL = (
    "SELECT id, number FROM deployment WHERE function_id = ? ORDER BY number DESC LIMIT 1"
)
_BINDINGS_SQL = """
SELECT b.secret_name, b.secret_id, b.version, s.kind, v.format, v.nonce, v.ciphertext
FROM binding AS b
LEFT JOIN secret AS s ON s.id = b.secret_id
LEFT JOIN secret_version AS v ON v.secret_id = b.secret_id AND v.version = b.version
WHERE b.deployment_id = ?
ORDER BY b.secret_name
"""

Manifest = dict[str, tuple[int, str, str]]  # name -> (version, format, kind)


class SqliteReader:
    """An unlocked, read-only connection to one SQLite store. Safe to share between threads."""

    def __init__(
        self,
        path: str,
        *,
        key_file: str | os.PathLike[str] | None = None,
        passphrase: str | None = None,
    ) -> None:
        self.location = path
        self._lock = allocate_lock()
        self._pid = os.getpid()
        self._con: sqlite3.Connection | None = self._connect()
        try:
            self._unlock(key_file, passphrase)
        except BaseException:
            self.close()
            raise
        self._verified: dict[str, tuple[bytes, Manifest]] = {}
        self._warned: set[tuple[str, bytes]] = set()
        self.pending_warnings: list[str] = []  # integrity warnings for the caller to emit

    def __repr__(self) -> str:
        return f"SqliteReader({self.location!r})"

    # --- opening ------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            empty = os.stat(self.location).st_size == 0
        except FileNotFoundError:
            empty = True
        except OSError as exc:
            raise StoreError(f"cannot open the store {self.location}: {exc.strerror}") from None
        if empty:
            raise NotFoundError(no_store(self.location))
        try:
            return sqlite3.connect(
                "file:" + _uri_path(self.location) + "?mode=ro",
                uri=True,
                timeout=constants.BUSY_TIMEOUT_S,
                isolation_level=None,  # autocommit; snapshots use an explicit BEGIN
                check_same_thread=False,  # guarded by self._lock
            )
        except sqlite3.Error as exc:
            raise _store_error(exc, self.location) from None

    def _unlock(self, key_file: str | os.PathLike[str] | None, passphrase: str | None) -> None:
        meta = self._query_one(_META_SQL, ())
        if meta is None:
            raise NotFoundError(no_store(self.location))
        self.store_id, schema = meta
        if schema != SCHEMA_VERSION:
            raise StoreError(schema_mismatch(schema, SCHEMA_VERSION))
        unlocked = keyring.unlock(  # the Vault's own unlocking, on rows read with sqlite3
            self.store_id,
            passphrase=passphrase,
            key_file=key_file,
            passphrase_slot=lambda: self._slot_row(_KDF_SLOT_SQL, (SlotKind.PASSPHRASE.value,)),
            slot_by_id=lambda slot_id: self._slot_row(_SLOT_SQL, (slot_id,)),
        )
        self._key: SecretKey = unlocked.data_key
        self._mac_key = self._key.subkey(crypto.MANIFEST_MAC_PURPOSE)
        self._slot_id: str = unlocked.slot_id
        self._slot_wrapped: bytes = unlocked.wrapped
        self._key_file = key_file is not None

    def _slot_row(self, sql: str, params: tuple[Any, ...]) -> keyring.SlotRow | None:
        row = self._query_one(sql, params)
        return None if row is None else _Slot(*row)

    # --- reading ------------------------------------------------------------------------------

    def check_function(self, function: str) -> None:
        with self._lock:
            con = self._connection()
            with _snapshot(con, self.location):
                self._function_row(con, function, slot=self._slot_wrapped)

    def read(self, function: str, name: str) -> StoredValue:
        params = (self._slot_id, function, name)
        with self._lock:
            con = self._connection()
            row = _fetch_row(con, _VALUE_SQL, params, self.location)
            self._check_slot(row[0])
            if not self._consistent(function, name, row):
                with _snapshot(con, self.location):  # re-read with the manifest, one snapshot
                    row = _fetch_row(con, _VALUE_SQL, params, self.location)
                    self._check_slot(row[0])
                    if row[1] is not None:
                        self._function_row(con, function, slot=row[0])
        slot, function_mac, kind, _, _, version, fmt, nonce, ciphertext = row
        if function_mac is None:
            raise NotFoundError(no_function(function))
        if kind is None:
            raise SecretNotFoundError(no_secret(function, name))
        if nonce is None:
            raise IntegrityError(f"{function}/{name}'s current value is missing from the store")
        text = self._decrypt(function, name, version, fmt, nonce, ciphertext, slot)
        return StoredValue(name, kind, text, fmt)

    def deployed(self, function: str) -> Deployed:
        with self._lock:
            con = self._connection()
            with _snapshot(con, self.location):
                found = _fetch_one(con, _SLOT_WRAPPED_SQL, (self._slot_id,), self.location)
                slot = found[0] if found else None
                self._check_slot(slot)
                function_id = self._function_row(con, function, slot=slot)
                active = _fetch_one(con, _DEPLOYMENT_SQL, (function_id,), self.location)
                if active is None:
                    raise ConflictError(never_deployed(function))
                deployment_id, number = active
                rows = _fetch_all(con, _BINDINGS_SQL, (deployment_id,), self.location)
        broken = [name for name, secret_id, *_ in rows if secret_id is None]
        if broken:
            raise BindingBrokenError(binding_broken(function, number, broken))
        values: dict[str, StoredValue] = {}
        for name, _, version, kind, fmt, nonce, ciphertext in rows:
            if nonce is None:
                raise IntegrityError(version_missing(function, name, version))
            text = self._decrypt(function, name, version, fmt, nonce, ciphertext, slot)
            values[name] = StoredValue(name, kind or SecretKind.USER, text, fmt)
        return Deployed(number, values)

    def take_warnings(self) -> list[str]:
        """Integrity warnings found since the last call, for the caller to emit."""
        with self._lock:
            taken, self.pending_warnings = self.pending_warnings, []
        return taken

    def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            con.close()

    # --- internals ----------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """The connection, reopened after a fork (a SQLite handle must not cross one)."""
        if self._con is None:
            raise StoreError("this client is closed")
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._con = self._connect()
        return self._con

    def _query_one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        assert self._con is not None
        return _fetch_one(self._con, sql, params, self.location)

    def _decrypt(
        self,
        function: str,
        name: str,
        version: int,
        fmt: str,
        nonce: bytes,
        ciphertext: bytes,
        slot: bytes | None,
    ) -> str:
        aad = crypto.value_aad(self.store_id, function, name, version, fmt)
        try:
            plain = crypto.unseal(
                self._key, nonce, ciphertext, aad, what=f"the value of {function}/{name}"
            )
        except IntegrityError:
            if slot != self._slot_wrapped:  # passphrase mode: the store was re-keyed meanwhile
                raise WrongKeyError(REKEYED) from None
            raise
        return plain.decode("utf-8")

    def _check_slot(self, wrapped: bytes | None) -> None:
        """A key file whose slot is gone (revoked, or rotate-key) stops working at once."""
        if self._key_file and wrapped != self._slot_wrapped:
            raise WrongKeyError(REVOKED_KEY_FILE)

    def _consistent(self, function: str, name: str, row: tuple[Any, ...]) -> bool:
        """Whether the row agrees with the manifest this reader last verified for the function."""
        verified = self._verified.get(function)
        if verified is None or row[1] != verified[0]:
            return False
        return verified[1].get(name) == (row[3], row[4], row[2])

    def _function_row(self, con: sqlite3.Connection, function: str, *, slot: bytes | None) -> int:
        """The function's id, after verifying its manifest MAC against its secret rows."""
        found = _fetch_one(con, _FUNCTION_SQL, (function,), self.location)
        if found is None:
            raise NotFoundError(no_function(function))
        function_id, stored_mac = found
        rows = _fetch_all(con, _MANIFEST_ROWS_SQL, (function_id,), self.location)
        computed = crypto.function_manifest(self._mac_key, self.store_id, function, rows)
        if crypto.same(stored_mac, computed):
            self._verified[function] = (stored_mac, {n: (v, f, k) for n, v, f, k in rows})
        elif slot != self._slot_wrapped:  # passphrase mode: re-keyed since we unlocked
            raise WrongKeyError(REKEYED)
        else:
            self._verified.pop(function, None)
            self._warn_manifest(function, stored_mac)
        return int(function_id)

    def _warn_manifest(self, function: str, stored_mac: bytes) -> None:
        """Queue the warning once per function and manifest; the client emits it."""
        if (function, stored_mac) not in self._warned:
            self._warned.add((function, stored_mac))
            self.pending_warnings.append(manifest_mismatch(function))


class _snapshot:  # noqa: N801 - used like a function: `with _snapshot(con, where):`
    """One read transaction: every query inside sees the same committed state."""

    def __init__(self, con: sqlite3.Connection, location: str) -> None:
        self._con = con
        self._location = location

    def __enter__(self) -> None:
        try:
            self._con.execute("BEGIN")
        except sqlite3.Error as exc:
            raise _store_error(exc, self._location) from None

    def __exit__(self, *exc: object) -> None:
        if self._con.in_transaction:
            self._con.execute("COMMIT")  # read-only: nothing to roll back


class _Slot(NamedTuple):
    """A key_slot row as the keyring reads it."""

    id: str
    kind: str
    nonce: bytes
    wrapped: bytes
    salt: bytes | None
    kdf_memory_kib: int | None
    kdf_iterations: int | None
    kdf_lanes: int | None


def _fetch_one(
    con: sqlite3.Connection, sql: str, params: tuple[Any, ...], location: str
) -> tuple[Any, ...] | None:
    try:
        row: tuple[Any, ...] | None = con.execute(sql, params).fetchone()
    except sqlite3.Error as exc:
        raise _store_error(exc, location) from None
    return row


def _fetch_row(
    con: sqlite3.Connection, sql: str, params: tuple[Any, ...], location: str
) -> tuple[Any, ...]:
    row = _fetch_one(con, sql, params, location)
    assert row is not None  # the statement always yields one row
    return row


def _fetch_all(
    con: sqlite3.Connection, sql: str, params: tuple[Any, ...], location: str
) -> list[tuple[Any, ...]]:
    try:
        return con.execute(sql, params).fetchall()
    except sqlite3.Error as exc:
        raise _store_error(exc, location) from None


def _store_error(exc: sqlite3.Error, location: str) -> Exception:
    """sqlite3's one-line reason as the tool's error; never the statement or its parameters."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "no such table" in reason:
        return NotFoundError(no_store(location))
    damaged = damaged_store(location, reason)
    if damaged is not None:
        return damaged
    if "locked" in reason or "busy" in reason:
        return ConflictError(store_busy(constants.BUSY_TIMEOUT_S))
    return StoreError(f"the store failed: {reason}")


def _uri_path(path: str) -> str:
    """An absolute path for a `file:` URI: characters with a meaning in URIs percent-encoded."""
    absolute = os.path.abspath(path)
    return "//" + absolute.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
