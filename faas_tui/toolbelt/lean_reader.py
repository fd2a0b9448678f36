"""The runtime's lean read path, whatever the database: the SQL, the integrity checks, decryption.

A driver (sqlite_reader: stdlib `sqlite3`; pg_reader: psycopg) only runs these statements on one
kept connection; everything a function relies on — unlocking, the key-slot check, the manifest MAC,
AES-GCM and the texts of every refusal — is written once, here.

This is a function's cold start, so it imports only `faas_tui.core`, `faas_tui.store.crypto` and
`faas_tui.store.keyring` (the Vault's own unlocking, which needs no SQLAlchemy). It reads the tables
the Vault writes (faas_tui/store/models.py) with the same associated data and manifest MAC
(`crypto.value_aad`, `crypto.function_manifest`), and raises the same texts
(`faas_tui.core.messages`), so the readers cannot drift apart.

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
from _thread import allocate_lock  # threading.Lock itself, without importing threading
from collections.abc import Callable
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
    manifest_mismatch,
    never_deployed,
    no_function,
    no_secret,
    no_store,
    schema_mismatch,
    version_missing,
)
from faas_tui.store import crypto, keyring
from faas_tui.store.crypto import SecretKey
from faas_tui.toolbelt.source import Deployed, StoredValue

# Placeholders are `?`; a driver whose database wants another style rewrites them once.
META_SQL = "SELECT store_id, schema_version FROM store_meta WHERE id = 1"
SLOT_SQL = (
    "SELECT id, kind, nonce, wrapped, salt, kdf_memory_kib, kdf_iterations, kdf_lanes "
    "FROM key_slot WHERE id = ?"
)
KDF_SLOT_SQL = (
    "SELECT id, kind, nonce, wrapped, salt, kdf_memory_kib, kdf_iterations, kdf_lanes "
    "FROM key_slot WHERE kind = ?"
)
# One statement, so one consistent snapshot, and always exactly one row: the key slot this reader
# unlocked with (NULL once revoked), the function's manifest MAC (NULL: no such function), the
# secret (NULL: no such secret) and its current version's ciphertext.
VALUE_SQL = """
SELECT (SELECT wrapped FROM key_slot WHERE id = ?), f.manifest_mac, s.kind, s.version, s.format,
       v.version, v.format, v.nonce, v.ciphertext
