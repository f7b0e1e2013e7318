"""Embedded code signatures: kinds, team ids, flags, entitlements blobs, CMS, and hostile SuperBlobs."""

from __future__ import annotations

import struct

import macho_builders as mb
import pytest

from macwasm.errors import LIMIT, MachOFormatError
from macwasm.limits import MACHO_MAX_IDENTIFIER_LENGTH, MACHO_MAX_SIGNATURE_BLOBS
from macwasm.signing.macho import read_macho, slice_disagreements

ENTS = {"com.apple.security.cs.allow-jit": True, "com.apple.security.application-groups": ["ABCDE12345.g"]}


def one(sig: bytes, arch: str = "arm64"):
    (s,) = read_macho(mb.thin(arch, sig), path="t.macho")
    return s


def error(data: bytes, cls=MachOFormatError):
    with pytest.raises(cls) as info:
        read_macho(data, path="bad.macho")
    err = info.value
    assert err.path == "bad.macho" and "bad.macho" in err.message
    assert err.offset is not None and 0 <= err.offset <= len(data)
    return err


# ------------------------------------------------------------------------------------ kinds, team


def test_signed_with_hardened_runtime_team_and_entitlements() -> None:
    s = one(mb.signature("com.example.app", entitlements=ENTS))
    sig = s.signature
    assert (sig.kind, sig.team_id, sig.identifier, sig.hardened_runtime) == ("signed", mb.TEAM, "com.example.app", True)
    assert sig.flags == ("runtime",) and sig.cd_version == 0x20400 and sig.hash_type == "sha256"
    assert sig.exec_seg_flags == ("main-binary",) and sig.has_requirements and sig.cms == "present"
    assert "Organizational Unit: ABCDE12345" in sig.signer and sig.has_timestamp is False
    assert sig.signer_name == f"Developer ID Application: Test Corp NOT Apple ({mb.TEAM})"
    assert s.entitlements == ENTS and (s.entitlements_blob, s.der_entitlements_blob) == ("present", "present")
    assert s.der_matches_xml is True and s.notes == ()


def test_team_from_certificate_ou_when_the_code_directory_has_none() -> None:
    sig = one(mb.signature(cd_team=None, cms_blob=mb.cms("QWERTY1234"))).signature
    assert sig.kind == "signed" and sig.team_id == "QWERTY1234"


def test_code_directory_team_that_disagrees_with_the_certificate_is_noted() -> None:
    s = one(mb.signature(cd_team="AAAAA11111", cms_blob=mb.cms("BBBBB22222")))
    assert s.signature.team_id == "AAAAA11111"
    assert any("differs from the signer certificate's OU BBBBB22222" in n for n in s.notes)


@pytest.mark.parametrize("kind", ["adhoc", "linker-signed"])
def test_adhoc_and_linker_signed_never_report_a_team(kind: str) -> None:
    # bytes sit where a team id would be: the flags, not the offset, decide
    s = one(mb.signature(kind=kind, team=None, cd_team="EVILTEAM00"))
    assert s.signature.kind == kind and s.signature.team_id is None and s.signature.signer is None
    assert s.signature.signer_name is None
    assert s.signature.has_timestamp is None


def test_adhoc_has_empty_cms_and_linker_signed_none() -> None:
    assert one(mb.signature(kind="adhoc", team=None)).signature.cms == "empty"
    linker = one(mb.signature(kind="linker-signed", team=None)).signature
    assert linker.cms == "absent" and not linker.has_requirements
    assert linker.flags == ("adhoc", "runtime", "linker-signed")


def test_no_adhoc_flag_and_no_cms_is_reported_as_adhoc_with_a_note() -> None:
    s = one(mb.signature(kind="signed", cms_blob=b""))
    assert s.signature.kind == "adhoc" and s.signature.team_id is None and s.signature.cms == "empty"
    assert any("incomplete" in n for n in s.notes)


def test_flag_and_exec_segment_names() -> None:
    sig = one(mb.signature(extra_flags=mb.CS_HARD | mb.CS_KILL | mb.CS_RESTRICT | mb.CS_LIBRARY_VALIDATION | 0x400000,
                           exec_seg_flags=mb.EXECSEG_MAIN_BINARY | mb.EXECSEG_JIT | 0x10 | 0x20 | 0x80 | 0x100
                           | 0x200)).signature
    assert sig.flags == ("hard", "kill", "restrict", "library-validation", "runtime", "0x400000")
    assert sig.exec_seg_flags == ("main-binary", "allow-unsigned", "debugger", "jit", "skip-lv", "can-load-cdhash",
                                  "can-exec-cdhash")


