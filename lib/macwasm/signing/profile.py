"""Provisioning profiles (``.provisionprofile``, ``.mobileprovision``): the plist inside the CMS wrapper.

A profile is CMS SignedData (DER, sometimes BER with indefinite lengths and a chunked eContent)
whose encapsulated content is an XML plist. We read what a release engineer needs from it: name,
team, entitlements, expiry, devices, platforms, UUID, and the signer certificate's subject.

**The CMS signature is NOT verified.** macwasm never checks the signature, the certificate chain
or Apple's trust anchors: ``ProfileFacts.signature_verified`` is always ``False`` and
:data:`SIGNATURE_NOT_VERIFIED_NOTE` says so in every :class:`ProfileReading`. A profile that was
edited after signing reads the same as a genuine one.

Safety: before ``asn1crypto`` (which parses lazily) sees the bytes, a bounded TLV walk checks every
DER/BER header, length and end-of-contents against the enclosing value and the file, caps nesting
and value count, and records where the embedded plist's bytes sit, so that errors inside the plist
carry absolute file offsets even when BER splits it into chunks. All faults raise
:class:`~macwasm.errors.ProfileFormatError` (``category="limit"`` for caps).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

from asn1crypto import cms

from macwasm.errors import LIMIT, PlistFormatError, ProfileFormatError
from macwasm.inputs import open_readonly
from macwasm.limits import PROFILE_MAX_DER_DEPTH, PROFILE_MAX_DER_NODES, PROFILE_MAX_SIZE
from macwasm.signing.model import ProfileFacts
from macwasm.signing.plist import load_plist

SIGNATURE_NOT_VERIFIED_NOTE = (
    "provisioning profile: the CMS signature was NOT verified (macwasm reads the embedded plist only)"
)


@dataclass(frozen=True)
class ProfileReading:
    """A profile's facts plus what the JSON contract of :class:`ProfileFacts` has no field for."""

    facts: ProfileFacts
    signer: str | None  # subject of the signer's certificate as the CMS names it (NOT verified)
    plist_format: str  # xml-plist | binary-plist
    plist_offset: int  # file offset of the embedded plist's first byte
    notes: tuple[str, ...] = field(default=(SIGNATURE_NOT_VERIFIED_NOTE,))


def read_profile(data: bytes | bytearray | memoryview, *, path: str | None = None) -> ProfileFacts:
    """The facts of a provisioning profile given as bytes. The CMS signature is NOT verified."""
    return read_profile_details(data, path=path).facts


def read_profile_file(path: str | PathLike[str]) -> ProfileReading:
    """Read a profile from disk (read-only, size-capped before reading). The signature is NOT verified.

    Raises :class:`ProfileFormatError`, or ``InputError`` when the file cannot be opened.
    """
    name = str(path)
    with open_readonly(name, max_size=PROFILE_MAX_SIZE) as data:
        return read_profile_details(bytes(data), path=name)


def read_profile_details(data: bytes | bytearray | memoryview, *, path: str | None = None) -> ProfileReading:
    """Facts, signer subject and where the plist sits. The CMS signature is NOT verified."""
    buf = bytes(data)
    if len(buf) > PROFILE_MAX_SIZE:
        raise ProfileFormatError(f"profile is {len(buf)} bytes, larger than the limit of {PROFILE_MAX_SIZE} bytes",
                                 path=path, offset=PROFILE_MAX_SIZE, category=LIMIT)
    if not buf:
        raise ProfileFormatError("empty file: not a provisioning profile", path=path, offset=0)
    root = _TlvWalker(buf, path).walk()
    chunks = _econtent_chunks(root)
    plist_bytes, signer = _cms_content(buf[:root.end], root, path)
    plist_offset = chunks[0][1] if chunks else root.offset
    try:
        value, fmt = load_plist(plist_bytes, path=path)
    except PlistFormatError as err:
        offset = _file_offset(chunks, err.offset) if err.offset is not None else plist_offset
        raise ProfileFormatError(f"embedded plist: {err.reason}", path=path, offset=offset,
                                 category=err.category) from None
    facts = _facts(value, path, plist_offset)
    return ProfileReading(facts=facts, signer=signer, plist_format=fmt, plist_offset=plist_offset)


# ----------------------------------------------------------------------------------- the plist


