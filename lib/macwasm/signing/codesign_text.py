"""Entitlements from ``codesign -d --entitlements - [--xml]`` output as users paste it.

Two shapes reach us:

* the XML plist (``--xml``, or the older ``:-`` form), often with codesign's ``Key=value`` lines
  (``Executable=…``, ``Identifier=…``, ``Authority=…``) before it, because users paste stderr
  and stdout together; very old codesign even printed the blob's binary header before ``<?xml``;
* the bracketed text form of current macOS, one tag per line, tab indentation giving nesting::

      Executable=/Applications/Example.app/Contents/MacOS/Example
      [Dict]
          [Key] com.apple.security.app-sandbox
          [Value]
              [Bool] true
          [Key] com.apple.security.application-groups
          [Value]
              [Array]
                  [String] ABCDE12345.group

Pasted text often loses its indentation; when every tag line sits at the same indentation we read
by the grammar alone (a dict holds ``[Key]``/``[Value]`` pairs, an array ends at the next ``[Key]``),
which is unambiguous for everything but arrays of dicts.

The ``[Data]`` and ``[Date]`` spellings are UNCONFIRMED (no real sample seen): we accept hex or
base64 for data and ISO 8601 for dates. Errors are :class:`PlistFormatError` with the byte offset
of the offending line.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any

from macwasm.errors import LIMIT, PlistFormatError
from macwasm.limits import INPUT_SNIFF_WINDOW, PLIST_MAX_DEPTH, PLIST_MAX_ELEMENTS, PLIST_MAX_SIZE
from macwasm.signing.plist import (
    DER_ENTITLEMENTS_BLOB_MAGIC,
    ENTITLEMENTS_BLOB_MAGIC,
    _leading_junk,
    entitlements_from_plist_value,
    load_entitlements,
    load_plist,
)

CODESIGN_OUTPUT = "codesign-output"
PROVISIONING_PROFILE = "provisioning-profile"
UNKNOWN = "unknown"

#: DER of the OID 1.2.840.113549.1.7.2 (CMS SignedData): how a provisioning profile starts
CMS_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")

_XML_STARTS = (b"<?xml", b"<!DOCTYPE plist", b"<plist")
#: a line codesign prints around the entitlements: ``Key=value`` (keys may hold spaces, dots,
#: parentheses: ``CodeDirectory v=…``, ``Info.plist entries=…``) or a warning
_NOISE = re.compile(r"[ \t]*(?:[A-Za-z][\w .()/-]*=.*|[Ww]arning: .*)?")
_TAG = re.compile(r"(?P<indent>[ \t]*)\[(?P<tag>[A-Za-z]+)\](?: (?P<arg>.*)|[ \t]*)")
_VALUE_TAGS = frozenset({"Dict", "Array", "String", "Bool", "Integer", "Number", "Real", "Float", "Data", "Date"})
_TAGS = _VALUE_TAGS | {"Key", "Value"}


def parse_codesign_output(text_or_bytes: str | bytes | bytearray | memoryview, *,
                          path: str | None = None) -> dict[str, Any]:
    """The entitlements dictionary that a ``codesign -d --entitlements -`` transcript shows.

    Output with codesign's ``Executable=`` line but no entitlements at all (what codesign prints
    for a binary without them) gives ``{}``; text with neither gives an error.
    """
    buf = text_or_bytes.encode("utf-8", "surrogatepass") if isinstance(text_or_bytes, str) else bytes(text_or_bytes)
    if len(buf) > PLIST_MAX_SIZE:
        raise PlistFormatError(f"input is {len(buf)} bytes, larger than the limit of {PLIST_MAX_SIZE} bytes",
                               path=path, offset=PLIST_MAX_SIZE, category=LIMIT)
    if buf.startswith((b"bplist", ENTITLEMENTS_BLOB_MAGIC, DER_ENTITLEMENTS_BLOB_MAGIC)):
        return load_entitlements(buf, path=path)[0]
    xml_at = _find_xml(buf)
    if xml_at is not None:
        return _from_xml(buf, xml_at, path)
    return _from_brackets(buf, path)


def detect_source(data: bytes | bytearray | memoryview | str) -> str:
    """Tell ``xml-plist``, ``binary-plist``, ``codesign-output`` or ``provisioning-profile`` from the bytes.

    Anything else is ``"unknown"`` (Mach-O files and bundles are told apart by their own readers).
    """
    window = data[:INPUT_SNIFF_WINDOW]
    head = window.encode("utf-8", "surrogatepass") if isinstance(window, str) else bytes(window)
    if head.startswith(b"bplist"):
        return "binary-plist"
    if head[:1] == b"\x30" and CMS_SIGNED_DATA_OID in head[:64]:
        return PROVISIONING_PROFILE
    if head.startswith(ENTITLEMENTS_BLOB_MAGIC):
        return "xml-plist"
    body = head[_leading_junk(head):]
    if body.startswith((*_XML_STARTS, b"<!--", b"<dict", b"\xff\xfe", b"\xfe\xff")):
        return "xml-plist"
    for raw in body.split(b"\n")[:64]:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        if not line.strip():
            continue
        if _TAG.fullmatch(line) or line.startswith("Executable="):
            return CODESIGN_OUTPUT
        if not _NOISE.fullmatch(line):
            return UNKNOWN
    if _find_xml(head) is not None:
        return CODESIGN_OUTPUT
    return UNKNOWN


# ------------------------------------------------------------------------------------------- lines


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based
    offset: int  # byte offset of the line's first byte
    text: str


def _lines(buf: bytes, path: str | None) -> list[_Line]:
    out: list[_Line] = []
    at = 0
    for number, raw in enumerate(buf.split(b"\n"), start=1):
        if number > PLIST_MAX_ELEMENTS:
            raise PlistFormatError(f"more than {PLIST_MAX_ELEMENTS} lines", path=path, offset=at, category=LIMIT)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PlistFormatError(f"line {number} is not valid UTF-8", path=path, offset=at + exc.start) from None
        out.append(_Line(number, at, text.removesuffix("\r")))
        at += len(raw) + 1
    return out


def _check_noise(lines: list[_Line], path: str | None, where: str) -> None:
    for line in lines:
        if not _NOISE.fullmatch(line.text):
            raise PlistFormatError(
                f"line {line.number} {where} is neither codesign's Key=value output nor part of the entitlements",
                path=path, offset=line.offset)


# --------------------------------------------------------------------------------------------- XML


def _find_xml(buf: bytes) -> int | None:
    """Where the XML plist starts: at a line start (after blanks), or right after a blob header."""
    best: int | None = None
    for start in _XML_STARTS:
        at = buf.find(start)
        while at >= 0:
            if _line_start_before(buf, at) is not None:
                break
            at = buf.find(start, at + 1)
        if at >= 0 and (best is None or at < best):
            best = at
    return best


def _line_start_before(buf: bytes, at: int) -> int | None:
    """The start of the line that ``at`` opens (skipping blanks and a blob header), or None."""
    end = at - 8 if at >= 8 and buf[at - 8:at - 4] == ENTITLEMENTS_BLOB_MAGIC else at
    line_start = buf.rfind(b"\n", 0, end) + 1
    return line_start if not buf[line_start:end].strip(b" \t\r\xef\xbb\xbf") else None


def _from_xml(buf: bytes, xml_at: int, path: str | None) -> dict[str, Any]:
    prefix_end = _line_start_before(buf, xml_at) or 0
    _check_noise(_lines(buf[:prefix_end], path), path, "before the plist")
    close = buf.rfind(b"</plist>")
    end = len(buf)
    if close > xml_at:
        end = close + len(b"</plist>")
        tail = _lines(buf[end:], path)
        shifted = [_Line(ln.number, ln.offset + end, ln.text) for ln in tail]
        _check_noise(shifted, path, "after the plist")
    try:
        value, _fmt = load_plist(buf[xml_at:end], path=path)
    except PlistFormatError as err:
        offset = None if err.offset is None else err.offset + xml_at
        raise PlistFormatError(err.reason, path=path, offset=offset, category=err.category) from None
    return entitlements_from_plist_value(value, path=path, offset=xml_at)


# ------------------------------------------------------------------------------------ bracket form


@dataclass(frozen=True)
class _Token:
    indent: int  # columns, tabs counted as 4
    tag: str
    arg: str | None
    offset: int  # byte offset of the '['
    line: int


def _from_brackets(buf: bytes, path: str | None) -> dict[str, Any]:
    lines = _lines(buf, path)
    tokens: list[_Token] = []
    first = last = None
    for idx, line in enumerate(lines):
        m = _TAG.fullmatch(line.text)
        if m is None:
            continue
        indent = m.group("indent")
        tokens.append(_Token(len(indent.expandtabs(4)), m.group("tag"), m.group("arg"), line.offset + len(indent),
                             line.number))
        first = idx if first is None else first
        last = idx
    if first is None or last is None:
        if any(ln.text.startswith("Executable=") for ln in lines) and all(_NOISE.fullmatch(ln.text) for ln in lines):
            return {}  # what codesign prints for a binary that has no entitlements
        raise PlistFormatError("no entitlements found: neither an XML plist nor codesign's [Dict]/[Key] lines",
                               path=path, offset=0)
    _check_noise(lines[:first], path, "before the entitlements")
    _check_noise(lines[last + 1:], path, "after the entitlements")
    for line in lines[first:last + 1]:
        if line.text.strip() and not _TAG.fullmatch(line.text):
            raise PlistFormatError(f"line {line.number} inside the entitlements is not a [Tag] line",
                                   path=path, offset=line.offset)
    value = _BracketParser(tokens, path).parse()
    return entitlements_from_plist_value(value, path=path, offset=tokens[0].offset)


class _BracketParser:
    """Recursive descent over tag lines; indentation decides where a container ends when present."""

    def __init__(self, tokens: list[_Token], path: str | None) -> None:
        self.toks, self.path, self.i = tokens, path, 0
        self.indented = len({t.indent for t in tokens}) > 1
        for t in tokens:
            if t.tag not in _TAGS:
                raise self.fail(f"unknown tag [{t.tag}] on line {t.line}", t)

    def fail(self, reason: str, tok: _Token | None, category: str | None = None) -> PlistFormatError:
        return PlistFormatError(reason, path=self.path, offset=tok.offset if tok else None, category=category)

    def parse(self) -> Any:
        first = self.toks[0]
        value = self.dict_body(-1, 1) if first.tag == "Key" else self.value(0)
        if self.i < len(self.toks):
            tok = self.toks[self.i]
            raise self.fail(f"[{tok.tag}] on line {tok.line} follows the complete top-level value", tok)
        return value

    def inside(self, indent: int) -> bool:
        return self.i < len(self.toks) and (not self.indented or self.toks[self.i].indent > indent)

    def value(self, depth: int) -> Any:
        if self.i >= len(self.toks):
            last = self.toks[-1]
            raise self.fail(f"a value is missing after line {last.line}", last)
        tok = self.toks[self.i]
        if depth >= PLIST_MAX_DEPTH:
            raise self.fail(f"entitlements nest deeper than {PLIST_MAX_DEPTH} levels", tok, LIMIT)
        self.i += 1
        if tok.tag == "Dict":
            return self.dict_body(tok.indent, depth + 1)
        if tok.tag == "Array":
            items = []
            while self.inside(tok.indent) and (self.indented or self.toks[self.i].tag not in ("Key", "Value")):
                items.append(self.value(depth + 1))
            return items
        if tok.tag in ("Key", "Value"):
            raise self.fail(f"[{tok.tag}] on line {tok.line} where a value is expected", tok)
        return self.scalar(tok)

    def dict_body(self, indent: int, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while self.inside(indent):
            tok = self.toks[self.i]
            if tok.tag != "Key":
                if not self.indented:
                    break
                raise self.fail(f"[{tok.tag}] on line {tok.line} where a [Dict] expects a [Key]", tok)
            if not tok.arg:
                raise self.fail(f"[Key] on line {tok.line} has no name", tok)
            self.i += 1
            if self.i >= len(self.toks) or self.toks[self.i].tag != "Value":
                raise self.fail(f"[Key] {tok.arg} on line {tok.line} is not followed by [Value]", tok)
            self.i += 1
            out[tok.arg] = self.value(depth)
        return out

    def scalar(self, tok: _Token) -> Any:
        arg = tok.arg if tok.arg is not None else ""
        text = arg.strip()
        try:
            if tok.tag == "String":
                return arg
            if tok.tag == "Bool":
                if text.lower() in ("true", "yes", "1"):
                    return True
                if text.lower() in ("false", "no", "0"):
                    return False
                raise ValueError(f"{text!r} is not true or false")
            if tok.tag in ("Integer", "Number"):
                if tok.tag == "Number" and any(c in text for c in ".eE") and not text.lower().startswith("0x"):
                    return float(text)
                return int(text, 16) if text.lower().startswith(("0x", "-0x")) else int(text)
            if tok.tag in ("Real", "Float"):
                return float(text)
            if tok.tag == "Date":
                return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return _data(text)
        except (ValueError, TypeError, binascii.Error) as exc:
            raise self.fail(f"bad [{tok.tag}] value on line {tok.line}: {exc}", tok) from None


def _data(text: str) -> bytes:
    """``[Data]``: hex (plain, spaced or in <…>) or base64; the exact codesign spelling is UNCONFIRMED."""
    compact = text.strip("<>").replace(" ", "")
    if compact.lower().startswith("0x"):
        compact = compact[2:]
    if re.fullmatch(r"(?:[0-9A-Fa-f]{2})*", compact):
        return bytes.fromhex(compact)
    return base64.b64decode(text, validate=True)