@pytest.mark.parametrize(("version", "team", "exec_seg"), [(0x20100, None, ()), (0x20200, "ABCDE12345", ()),
                                                           (0x20300, "ABCDE12345", ()),
                                                           (0x20400, "ABCDE12345", ("main-binary",))])
def test_fields_by_code_directory_version(version: int, team, exec_seg) -> None:
    cd = mb.code_directory("com.example.v", team=mb.TEAM, version=version, exec_seg_flags=mb.EXECSEG_MAIN_BINARY)
    sig = one(mb.superblob([(mb.SLOT_CD, cd), (mb.SLOT_CMS, mb.blob(mb.CSMAGIC_BLOBWRAPPER,
                                                                     mb.cms("FROMCERT00")))])).signature
    assert sig.cd_version == version and sig.exec_seg_flags == exec_seg
    assert sig.team_id == (team or "FROMCERT00")  # before 0x20200 there is no team field: the cert's OU


def test_alternate_code_directories_are_noted_with_their_hash_types() -> None:
    s = one(mb.signature(alternate_sha256=True))
    assert s.signature.hash_type == "sha1"
    assert any("alternate CodeDirectories hash with sha256 (primary: sha1)" in n for n in s.notes)
    assert "arm64: alternate CodeDirectories" in slice_disagreements([s])[0]


def test_every_code_directory_is_reported_primary_first_in_the_json() -> None:
    sig = one(mb.signature(alternate_sha256=True)).signature
    assert [(cd.slot, cd.hash_type, cd.version, cd.flags) for cd in sig.code_directories] == [
        (0, "sha1", 0x20400, ("runtime",)), (0x1000, "sha256", 0x20400, ("runtime",))]
    assert sig.hash_types == ("sha1", "sha256")
    d = sig.to_dict()
    assert d["hash_types"] == ["sha1", "sha256"] and d["code_directories"][1] == {
        "slot": 4096, "hash_type": "sha256", "version": 0x20400, "flags": ["runtime"]}
    plain = one(mb.signature()).signature
    assert [(cd.slot, cd.hash_type) for cd in plain.code_directories] == [(0, "sha256")]
    assert plain.hash_types == ("sha256",)


def test_alternates_are_listed_by_slot_whatever_the_index_order() -> None:
    cd1 = mb.code_directory("com.example.alt", hash_type=mb.HASH_SHA1)
    alt2 = mb.code_directory("com.example.alt", flags=mb.CS_ADHOC)
    alt1 = mb.code_directory("com.example.alt", flags=mb.CS_ADHOC | mb.CS_RUNTIME)
    sig = one(mb.superblob([(mb.SLOT_CD, cd1), (mb.SLOT_ALT_CD + 1, alt2), (mb.SLOT_ALT_CD, alt1)])).signature
    assert [(cd.slot, cd.flags) for cd in sig.code_directories] == [
        (0, ()), (0x1000, ("adhoc", "runtime")), (0x1001, ("adhoc",))]


# ------------------------------------------------------------------------------------------- CMS


def test_ber_cms_with_timestamp() -> None:
    raw = mb.cms(timestamp=True, ber=True)
    assert raw[:2] == b"\x30\x80" and raw.endswith(b"\x00\x00")
    sig = one(mb.signature(cms_blob=raw)).signature
    assert sig.has_timestamp is True and sig.team_id == mb.TEAM and sig.signer


def test_unreadable_cms_is_a_note_not_an_error() -> None:
    s = one(mb.signature(cms_blob=b"\x30\x82\xff\xff garbage"))
    assert s.signature.kind == "signed" and s.signature.cms == "present" and s.signature.signer is None
    assert s.signature.team_id == mb.TEAM  # from the CodeDirectory
    assert any("could not be read" in n for n in s.notes)


def test_cms_without_certificate_is_noted() -> None:
    s = one(mb.signature(cms_blob=mb.cms(certificate=False)))
    assert s.signature.signer is None and any("no certificate" in n for n in s.notes)


# ---------------------------------------------------------------------------------- entitlements


