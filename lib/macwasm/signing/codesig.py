"""The embedded code signature of one Mach-O slice: SuperBlob, CodeDirectory, entitlements, CMS.

The layout is Apple's ``cs_blobs.h`` (xnu, https://github.com/apple-oss-distributions/xnu/blob/main/osfmk/kern/cs_blobs.h):
the magics, slots, flags and CodeDirectory versions below carry its names.

``LC_CODE_SIGNATURE`` points at a SuperBlob (``CSMAGIC_EMBEDDED_SIGNATURE``): an index of
``(slot, offset)`` pairs, each naming a blob that starts with its own magic and length. Everything
inside is big-endian whatever the Mach-O's byte order. We copy out only the blobs we decode (the
CodeDirectory's header and strings, never its page hashes; the entitlements; the CMS) and check
every index entry against the SuperBlob before reading it, so a hostile index costs nothing.

What a release engineer needs from a signature is *what kind* it is, because that decides launch
and notarization: linker-signed (what ld64/lld write on arm64) and ad hoc signatures carry no
team, so a team id is reported only for a real (CMS) signature, never taken from bytes that happen
to sit where a team offset would point. **The CMS signature is NOT verified**: we only read the
signer certificate's subject and its OU (the team id) to report who claims to have signed.

Errors are :class:`~macwasm.errors.MachOFormatError` with absolute file offsets (a fault in the DER or
XML entitlements is the DER or plist reader's, wrapped); a CMS blob we cannot read is a note, not an
error, because the rest of the signature is still worth reporting.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import struct
from dataclasses import dataclass, field
from typing import Any

from macwasm.errors import LIMIT, DerFormatError, MachOFormatError, PlistFormatError
from macwasm.limits import (
    DER_MAX_SIZE,
    MACHO_CODE_DIRECTORY_HEAD,
    MACHO_MAX_CMS_SIZE,
    MACHO_MAX_IDENTIFIER_LENGTH,
    MACHO_MAX_SIGNATURE_BLOBS,
    PLIST_MAX_SIZE,
)
from macwasm.signing.der import read_der_entitlements
from macwasm.signing.model import CodeDirectoryInfo, Signature
from macwasm.signing.plist import entitlements_from_plist_value, load_plist
from macwasm.vocabulary import ABSENT, ADHOC, EMPTY, LINKER_SIGNED, PRESENT, SIGNED

# ------------------------------------------------------------------------------ Apple's names
CSMAGIC_REQUIREMENT = 0xFADE0C00
CSMAGIC_REQUIREMENTS = 0xFADE0C01
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_EMBEDDED_ENTITLEMENTS = 0xFADE7171
CSMAGIC_EMBEDDED_DER_ENTITLEMENTS = 0xFADE7172
CSMAGIC_BLOBWRAPPER = 0xFADE0B01

CSSLOT_CODEDIRECTORY = 0
CSSLOT_INFOSLOT = 1
CSSLOT_REQUIREMENTS = 2
CSSLOT_RESOURCEDIR = 3
CSSLOT_APPLICATION = 4
CSSLOT_ENTITLEMENTS = 5
CSSLOT_DER_ENTITLEMENTS = 7
CSSLOT_ALTERNATE_CODEDIRECTORIES = 0x1000
CSSLOT_ALTERNATE_CODEDIRECTORY_MAX = 5
CSSLOT_SIGNATURESLOT = 0x10000

#: what each slot holds, by the name a reader of ``codesign -d`` output knows it
SLOT_NAMES = {
    CSSLOT_CODEDIRECTORY: "CodeDirectory",
    CSSLOT_INFOSLOT: "Info.plist hash",
    CSSLOT_REQUIREMENTS: "requirements",
    CSSLOT_RESOURCEDIR: "resources hash",
    CSSLOT_APPLICATION: "application specific",
    CSSLOT_ENTITLEMENTS: "entitlements (XML)",
    CSSLOT_DER_ENTITLEMENTS: "entitlements (DER)",
    **{CSSLOT_ALTERNATE_CODEDIRECTORIES + i: f"alternate CodeDirectory {i}"
       for i in range(CSSLOT_ALTERNATE_CODEDIRECTORY_MAX)},
    CSSLOT_SIGNATURESLOT: "CMS signature",
}

#: the magic each slot we decode must hold
SLOT_MAGIC = {
    CSSLOT_CODEDIRECTORY: CSMAGIC_CODEDIRECTORY,
    CSSLOT_REQUIREMENTS: CSMAGIC_REQUIREMENTS,
    CSSLOT_ENTITLEMENTS: CSMAGIC_EMBEDDED_ENTITLEMENTS,
    CSSLOT_DER_ENTITLEMENTS: CSMAGIC_EMBEDDED_DER_ENTITLEMENTS,
    CSSLOT_SIGNATURESLOT: CSMAGIC_BLOBWRAPPER,
    **{CSSLOT_ALTERNATE_CODEDIRECTORIES + i: CSMAGIC_CODEDIRECTORY for i in range(CSSLOT_ALTERNATE_CODEDIRECTORY_MAX)},
}

CS_ADHOC = 0x0002
CS_RUNTIME = 0x10000
CS_LINKER_SIGNED = 0x20000
#: CodeDirectory flag bits by the names ``codesign -d`` and the kernel's cs_blobs.h use
CD_FLAG_NAMES = {
    0x0001: "host",
    0x0002: "adhoc",
    0x0004: "get-task-allow",
    0x0008: "installer",
    0x0010: "forced-lv",
    0x0020: "invalid-allowed",
    0x0100: "hard",
    0x0200: "kill",
    0x0400: "expires",
    0x0800: "restrict",
    0x1000: "enforcement",
    0x2000: "library-validation",
    0x10000: "runtime",
    0x20000: "linker-signed",
}
CS_EXECSEG_NAMES = {
    0x1: "main-binary",
    0x10: "allow-unsigned",
    0x20: "debugger",
    0x40: "jit",
    0x80: "skip-lv",
    0x100: "can-load-cdhash",
    0x200: "can-exec-cdhash",
}
HASH_TYPES = {1: "sha1", 2: "sha256", 3: "sha256-truncated", 4: "sha384", 5: "sha512"}

CD_SUPPORTS_SCATTER = 0x20100
CD_SUPPORTS_TEAMID = 0x20200
CD_SUPPORTS_CODELIMIT64 = 0x20300
CD_SUPPORTS_EXECSEG = 0x20400
CD_EARLIEST_VERSION = 0x20001
#: bytes of the CodeDirectory header each version needs (fields up to and including its last one)
_CD_HEADER_SIZE = ((CD_SUPPORTS_EXECSEG, 88), (CD_SUPPORTS_CODELIMIT64, 64), (CD_SUPPORTS_TEAMID, 52),
                   (CD_SUPPORTS_SCATTER, 48), (CD_EARLIEST_VERSION, 44))

#: OID of an RFC 3161 timestamp token among a SignerInfo's unsigned attributes (asn1crypto's name)
_TIMESTAMP_ATTR = "signature_time_stamp_token"


@dataclass(frozen=True)
class BlobRef:
    """One SuperBlob index entry, checked against the SuperBlob; offsets are absolute in the file."""

    slot: int
    magic: int
    offset: int
    length: int


@dataclass(frozen=True)
class CodeDirectory:
    version: int
    flags: int
    identifier: str
    team_id: str | None  # as the CD says; only a real signature's is reported
    hash_type: str
    exec_seg_flags: int | None
    offset: int


@dataclass(frozen=True)
class CmsFacts:
    """What we read from the CMS blob. Nothing here is verified."""

    has_certificate: bool = False
    signer: str | None = None
    signer_name: str | None = None
    team_ou: str | None = None
    has_timestamp: bool | None = None
    note: str | None = None


@dataclass(frozen=True)
class CodeSignatureFacts:
    """The decoded signature of one slice, ready to go into a SliceFacts."""

    signature: Signature
    entitlements: dict[str, Any] | None
    entitlements_blob: str
    der_entitlements_blob: str
    der_matches_xml: bool | None
    der_layout: str | None
    notes: tuple[str, ...] = field(default=())
    der_entitlements: dict[str, Any] | None = None  # the DER set itself, for a checker that must judge both


def read_code_signature(buf: Any, start: int, size: int, *, path: str | None = None) -> CodeSignatureFacts:
    """Decode the signature that occupies ``buf[start:start + size]`` (already checked to lie in the file)."""
    blobs = read_superblob(buf, start, size, path=path)
    by_slot = {b.slot: b for b in blobs}
    notes: list[str] = []
    cd_ref = by_slot.get(CSSLOT_CODEDIRECTORY)
    if cd_ref is None:
        raise MachOFormatError("the code signature has no CodeDirectory (slot 0)", path=path, offset=start)
    cd = read_code_directory(buf, cd_ref, path=path)
    alternate_refs = sorted((b for b in blobs if CSSLOT_ALTERNATE_CODEDIRECTORIES <= b.slot
                             < CSSLOT_ALTERNATE_CODEDIRECTORIES + CSSLOT_ALTERNATE_CODEDIRECTORY_MAX),
                            key=lambda b: b.slot)
    alternates = [read_code_directory(buf, b, path=path) for b in alternate_refs]
    directories = tuple(CodeDirectoryInfo(ref.slot, d.hash_type, d.version, flag_names(d.flags, CD_FLAG_NAMES))
                        for ref, d in zip((cd_ref, *alternate_refs), (cd, *alternates), strict=True))
    if alternates:
        notes.append("alternate CodeDirectories hash with " + ", ".join(a.hash_type for a in alternates)
                     + f" (primary: {cd.hash_type})")

    xml_state, xml = _xml_entitlements(buf, by_slot.get(CSSLOT_ENTITLEMENTS), path)
    der_state, der, der_layout = _der_entitlements(buf, by_slot.get(CSSLOT_DER_ENTITLEMENTS), path)
    matches: bool | None = None
    if xml is not None and der is not None:
        matches = same_plist_value(xml, der)
        if not matches:
            notes.append("the DER entitlements differ from the XML entitlements (re-sign so that both agree: "
                         "which one a given OS version enforces is not decided here): "
                         + describe_difference(xml, der))

    cms_ref = by_slot.get(CSSLOT_SIGNATURESLOT)
    cms_state = ABSENT if cms_ref is None else (EMPTY if cms_ref.length == 8 else PRESENT)
    cms = read_cms(buf, cms_ref) if cms_ref is not None and cms_state == PRESENT else CmsFacts()
    if cms.note:
        notes.append(cms.note)

    kind, team = _kind_and_team(cd, cms_state, cms, notes)
    signature = Signature(
        kind=kind,
        team_id=team,
        identifier=cd.identifier,
        hardened_runtime=bool(cd.flags & CS_RUNTIME),
        flags=flag_names(cd.flags, CD_FLAG_NAMES),
        cd_version=cd.version,
        hash_type=cd.hash_type,
        exec_seg_flags=flag_names(cd.exec_seg_flags or 0, CS_EXECSEG_NAMES),
        has_requirements=CSSLOT_REQUIREMENTS in by_slot,
        cms=cms_state,
        signer=cms.signer,
        signer_name=cms.signer_name,
        has_timestamp=cms.has_timestamp if kind == SIGNED else None,
        code_directories=directories,
    )
    entitlements = xml if xml is not None else der
    return CodeSignatureFacts(signature, entitlements, xml_state, der_state, matches, der_layout, tuple(notes), der)


def _kind_and_team(cd: CodeDirectory, cms_state: str, cms: CmsFacts, notes: list[str]) -> tuple[str, str | None]:
    """Linker-signed and ad hoc signatures have no team, whatever bytes a team offset points at."""
    if cd.flags & CS_LINKER_SIGNED:
        return LINKER_SIGNED, None
    if cd.flags & CS_ADHOC:
        if cms_state == PRESENT:
            notes.append("the CodeDirectory says ad hoc but a CMS signature is present; reported as ad hoc")
        return ADHOC, None
    if cms_state != PRESENT:
        notes.append(f"the CodeDirectory is not flagged ad hoc but the CMS signature is {cms_state}: the signature "
                     "is incomplete; reported as ad hoc")
        return ADHOC, None
    team = cd.team_id or cms.team_ou
    if cd.team_id and cms.team_ou and cd.team_id != cms.team_ou:
        notes.append(f"the CodeDirectory's team id {cd.team_id} differs from the signer certificate's OU "
                     f"{cms.team_ou}")
    if not cms.has_certificate and cms.note is None:
        notes.append("the CMS signature holds no certificate")
    return SIGNED, team


def flag_names(value: int, names: dict[int, str]) -> tuple[str, ...]:
    """Names of the set bits, known ones by name and the rest as hex, low bits first."""
    out = []
    bit = 1
    while bit <= value:
        if value & bit:
            out.append(names.get(bit, f"0x{bit:x}"))
        bit <<= 1
    return tuple(out)


# ---------------------------------------------------------------------------------- SuperBlob


def _u32(buf: Any, at: int) -> int:
    value: int = struct.unpack(">I", bytes(buf[at:at + 4]))[0]
    return value


def read_superblob(buf: Any, start: int, size: int, *, path: str | None = None) -> list[BlobRef]:
    """The index of the SuperBlob at ``start``, each entry checked: inside, past the index, not overlapping."""
    if size < 12:
        raise MachOFormatError(f"code signature of {size} bytes is too small for a SuperBlob header", path=path,
                               offset=start)
    magic, length, count = struct.unpack(">III", bytes(buf[start:start + 12]))
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        raise MachOFormatError(f"code signature starts with 0x{magic:08x}, not CSMAGIC_EMBEDDED_SIGNATURE "
                               f"(0x{CSMAGIC_EMBEDDED_SIGNATURE:08x})", path=path, offset=start)
    if length < 12 or length > size:
        raise MachOFormatError(f"SuperBlob length {length} does not fit the {size}-byte LC_CODE_SIGNATURE region",
                               path=path, offset=start + 4)
    if count > MACHO_MAX_SIGNATURE_BLOBS:
        raise MachOFormatError(f"SuperBlob claims {count} blobs, more than the limit of {MACHO_MAX_SIGNATURE_BLOBS}",
                               path=path, offset=start + 8, category=LIMIT)
    index_end = 12 + 8 * count
    if index_end > length:
        raise MachOFormatError(f"SuperBlob index of {count} entries runs past its length {length}", path=path,
                               offset=start + 8)
    raw = bytes(buf[start + 12:start + index_end])
    refs: list[BlobRef] = []
    seen: set[int] = set()
    for i in range(count):
        slot, offset = struct.unpack_from(">II", raw, 8 * i)
        at = start + 12 + 8 * i
        if slot in seen:
            raise MachOFormatError(f"slot 0x{slot:x} appears twice in the SuperBlob index", path=path, offset=at)
        seen.add(slot)
        if offset < index_end:
            raise MachOFormatError(f"slot 0x{slot:x} points at offset {offset}, inside the SuperBlob's own header "
                                   f"and index ({index_end} bytes)", path=path, offset=at + 4)
        if offset + 8 > length:
            raise MachOFormatError(f"slot 0x{slot:x} points at offset {offset}, past the SuperBlob's length "
                                   f"{length}", path=path, offset=at + 4)
        bmagic, blength = struct.unpack(">II", bytes(buf[start + offset:start + offset + 8]))
        if blength < 8 or offset + blength > length:
            raise MachOFormatError(f"blob in slot 0x{slot:x} claims {blength} bytes, which do not fit the SuperBlob "
                                   f"({length - offset} bytes left)", path=path, offset=start + offset + 4)
        expected = SLOT_MAGIC.get(slot)
        if expected is not None and bmagic != expected:
            raise MachOFormatError(f"slot 0x{slot:x} holds magic 0x{bmagic:08x}, expected 0x{expected:08x}",
                                   path=path, offset=start + offset)
        refs.append(BlobRef(slot, bmagic, start + offset, blength))
    ordered = sorted(refs, key=lambda r: r.offset)
    for a, b in itertools.pairwise(ordered):
        if b.offset < a.offset + a.length:
            raise MachOFormatError(f"blobs in slots 0x{a.slot:x} and 0x{b.slot:x} overlap", path=path,
                                   offset=b.offset)
    return refs


# ------------------------------------------------------------------------------- CodeDirectory


def read_code_directory(buf: Any, ref: BlobRef, *, path: str | None = None) -> CodeDirectory:
    """The CodeDirectory's header fields and strings; its hashes are never copied."""
    head = bytes(buf[ref.offset:ref.offset + min(ref.length, MACHO_CODE_DIRECTORY_HEAD)])
    if len(head) < 44:
        raise MachOFormatError(f"CodeDirectory of {ref.length} bytes is shorter than its 44-byte header",
                               path=path, offset=ref.offset)
    version, flags, _hash_off, ident_off = struct.unpack_from(">IIII", head, 8)
    hash_type_code = head[37]
    if version < CD_EARLIEST_VERSION:
        raise MachOFormatError(f"CodeDirectory version 0x{version:x} is older than any signer writes",
                               path=path, offset=ref.offset + 8)
    needed = next(n for v, n in _CD_HEADER_SIZE if version >= v)
    if ref.length < needed:
        raise MachOFormatError(f"CodeDirectory version 0x{version:x} needs a {needed}-byte header, the blob has "
                               f"{ref.length} bytes", path=path, offset=ref.offset + 4)
    identifier = _cstring(buf, ref, ident_off, "identifier", ref.offset + 20, path)
    team = None
    if version >= CD_SUPPORTS_TEAMID:
        (team_off,) = struct.unpack_from(">I", head, 48)
        if team_off:
            team = _cstring(buf, ref, team_off, "team id", ref.offset + 48, path)
    exec_seg = struct.unpack_from(">Q", head, 80)[0] if version >= CD_SUPPORTS_EXECSEG else None
    hash_type = HASH_TYPES.get(hash_type_code, f"unknown-{hash_type_code}")
    return CodeDirectory(version, flags, identifier, team or None, hash_type, exec_seg, ref.offset)


