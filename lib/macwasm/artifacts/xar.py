"""xar, the container of a flat ``.pkg``: a header, a zlib-compressed XML table of contents, a heap.

Layout (xar's ``include/xar.h``): 28 bytes of header, big-endian (``xar!``, header size, version,
TOC length compressed and uncompressed, checksum algorithm), then the TOC, then the heap; every
``<file>`` of the TOC names its data by heap offset, archived length, extracted size and encoding.
The TOC's own checksum sits in the heap (``<toc><checksum>``) and is compared with the compressed
TOC. A signed pkg carries its signer's certificates in ``<signature>``: the leaf's subject is
reported, **not verified**.

Caps: the TOC (compressed and expanded) is read whole, so it is checked against
``ARTIFACT_MAX_INDEX_SIZE`` first; names are cleaned (:mod:`macwasm.artifacts.names`); every data
range is checked to lie in the file before anything is read from it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from macwasm.artifacts.names import clean_name, printable_name
from macwasm.artifacts.streams import Budget, Ratio, file_chunks, inflate, unbzip2, unxz
from macwasm.artifacts.xmlsafe import Element, parse_xml
from macwasm.errors import LIMIT, ArtifactError
from macwasm.limits import ARTIFACT_MAX_ENTRIES, ARTIFACT_MAX_INDEX_SIZE

XAR_MAGIC = b"xar!"
HEADER_SIZE = 28
_CHECKSUMS = {"sha1": "sha1", "md5": "md5", "sha256": "sha256", "sha512": "sha512"}
#: encodings a TOC's ``<encoding style=...>`` names, as xar writes them
STORED, ZLIB, BZIP2, XZ = "application/octet-stream", "application/x-gzip", "application/x-bzip2", "application/x-xz"
_LZMA = "application/x-lzma"


@dataclass(frozen=True)
class XarData:
    offset: int  # absolute in the file
    length: int  # archived bytes
    size: int  # extracted bytes
    encoding: str


@dataclass(frozen=True)
class XarFile:
    path: str
    kind: str  # file | directory | symlink | hardlink | other
    mode: int | None
    data: XarData | None
    link: str | None


@dataclass
class XarArchive:
    files: list[XarFile]
    heap_start: int
    signer: str | None
    notes: list[str] = field(default_factory=list)


def read_xar(fd: int, size: int, shown: str) -> XarArchive:
    head = os.pread(fd, HEADER_SIZE, 0)
    if len(head) < HEADER_SIZE or head[:4] != XAR_MAGIC:
        raise ArtifactError("not a flat package: no xar header (a flat .pkg starts with 'xar!')", path=shown,
                            offset=0)
    header_size, version, toc_compressed, toc_size, _cksum = struct.unpack(">HHQQI", head[4:])
    if header_size < HEADER_SIZE:
        raise ArtifactError(f"xar header size {header_size} is smaller than {HEADER_SIZE}", path=shown, offset=4)
    if version != 1:
        raise ArtifactError(f"xar version {version} (only version 1 exists)", path=shown, offset=6)
    for what, value, at in (("compressed", toc_compressed, 8), ("expanded", toc_size, 16)):
        if value > ARTIFACT_MAX_INDEX_SIZE:
            raise ArtifactError(f"the table of contents is {value} bytes {what}, more than the limit of "
                                f"{ARTIFACT_MAX_INDEX_SIZE}", path=shown, offset=at, category=LIMIT)
    heap_start = header_size + toc_compressed
    if heap_start > size:
        raise ArtifactError(f"the table of contents ({toc_compressed} bytes after the {header_size}-byte header) "
                            f"runs past the end of the {size}-byte file", path=shown, offset=size)
    raw = os.pread(fd, toc_compressed, header_size)
    try:
        d = zlib.decompressobj()
        toc = d.decompress(raw, toc_size + 1)
    except zlib.error as exc:
        raise ArtifactError(f"the table of contents is not zlib data ({exc})", path=shown,
                            offset=header_size) from None
    if len(toc) != toc_size:
        raise ArtifactError(f"the table of contents expands to {len(toc)}{'+' if len(toc) > toc_size else ''} "
                            f"bytes, the header says {toc_size}", path=shown, offset=16)
    root = parse_xml(toc, path=shown, what="the xar table of contents")
    toc_el = root.find("toc") if root.tag == "xar" else None
    if toc_el is None:
        raise ArtifactError("the table of contents has no <xar><toc>", path=shown, offset=header_size)
    archive = XarArchive([], heap_start, _signer(toc_el))
    _check_toc_checksum(fd, size, raw, toc_el, heap_start, archive)
    _files(toc_el, "", size, heap_start, shown, archive)
    return archive


def _check_toc_checksum(fd: int, size: int, raw: bytes, toc: Element, heap: int, archive: XarArchive) -> None:
    el = toc.find("checksum")
    if el is None:
        archive.notes.append("the table of contents has no checksum")
        return
    algo = _CHECKSUMS.get(el.attrs.get("style", "").lower())
    offset, length = _int(el.findtext("offset")), _int(el.findtext("size"))
    if algo is None or offset is None or length is None or length > 64 or heap + offset + length > size:
        archive.notes.append("the table of contents' checksum cannot be checked (unknown style or range)")
        return
    if os.pread(fd, length, heap + offset) != hashlib.new(algo, raw).digest():
        archive.notes.append("the table of contents does not match its checksum (changed after it was made?)")


def _signer(toc: Element) -> str | None:
    """The leaf certificate's subject common name of ``<signature>`` (or ``<x-signature>``), unverified."""
    for tag in ("signature", "x-signature"):
        sig = toc.find(tag)
        if sig is None:
            continue
        info = sig.find("KeyInfo")
        data = info.find("X509Data") if info is not None else None
        cert = data.findtext("X509Certificate") if data is not None else None
        if not cert:
            continue
        try:
            from asn1crypto import x509

            subject = x509.Certificate.load(base64.b64decode("".join(cert.split()))).subject.native
            return str(subject.get("common_name") or subject)
        except (ValueError, TypeError, binascii.Error):
            return "an unreadable certificate"
    return None


