"""Property lists (XML and binary) read safely: what the standard library's ``plistlib`` lacks.

``plistlib`` builds the values of XML plists, but on its own it

* rejects XML that has whitespace or a BOM before ``<?xml`` (official Node.js builds embed their
  entitlements blob like that), so we strip it and keep every offset relative to the input;
* hands entity declarations to expat before complaining, so we refuse any ``<!ENTITY`` (billion
  laughs, external entities) before expat sees a byte, with the offset of the declaration;
* has no depth or size caps and reports errors without the file or a byte offset, so an expat
  pass validates structure, nesting, element count and leaf syntax first, with exact offsets;
* reads binary plists by following object references without checking the trailer, the offset
  table or cycles, so binary plists are read here by a small bounded reader instead (trailer,
  offset table and every count checked against the file before use; cycles and values that
  expand past the element cap are refused).

Everything raises :class:`~macwasm.errors.PlistFormatError` (``category="limit"`` for caps), never
an expat, ``ValueError`` or ``RecursionError``.
"""

from __future__ import annotations

import binascii
import datetime as _dt
import plistlib
import re
import struct
import xml.parsers.expat as expat
from os import PathLike
from typing import Any

from macwasm.errors import LIMIT, UNSUPPORTED, PlistFormatError
from macwasm.inputs import open_readonly
from macwasm.limits import PLIST_MAX_DEPTH, PLIST_MAX_ELEMENTS, PLIST_MAX_SIZE

XML_PLIST = "xml-plist"
BINARY_PLIST = "binary-plist"

_BOM_UTF8 = b"\xef\xbb\xbf"
_BOM_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_LEADING_WS = b" \t\r\n"
#: ``<!ENTITY`` in the encodings expat would accept from a plist
_ENTITY_MARKERS = tuple(
    m for enc in ("ascii", "utf-16-le", "utf-16-be") for m in {"<!ENTITY".encode(enc), "<!entity".encode(enc)}
)

#: magic of an embedded entitlements blob (``CSMAGIC_EMBEDDED_ENTITLEMENTS``) and of its DER twin
ENTITLEMENTS_BLOB_MAGIC = b"\xfa\xde\x71\x71"
DER_ENTITLEMENTS_BLOB_MAGIC = b"\xfa\xde\x71\x72"

_LEAVES = frozenset({"key", "string", "integer", "real", "date", "data", "true", "false"})
_CONTAINERS = frozenset({"dict", "array"})
_DATE = re.compile(
    r"(?P<year>\d\d\d\d)(?:-(?P<month>\d\d)(?:-(?P<day>\d\d)"
    r"(?:T(?P<hour>\d\d)(?::(?P<minute>\d\d)(?::(?P<second>\d\d))?)?)?)?)?Z",
    re.ASCII,
)


def load_plist(data: bytes | bytearray | memoryview, *, path: str | None = None) -> tuple[Any, str]:
    """Parse an XML or binary property list; return ``(value, "xml-plist" | "binary-plist")``.

    Values have ``plistlib``'s types (dict, list, str, int, float, bool, bytes, naive UTC datetime,
    ``plistlib.UID``). Offsets in errors are absolute in ``data``.
    """
    buf = bytes(data)
    if len(buf) > PLIST_MAX_SIZE:
        raise PlistFormatError(f"plist is {len(buf)} bytes, larger than the limit of {PLIST_MAX_SIZE} bytes",
                               path=path, offset=PLIST_MAX_SIZE, category=LIMIT)
    if buf.startswith(b"bplist"):
        return _BinaryReader(buf, path).read(), BINARY_PLIST
    return _load_xml(buf, path), XML_PLIST


def entitlements_from_plist_value(value: Any, *, path: str | None = None, offset: int | None = None) -> dict[str, Any]:
    """An entitlements plist is a dictionary with string keys; say what it is when it is not."""
    if not isinstance(value, dict):
        raise PlistFormatError(
            f"an entitlements plist must hold a dictionary at top level, this one holds {_kind(value)}",
            path=path, offset=offset)
    for key in value:
        if not isinstance(key, str):
            raise PlistFormatError(f"entitlement keys must be strings, found {_kind(key)}", path=path, offset=offset)
    return value