def _cstring(buf: Any, ref: BlobRef, offset: int, what: str, field_at: int, path: str | None) -> str:
    if offset >= ref.length:
        raise MachOFormatError(f"CodeDirectory {what} offset {offset} lies outside the {ref.length}-byte blob",
                               path=path, offset=field_at)
    start = ref.offset + offset
    end = min(ref.offset + ref.length, start + MACHO_MAX_IDENTIFIER_LENGTH + 1)
    raw = bytes(buf[start:end])
    nul = raw.find(b"\0")
    if nul < 0:
        if len(raw) > MACHO_MAX_IDENTIFIER_LENGTH:
            raise MachOFormatError(f"CodeDirectory {what} is longer than {MACHO_MAX_IDENTIFIER_LENGTH} bytes",
                                   path=path, offset=start, category=LIMIT)
        raise MachOFormatError(f"CodeDirectory {what} has no terminating NUL inside the blob", path=path,
                               offset=start)
    try:
        return raw[:nul].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MachOFormatError(f"CodeDirectory {what} is not UTF-8", path=path, offset=start + exc.start) from None


# -------------------------------------------------------------------------------- entitlements


def _xml_entitlements(buf: Any, ref: BlobRef | None, path: str | None) -> tuple[str, dict[str, Any] | None]:
    if ref is None:
        return ABSENT, None
    body_len = ref.length - 8
    if body_len > PLIST_MAX_SIZE:
        raise MachOFormatError(f"XML entitlements blob of {body_len} bytes exceeds the limit of {PLIST_MAX_SIZE}",
                               path=path, offset=ref.offset + 4, category=LIMIT)
    body = bytes(buf[ref.offset + 8:ref.offset + ref.length])
    if not body.strip(b" \t\r\n\0"):
        return EMPTY, {}
    try:
        value, _fmt = load_plist(body, path=path)
        ents = entitlements_from_plist_value(value, path=path, offset=0)
    except PlistFormatError as err:
        at = ref.offset + 8 + (err.offset or 0)  # the plist reader's offsets are the blob's
        raise MachOFormatError(f"XML entitlements blob: {err.reason}", path=path, offset=at,
                               category=err.category) from None
    return (PRESENT if ents else EMPTY), ents


