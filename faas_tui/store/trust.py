"""The trust primitives of a store (no SQLAlchemy): credential boxes, per-function key grants,
Ed25519 manifests, key commitments, function digests and KDF range checks.

docs/trust.md describes the key hierarchy these build. The Vault and the lean runtime reader use
the same functions here, so what one writes the other checks byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from faas_tui.core.errors import IntegrityError
from faas_tui.store.crypto import KEY_BYTES, NONCE_BYTES, SecretKey, encode_aad, seal

EMPTY_LOG_HEAD = (0, "0" * 64)  # the event log's head before its first row
STORE_TAMPERED = (
    "the store's signed manifest does not match its rows: functions, secrets, versions, "
    "deployments, events or key slots were changed or rolled back behind faas-tui's back; "
    "nothing was read or changed (an admin can review with `faas-tui check`)"
)
CREDENTIALS_TAMPERED = (
    "the store's key slots do not match their signed list: a slot was added, removed or edited "
    "behind faas-tui's back (an admin can review with `faas-tui check`)"
)


CORRUPT_ROWS = (
    "the store's rows hold values of the wrong type or shape: they were edited behind "
    "faas-tui's back; nothing was read or changed (an admin can review with `faas-tui check`)"
)


class refusing_corrupt_rows:  # noqa: N801 - used like a function: `with refusing_corrupt_rows():`
    """Turn a row of the wrong type or shape (text in a key column, a cut blob, a huge number)
    into the integrity failure it is, instead of a TypeError deep inside."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None and issubclass(
            kind, (TypeError, ValueError, OverflowError, AttributeError, IndexError)
        ):
            raise IntegrityError(CORRUPT_ROWS) from None


def function_tampered(name: str) -> str:
    return (
        f"{name}'s secrets, versions, deployments or bindings do not match its signed digest: "
        "they were changed or rolled back behind faas-tui's back; nothing was read or changed"
    )


LEGACY_SLOT_ID = "legacy"  # the one credential every 0.1.0 key file opens
LEGACY_BOX_PURPOSE = "faas-tui legacy credential"
COMMIT_LABEL = b"faas-tui function key commitment"

# Argon2id parameters a slot may carry; anything else is an edit, refused before Argon2id runs.
KDF_MEMORY_KIB = (8 * 1024, 4 * 1024 * 1024)
KDF_ITERATIONS = (1, 16)
KDF_LANES = (1, 64)
KDF_SALT_BYTES = (16, 64)


def decode_fields(data: bytes) -> list[bytes]:
    """The fields `encode_aad` joined, or IntegrityError for bytes it did not write."""
    prefix = len(encode_aad())
    fields, at = [], prefix
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        if at + 4 + size > len(data):
            raise IntegrityError("a credential box is corrupt: its fields are cut short")
        fields.append(data[at + 4 : at + 4 + size])
        at += 4 + size
    return fields


# --- credential material ---------------------------------------------------------------------


class Material:
    """What a credential's box holds: its X25519 private key, the two verify keys it trusts, and
    (for writers) the content signing key, (for admins) the credential signing key, and the
    store-wide fingerprint key. Never shown in a repr."""

    __slots__ = ("admin_sk", "admin_vk", "fingerprint", "private", "writer_sk", "writer_vk")

    def __init__(
        self,
        private: bytes,
        writer_vk: bytes,
        admin_vk: bytes,
        writer_sk: bytes = b"",
        admin_sk: bytes = b"",
        fingerprint: bytes = b"",
    ) -> None:
        self.private = private
        self.writer_vk = writer_vk
        self.admin_vk = admin_vk
        self.writer_sk = writer_sk
        self.admin_sk = admin_sk
        self.fingerprint = fingerprint

    def __repr__(self) -> str:
        return "Material(<hidden>)"

    def encode(self) -> bytes:
        return encode_aad(
            self.private,
            self.writer_vk,
            self.admin_vk,
            self.writer_sk,
            self.admin_sk,
            self.fingerprint,
        )

    @classmethod
    def decode(cls, data: bytes) -> Material:
        fields = decode_fields(data)
        if len(fields) != 6:
            raise IntegrityError("a credential box is corrupt: it holds the wrong fields")
        return cls(*fields)

    def public_key(self) -> bytes:
        return public_of(self.private)

    def for_role(self, *, writer: bool, admin: bool) -> Material:
        """The same trust with only the signing keys a role holds (a new credential's box)."""
        return Material(
            X25519PrivateKey.generate().private_bytes_raw(),
            self.writer_vk,
            self.admin_vk,
            self.writer_sk if writer else b"",
            self.admin_sk if admin else b"",
            self.fingerprint if writer else b"",
        )

    @classmethod
    def new_store(cls) -> Material:
        """A new store's first admin: every key fresh."""
        writer, admin = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        return cls(
            X25519PrivateKey.generate().private_bytes_raw(),
            writer.public_key().public_bytes_raw(),
            admin.public_key().public_bytes_raw(),
            writer.private_bytes_raw(),
            admin.private_bytes_raw(),
            SecretKey.generate().raw,
        )


