"""The Ed25519 check of downloaded modules: good signatures verify, any change or wrong key does not,
unusable inputs raise IntegrityError (and nothing else), and the sample is reproducible."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from repo_scripts import load_script

from macwasm.errors import MacwasmError
from macwasm.integrity import (
    BAD_SIGNATURE,
    VERIFIED,
    IntegrityError,
    load_public_key,
    load_signature,
    verify_module,
    verify_module_file,
)
from macwasm.limits import INTEGRITY_MAX_KEY_SIZE, INTEGRITY_MAX_SIGNATURE_SIZE

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "samples" / "downloaded"
MODULE = SAMPLE / "filter-rules.wasm"
SIG = SAMPLE / "filter-rules.wasm.sig"
KEY = SAMPLE / "publisher-ed25519.pub.pem"
OTHER_KEY = SAMPLE / "other-publisher-ed25519.pub.pem"


def _load_script():
    return load_script("build_download_sample")


def test_sample_verifies_with_the_publisher_key():
    result = verify_module_file(MODULE, SIG, KEY)
    assert result.verified and result.status == VERIFIED
    data = MODULE.read_bytes()
    assert result.module_sha256 == hashlib.sha256(data).hexdigest()
    assert result.module_size == len(data)
    assert result.cache_name == result.module_sha256 + ".wasm"
    assert result.to_dict()["verified"] is True


@pytest.mark.parametrize("offset", [0, 8, 60, -1])
def test_any_one_byte_change_fails(offset):
    data = bytearray(MODULE.read_bytes())
    data[offset] ^= 0x01
    result = verify_module(bytes(data), SIG.read_bytes(), KEY.read_bytes())
    assert not result.verified and result.status == BAD_SIGNATURE
    assert result.module_sha256 != hashlib.sha256(MODULE.read_bytes()).hexdigest()


def test_appended_byte_fails():
    result = verify_module(MODULE.read_bytes() + b"\x00", SIG.read_bytes(), KEY.read_bytes())
    assert not result.verified


def test_wrong_key_fails_and_names_a_different_key():
    good = verify_module_file(MODULE, SIG, KEY)
    bad = verify_module_file(MODULE, SIG, OTHER_KEY)
    assert not bad.verified and bad.status == BAD_SIGNATURE
    assert bad.key_id != good.key_id


def test_changed_signature_fails():
    sig = bytearray(SIG.read_bytes())
    sig[10] ^= 0x80
    assert not verify_module(MODULE.read_bytes(), bytes(sig), KEY.read_bytes()).verified


def test_raw_key_and_base64_signature_are_accepted():
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    raw_pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    module = b"\x00asm\x01\x00\x00\x00"
    b64 = base64.b64encode(key.sign(module)) + b"\n"
    assert verify_module(module, b64, raw_pub).verified
    assert load_signature(b"  " + b64) == key.sign(module)


def test_sample_is_reproducible(tmp_path):
    script = _load_script()
    assert script.main(["--out", str(tmp_path)]) == 0
    for name in sorted(os.listdir(tmp_path)):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
    assert {p.name for p in SAMPLE.iterdir()} - {"README.md"} == set(os.listdir(tmp_path))


def test_sample_module_is_a_wasm_core_module():
    data = MODULE.read_bytes()
    assert data[:8] == b"\x00asm\x01\x00\x00\x00"


@pytest.mark.parametrize(
    ("key_bytes", "reason_part"),
    [
        (b"", "32 raw key bytes"),
        (b"\x01" * 31, "got 31 bytes"),
        (b"-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n", "PEM"),
    ],
)
def test_unusable_keys_raise_integrity_error(key_bytes, reason_part):
    with pytest.raises(IntegrityError) as err:
        load_public_key(key_bytes, path="key.pem")
    assert reason_part in err.value.reason and err.value.path == "key.pem"


def test_non_ed25519_pem_key_is_refused():
    ec_pem = generate_private_key(SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(IntegrityError, match="expected an Ed25519 public key"):
        load_public_key(ec_pem)


@pytest.mark.parametrize("sig", [b"", b"\x00" * 63, b"\x00" * 65, b"!!!! not base64 !!!!"])
def test_signature_of_wrong_size_raises(sig):
    with pytest.raises(IntegrityError, match="64-byte Ed25519 signature"):
        verify_module(MODULE.read_bytes(), sig, KEY.read_bytes())


def test_oversize_key_and_signature_are_limit_errors():
    with pytest.raises(IntegrityError) as err:
        load_public_key(b"-" * (INTEGRITY_MAX_KEY_SIZE + 1))
    assert err.value.category == "limit"
    with pytest.raises(IntegrityError) as err:
        load_signature(b"A" * (INTEGRITY_MAX_SIGNATURE_SIZE + 1))
    assert err.value.category == "limit"


def test_missing_file_is_an_io_integrity_error(tmp_path):
    missing = tmp_path / "nope.wasm"
    with pytest.raises(IntegrityError) as err:
        verify_module_file(missing, SIG, KEY)
    assert err.value.category == "io" and err.value.path == str(missing)
    assert isinstance(err.value, MacwasmError)


def test_oversize_signature_file_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.sig"
    big.write_bytes(b"A" * (INTEGRITY_MAX_SIGNATURE_SIZE + 10))
    with pytest.raises(IntegrityError) as err:
        verify_module_file(MODULE, big, KEY)
    assert err.value.category == "limit"


def test_a_directory_as_key_is_an_integrity_error(tmp_path):
    with pytest.raises(IntegrityError) as err:
        verify_module_file(MODULE, SIG, tmp_path)
    assert err.value.category == "io"


@settings(max_examples=200, deadline=None)
@given(key=st.binary(max_size=200), sig=st.binary(max_size=200), module=st.binary(max_size=64))
def test_arbitrary_inputs_give_a_result_or_integrity_error(key, sig, module):
    try:
        result = verify_module(module, sig, key)
    except IntegrityError:
        return
    assert result.status in (VERIFIED, BAD_SIGNATURE)
    assert result.module_size == len(module)


@settings(max_examples=50, deadline=None)
@given(pem_body=st.binary(max_size=120))
def test_garbage_pem_gives_integrity_error(pem_body):
    data = b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(pem_body) + b"\n-----END PUBLIC KEY-----\n"
    with pytest.raises(IntegrityError):
        load_public_key(data)