def _int(text: str | None) -> int | None:
    try:
        value = int(text or "")
    except ValueError:
        return None
    return value if value >= 0 else None


def _files(toc: Element, base: str, size: int, heap: int, shown: str, archive: XarArchive) -> None:
    """Every ``<file>`` (nested ones iteratively), with names cleaned and data ranges checked."""
    stack: list[tuple[Element, str]] = [(f, base) for f in reversed(toc.findall("file"))]
    while stack:
        el, folder = stack.pop()
        if len(archive.files) >= ARTIFACT_MAX_ENTRIES:
            raise ArtifactError(f"more than {ARTIFACT_MAX_ENTRIES} files in the table of contents", path=shown,
                                category=LIMIT)
        raw = el.findtext("name") or ""
        name, problem = clean_name(raw)
        if problem is None and (not name or "/" in name):
            problem = "a xar name must be one path component"
        if problem is not None or name is None:
            archive.notes.append(f"{printable_name(raw)!r}: {problem}; not read")
            continue
        path = f"{folder}/{name}" if folder else name
        kind = (el.findtext("type") or "file").strip()
        mode_text = el.findtext("mode")
        try:
            mode = int(mode_text, 8) if mode_text else None
        except ValueError:
            mode = None
        data = None
        data_el = el.find("data")
        if data_el is not None:
            data = _data(data_el, path, size, heap, shown)
        link = el.findtext("link") if kind == "symlink" else None
        if kind not in ("file", "directory", "symlink", "hardlink"):
            kind = "other"
        archive.files.append(XarFile(path, kind, mode, data, link))
        if kind == "directory":
            stack.extend((child, path) for child in reversed(el.findall("file")))


def _data(el: Element, path: str, size: int, heap: int, shown: str) -> XarData:
    offset, length, extracted = _int(el.findtext("offset")), _int(el.findtext("length")), _int(el.findtext("size"))
    if offset is None or length is None:
        raise ArtifactError(f"{path}: <data> without a valid <offset> and <length>", path=shown, offset=el.offset)
    encoding_el = el.find("encoding")
    encoding = encoding_el.attrs.get("style", STORED) if encoding_el is not None else STORED
    start = heap + offset
    if start + length > size:
        raise ArtifactError(f"{path}: its data ({length} bytes at heap offset {offset}) runs past the end of the "
                            f"{size}-byte file: the heap is truncated", path=shown, offset=size)
    return XarData(start, length, extracted if extracted is not None else length, encoding)


def member_pieces(fd: int, data: XarData, shown: str, what: str, budget: Budget) -> Iterator[bytes]:
    """The extracted bytes of a member, decoded by its TOC encoding, in bounded pieces."""
    pieces = file_chunks(fd, data.offset, data.length, shown, what)
    ratio = Ratio(shown, what, budget)
    if data.encoding == ZLIB:
        return inflate(pieces, ratio)
    if data.encoding == BZIP2:
        return unbzip2(pieces, ratio)
    if data.encoding in (XZ, _LZMA):
        return unxz(pieces, ratio)
    if data.encoding != STORED:
        raise ArtifactError(f"{what}: unknown encoding {data.encoding!r}", path=shown, offset=data.offset)
    return pieces