def load_entitlements(data: bytes | bytearray | memoryview, *, path: str | None = None) -> tuple[dict[str, Any], str]:
    """Entitlements from an ``.entitlements`` / ``.xcent`` file or an embedded entitlements blob.

    Accepts a plain plist (XML or binary) or the blob as ``codesign`` embeds it (magic ``0xfade7171``
    and a big-endian length before the XML), which older ``codesign -d --entitlements -`` printed
    verbatim. Returns ``(entitlements, format)``.
    """
    buf = bytes(data)
    base = 0
    if buf.startswith(DER_ENTITLEMENTS_BLOB_MAGIC):
        raise PlistFormatError("this is a DER entitlements blob (0xfade7172), not a plist", path=path, offset=0,
                               category=UNSUPPORTED)
    if buf.startswith(ENTITLEMENTS_BLOB_MAGIC):
        if len(buf) < 8:
            raise PlistFormatError("entitlements blob header is truncated", path=path, offset=len(buf))
        (length,) = struct.unpack_from(">I", buf, 4)
        if length < 8 or length > len(buf):
            raise PlistFormatError(f"entitlements blob length {length} does not fit the {len(buf)}-byte input",
                                   path=path, offset=4)
        buf, base = buf[8:length], 8
    try:
        value, fmt = load_plist(buf, path=path)
    except PlistFormatError as err:
        raise _shifted(err, base) from None
    return entitlements_from_plist_value(value, path=path, offset=base), fmt


def read_entitlements_file(path: str | PathLike[str]) -> tuple[dict[str, Any], str]:
    """Read an ``.entitlements`` / ``.xcent`` file (read-only, size-capped before reading).

    Raises :class:`PlistFormatError`, or ``InputError`` when the file cannot be opened.
    """
    name = str(path)
    with open_readonly(name, max_size=PLIST_MAX_SIZE) as data:
        return load_entitlements(bytes(data), path=name)


def _shifted(err: PlistFormatError, base: int) -> PlistFormatError:
    if base and err.offset is not None:
        return PlistFormatError(err.reason, path=err.path, offset=err.offset + base, category=err.category)
    return err


def _kind(value: Any) -> str:
    names = {dict: "a dictionary", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
             float: "a real", bytes: "data", _dt.datetime: "a date", type(None): "nothing"}
    return names.get(type(value), f"a {type(value).__name__}")


# --------------------------------------------------------------------------------------------- XML