def public_of(private: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


class SlotFields(NamedTuple):
    """What a credential's box is bound to: editing any of it makes the box fail to open."""

    store_id: str
    slot_id: str
    kind: str
    role: str
    operator: str
    scope: str
    label: str
    salt: bytes
    memory_kib: int
    iterations: int
    lanes: int
    public_key: bytes


def box_aad(fields: SlotFields) -> bytes:
    """The box's associated data: which slot it is. The rest of the slot's fields are bound by
    a digest inside the box, so an edit is told apart from a wrong passphrase."""
    return encode_aad("box", fields.store_id, fields.slot_id, fields.kind)


def fields_digest(fields: SlotFields) -> bytes:
    return hashlib.sha256(encode_aad("slot fields", *fields)).digest()


def seal_box(kek: SecretKey, material: Material, fields: SlotFields) -> tuple[bytes, bytes]:
    plain = encode_aad(fields_digest(fields), material.encode())
    return seal(kek, plain, box_aad(fields))


def open_box(kek: SecretKey, nonce: bytes, box: bytes, fields: SlotFields) -> Material | None:
    """The material; None when the key is wrong; IntegrityError when the slot's role, operator,
    scope, label, KDF parameters or public key were edited since the box was sealed."""
    if len(nonce) != NONCE_BYTES:
        return None
    try:
        plain = AESGCM(kek.raw).decrypt(nonce, box, box_aad(fields))
    except (InvalidTag, ValueError):
        return None
    parts = decode_fields(plain)
    if len(parts) != 2 or not hmac.compare_digest(parts[0], fields_digest(fields)):
        raise IntegrityError(
            f"key slot {fields.slot_id}'s role, operator, scope, label or KDF parameters were "
            "edited behind faas-tui's back; it is not used (an admin can review with "
            "`faas-tui check`)"
        )
    material = Material.decode(parts[1])
    if material.public_key() != fields.public_key:
        raise IntegrityError(
            f"key slot {fields.slot_id}'s public key was edited behind faas-tui's back"
        )
    return material


def legacy_kek(old_data_key: SecretKey) -> SecretKey:
    """The key of the shared legacy credential's box, from the 0.1.0 data key."""
    return old_data_key.subkey(LEGACY_BOX_PURPOSE)


def kdf_problem(salt: bytes | None, memory_kib: Any, iterations: Any, lanes: Any) -> str | None:
    """Why a slot's Argon2id parameters cannot be right (checked before Argon2id runs)."""
    checks = (
        ("memory (KiB)", memory_kib, KDF_MEMORY_KIB),
        ("iterations", iterations, KDF_ITERATIONS),
        ("lanes", lanes, KDF_LANES),
        ("salt length", len(salt) if isinstance(salt, bytes) else None, KDF_SALT_BYTES),
    )
    for what, value, (low, high) in checks:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            return (
                f"a key slot's Argon2id {what} is {value!r}, outside {low}–{high}: the slot was "
                "edited; an admin can review it with `faas-tui check`"
            )
    return None


# --- grants of function keys -----------------------------------------------------------------


def grant_aad(store_id: str, slot_id: str, function_id: int, function: str, epoch: int) -> bytes:
    return encode_aad("grant", store_id, slot_id, function_id, function, epoch)


def _grant_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=ephemeral + recipient, info=b"grant"
    )
    return hkdf.derive(shared)


