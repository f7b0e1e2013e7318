"""DER entitlements (the ``0xfade7172`` blob of a code signature) decoded into plist-typed values.

DER is ITU-T X.690 (https://www.itu.int/rec/T-REC-X.690); the blob and its magic are ``cs_blobs.h``'s
(``CSMAGIC_EMBEDDED_DER_ENTITLEMENTS``, https://github.com/apple-oss-distributions/xnu/blob/main/osfmk/kern/cs_blobs.h).

Since macOS 12 / iOS 15 the kernel and AMFI read entitlements from this DER twin of the XML blob,
so a binary whose two blobs disagree is judged on the DER one. Two layouts occur in real files:

* ``wrapped`` (what ``codesign`` writes today, and what Apple's CoreEntitlements expects):
  ``[APPLICATION 16] { INTEGER 1, [CONTEXT 16] { SEQUENCE { UTF8String key, value } ... } }``;
  nested dictionaries are ``[CONTEXT 16]`` too;
* ``bare-set`` (older signers, e.g. the official Node.js 18 builds): the dictionary alone as a
  ``SET`` of the same key/value SEQUENCEs, nested dictionaries also as ``SET``.

Values: BOOLEAN, INTEGER, UTF8String, SEQUENCE (array), OCTET STRING (data), GeneralizedTime
(date); a dictionary in either tag form is accepted at any depth. The decoder is strict where a
lenient one would let a hostile blob claim more than it holds (lengths, nesting, counts) and
raises only :class:`~macwasm.errors.DerFormatError`, with absolute offsets when ``base`` is given.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from macwasm.errors import LIMIT, UNSUPPORTED, DerFormatError
from macwasm.limits import DER_MAX_DEPTH, DER_MAX_INTEGER_BYTES, DER_MAX_LENGTH_BYTES, DER_MAX_SIZE, DER_MAX_VALUES

WRAPPED = "wrapped"
BARE_SET = "bare-set"

TAG_BOOLEAN = 0x01
TAG_INTEGER = 0x02
TAG_OCTET_STRING = 0x04
TAG_UTF8_STRING = 0x0C
TAG_GENERALIZED_TIME = 0x18
TAG_SEQUENCE = 0x30
TAG_SET = 0x31
TAG_DICT = 0xB0  # [CONTEXT 16] constructed
TAG_ENTITLEMENTS = 0x70  # [APPLICATION 16] constructed
_DICT_TAGS = (TAG_DICT, TAG_SET)
_CONSTRUCTED = 0x20


@dataclass(frozen=True)
class DerEntitlements:
    """Decoded entitlements and which of the two layouts carried them."""

    value: dict[str, Any]
    layout: str  # WRAPPED | BARE_SET


@dataclass(frozen=True)
class _Tlv:
    tag: int
    offset: int  # of the tag byte, relative to the decoded buffer
    start: int  # first content byte
    end: int  # after the last content byte


def decode_der_entitlements(data: bytes | bytearray | memoryview, *, path: str | None = None,
                            base: int = 0) -> dict[str, Any]:
    """The entitlements dictionary of a DER entitlements payload (the blob without its 8-byte header)."""
    return read_der_entitlements(data, path=path, base=base).value


def read_der_entitlements(data: bytes | bytearray | memoryview, *, path: str | None = None,
                          base: int = 0) -> DerEntitlements:
    """Like :func:`decode_der_entitlements`, and say which layout it was. ``base``: file offset of ``data[0]``."""
    buf = bytes(data)
    return _Decoder(buf, path, base).entitlements()


class _Decoder:
    def __init__(self, buf: bytes, path: str | None, base: int) -> None:
        self.buf, self.path, self.base, self.values = buf, path, base, 0

    def fail(self, reason: str, at: int, category: str | None = None) -> DerFormatError:
        return DerFormatError(reason, path=self.path, offset=self.base + at, category=category)

    def entitlements(self) -> DerEntitlements:
        buf = self.buf
        if len(buf) > DER_MAX_SIZE:
            raise self.fail(f"DER entitlements of {len(buf)} bytes exceed the limit of {DER_MAX_SIZE} bytes",
                            DER_MAX_SIZE, LIMIT)
        if not buf:
            raise self.fail("DER entitlements are empty (not even an empty dictionary)", 0)
        top = self.header(0, len(buf))
        trailing = buf[top.end:]
        if trailing.strip(b"\0"):
            raise self.fail(f"{len(trailing)} bytes after the DER entitlements value", top.end)
        if top.tag == TAG_ENTITLEMENTS:
            children = self.children(top, 1)
            if len(children) != 2 or children[0].tag != TAG_INTEGER:
                raise self.fail("wrapped DER entitlements must hold a version INTEGER and a dictionary",
                                top.start if not children else children[0].offset)
            version = self.integer(children[0])
            if version != 1:
                raise self.fail(f"DER entitlements version {version} is not the known version 1",
                                children[0].offset, UNSUPPORTED)
            if children[1].tag not in _DICT_TAGS:
                raise self.fail(f"expected a dictionary ([16] or SET), found tag 0x{children[1].tag:02x}",
                                children[1].offset)
            return DerEntitlements(self.dictionary(children[1], 2), WRAPPED)
        if top.tag == TAG_SET:
            return DerEntitlements(self.dictionary(top, 1), BARE_SET)
        raise self.fail(f"not DER entitlements: expected [APPLICATION 16] (0x70) or SET (0x31), found tag "
                        f"0x{top.tag:02x}", 0)

    # ------------------------------------------------------------------------------ TLV headers

    def header(self, at: int, limit: int) -> _Tlv:
        """One tag-length header at ``at``; the value must end by ``limit`` (the enclosing value's end)."""
        self.values += 1
        if self.values > DER_MAX_VALUES:
            raise self.fail(f"more than {DER_MAX_VALUES} DER values", at, LIMIT)
        buf = self.buf
        if at + 2 > limit:
            raise self.fail("DER value is cut off before its length", at)
        tag = buf[at]
        if tag & 0x1F == 0x1F:
            raise self.fail(f"high-tag-number form (tag byte 0x{tag:02x}) does not occur in entitlements", at,
                            UNSUPPORTED)
        first = buf[at + 1]
        pos = at + 2
        if first == 0x80:
            raise self.fail("indefinite length is not allowed in DER", at + 1)
        if first & 0x80:
            n = first & 0x7F
            if n > DER_MAX_LENGTH_BYTES:
                raise self.fail(f"DER length field of {n} bytes exceeds the limit of {DER_MAX_LENGTH_BYTES}",
                                at + 1, LIMIT)
            if pos + n > limit:
                raise self.fail("DER length field is cut off", at + 1)
            length = int.from_bytes(buf[pos:pos + n], "big")
            pos += n
        else:
            length = first
        if pos + length > limit:
            raise self.fail(f"DER length {length} runs past the enclosing value ({limit - pos} bytes left)", at + 1)
        return _Tlv(tag, at, pos, pos + length)

    def children(self, tlv: _Tlv, depth: int) -> list[_Tlv]:
        if not tlv.tag & _CONSTRUCTED:
            raise self.fail(f"tag 0x{tlv.tag:02x} is primitive where a constructed value is needed", tlv.offset)
        if depth > DER_MAX_DEPTH:
            raise self.fail(f"DER values nest deeper than {DER_MAX_DEPTH} levels", tlv.offset, LIMIT)
        out, pos = [], tlv.start
        while pos < tlv.end:
            child = self.header(pos, tlv.end)
            out.append(child)
            pos = child.end
        return out

    # ---------------------------------------------------------------------------------- values

    def value(self, tlv: _Tlv, depth: int) -> Any:
        tag = tlv.tag
        if tag == TAG_BOOLEAN:
            # DER says 0xff for true, but older signers (e.g. Node.js 18's) wrote 0x01: any non-zero is true
            if tlv.end - tlv.start != 1:
                raise self.fail(f"a BOOLEAN is one byte, this one has {tlv.end - tlv.start}", tlv.offset)
            return self.buf[tlv.start] != 0
        if tag == TAG_INTEGER:
            return self.integer(tlv)
        if tag == TAG_UTF8_STRING:
            return self.text(tlv)
        if tag == TAG_OCTET_STRING:
            return self.buf[tlv.start:tlv.end]
        if tag == TAG_GENERALIZED_TIME:
            return self.date(tlv)
        if tag == TAG_SEQUENCE:
            return [self.value(child, depth + 1) for child in self.children(tlv, depth)]
        if tag in _DICT_TAGS:
            return self.dictionary(tlv, depth)
        raise self.fail(f"DER tag 0x{tag:02x} is not a value type of entitlements", tlv.offset, UNSUPPORTED)

    def dictionary(self, tlv: _Tlv, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for pair in self.children(tlv, depth):
            if pair.tag != TAG_SEQUENCE:
                raise self.fail(f"a dictionary entry must be a SEQUENCE, found tag 0x{pair.tag:02x}", pair.offset)
            parts = self.children(pair, depth + 1)
            if len(parts) != 2:
                raise self.fail(f"a dictionary entry must hold a key and a value, it holds {len(parts)} values",
                                pair.offset)
            if parts[0].tag != TAG_UTF8_STRING:
                raise self.fail(f"a dictionary key must be a UTF8String, found tag 0x{parts[0].tag:02x}",
                                parts[0].offset)
            key = self.text(parts[0])
            if key in out:
                raise self.fail(f"duplicate key {key!r} in a DER dictionary", parts[0].offset)
            out[key] = self.value(parts[1], depth + 2)
        return out

    def integer(self, tlv: _Tlv) -> int:
        size = tlv.end - tlv.start
        if size == 0:
            raise self.fail("a DER INTEGER has no content", tlv.offset)
        if size > DER_MAX_INTEGER_BYTES:
            raise self.fail(f"a DER INTEGER of {size} bytes exceeds the limit of {DER_MAX_INTEGER_BYTES}",
                            tlv.offset, LIMIT)
        return int.from_bytes(self.buf[tlv.start:tlv.end], "big", signed=True)

    def text(self, tlv: _Tlv) -> str:
        try:
            return self.buf[tlv.start:tlv.end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail(f"UTF8String is not valid UTF-8 ({exc.reason})", tlv.start + exc.start) from None

    def date(self, tlv: _Tlv) -> _dt.datetime:
        raw = self.buf[tlv.start:tlv.end]
        try:
            text = raw.decode("ascii")
            if len(text) != 15 or not text.endswith("Z"):
                raise ValueError("not YYYYMMDDHHMMSSZ")
            return _dt.datetime.strptime(text, "%Y%m%d%H%M%SZ")
        except ValueError:
            raise self.fail(f"GeneralizedTime {raw[:32]!r} is not YYYYMMDDHHMMSSZ", tlv.offset) from None
