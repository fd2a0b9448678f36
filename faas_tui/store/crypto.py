"""AES-256-GCM values and key slots, Argon2id passphrase keys, HKDF sub-keys and HMACs.

Associated data is always length-prefixed (never joined with a separator), so that no two different
tuples of fields can encode to the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from faas_tui.core.errors import IntegrityError, ValidationError, WrongKeyError
from faas_tui.core.files import read_regular_file

KEY_BYTES = 32
NONCE_BYTES = 12
AAD_VERSION = b"faas-tui/v1"
KEY_FILE_MAGIC = "faas-tui-key-file-v1"


class SecretKey:
    """32 key bytes that never show themselves in a repr, a log or a traceback's locals."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if len(raw) != KEY_BYTES:
            raise ValueError("a key has 32 bytes")
        self._raw = raw

    @classmethod
    def generate(cls) -> SecretKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @property
    def raw(self) -> bytes:
        return self._raw

    def subkey(self, purpose: str) -> SecretKey:
        """An independent key for one purpose (manifest MAC, value fingerprints), by HKDF-SHA256."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode())
        return SecretKey(hkdf.derive(self._raw))

    def __repr__(self) -> str:
        return "SecretKey(<hidden>)"

    __str__ = __repr__


def encode_aad(*fields: str | bytes | int) -> bytes:
    """Length-prefixed encoding of the fields: 4-byte big-endian length, then the bytes."""
    out = bytearray(AAD_VERSION)
    for value in fields:
        data = value if isinstance(value, bytes) else str(value).encode("utf-8")
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


MANIFEST_MAC_PURPOSE = "faas-tui manifest mac"  # HKDF info of the manifest MAC sub-key


def value_aad(store_id: str, function: str, name: str, version: int, fmt: str) -> bytes:
    """The associated data of one stored value (shared by the Vault and the runtime toolbelt)."""
    return encode_aad("value", store_id, function, name, version, fmt)


def function_manifest(
    mac_key: SecretKey, store_id: str, function: str, rows: Iterable[Sequence[str | int]]
) -> bytes:
    """The MAC over a function's (name, version, format, kind) rows, given sorted by name."""
    fields = [field for row in rows for field in row]
    return mac(mac_key, encode_aad("function", store_id, function, *fields))


def seal(key: SecretKey, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """Encrypt with a fresh random 96-bit nonce; returns (nonce, ciphertext-with-tag)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key.raw).encrypt(nonce, plaintext, aad)


def unseal(key: SecretKey, nonce: bytes, ciphertext: bytes, aad: bytes, *, what: str) -> bytes:
    """Decrypt and authenticate, or raise IntegrityError naming `what` (never the data)."""
    if len(nonce) != NONCE_BYTES:
        raise IntegrityError(f"{what} is corrupt: its nonce has the wrong length")
    try:
        return AESGCM(key.raw).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise IntegrityError(
            f"{what} failed its integrity check: it was tampered with or moved; it is not returned"
        ) from None


def mac(key: SecretKey, data: bytes) -> bytes:
    return hmac.new(key.raw, data, hashlib.sha256).digest()


def same(a: bytes, b: bytes) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a, b)


# --- key slots -------------------------------------------------------------------------------


class KdfParams(NamedTuple):
    """Argon2id parameters, stored with each passphrase slot so they can be raised later.

    A NamedTuple, not a dataclass: importing `dataclasses` (inspect, ast) costs a function's cold
    start ~10 ms, and the runtime toolbelt imports this module.
    """

    salt: bytes
    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4

    @classmethod
    def fresh(cls) -> KdfParams:
        return cls(salt=os.urandom(16))


def derive_passphrase_key(passphrase: str, params: KdfParams) -> SecretKey:
    """Argon2id: the one deliberately slow step of unlocking (about 0.1–0.3 s)."""
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    kdf = Argon2id(
        salt=params.salt,
        length=KEY_BYTES,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    return SecretKey(kdf.derive(passphrase.encode("utf-8")))


def slot_aad(store_id: str, slot_id: str, kind: str) -> bytes:
    return encode_aad("slot", store_id, slot_id, kind)


def wrap_key(kek: SecretKey, data_key: SecretKey, aad: bytes) -> tuple[bytes, bytes]:
    return seal(kek, data_key.raw, aad)


def unwrap_key(kek: SecretKey, nonce: bytes, wrapped: bytes, aad: bytes, *, what: str) -> SecretKey:
    """Open a key slot; a failed GCM tag means the wrong passphrase or key (exit 3)."""
    try:
        return SecretKey(AESGCM(kek.raw).decrypt(nonce, wrapped, aad))
    except (InvalidTag, ValueError):
        raise WrongKeyError(
            f"wrong {what}: the store was not unlocked and nothing changed"
        ) from None


# --- key files -------------------------------------------------------------------------------


def key_file_text(store_id: str, slot_id: str, key: SecretKey) -> str:
    encoded = base64.urlsafe_b64encode(key.raw).decode("ascii")
    return f"{KEY_FILE_MAGIC} {store_id} {slot_id} {encoded}\n"


def parse_key_file(text: str) -> tuple[str, str, SecretKey]:
    """(store id, slot id, key) from a key file's text."""
    parts = text.split()
    if len(parts) != 4 or parts[0] != KEY_FILE_MAGIC:
        raise ValidationError(
            "not a faas-tui key file: create one with `faas-tui key-file add PATH`"
        )
    try:
        raw = base64.urlsafe_b64decode(parts[3].encode("ascii"))
        return parts[1], parts[2], SecretKey(raw)
    except ValueError:
        raise ValidationError("the key file is damaged: its key is not readable") from None


def read_key_file(path: str | os.PathLike[str]) -> tuple[str, str, SecretKey]:
    """Read a key file: a regular file (never a FIFO or device, never blocking) that group and
    others cannot read."""
    raw = read_regular_file(path, limit=4096, what="key file", private=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # binary bytes
        raise ValidationError(
            f"{os.fspath(path)} is not a faas-tui key file: create one with "
            "`faas-tui key-file add PATH`"
        ) from None
    return parse_key_file(text)