def seal_grant(recipient_public: bytes, key: SecretKey, aad: bytes) -> bytes:
    """The key sealed to a credential's X25519 public key: ephemeral public | nonce | ciphertext."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    wrapping = SecretKey(_grant_key(shared, ephemeral_public, recipient_public))
    nonce, sealed = seal(wrapping, key.raw, aad)
    return ephemeral_public + nonce + sealed


def open_grant(private: bytes, sealed: bytes, aad: bytes, *, what: str) -> SecretKey:
    mine = X25519PrivateKey.from_private_bytes(private)
    ephemeral_public, nonce, body = sealed[:32], sealed[32:44], sealed[44:]
    try:
        shared = mine.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        wrapping = _grant_key(shared, ephemeral_public, mine.public_key().public_bytes_raw())
        return SecretKey(AESGCM(wrapping).decrypt(nonce, body, aad))
    except (InvalidTag, ValueError):
        raise IntegrityError(
            f"the key grant of {what} failed its check: it was edited or copied from "
            "another credential or an older key"
        ) from None


def key_commit(key: SecretKey, store_id: str, function_id: int, epoch: int) -> bytes:
    """A commitment to a function's data key: a grant of any other key is refused."""
    return hmac.new(
        key.raw, COMMIT_LABEL + encode_aad(store_id, function_id, epoch), hashlib.sha256
    ).digest()


# --- signatures and digests ------------------------------------------------------------------


def sign(private_seed: bytes, data: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private_seed).sign(data)


def signed_by(verify_key: bytes, signature: bytes | None, data: bytes) -> bool:
    if not signature or len(verify_key) != 32:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(verify_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def time_text(value: Any) -> str:
    """One text for a stored time: `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, as SQLite stores it and
    as PostgreSQL is asked to format it; a datetime (a driver's) is formatted the same way (naive
    means UTC). Text is taken as it is: an edited time no longer matches its digest."""
    if value is None or isinstance(value, str):
        return value or ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return str(value.isoformat(sep=" ", timespec="microseconds"))


def credential_manifest(store_id: str, slots: Iterable[Sequence[Any]]) -> bytes:
    """What the admin key signs: every slot's (id, kind, role, operator, label, scope, public
    key), given sorted by id."""
    fields = [_field(value) for row in slots for value in (*row, "|")]
    return encode_aad("credentials", store_id, *fields)


def content_manifest(
    store_id: str,
    generation: int,
    credentials: bytes,
    head: tuple[int, str],
    functions: Iterable[Sequence[Any]],
) -> bytes:
    """What the writer key signs: the store, its generation, the credential manifest's hash,
    the event log's head, and each function's (name, id, epoch, digest), sorted by name."""
    fields = [_field(value) for row in functions for value in row]
    cred_hash = hashlib.sha256(credentials).digest()
    return encode_aad("content", store_id, generation, cred_hash, *head, *fields)


class FunctionRows(NamedTuple):
    """A function's rows that its digest covers, each list sorted as given by the queries."""

    secrets: list[Sequence[Any]]  # name, kind, version, format, write id, fingerprint,
    #                               description, scopes, created, updated
    versions: list[Sequence[Any]]  # secret name, version, format, write id
    deployments: list[Sequence[Any]]  # number, actor, created
    bindings: list[Sequence[Any]]  # deployment number, name, version, write id


def function_digest(
    store_id: str,
    function_id: int,
    name: str,
    epoch: int,
    commit: bytes,
    source_dir: str | None,
    rows: FunctionRows,
) -> bytes:
    """SHA-256 over everything of one function but its ciphertexts (AES-GCM covers those): the
    `encode_aad` encoding of the fields, built in one pass (a store's open hashes every row)."""
    parts = [encode_aad("function", store_id, function_id, name, epoch, commit, _field(source_dir))]
    for label, group in zip(("s", "v", "d", "b"), rows, strict=True):
        parts.append(_encoded(f"{label}{len(group)}"))
        parts.extend(_encoded(_field(value)) for row in group for value in row)
    return hashlib.sha256(b"".join(parts)).digest()


def _encoded(value: str | bytes | int) -> bytes:
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def _field(value: Any) -> str | bytes | int:
    if isinstance(value, (bytes, str, int)):
        return value
    if value is None:
        return b"\x00none"
    if isinstance(value, datetime):
        return time_text(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return str(value)


def same(a: bytes | None, b: bytes | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a, b)


def value_aad(
    store_id: str, function: str, name: str, version: int, fmt: str, write_id: bytes
) -> bytes:
    """The associated data of one stored value: its store, function, name, version, format and
    the write that stored it (the Vault and the runtime readers share it)."""
    return encode_aad("value2", store_id, function, name, version, fmt, write_id)
