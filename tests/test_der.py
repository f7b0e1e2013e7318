"""DER entitlements: both layouts, every value type, and each way a hostile blob can lie."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import macho_builders as mb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from macwasm.errors import LIMIT, UNSUPPORTED, DerFormatError
from macwasm.limits import DER_MAX_DEPTH, DER_MAX_INTEGER_BYTES, DER_MAX_SIZE, DER_MAX_VALUES
from macwasm.signing.der import BARE_SET, WRAPPED, decode_der_entitlements, read_der_entitlements

ALL_TYPES = {
    "com.apple.security.cs.allow-jit": True,
    "com.apple.security.cs.disable-library-validation": False,
    "com.apple.security.application-groups": ["ABCDE12345.group", "ABCDE12345.other"],
    "com.apple.developer.team-identifier": "ABCDE12345",
    "count": 3,
    "negative": -129,
    "big": 2**63 - 1,
    "unsigned64": 2**64 - 1,
    "unicode": "grüße ✓",
    "data": b"\x00\x01\xff",
    "date": dt.datetime(2024, 2, 29, 12, 30, 5),
    "nested": {"inner": [True, {"deeper": "x"}], "empty": {}, "list": []},
}


@pytest.mark.parametrize(("encode", "layout"), [(mb.der_wrapped, WRAPPED), (mb.der_bare, BARE_SET)])
def test_both_layouts_decode_every_value_type(encode, layout) -> None:
    got = read_der_entitlements(encode(ALL_TYPES))
    assert got.layout == layout
    assert got.value == ALL_TYPES
    assert type(got.value["count"]) is int and type(got.value["com.apple.security.cs.allow-jit"]) is bool


def test_committed_der_fixtures_are_what_the_builders_make() -> None:
    folder = Path(__file__).parent / "fixtures" / "der"
    for name, data in mb.der_fixtures().items():
        assert (folder / name).read_bytes() == data, f"{name}: run tests/macho_builders.py"
        assert read_der_entitlements(data).layout == (WRAPPED if name.startswith("wrapped") else BARE_SET)


def test_empty_dictionary_in_both_layouts() -> None:
    # the wrapped empty dictionary, byte by byte: [APPLICATION 16] len 5 { INTEGER 1, [16] len 0 }
    assert mb.der_wrapped({}) == bytes([0x70, 5, 2, 1, 1, 0xB0, 0])
    assert read_der_entitlements(mb.der_wrapped({})).value == {}
    assert read_der_entitlements(b"\x31\x00").value == {}
    assert read_der_entitlements(b"\x31\x00").layout == BARE_SET


def test_old_signers_true_as_0x01_is_true() -> None:
    # Node.js 18's signer wrote BOOLEAN true as 0x01 (BER style), not DER's 0xff
    raw = mb.der_bare({"com.apple.security.cs.allow-jit": True})
    assert b"\x01\x01\x01" in raw
    assert decode_der_entitlements(raw) == {"com.apple.security.cs.allow-jit": True}


def test_long_form_lengths() -> None:
    ents = {f"key{i:03d}": "v" * 40 for i in range(50)}  # > 256 bytes: two-byte lengths
    raw = mb.der_wrapped(ents)
    assert raw[1] == 0x82
    assert decode_der_entitlements(raw) == ents


def test_offsets_are_shifted_by_base() -> None:
    raw = bytearray(mb.der_wrapped({"a": True}))
    raw[-1] = 0x07  # BOOLEAN content 0x07 is fine; make the BOOLEAN two bytes long instead
    raw = bytes(raw[:-3]) + b"\x01\x02\xff\xff"
    with pytest.raises(DerFormatError) as err:
        decode_der_entitlements(raw, path="x.der", base=0x1000)
    assert err.value.offset >= 0x1000 and err.value.path == "x.der"


def _err(data: bytes) -> DerFormatError:
    with pytest.raises(DerFormatError) as info:
        decode_der_entitlements(data, path="bad.der")
    err = info.value
    assert err.path == "bad.der" and err.offset is not None and 0 <= err.offset <= len(data)
    return err


def test_truncation_at_every_length_is_an_error() -> None:
    raw = mb.der_wrapped(ALL_TYPES)
    for cut in range(len(raw)):
        _err(raw[:cut])


@pytest.mark.parametrize(("data", "words"), [
    (b"\x70\x05\x02\x01\x01\xb0\x05", "runs past"),  # inner length beyond the outer value
    (b"\x31\x80\x00\x00", "indefinite"),
    (b"\x31\x06\x30\x05\x0c\x01a\x01", "runs past"),
    (b"\x30\x00", "expected [APPLICATION 16]"),
    (b"\x70\x05\x02\x01\x01\x30\x00", "expected a dictionary"),
    (b"\x70\x03\x02\x01\x01", "version INTEGER and a dictionary"),
    (b"\x31\x05\x30\x03\x0c\x01a", "key and a value"),
    (b"\x31\x08\x30\x06\x02\x01\x01\x01\x01\xff", "key must be a UTF8String"),
    (b"\x31\x04\x04\x02ab", "entry must be a SEQUENCE"),
    (b"\x31\x0b\x30\x09\x0c\x01a\x01\x01\xff\x01\x01\x00", "key and a value"),
    (b"\x31\x06\x30\x04\x0c\x01a\x02", "cut off"),
    (b"\x31\x07\x30\x05\x0c\x01a\x02\x00", "no content"),
    (b"\x31\x07\x30\x05\x0c\x01a\x01\x00", "BOOLEAN is one byte"),
    (b"\x31\x08\x30\x06\x0c\x01a\x01\x03\xff", "runs past"),
    (b"\x31\x09\x30\x07\x0c\x01a\x01\x02\xff\xff", "BOOLEAN is one byte"),
    (b"\x31\x08\x30\x06\x0c\x02\xc3\x28\x05\x00", "UTF-8"),
    (b"\x31\x0e\x30\x05\x0c\x01a\x05\x00\x30\x05\x0c\x01a\x05\x00", "not a value type"),
    (b"\x31\x00\x01", "after the DER entitlements"),
    (b"\x3f\x01\x00", "high-tag-number"),
    (b"\x31\x0f\x30\x06\x0c\x01a\x01\x01\xff\x30\x05\x0c\x01a\x31\x00", "duplicate key"),
    (b"\x31\x0c\x30\x0a\x0c\x01a\x18\x05\x32\x30\x32\x34\x5a", "GeneralizedTime"),
    (b"", "empty"),
])
def test_malformed(data: bytes, words: str) -> None:
    err = _err(data)
    assert words in err.reason


def test_wrong_version_is_unsupported() -> None:
    err = _err(b"\x70\x05\x02\x01\x02\xb0\x00")
    assert err.category == UNSUPPORTED and "version 2" in err.reason


def test_length_of_length_beyond_limit() -> None:
    err = _err(b"\x31\x85\x00\x00\x00\x00\x00")
    assert err.category == LIMIT


def test_nesting_beyond_limit() -> None:
    value: object = True
    for _ in range(DER_MAX_DEPTH):
        value = [value]
    with pytest.raises(DerFormatError) as err:
        decode_der_entitlements(mb.der_wrapped({"deep": value}))
    assert err.value.category == LIMIT and "nest deeper" in err.value.reason
    shallow: object = True
    for _ in range(DER_MAX_DEPTH // 2 - 4):
        shallow = [shallow]
    assert decode_der_entitlements(mb.der_wrapped({"deep": shallow}))["deep"]


def test_value_count_beyond_limit() -> None:
    err = _err(mb.der_bare({"many": [False] * DER_MAX_VALUES}))
    assert err.category == LIMIT and str(DER_MAX_VALUES) in err.reason


def test_size_beyond_limit() -> None:
    err = _err(b"\x31\x00" + bytes(DER_MAX_SIZE))
    assert err.category == LIMIT


def test_integer_beyond_limit() -> None:
    body = b"\x01" + bytes(DER_MAX_INTEGER_BYTES)
    pair = b"\x0c\x01a\x02" + bytes([len(body)]) + body
    err = _err(b"\x31" + bytes([len(pair) + 2]) + b"\x30" + bytes([len(pair)]) + pair)
    assert err.category == LIMIT


plist_leaf = st.one_of(st.booleans(), st.integers(-(2**63), 2**64 - 1), st.text(max_size=20),
                       st.binary(max_size=10))
plist_value = st.recursive(plist_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=30), plist_value, max_size=6), st.booleans())
def test_round_trip_property(ents: dict, wrapped: bool) -> None:
    raw = (mb.der_wrapped if wrapped else mb.der_bare)(ents)
    assert decode_der_entitlements(raw) == ents


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_only_raise_der_errors(data: bytes) -> None:
    try:
        value = decode_der_entitlements(data)
    except DerFormatError as err:
        assert err.offset is not None and 0 <= err.offset <= max(len(data), DER_MAX_SIZE)
    else:
        assert isinstance(value, dict)