class _Reject(Exception):
    """Raised inside expat callbacks; carries our error out of ``Parse``."""

    def __init__(self, reason: str, offset: int, category: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.offset, self.category = reason, offset, category


def _leading_junk(buf: bytes) -> int:
    """Length of whitespace, UTF-8 BOMs and comments before the first other markup (kept out of expat's sight).

    Shipping entitlements files put a licence comment before ``<?xml`` (Signal Desktop) or spaces
    (Node.js); strict XML refuses a declaration that is not at the very start, but Apple's parser,
    and so codesign, accepts them. A comment is skipped only when it is closed.
    """
    i = 0
    while i < len(buf):
        if buf[i] in _LEADING_WS:
            i += 1
        elif buf.startswith(_BOM_UTF8, i):
            i += 3
        elif buf.startswith(b"<!--", i) and (end := buf.find(b"-->", i + 4)) >= 0:
            i = end + 3
        else:
            break
    return i


def _blank_doctype(body: bytes) -> bytes:
    """The document type declaration replaced by spaces of its length (every offset kept).

    Apple's parser, and so codesign, skips ``<!DOCTYPE`` to its ``>`` without reading it; a shipping
    file has an ellipsis where the DTD's URL belongs (Kong/insomnia's codesign.entitlements), which
    expat refuses. plistlib ignores the DTD anyway. A declaration with an internal subset (``[``) is
    left to expat and to the entity refusal.
    """
    first_element = re.search(rb"<(?![?!])", body)
    at = body.find(b"<!DOCTYPE", 0, first_element.start() if first_element else len(body))
    if at < 0:
        return body
    end = body.find(b">", at)
    if end < 0 or body.find(b"[", at, end) >= 0:
        return body
    return body[:at] + b" " * (end + 1 - at) + body[end + 1:]


def _load_xml(buf: bytes, path: str | None) -> Any:
    lead = 0 if buf.startswith(_BOM_UTF16) else _leading_junk(buf)
    body = buf[lead:]
    if not body:
        raise PlistFormatError("empty input: no property list", path=path, offset=len(buf))
    if not body.startswith(b"<") and not body.startswith(_BOM_UTF16):
        raise PlistFormatError("not a property list: neither XML (<?xml, <plist) nor binary (bplist00)",
                               path=path, offset=lead)
    for marker in _ENTITY_MARKERS:
        at = body.find(marker)
        if at >= 0:
            raise PlistFormatError("entity declarations are refused in plists (billion laughs, external entities)",
                                   path=path, offset=lead + at)
    if not body.startswith(_BOM_UTF16):
        body = _blank_doctype(body)
    _XmlPrescan(body, lead, path).run()
    try:
        return plistlib.loads(body, fmt=plistlib.FMT_XML)
    except Exception as exc:  # the pre-scan should have caught it; keep the one-error-type promise anyway
        raise PlistFormatError(f"plistlib rejected the XML: {exc}", path=path, offset=lead) from None


class _XmlPrescan:
    """One expat pass that checks what plistlib would fail on, with byte offsets, before plistlib runs."""

    def __init__(self, body: bytes, lead: int, path: str | None) -> None:
        self.body, self.lead, self.path = body, lead, path
        self.p = expat.ParserCreate()
        self.p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        # frames: [tag, offset, expecting_key (dict only), pending key offset]
        self.stack: list[list[Any]] = []
        self.elements = 0
        self.values_at_root = 0
        self.text: list[str] = []
        self.leaf: tuple[str, int] | None = None

    def run(self) -> None:
        p = self.p
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.CharacterDataHandler = self.chars
        p.EntityDeclHandler = self.entity
        p.UnparsedEntityDeclHandler = self.entity
        p.ExternalEntityRefHandler = self.external
        try:
            p.Parse(self.body, True)
        except _Reject as rej:
            raise PlistFormatError(rej.reason, path=self.path, offset=self.lead + rej.offset,
                                   category=rej.category) from None
        except expat.ExpatError as exc:
            raise PlistFormatError(f"XML is not well-formed: {expat.ErrorString(exc.code)}",
                                   path=self.path, offset=self.lead + self._error_offset(exc)) from None
        except (LookupError, UnicodeError, ValueError) as exc:  # e.g. encoding="nonsense" in the declaration
            raise PlistFormatError(f"XML cannot be decoded: {exc}", path=self.path, offset=self.lead) from None
        except RecursionError:  # expat itself does not recurse; belt and braces
            raise PlistFormatError("XML nests too deep", path=self.path, offset=self.lead, category=LIMIT) from None
        if self.values_at_root == 0:
            raise PlistFormatError("the plist holds no value", path=self.path, offset=self.lead)

    def _error_offset(self, exc: expat.ExpatError) -> int:
        """Expat's byte index when it has one; else its (line, column) turned into a byte offset."""
        idx = self.p.ErrorByteIndex
        if idx is not None and 0 <= idx <= len(self.body):
            # expat points at a tag's name; the markup starts at its '<' (or '</')
            for back in (b"</", b"<"):
                if self.body[max(idx - len(back), 0):idx] == back:
                    return idx - len(back)
            return idx
        line, col = max(exc.lineno, 1), max(exc.offset, 0)
        at = 0
        for _ in range(line - 1):
            nl = self.body.find(b"\n", at)
            if nl < 0:
                break
            at = nl + 1
        return min(at + col, len(self.body))

    def _here(self) -> int:
        return max(self.p.CurrentByteIndex, 0)

    def entity(self, *args: Any) -> None:
        raise _Reject("entity declarations are refused in plists", self._here())

    def external(self, *args: Any) -> int:
        raise _Reject("external entity references are refused in plists", self._here())

    def chars(self, data: str) -> None:
        if self.leaf is not None:
            self.text.append(data)
        elif data.strip():
            raise _Reject("text outside a plist value", self._here())

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        at = self._here()
        self.elements += 1
        if self.elements > PLIST_MAX_ELEMENTS:
            raise _Reject(f"more than {PLIST_MAX_ELEMENTS} XML elements", at, LIMIT)
        if len(self.stack) >= PLIST_MAX_DEPTH:
            raise _Reject(f"plist nests deeper than {PLIST_MAX_DEPTH} levels", at, LIMIT)
        if self.leaf is not None:
            raise _Reject(f"<{tag}> inside <{self.leaf[0]}>", at)
        if tag == "plist":
            if self.stack or self.values_at_root:
                raise _Reject("<plist> is allowed only as the root element", at)
            self.stack.append(["plist", at, False, None])
            return
        if tag not in _LEAVES and tag not in _CONTAINERS:
            raise _Reject(f"unknown plist element <{tag}>", at)
        self._place(tag, at)
        if tag in _CONTAINERS:
            self.stack.append([tag, at, tag == "dict", None])
        else:
            self.leaf = (tag, at)
            self.text = []

    def _place(self, tag: str, at: int) -> None:
        """Check that a value (or key) may stand here, and advance the parent's state."""
        parent = self.stack[-1] if self.stack else None
        if parent is None or parent[0] == "plist":
            if tag == "key":
                raise _Reject("<key> outside a <dict>", at)
            self.values_at_root += 1
            if self.values_at_root > 1:
                raise _Reject("a plist holds exactly one top-level value; found a second one", at)
            return
        if parent[0] == "array":
            if tag == "key":
                raise _Reject("<key> inside an <array>", at)
            return
        # dict: alternate key, value
        if parent[2]:
            if tag != "key":
                raise _Reject(f"<{tag}> where a <dict> expects a <key>", at)
            parent[2], parent[3] = False, at
        else:
            if tag == "key":
                raise _Reject("two <key>s in a row: the first has no value", parent[3])
            parent[2], parent[3] = True, None

    def end(self, tag: str) -> None:
        if self.leaf is not None:
            name, at = self.leaf
            self.leaf = None
            self._check_leaf(name, "".join(self.text), at)
            self.text = []
            return
        frame = self.stack.pop()
        if frame[0] == "dict" and not frame[2]:
            raise _Reject("<key> without a value", frame[3])

    def _check_leaf(self, tag: str, text: str, at: int) -> None:
        """Reject what plistlib would fail on (or mis-read) for this leaf, at the leaf's offset."""
        try:
            if tag == "integer":
                int(text, 16) if text.startswith(("0x", "0X")) else int(text)  # as plistlib reads it
            elif tag == "real":
                float(text)
            elif tag == "date":
                m = _DATE.match(text)
                if m is None:
                    raise ValueError("not an ISO 8601 UTC date (YYYY-MM-DDTHH:MM:SSZ)")
                parts = [int(v) for v in m.groups() if v is not None]
                # 1 to 6 numbers; fewer than 3 (a year alone) raise TypeError, reported like plistlib's own fault
                _dt.datetime(*parts)  # type: ignore[arg-type]
            elif tag == "data":
                binascii.a2b_base64(text.encode("utf-8"))
        except (ValueError, TypeError, binascii.Error) as exc:
            raise _Reject(f"bad <{tag}> value: {exc}", at) from None


# ------------------------------------------------------------------------------------------ binary

_EPOCH = _dt.datetime(2001, 1, 1)


class _BinaryReader:
    """A bounded ``bplist00`` reader.

    Trailer, offset table and every object's extent are checked against the file before use;
    references are followed depth-first with an on-path set, so a cycle is an error rather than a
    hang; each object is decoded once (shared references share the value, as in plistlib), and the
    size a value would expand to when walked as a tree is capped, so a small file cannot hand the
    caller a value that takes forever to walk.
    """

    def __init__(self, buf: bytes, path: str | None) -> None:
        self.buf, self.path = buf, path
        self.memo: dict[int, Any] = {}
        self.expanded: dict[int, int] = {}
        self.on_path: set[int] = set()

    def fail(self, reason: str, offset: int | None, category: str | None = None) -> PlistFormatError:
        return PlistFormatError(reason, path=self.path, offset=offset, category=category)

    def read(self) -> Any:
        buf = self.buf
        if not buf.startswith(b"bplist00"):
            raise self.fail(f"unsupported binary plist version {buf[6:8]!r} (only bplist00 is read)", 6,
                            UNSUPPORTED)
        if len(buf) < 8 + 32 + 1:
            raise self.fail("binary plist is too short for a trailer", len(buf))
        self.trailer_at = len(buf) - 32
        off_size, self.ref_size, num, top, table = struct.unpack_from(">6xBBQQQ", buf, self.trailer_at)
        if off_size not in (1, 2, 4, 8) or self.ref_size not in (1, 2, 4, 8):
            raise self.fail(f"trailer: bad offset size {off_size} or reference size {self.ref_size}",
                            self.trailer_at + 6)
        if num == 0:
            raise self.fail("trailer: no objects", self.trailer_at + 8)
        if num > PLIST_MAX_ELEMENTS:
            raise self.fail(f"trailer: {num} objects, more than the limit of {PLIST_MAX_ELEMENTS}",
                            self.trailer_at + 8, LIMIT)
        if top >= num:
            raise self.fail(f"trailer: top object {top} is not among the {num} objects", self.trailer_at + 16)
        if not (8 <= table < self.trailer_at) or table + num * off_size > self.trailer_at:
            raise self.fail(f"trailer: offset table at {table} with {num} entries does not fit before the trailer",
                            self.trailer_at + 24)
        self.num, self.table, self.off_size = num, table, off_size
        return self.value(top, 0)

    def uint(self, at: int, size: int) -> int:
        return int.from_bytes(self.buf[at:at + size], "big")

    def object_offset(self, ref: int) -> int:
        entry = self.table + ref * self.off_size
        off = self.uint(entry, self.off_size)
        if not (8 <= off < self.table):
            raise self.fail(f"object {ref} lies at offset {off}, outside the object area", entry)
        return off

    def span(self, at: int, length: int, what: str) -> None:
        if at + length > self.table:
            raise self.fail(f"{what} of {length} bytes runs past the object area", at)

    def count(self, at: int, low: int) -> tuple[int, int]:
        """The length nibble, or the integer object following it when the nibble is 0xF."""
        if low != 0xF:
            return low, at + 1
        self.span(at + 1, 1, "length")
        marker = self.buf[at + 1]
        if marker >> 4 != 0x1 or (marker & 0xF) > 3:
            raise self.fail("length is not followed by an integer", at + 1)
        size = 1 << (marker & 0xF)
        self.span(at + 2, size, "length")
        return self.uint(at + 2, size), at + 2 + size

    def refs(self, at: int, n: int, what: str) -> list[int]:
        self.span(at, n * self.ref_size, what)
        out = []
        for i in range(n):
            ref = self.uint(at + i * self.ref_size, self.ref_size)
            if ref >= self.num:
                raise self.fail(f"{what}: reference {ref} is not among the {self.num} objects",
                                at + i * self.ref_size)
            out.append(ref)
        return out

    def value(self, ref: int, depth: int) -> Any:
        if ref in self.memo:
            return self.memo[ref]
        at = self.object_offset(ref)
        if ref in self.on_path:
            raise self.fail(f"object {ref} refers back to itself (reference cycle)", at)
        if depth >= PLIST_MAX_DEPTH:
            raise self.fail(f"binary plist nests deeper than {PLIST_MAX_DEPTH} levels", at, LIMIT)
        buf = self.buf
        marker = buf[at]
        high, low = marker >> 4, marker & 0xF
        size = 1
        result: Any
        if marker == 0x00:
            result = None
        elif marker == 0x08:
            result = False
        elif marker == 0x09:
            result = True
        elif high == 0x1 and low <= 4:
            n = 1 << low
            self.span(at + 1, n, "integer")
            result = int.from_bytes(buf[at + 1:at + 1 + n], "big", signed=low >= 3)
        elif marker in (0x22, 0x23):
            n = 4 if marker == 0x22 else 8
            self.span(at + 1, n, "real")
            (result,) = struct.unpack_from(">f" if n == 4 else ">d", buf, at + 1)
        elif marker == 0x33:
            self.span(at + 1, 8, "date")
            (secs,) = struct.unpack_from(">d", buf, at + 1)
            try:
                result = _EPOCH + _dt.timedelta(seconds=secs)
            except (OverflowError, ValueError):
                raise self.fail(f"date {secs!r} is out of range", at) from None
        elif high == 0x4:
            n, start = self.count(at, low)
            self.span(start, n, "data")
            result = buf[start:start + n]
        elif high in (0x5, 0x6):
            n, start = self.count(at, low)
            width = 1 if high == 0x5 else 2
            self.span(start, n * width, "string")
            try:
                result = buf[start:start + n * width].decode("ascii" if high == 0x5 else "utf-16be")
            except UnicodeDecodeError as exc:
                raise self.fail(f"string is not valid {exc.encoding}", start + exc.start) from None
        elif high == 0x8:
            if low > 7:
                raise self.fail(f"UID of {low + 1} bytes is wider than 64 bits", at)
            self.span(at + 1, low + 1, "UID")
            result = plistlib.UID(self.uint(at + 1, low + 1))
        elif high == 0xA:
            n, start = self.count(at, low)
            children = self.refs(start, n, "array")
            self.on_path.add(ref)
            result = [self.value(c, depth + 1) for c in children]
            self.on_path.discard(ref)
            size += sum(self.expanded[c] for c in children)
        elif high == 0xD:
            n, start = self.count(at, low)
            children = self.refs(start, 2 * n, "dictionary")
            self.on_path.add(ref)
            result = {}
            for i in range(n):
                key = self.value(children[i], depth + 1)
                if not isinstance(key, str):
                    raise self.fail(f"dictionary key is {_kind(key)}, not a string",
                                    self.object_offset(children[i]))
                result[key] = self.value(children[n + i], depth + 1)
            self.on_path.discard(ref)
            size += sum(self.expanded[c] for c in children)
        else:
            raise self.fail(f"unknown or unsupported object marker 0x{marker:02x}", at)
        if size > PLIST_MAX_ELEMENTS:
            raise self.fail(f"value expands to more than {PLIST_MAX_ELEMENTS} elements (shared references)",
                            at, LIMIT)
        self.memo[ref] = result
        self.expanded[ref] = size
        return result