def _facts(value: Any, path: str | None, at: int) -> ProfileFacts:
    def fail(reason: str) -> ProfileFormatError:
        return ProfileFormatError(f"embedded plist: {reason}", path=path, offset=at)

    if not isinstance(value, dict):
        raise fail("the top level is not a dictionary")

    def typed(key: str, kinds: type | tuple[type, ...], default: Any) -> Any:
        got = value.get(key, default)
        if got is not default and not isinstance(got, kinds):
            raise fail(f"{key} is a {type(got).__name__}, not the expected type")
        return got

    def strings(key: str) -> tuple[str, ...]:
        items = typed(key, list, [])
        if not all(isinstance(s, str) for s in items):
            raise fail(f"{key} holds something other than strings")
        return tuple(items)

    entitlements = typed("Entitlements", dict, {})
    if not all(isinstance(k, str) for k in entitlements):
        raise fail("Entitlements has a key that is not a string")
    expiration = typed("ExpirationDate", _dt.datetime, None)
    if expiration is not None and expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=_dt.UTC)  # plist dates are UTC
    return ProfileFacts(
        name=typed("Name", str, None),
        team_ids=strings("TeamIdentifier"),
        entitlements=entitlements,
        expiration=expiration,
        provisions_all_devices=typed("ProvisionsAllDevices", bool, False),
        device_count=len(typed("ProvisionedDevices", list, [])),
        platforms=strings("Platform"),
        uuid=typed("UUID", str, None),
        signature_verified=False,
    )


# ------------------------------------------------------------------------------------------ CMS


def _cms_content(buf: bytes, root: _Node, path: str | None) -> tuple[bytes, str | None]:
    """The eContent bytes and the signer's subject, through asn1crypto (forced inside the try)."""
    where = root.offset
    try:
        info = cms.ContentInfo.load(buf, strict=False)
        content_type = info["content_type"].native
        if content_type != "signed_data":
            raise _Bad(f"CMS content type is {content_type!r}, not signed data", _child_offset(root, 0))
        signed = info["content"]
        where = _path_offset(root, 1, 0)
        encap = signed["encap_content_info"]
        where = _path_offset(root, 1, 0, 2)
        if encap["content_type"].native != "data":
            raise _Bad(f"encapsulated content type is {encap['content_type'].native!r}, not data", where)
        econtent = encap["content"]
        plist = econtent.native if econtent is not None else None
        if not isinstance(plist, bytes) or not plist:
            raise _Bad("the CMS carries no embedded plist (detached signature?)", where)
    except _Bad as bad:
        raise ProfileFormatError(bad.reason, path=path, offset=bad.offset) from None
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError...; map them all
        raise ProfileFormatError(f"CMS SignedData is malformed: {exc}", path=path, offset=where) from None
    return plist, _signer_subject(signed)


def _signer_subject(signed: Any) -> str | None:
    """Subject of the certificate the first SignerInfo names, if cheap to find; never verified."""
    try:
        sid = signed["signer_infos"][0]["sid"]
        if sid.name != "issuer_and_serial_number":
            return None
        serial = sid.chosen["serial_number"].native
        issuer = sid.chosen["issuer"]
        for choice in signed["certificates"] or []:
            if choice.name != "certificate":
                continue
            cert = choice.chosen
            if cert.serial_number == serial and cert.issuer == issuer:
                return str(cert.subject.human_friendly)
    except Exception:  # an unreadable certificate costs the subject, not the profile
        return None
    return None


class _Bad(Exception):
    def __init__(self, reason: str, offset: int | None) -> None:
        super().__init__(reason)
        self.reason, self.offset = reason, offset


# ------------------------------------------------------------------------------------ TLV walk


@dataclass
class _Node:
    tag: int  # first identifier octet (class, constructed bit, low tag number)
    number: int  # tag number
    offset: int
    content: int  # offset of the first content byte
    end: int  # offset after the value (after the end-of-contents octets when indefinite)
    children: list[_Node] = field(default_factory=list)

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)