def test_entitlement_blob_states() -> None:
    none = one(mb.signature(entitlements=None))
    assert (none.entitlements, none.entitlements_blob, none.der_entitlements_blob, none.der_matches_xml) == (
        None, "absent", "absent", None)
    empty = one(mb.signature(entitlements={}))
    assert (empty.entitlements, empty.entitlements_blob, empty.der_entitlements_blob, empty.der_matches_xml) == (
        {}, "empty", "empty", True)
    xml_only = one(mb.signature(entitlements=ENTS, der=None))
    assert (xml_only.entitlements, xml_only.der_entitlements_blob, xml_only.der_matches_xml) == (ENTS, "absent", None)
    der_only = one(mb.signature(der=mb.der_wrapped(ENTS)))
    assert (der_only.entitlements, der_only.entitlements_blob, der_only.der_entitlements_blob) == (
        ENTS, "absent", "present")


def test_xml_with_leading_whitespace_and_bare_der() -> None:
    s = one(mb.signature(entitlements=ENTS, der="bare", xml_blob=mb.xml(ENTS, leading=b"  \n")))
    assert s.entitlements == ENTS and s.der_matches_xml is True and s.der_layout == "bare-set"


def test_der_that_disagrees_with_xml_is_noted() -> None:
    s = one(mb.signature(entitlements=ENTS, der=mb.der_wrapped({**ENTS, "com.apple.security.cs.allow-jit": 1,
                                                                "extra": True})))
    assert s.der_matches_xml is False and s.entitlements == ENTS  # XML reported, as codesign -d shows it
    (note,) = s.notes
    assert "only in DER: extra" in note and "different values: com.apple.security.cs.allow-jit" in note


def test_malformed_xml_entitlements_raise_with_offset_inside_the_blob() -> None:
    sig = mb.signature(xml_blob=b"<?xml version='1.0'?><plist><dict><key>a</key></plist>", der=None)
    data = mb.thin("arm64", sig)
    err = error(data)
    blob_at = mb.SIG_OFFSET + data[mb.SIG_OFFSET:].index(struct.pack(">I", mb.CSMAGIC_EMBEDDED_ENTITLEMENTS))
    assert "XML entitlements blob" in err.reason and blob_at < err.offset < blob_at + 80


def test_xml_entitlements_that_are_not_a_dictionary() -> None:
    err = error(mb.thin("arm64", mb.signature(xml_blob=mb.xml(["a"]) if False else b"<plist><array/></plist>",
                                              der=None)))
    assert "dictionary" in err.reason


def test_malformed_der_raises_the_macho_error_with_the_absolute_offset() -> None:
    data = mb.thin("arm64", mb.signature(der=b"\x70\x05\x02\x01\x01\xb0\x09"))
    err = error(data, MachOFormatError)  # the DER reader's fault, wrapped: one error class per reader
    assert err.reason.startswith("DER entitlements blob: ")
    der_at = mb.SIG_OFFSET + data[mb.SIG_OFFSET:].index(struct.pack(">I", mb.CSMAGIC_EMBEDDED_DER_ENTITLEMENTS))
    assert err.offset == der_at + 8 + 6  # the inner length byte


# ------------------------------------------------------------------------------ hostile SuperBlobs

CD = mb.code_directory("com.example.x", flags=mb.CS_ADHOC)


def raw_superblob(index: list[tuple[int, int]], payload: bytes, *, length: int | None = None,
                  count: int | None = None, magic: int = mb.CSMAGIC_EMBEDDED_SIGNATURE) -> bytes:
    head_len = 12 + 8 * len(index)
    body = b"".join(struct.pack(">II", s, o) for s, o in index) + payload
    total = head_len + len(payload) if length is None else length
    return struct.pack(">III", magic, total, len(index) if count is None else count) + body


def bad_signature(sig: bytes) -> MachOFormatError:
    return error(mb.thin("arm64", sig))


def test_superblob_wrong_magic() -> None:
    assert "not CSMAGIC_EMBEDDED_SIGNATURE" in bad_signature(raw_superblob([(0, 20)], CD, magic=0xFADE0C02)).reason


def test_superblob_length_beyond_region() -> None:
    sig = raw_superblob([(0, 20)], CD, length=10_000)
    assert "does not fit" in bad_signature(sig).reason


def test_absurd_blob_count_is_a_limit() -> None:
    err = bad_signature(raw_superblob([(0, 20)], CD, count=MACHO_MAX_SIGNATURE_BLOBS + 1))
    assert err.category == LIMIT
    err = bad_signature(raw_superblob([(0, 20)], CD, count=0xFFFFFFFF))
    assert err.category == LIMIT


