"""AES-256-GCM values, length-prefixed associated data, key slots and key files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faas_tui.core.errors import IntegrityError, ValidationError, WrongKeyError
from faas_tui.store import crypto
from faas_tui.store.crypto import KdfParams, SecretKey

_FIELD = st.one_of(st.text(max_size=20), st.binary(max_size=20), st.integers(0, 2**40))


@given(st.lists(_FIELD, max_size=6), st.lists(_FIELD, max_size=6))
def test_associated_data_of_different_fields_never_collides(a: list, b: list) -> None:
    def canonical(fields: list) -> list[bytes]:
        return [f if isinstance(f, bytes) else str(f).encode() for f in fields]

    if canonical(a) != canonical(b):
        assert crypto.encode_aad(*a) != crypto.encode_aad(*b)


def test_associated_data_is_length_prefixed_not_joined() -> None:
    assert crypto.encode_aad("ab", "c") != crypto.encode_aad("a", "bc")
    assert crypto.encode_aad("a|b") != crypto.encode_aad("a", "b")
    assert crypto.encode_aad("x", "") != crypto.encode_aad("x")
    assert crypto.encode_aad("ab") == crypto.AAD_VERSION + b"\x00\x00\x00\x02ab"


@given(st.binary(max_size=70_000), st.binary(max_size=64))
@settings(max_examples=60)
def test_seal_and_unseal_round_trip_any_bytes(plaintext: bytes, aad: bytes) -> None:
    key = SecretKey.generate()
    nonce, ciphertext = crypto.seal(key, plaintext, aad)
    assert len(nonce) == crypto.NONCE_BYTES
    assert len(ciphertext) == len(plaintext) + 16
    assert crypto.unseal(key, nonce, ciphertext, aad, what="v") == plaintext


def test_nonces_are_fresh() -> None:
    key = SecretKey.generate()
    nonces = {crypto.seal(key, b"same", b"aad")[0] for _ in range(200)}
    assert len(nonces) == 200


@given(st.binary(min_size=1, max_size=200), st.data())
@settings(max_examples=100)
def test_any_single_bit_flip_is_refused(plaintext: bytes, data: st.DataObject) -> None:
    key = SecretKey.generate()
    nonce, ciphertext = crypto.seal(key, plaintext, b"aad")
    blob = bytearray(nonce + ciphertext)
    bit = data.draw(st.integers(0, len(blob) * 8 - 1))
    blob[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(IntegrityError, match="failed its integrity check"):
        crypto.unseal(key, bytes(blob[:12]), bytes(blob[12:]), b"aad", what="the value")


def test_other_associated_data_or_key_is_refused() -> None:
    key = SecretKey.generate()
    nonce, ciphertext = crypto.seal(key, b"value", crypto.encode_aad("value", "s", "fn", "A", 1))
    with pytest.raises(IntegrityError):
        crypto.unseal(
            key, nonce, ciphertext, crypto.encode_aad("value", "s", "fn", "B", 1), what="v"
        )
    with pytest.raises(IntegrityError):
        crypto.unseal(
            key, nonce, ciphertext, crypto.encode_aad("value", "s", "fn", "A", 2), what="v"
        )
    with pytest.raises(IntegrityError):
        crypto.unseal(SecretKey.generate(), nonce, ciphertext, b"", what="v")
    with pytest.raises(IntegrityError, match="nonce has the wrong length"):
        crypto.unseal(key, nonce[:8], ciphertext, b"", what="v")


def test_a_key_never_shows_itself() -> None:
    key = SecretKey.generate()
    for shown in (repr(key), str(key), f"{key}", repr([key])):
        assert key.raw.hex() not in shown and str(key.raw) not in shown
        assert "hidden" in shown
    with pytest.raises(ValueError):
        SecretKey(b"short")


def test_subkeys_are_independent_and_deterministic() -> None:
    key = SecretKey.generate()
    a, b = key.subkey("manifest"), key.subkey("fingerprint")
    assert a.raw != b.raw != key.raw
    assert key.subkey("manifest").raw == a.raw


def test_default_kdf_meets_the_spec_floor() -> None:
    params = KdfParams.fresh()
    assert params.memory_kib >= 64 * 1024
    assert params.iterations >= 3
    assert len(params.salt) == 16
    assert KdfParams.fresh().salt != params.salt


def test_passphrase_slot_opens_only_with_the_right_passphrase() -> None:
    params = KdfParams(salt=os.urandom(16), memory_kib=8 * 1024, iterations=1, lanes=1)
    data_key = SecretKey.generate()
    kek = crypto.derive_passphrase_key("correct horse", params)
    assert crypto.derive_passphrase_key("correct horse", params).raw == kek.raw
    aad = crypto.slot_aad("store", "slot", "passphrase")
    nonce, wrapped = crypto.wrap_key(kek, data_key, aad)
    assert crypto.unwrap_key(kek, nonce, wrapped, aad, what="passphrase").raw == data_key.raw
    wrong = crypto.derive_passphrase_key("wrong horse", params)
    with pytest.raises(WrongKeyError, match="wrong passphrase"):
        crypto.unwrap_key(wrong, nonce, wrapped, aad, what="passphrase")
    other_slot = crypto.slot_aad("store", "other", "passphrase")
    with pytest.raises(WrongKeyError):
        crypto.unwrap_key(kek, nonce, wrapped, other_slot, what="passphrase")


def test_key_files_round_trip_and_refuse_loose_modes(tmp_path: Path) -> None:
    key = SecretKey.generate()
    path = tmp_path / "k"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(crypto.key_file_text("store1", "slot1", key))
    store, slot, read = crypto.read_key_file(path)
    assert (store, slot, read.raw) == ("store1", "slot1", key.raw)
    os.chmod(path, 0o640)
    with pytest.raises(ValidationError, match=r"readable by group or others .*chmod 600"):
        crypto.read_key_file(path)
    with pytest.raises(ValidationError, match="no key file"):
        crypto.read_key_file(tmp_path / "missing")
    with pytest.raises(ValidationError, match="not a faas-tui key file"):
        crypto.parse_key_file("hello world")
    with pytest.raises(ValidationError, match="damaged"):
        crypto.parse_key_file(f"{crypto.KEY_FILE_MAGIC} s t AAAA")