def _der_entitlements(buf: Any, ref: BlobRef | None,
                      path: str | None) -> tuple[str, dict[str, Any] | None, str | None]:
    if ref is None:
        return ABSENT, None, None
    body_len = ref.length - 8
    if body_len > DER_MAX_SIZE:
        raise MachOFormatError(f"DER entitlements blob of {body_len} bytes exceeds the limit of {DER_MAX_SIZE}",
                               path=path, offset=ref.offset + 4, category=LIMIT)
    body = bytes(buf[ref.offset + 8:ref.offset + ref.length])
    try:
        der = read_der_entitlements(body, path=path, base=ref.offset + 8)  # offsets are the file's already
    except DerFormatError as err:
        raise MachOFormatError.wrap(err, reason=f"DER entitlements blob: {err.reason}") from None
    return (PRESENT if der.value else EMPTY), der.value, der.layout


def same_plist_value(a: Any, b: Any) -> bool:
    """Equal as plist values: ``True`` is not ``1`` here, unlike in Python."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_plist_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_plist_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, _dt.datetime) and isinstance(b, _dt.datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    if isinstance(a, (bytes, bytearray)) and isinstance(b, (bytes, bytearray)):
        return bytes(a) == bytes(b)
    return type(a) is type(b) and a == b


def describe_difference(xml: dict[str, Any], der: dict[str, Any]) -> str:
    """Which keys differ, in a line: only in XML, only in DER, different values."""
    parts = []
    only_xml = sorted(set(xml) - set(der))
    only_der = sorted(set(der) - set(xml))
    changed = sorted(k for k in set(xml) & set(der) if not same_plist_value(xml[k], der[k]))
    if only_xml:
        parts.append("only in XML: " + ", ".join(only_xml))
    if only_der:
        parts.append("only in DER: " + ", ".join(only_der))
    if changed:
        parts.append("different values: " + ", ".join(changed))
    return "; ".join(parts)


# ------------------------------------------------------------------------------------------ CMS


def read_cms(buf: Any, ref: BlobRef) -> CmsFacts:
    """Signer subject, team OU and timestamp presence of the CMS blob; problems become a note. NOT verified."""
    body_len = ref.length - 8
    if body_len > MACHO_MAX_CMS_SIZE:
        return CmsFacts(note=f"CMS signature of {body_len} bytes exceeds the limit of {MACHO_MAX_CMS_SIZE}; "
                             "signer not read")
    payload = bytes(buf[ref.offset + 8:ref.offset + ref.length])
    try:
        return _cms_facts(payload)
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError, RecursionError...
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return CmsFacts(note=f"CMS signature at offset 0x{ref.offset:x} could not be read ({reason}); signer unknown")


def _cms_facts(payload: bytes) -> CmsFacts:
    from asn1crypto import cms  # imported here: only signed binaries pay for it

    info = cms.ContentInfo.load(payload)
    if info["content_type"].native != "signed_data":
        return CmsFacts(note=f"CMS blob holds {info['content_type'].native}, not signed data")
    signed = info["content"]
    certs = [c.chosen for c in (signed["certificates"] or []) if c.name == "certificate"]
    signers = list(signed["signer_infos"] or [])
    leaf = _leaf_certificate(certs, signers[0] if signers else None)
    has_ts = None
    if signers:
        attrs = signers[0]["unsigned_attrs"]
        has_ts = any(a["type"].native == _TIMESTAMP_ATTR for a in attrs) if attrs.native is not None else False
    if leaf is None:
        return CmsFacts(has_certificate=bool(certs), has_timestamp=has_ts,
                        note=None if certs else "the CMS signature holds no certificate")
    subject = leaf.subject
    ou, name = (_first(subject.native.get(field)) for field in ("organizational_unit_name", "common_name"))
    return CmsFacts(has_certificate=True, signer=str(subject.human_friendly), signer_name=name, team_ou=ou,
                    has_timestamp=has_ts)


def _first(value: Any) -> str | None:
    """A subject attribute may repeat (a list); the first one, or None when absent or empty."""
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


def _leaf_certificate(certs: list[Any], signer: Any) -> Any:
    """The certificate the SignerInfo names; else the one that issued no other (the end of the chain)."""
    if signer is not None:
        sid = signer["sid"]
        for cert in certs:
            if sid.name == "issuer_and_serial_number":
                if cert.serial_number == sid.chosen["serial_number"].native and cert.issuer == sid.chosen["issuer"]:
                    return cert
            elif cert.key_identifier == sid.chosen.native:
                return cert
    issuers = {c.issuer.dump() for c in certs}
    ends = [c for c in certs if c.subject.dump() not in issuers]
    return ends[0] if len(ends) == 1 else None
