"""The plist reader: what plistlib lacks (leading junk, entity refusal, caps, a bounded binary reader)."""

from __future__ import annotations

import contextlib
import plistlib
import random
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from macwasm.errors import LIMIT, PlistFormatError
from macwasm.limits import LIMITS, PLIST_MAX_DEPTH, PLIST_MAX_ELEMENTS
from macwasm.signing.plist import (
    entitlements_from_plist_value,
    load_entitlements,
    load_plist,
    read_entitlements_file,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plists"
XML_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
DOCTYPE = (b'<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
           b'"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n')


def fail(data: bytes) -> PlistFormatError:
    with pytest.raises(PlistFormatError) as info:
        load_plist(data, path="t.plist")
    assert info.value.path == "t.plist"
    return info.value


def bplist(objects: list[bytes], *, top: int = 0, ref_size: int = 1, off_size: int = 1,
           num: int | None = None, table_at: int | None = None) -> bytes:
    """A bplist00 from raw object encodings; trailer fields can be overridden to lie."""
    body = b"bplist00"
    offsets = []
    for obj in objects:
        offsets.append(len(body))
        body += obj
    table = len(body)
    body += b"".join(o.to_bytes(off_size, "big") for o in offsets)
    trailer = struct.pack(">6xBBQQQ", off_size, ref_size, len(objects) if num is None else num, top,
                          table if table_at is None else table_at)
    return body + trailer


# ------------------------------------------------------------------------------ leading junk


def test_leading_whitespace_before_xml_declaration_is_accepted_where_plistlib_refuses():
    data = (FIXTURES / "leading-whitespace.xcent").read_bytes()
    assert data[:1].isspace()
    with pytest.raises(plistlib.InvalidFileException):
        plistlib.loads(data)
    value, fmt = load_plist(data)
    assert fmt == "xml-plist"
    assert value["com.apple.security.cs.allow-jit"] is True
    assert value["com.apple.security.get-task-allow"] is False


def test_utf8_bom_then_whitespace_is_accepted():
    value, fmt = load_plist(b"\xef\xbb\xbf \n" + plistlib.dumps({"a": 1}))
    assert (value, fmt) == ({"a": 1}, "xml-plist")
    assert load_plist((FIXTURES / "bom.entitlements").read_bytes())[0]["com.apple.security.device.camera"] is True


def test_offsets_stay_absolute_after_stripped_whitespace():
    body = b"<plist><dict></array></plist>"
    assert fail(body).offset == body.index(b"</array>")
    assert fail(b" \n\t" + body).offset == 3 + body.index(b"</array>")


def test_expat_errors_become_offsets():
    data = XML_HEAD + b"<plist>\n<dict>\n  <key>a</key>\n  <true/>\n  <key>b</key <true/>\n</dict></plist>"
    err = fail(data)
    assert "not well-formed" in err.reason
    assert data.index(b"<key>b</key <true/>") < err.offset <= data.index(b"<true/>\n</dict>")


# ----------------------------------------------------------------------------------- entities


BILLION_LAUGHS = (XML_HEAD + b'<!DOCTYPE plist [\n <!ENTITY lol "lol">\n'
                  b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
                  b' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n'
                  b"<plist><dict><key>a</key><string>&lol3;</string></dict></plist>")


def test_billion_laughs_is_refused_at_the_first_entity_declaration():
    err = fail(BILLION_LAUGHS)
    assert "entity" in err.reason
    assert err.offset == BILLION_LAUGHS.index(b"<!ENTITY")


def test_external_entity_is_refused_before_expat_sees_it():
    data = (XML_HEAD + b'<!DOCTYPE plist [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>'
            b"<plist><string>&x;</string></plist>")
    assert fail(data).offset == data.index(b"<!ENTITY")


def test_entity_declaration_in_utf16_is_refused_too():
    data = (b'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE plist [<!ENTITY a "b">]>'
            b"<plist><string>&a;</string></plist>").decode().encode("utf-16")
    err = fail(data)
    assert "entity" in err.reason
    assert err.offset == data.index("<!ENTITY".encode("utf-16-le"))


def test_plain_apple_doctype_is_fine_and_never_fetched():
    value, _fmt = load_plist(XML_HEAD + DOCTYPE + b'<plist version="1.0"><dict><key>k</key><true/></dict></plist>')
    assert value == {"k": True}


def test_a_malformed_doctype_is_skipped_as_apples_parser_skips_it():
    """Kong/insomnia ships a codesign.entitlements with an ellipsis for the DTD's URL; codesign takes it."""
    ellipsis = XML_HEAD + '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" \u2026>\n'.encode() + (
        b'<plist version="1.0"><dict><key>com.apple.security.cs.disable-executable-page-protection</key>'
        b"<true/></dict></plist>\n")
    assert load_plist(ellipsis)[0] == {"com.apple.security.cs.disable-executable-page-protection": True}
    # offsets after the blanked declaration are the file's own
    bad = ellipsis.replace(b"<true/>", b"<true>")
    assert fail(bad).offset == bad.index(b"</dict>")
    # an internal subset is not skipped: entities stay refused
    assert "entity" in fail(XML_HEAD + b'<!DOCTYPE plist [<!ENTITY a "b">]><plist><true/></plist>').reason


def test_undefined_entity_reference_is_an_error():
    data = XML_HEAD + b"<plist><string>&nope;</string></plist>"
    err = fail(data)
    assert err.offset == data.index(b"&nope;")


# --------------------------------------------------------------------------------- structure


@pytest.mark.parametrize(("body", "needle", "words"), [
    (b"<plist><dict><key>a</key></dict></plist>", b"<key>a", "without a value"),
    (b"<plist><dict><key>a</key><key>b</key><true/></dict></plist>", b"<key>a", "no value"),
    (b"<plist><dict><true/></dict></plist>", b"<true/>", "expects a <key>"),
    (b"<plist><array><key>a</key></array></plist>", b"<key>", "inside an <array>"),
    (b"<plist><integer>12x</integer></plist>", b"<integer>", "bad <integer>"),
    (b"<plist><real>one</real></plist>", b"<real>", "bad <real>"),
    (b"<plist><date>2024-13-01T00:00:00Z</date></plist>", b"<date>", "bad <date>"),
    (b"<plist><date>yesterday</date></plist>", b"<date>", "bad <date>"),
    (b"<plist><data>QUJDR</data></plist>", b"<data>", "bad <data>"),
    (b"<plist><blob/></plist>", b"<blob/>", "unknown plist element"),
    (b"<plist><true/><false/></plist>", b"<false/>", "exactly one"),
    (b"<plist><string>a<b/></string></plist>", b"<b/>", "inside <string>"),
    (b"<plist>text<true/></plist>", b"text", "text outside"),
])
def test_structure_faults_have_the_offset_of_the_culprit(body, needle, words):
    err = fail(XML_HEAD + body)
    assert words in err.reason
    assert err.offset == len(XML_HEAD) + body.index(needle)


def test_empty_plist_and_non_plist_text():
    assert "no value" in fail(XML_HEAD + b"<plist></plist>").reason
    assert "not a property list" in fail(b"hello").reason
    assert fail(b"").offset == 0


def test_values_match_plistlib():
    value = {"s": "é", "i": -5, "h": 2**63, "r": 1.5, "b": b"\x00\x01", "l": [True, False, {}],
             "d": __import__("datetime").datetime(2024, 2, 29, 1, 2, 3)}
    for fmt in (plistlib.FMT_XML, plistlib.FMT_BINARY):
        if fmt == plistlib.FMT_BINARY:
            value["h"] = 2**62
        data = plistlib.dumps(value, fmt=fmt)
        assert load_plist(data)[0] == plistlib.loads(data) == value


# ------------------------------------------------------------------------------------- caps


def test_ten_thousand_deep_xml_array_is_a_limit_error_not_recursion():
    data = XML_HEAD + b"<plist>" + b"<array>" * 10_000 + b"</array>" * 10_000 + b"</plist>"
    err = fail(data)
    assert err.category == LIMIT
    assert data[err.offset:err.offset + 7] == b"<array>"
    assert err.offset < len(XML_HEAD) + 7 + 7 * PLIST_MAX_DEPTH


def test_nesting_just_under_the_cap_is_read():
    depth = PLIST_MAX_DEPTH - 1  # <plist> is a level too
    value, _ = load_plist(b"<plist>" + b"<array>" * depth + b"</array>" * depth + b"</plist>")
    levels = 0
    while isinstance(value, list):
        levels += 1
        value = value[0] if value else None
    assert levels == depth


def test_element_count_cap():
    n = PLIST_MAX_ELEMENTS + 1
    data = b"<plist><array>" + b"<true/>" * n + b"</array></plist>"
    assert fail(data).category == LIMIT


def test_limits_are_documented():
    names = {row.name for row in LIMITS}
    assert {"PLIST_MAX_SIZE", "PLIST_MAX_DEPTH", "PLIST_MAX_ELEMENTS", "PROFILE_MAX_SIZE",
            "PROFILE_MAX_DER_DEPTH", "PROFILE_MAX_DER_NODES"} <= names


# ----------------------------------------------------------------------------------- binary


def test_binary_plist_reads_like_plistlib():
    data = (FIXTURES / "binary.entitlements").read_bytes()
    assert load_plist(data) == (plistlib.loads(data), "binary-plist")


def test_binary_self_reference_cycle_is_an_error_with_the_object_offset():
    data = bplist([b"\xa1\x00"])  # array holding itself
    err = fail(data)
    assert "cycle" in err.reason
    assert err.offset == 8


def test_binary_two_object_cycle_through_a_dict():
    # 0: dict {1: 2}, 1: "k", 2: array [0]
    data = bplist([b"\xd1\x01\x02", b"\x51k", b"\xa1\x00"])
    err = fail(data)
    assert "cycle" in err.reason
    assert err.offset in (8, 8 + 3 + 2)


def test_binary_deep_chain_is_a_limit_error():
    n = 10_000
    objs = [b"\xa1" + (i + 1).to_bytes(2, "big") for i in range(n - 1)] + [b"\xa0"]
    data = bplist(objs, ref_size=2, off_size=4)
    err = fail(data)
    assert err.category == LIMIT


def test_binary_shared_references_that_explode_are_a_limit_error():
    # object i is an array of two references to object i+1: 2**40 leaves when walked as a tree
    n = 40
    objs = [b"\xa2" + bytes([i + 1, i + 1]) for i in range(n)] + [b"\x09"]
    err = fail(bplist(objs))
    assert err.category == LIMIT
    assert "expands" in err.reason


def test_binary_absurd_object_count():
    data = bplist([b"\x09"], num=2**63)
    err = fail(data)
    assert err.category == LIMIT
    assert err.offset == len(data) - 32 + 8


def test_binary_offset_table_beyond_eof():
    data = bplist([b"\x09"], table_at=10**9)
    err = fail(data)
    assert "offset table" in err.reason
    assert err.offset == len(data) - 32 + 24


def test_binary_object_offset_outside_the_object_area():
    data = bytearray(bplist([b"\x09", b"\x08"], top=1))
    table = len(data) - 32 - 2
    data[table + 1] = 0xF0  # object 1 claims to sit past the table
    err = fail(bytes(data))
    assert err.offset == table + 1


def test_binary_huge_array_count_and_bad_reference():
    # array whose length is an 8-byte int of 2**60: runs past the object area
    data = bplist([b"\xaf\x13" + (2**60).to_bytes(8, "big")])
    assert "past the object area" in fail(data).reason
    data = bplist([b"\xa1\x07"])  # reference 7 among 1 object
    err = fail(data)
    assert "reference 7" in err.reason
    assert err.offset == 9


@pytest.mark.parametrize(("obj", "words"), [
    (b"\x51\xff", "ascii"),
    (b"\x70", "unknown or unsupported object marker 0x70"),
    (b"\x33" + struct.pack(">d", 1e300), "out of range"),
    (b"\xd1\x01\x01", "not a string"),
    (b"\x89" + b"\xff" * 10, "wider than 64 bits"),
])
def test_binary_bad_objects(obj, words):
    objs = [obj, b"\xa0"] if obj.startswith(b"\xd1") else [obj]
    assert words in fail(bplist(objs)).reason


def test_binary_trailer_faults():
    assert "too short" in fail(b"bplist00" + b"\x00" * 10).reason
    assert fail(b"bplist16" + b"\x00" * 40).category == "unsupported"
    data = bytearray(bplist([b"\x09"]))
    data[-26] = 3  # offset size 3
    assert "offset size" in fail(bytes(data)).reason
    assert "top object" in fail(bplist([b"\x09"], top=5)).reason


# -------------------------------------------------------------------------- truncation, fuzz


def _samples() -> list[bytes]:
    return [(FIXTURES / name).read_bytes() for name in
            ("forum-thread-sysext.entitlements", "leading-whitespace.xcent", "binary.entitlements")]


@pytest.mark.parametrize("index", range(3))
def test_truncated_at_every_offset_gives_a_value_or_our_error(index):
    data = _samples()[index]
    for cut in range(len(data)):
        try:
            value, fmt = load_plist(data[:cut])
        except PlistFormatError as err:
            assert err.offset is None or 0 <= err.offset <= cut + 32
            continue
        assert fmt in ("xml-plist", "binary-plist")
        assert value is not None


FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_give_a_value_or_our_error(data):
    for candidate in (data, b"bplist00" + data, XML_HEAD + data):
        with contextlib.suppress(PlistFormatError):
            load_plist(candidate)


@FUZZ
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_mutated_valid_plists_give_a_value_or_our_error(seed):
    rng = random.Random(seed)
    buf = bytearray(rng.choice([*_samples(), BILLION_LAUGHS]))
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(4)
        i = rng.randrange(len(buf))
        if op == 0:
            buf[i] = rng.randrange(256)
        elif op == 1:
            del buf[i:i + rng.randint(1, 16)]
        elif op == 2:
            buf[i:i] = rng.choice([b"<array>", b"</dict>", b"<!ENTITY", b"\xff\xff\xff\xff", b"&a;", b"\x00"])
        else:
            j = rng.randrange(len(buf))
            buf[i:i] = buf[j:j + rng.randint(1, 64)]
        if not buf:
            buf = bytearray(b"<")
    try:
        _value, fmt = load_plist(bytes(buf))
    except PlistFormatError as err:
        assert err.offset is None or 0 <= err.offset <= len(buf) + 32
        return
    assert fmt in ("xml-plist", "binary-plist")


plist_text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cn")), max_size=20)
plist_values = st.recursive(
    st.booleans() | st.integers(-2**63, 2**63 - 1) | plist_text | st.binary(max_size=20) | st.floats(allow_nan=False),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(plist_text, children, max_size=5),
    max_leaves=30)


@FUZZ
@given(plist_values)
def test_binary_reader_agrees_with_plistlib_on_valid_files(value):
    data = plistlib.dumps(value, fmt=plistlib.FMT_BINARY)
    assert load_plist(data)[0] == plistlib.loads(data)
    xml = plistlib.dumps(value)
    assert load_plist(b"\n  " + xml)[0] == plistlib.loads(xml)


# ---------------------------------------------------------------------------- entitlements


def test_forum_thread_entitlements_file():
    ents, fmt = read_entitlements_file(FIXTURES / "forum-thread-sysext.entitlements")
    assert fmt == "xml-plist"
    assert ents["com.apple.security.application-groups"] == ["$(TeamIdentifierPrefix)xxxxxx"]
    assert ents["com.apple.developer.endpoint-security.client"] is True
    assert ents["com.apple.security.cs.allow-unsigned-executable-memory"] is True
    assert ents["com.apple.developer.networking.networkextension"] == [
        "content-filter-provider-systemextension", "dns-proxy-systemextension", "app-proxy-provider-systemextension"]


def test_entitlements_plist_with_an_array_at_top_level_is_refused():
    path = FIXTURES / "top-level-array.plist"
    with pytest.raises(PlistFormatError) as info:
        read_entitlements_file(path)
    assert "must hold a dictionary" in info.value.reason
    assert "an array" in info.value.reason
    assert info.value.path == str(path)
    with pytest.raises(PlistFormatError):
        entitlements_from_plist_value("text")
    assert entitlements_from_plist_value({"a": True}) == {"a": True}


def test_embedded_blob_header_is_understood_and_offsets_include_it():
    xml = plistlib.dumps({"com.apple.security.cs.allow-jit": True})
    blob = b"\xfa\xde\x71\x71" + struct.pack(">I", len(xml) + 8) + xml
    assert load_entitlements(blob) == ({"com.apple.security.cs.allow-jit": True}, "xml-plist")
    broken = blob.replace(b"<true/>", b"<tru />")
    with pytest.raises(PlistFormatError) as info:
        load_entitlements(broken)
    assert info.value.offset == broken.index(b"<tru />")
    with pytest.raises(PlistFormatError):
        load_entitlements(b"\xfa\xde\x71\x71\x00\x00\xff\xff" + xml)
    with pytest.raises(PlistFormatError) as info:
        load_entitlements(b"\xfa\xde\x71\x72\x00\x00\x00\x08")
    assert info.value.category == "unsupported"