class _TlvWalker:
    """Check every header and length of a DER/BER value tree, bounded in depth and count."""

    def __init__(self, buf: bytes, path: str | None) -> None:
        self.buf, self.path, self.nodes = buf, path, 0

    def fail(self, reason: str, offset: int, category: str | None = None) -> ProfileFormatError:
        return ProfileFormatError(reason, path=self.path, offset=offset, category=category)

    def walk(self) -> _Node:
        if self.buf[0] != 0x30:
            raise self.fail(f"not a provisioning profile: expected a CMS SEQUENCE (0x30), found 0x{self.buf[0]:02x}",
                            0)
        root = self.value(0, len(self.buf), 0)
        trailing = self.buf[root.end:]
        if trailing.strip(b"\x00"):
            raise self.fail(f"{len(trailing)} bytes of trailing data after the CMS structure", root.end)
        return root

    def value(self, at: int, limit: int, depth: int) -> _Node:
        buf = self.buf
        self.nodes += 1
        if self.nodes > PROFILE_MAX_DER_NODES:
            raise self.fail(f"more than {PROFILE_MAX_DER_NODES} DER values", at, LIMIT)
        if depth > PROFILE_MAX_DER_DEPTH:
            raise self.fail(f"DER values nest deeper than {PROFILE_MAX_DER_DEPTH} levels", at, LIMIT)
        if at >= limit:
            raise self.fail("a DER value is cut off before its tag", at)
        tag, pos = buf[at], at + 1
        number = tag & 0x1F
        if number == 0x1F:
            number = 0
            for i in range(5):
                if pos >= limit:
                    raise self.fail("DER tag is cut off", pos)
                b = buf[pos]
                pos += 1
                number = (number << 7) | (b & 0x7F)
                if not b & 0x80:
                    break
                if i == 4:
                    raise self.fail("DER tag number is too long", at)
        if pos >= limit:
            raise self.fail("DER length is cut off", pos)
        first = buf[pos]
        length_at = pos
        pos += 1
        if first == 0x80:
            if not tag & 0x20:
                raise self.fail("indefinite length on a primitive value", length_at)
            node = _Node(tag, number, at, pos, pos)
            while True:
                if pos + 2 <= limit and buf[pos] == 0 and buf[pos + 1] == 0:
                    node.end = pos + 2
                    return node
                if pos >= limit:
                    raise self.fail("indefinite-length value has no end-of-contents octets", at)
                child = self.value(pos, limit, depth + 1)
                node.children.append(child)
                pos = child.end
        if first & 0x80:
            n = first & 0x7F
            if n == 0x7F or n > 4:
                raise self.fail(f"DER length field of {n} bytes is beyond any profile", length_at)
            if pos + n > limit:
                raise self.fail("DER length is cut off", length_at)
            length = int.from_bytes(buf[pos:pos + n], "big")
            pos += n
        else:
            length = first
        end = pos + length
        if end > limit:
            raise self.fail(f"DER length {length} runs past the end of the enclosing value ({limit - pos} bytes left)",
                            length_at)
        node = _Node(tag, number, at, pos, end)
        if tag & 0x20:
            while pos < end:
                child = self.value(pos, end, depth + 1)
                node.children.append(child)
                pos = child.end
        return node


def _child_offset(node: _Node, index: int) -> int:
    return node.children[index].offset if index < len(node.children) else node.offset


def _path_offset(root: _Node, *indexes: int) -> int:
    node = root
    for i in indexes:
        if i >= len(node.children):
            break
        node = node.children[i]
    return node.offset


def _econtent_chunks(root: _Node) -> list[tuple[int, int, int]]:
    """``(plist offset, file offset, length)`` of each piece of the eContent OCTET STRING, if found.

    ContentInfo -> [0] -> SignedData -> encapContentInfo (3rd) -> [0] -> OCTET STRING (primitive,
    or constructed from primitive pieces in BER).
    """
    node = root
    for i in (1, 0, 2, 1, 0):
        if i >= len(node.children):
            return []
        node = node.children[i]
    if node.number != 4:
        return []
    pieces: list[tuple[int, int, int]] = []
    stack = [node]
    total = 0
    while stack:
        n = stack.pop()
        if n.constructed:
            stack.extend(reversed(n.children))
        else:
            size = n.end - n.content
            pieces.append((total, n.content, size))
            total += size
    return pieces


def _file_offset(chunks: list[tuple[int, int, int]], plist_offset: int) -> int:
    """An offset inside the (reassembled) plist turned into an offset in the profile file."""
    for start, file_at, size in chunks:
        if start <= plist_offset < start + size:
            return file_at + plist_offset - start
    if chunks:
        start, file_at, size = chunks[-1]
        return file_at + size
    return 0