def test_index_longer_than_the_superblob() -> None:
    assert "index of 20 entries" in bad_signature(raw_superblob([(0, 20)], CD, count=20)).reason


@pytest.mark.parametrize(("offset", "words"), [(0, "inside the SuperBlob's own header"),
                                               (12, "inside the SuperBlob's own header"),
                                               (10_000, "past the SuperBlob's length")])
def test_blob_offsets_outside(offset: int, words: str) -> None:
    assert words in bad_signature(raw_superblob([(0, offset)], CD)).reason


def test_blob_length_beyond_superblob() -> None:
    cd = bytearray(CD)
    cd[4:8] = struct.pack(">I", len(CD) + 100)
    assert "do not fit the SuperBlob" in bad_signature(raw_superblob([(0, 20)], bytes(cd))).reason


def test_blobs_that_overlap_or_share_an_offset() -> None:
    req = mb.blob(mb.CSMAGIC_REQUIREMENTS, b"\0\0\0\0")
    # slot 3 (resource directory) has no magic we insist on, so only the overlap can be wrong
    assert "overlap" in bad_signature(raw_superblob([(0, 28), (3, 28)], CD)).reason
    assert "overlap" in bad_signature(raw_superblob([(0, 28), (3, 40)], CD + req)).reason


def test_duplicate_slot() -> None:
    req = mb.blob(mb.CSMAGIC_REQUIREMENTS, b"\0\0\0\0")
    assert "appears twice" in bad_signature(raw_superblob([(0, 28), (0, 28 + len(CD))], CD + req)).reason


def test_missing_code_directory_and_wrong_magic_in_slot() -> None:
    req = mb.blob(mb.CSMAGIC_REQUIREMENTS, b"\0\0\0\0")
    assert "no CodeDirectory" in bad_signature(raw_superblob([(2, 20)], req)).reason
    assert "expected 0xfade0c02" in bad_signature(raw_superblob([(0, 20)], req)).reason


def test_code_directory_strings() -> None:
    beyond = mb.code_directory("x", ident_offset=10_000)
    assert "identifier offset 10000 lies outside" in bad_signature(raw_superblob([(0, 20)], beyond)).reason
    team_beyond = mb.code_directory("x", team="T", team_offset=10_000)
    assert "team id offset" in bad_signature(raw_superblob([(0, 20)], team_beyond)).reason
    no_nul = bytearray(mb.code_directory("abc"))
    no_nul = no_nul[:88] + b"abc"  # cut right after the identifier
    no_nul[4:8] = struct.pack(">I", len(no_nul))
    assert "no terminating NUL" in bad_signature(raw_superblob([(0, 20)], bytes(no_nul))).reason
    long_ident = mb.code_directory("a" * (MACHO_MAX_IDENTIFIER_LENGTH + 10))
    assert bad_signature(raw_superblob([(0, 20)], long_ident)).category == LIMIT
    bad_utf8 = mb.code_directory(b"\xff\xfe")
    assert "not UTF-8" in bad_signature(raw_superblob([(0, 20)], bad_utf8)).reason


def test_code_directory_too_short_or_too_old() -> None:
    short = struct.pack(">II", mb.CSMAGIC_CODEDIRECTORY, 40) + bytes(32)
    assert "shorter than its 44-byte header" in bad_signature(raw_superblob([(0, 20)], short)).reason
    old = bytearray(CD)
    old[8:12] = struct.pack(">I", 0x10000)
    assert "older than any signer" in bad_signature(raw_superblob([(0, 20)], bytes(old))).reason
    claims_newer = bytearray(mb.code_directory("x", version=0x20100))
    claims_newer[8:12] = struct.pack(">I", 0x20400)
    claims_newer = claims_newer[:50]
    claims_newer[4:8] = struct.pack(">I", 50)
    assert "needs a 88-byte header" in bad_signature(raw_superblob([(0, 20)], bytes(claims_newer))).reason


def test_signature_region_smaller_than_a_superblob_header() -> None:
    assert "too small" in bad_signature(b"\xfa\xde\x0c\xc0").reason


def test_slot_names_name_every_slot_the_reader_checks() -> None:
    from macwasm.signing import codesig

    assert set(codesig.SLOT_MAGIC) <= set(codesig.SLOT_NAMES)
    assert codesig.SLOT_NAMES[codesig.CSSLOT_DER_ENTITLEMENTS] == "entitlements (DER)"