FROM (SELECT 1) AS one
LEFT JOIN function AS f ON f.name = ?
LEFT JOIN secret AS s ON s.function_id = f.id AND s.name = ?
LEFT JOIN secret_version AS v ON v.secret_id = s.id AND v.version = s.version
"""
SLOT_WRAPPED_SQL = "SELECT wrapped FROM key_slot WHERE id = ?"
FUNCTION_SQL = "SELECT id, manifest_mac FROM function WHERE name = ?"
MANIFEST_ROWS_SQL = (
    "SELECT name, version, format, kind FROM secret WHERE function_id = ? ORDER BY name"
)
DEPLOYMENT_SQL = (
    "SELECT id, number FROM deployment WHERE function_id = ? ORDER BY number DESC LIMIT 1"
)
BINDINGS_SQL = """
SELECT b.secret_name, b.secret_id, b.version, s.kind, v.format, v.nonce, v.ciphertext
FROM binding AS b
LEFT JOIN secret AS s ON s.id = b.secret_id
LEFT JOIN secret_version AS v ON v.secret_id = b.secret_id AND v.version = b.version
WHERE b.deployment_id = ?
ORDER BY b.secret_name
"""
STATEMENTS = (
    META_SQL,
    SLOT_SQL,
    KDF_SLOT_SQL,
    VALUE_SQL,
    SLOT_WRAPPED_SQL,
    FUNCTION_SQL,
    MANIFEST_ROWS_SQL,
    DEPLOYMENT_SQL,
    BINDINGS_SQL,
)

Manifest = dict[str, tuple[int, str, str]]  # name -> (version, format, kind)
Row = tuple[Any, ...]
T = TypeVar("T")


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


class LeanReader:
    """An unlocked, read-only reader of one store over a driver. Safe to share between threads."""

    def __init__(
        self,
        driver: Driver,
        *,
        key_file: str | os.PathLike[str] | None = None,
        passphrase: str | None = None,
    ) -> None:
        self._driver = driver
        self.location = driver.location
        self._lock = allocate_lock()
        self._verified: dict[str, tuple[bytes, Manifest]] = {}
        self._warned: set[tuple[str, bytes]] = set()
        self.pending_warnings: list[str] = []  # integrity warnings for the caller to emit
        try:
            with self._lock:
                self._retrying(lambda: self._unlock(key_file, passphrase))
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    # --- opening ------------------------------------------------------------------------------

    def _unlock(self, key_file: str | os.PathLike[str] | None, passphrase: str | None) -> None:
        meta = self._driver.one(META_SQL, ())
        if meta is None:
            raise NotFoundError(no_store(self.location))
        self.store_id, schema = meta
        if schema != SCHEMA_VERSION:
            raise StoreError(schema_mismatch(schema, SCHEMA_VERSION))
        unlocked = keyring.unlock(  # the Vault's own unlocking, on rows read by the driver
            self.store_id,
            passphrase=passphrase,
            key_file=key_file,
            passphrase_slot=lambda: self._slot_row(KDF_SLOT_SQL, (SlotKind.PASSPHRASE.value,)),
            slot_by_id=lambda slot_id: self._slot_row(SLOT_SQL, (slot_id,)),
        )
        self._key: SecretKey = unlocked.data_key
        self._mac_key = self._key.subkey(crypto.MANIFEST_MAC_PURPOSE)
        self._slot_id: str = unlocked.slot_id
        self._slot_wrapped: bytes = unlocked.wrapped
        self._key_file = key_file is not None

    def _slot_row(self, sql: str, params: tuple[Any, ...]) -> keyring.SlotRow | None:
        row = self._driver.one(sql, params)
        return None if row is None else _Slot(*row)

    # --- reading ------------------------------------------------------------------------------

    def check_function(self, function: str) -> None:
        def check() -> None:
            with self._driver.snapshot():
                self._function_row(function, slot=self._slot_wrapped)

        with self._lock:
            self._retrying(check)

    def read(self, function: str, name: str) -> StoredValue:
        params = (self._slot_id, function, name)
        driver = self._driver

        def fetch() -> Row:
            row = driver.one(VALUE_SQL, params)
            assert row is not None  # the statement always yields one row
            self._check_slot(row[0])
            if self._consistent(function, name, row):
                return row
            with driver.snapshot():  # re-read with the manifest, in one snapshot
                row = driver.one(VALUE_SQL, params)
                assert row is not None
                self._check_slot(row[0])
                if row[1] is not None:
                    self._function_row(function, slot=row[0])
            return row

        with self._lock:
            row = self._retrying(fetch)
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
        driver = self._driver

        def fetch() -> tuple[bytes | None, int, list[Row]]:
            with driver.snapshot():
                found = driver.one(SLOT_WRAPPED_SQL, (self._slot_id,))
                slot = found[0] if found else None
                self._check_slot(slot)
                function_id = self._function_row(function, slot=slot)
                active = driver.one(DEPLOYMENT_SQL, (function_id,))
                if active is None:
                    raise ConflictError(never_deployed(function))
                deployment_id, number = active
                return slot, number, driver.all(BINDINGS_SQL, (deployment_id,))

        with self._lock:
            slot, number, rows = self._retrying(fetch)
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
        self._driver.close()

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

    def _consistent(self, function: str, name: str, row: Row) -> bool:
        """Whether the row agrees with the manifest this reader last verified for the function."""
        verified = self._verified.get(function)
        if verified is None or row[1] != verified[0]:
            return False
        return verified[1].get(name) == (row[3], row[4], row[2])

    def _function_row(self, function: str, *, slot: bytes | None) -> int:
        """The function's id, after verifying its manifest MAC against its secret rows."""
        found = self._driver.one(FUNCTION_SQL, (function,))
        if found is None:
            raise NotFoundError(no_function(function))
        function_id, stored_mac = found
        rows = self._driver.all(MANIFEST_ROWS_SQL, (function_id,))
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
