"""Byte builders for the artifacts that go to notarization: ditto-style zips, cpio payloads, xar (flat pkg).

Laid out as the tools that make them do: ``ditto -c -k --keepParent`` (Unix modes in the high 16
bits of the external attributes, create_system 3, symlinks stored with ``S_IFLNK`` and the target
as data, AppleDouble ``__MACOSX/`` entries beside the files), ``pkgbuild`` (odc cpio, gzip or pbzx
payload, PackageInfo) and ``productbuild`` (a Distribution and ``X.pkg/`` component folders), xar
1 (28-byte header, zlib TOC, SHA-1 TOC checksum first in the heap). Pieces are separate functions
so a test can break exactly one thing.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from repo_scripts import load_script

B = load_script("build_sample_bundles")
LC_CODE_SIGNATURE = 0x1D
PBZX_CHUNK = 16 * 1024 * 1024


# -------------------------------------------------------------------------------------- trees


def write_tree(root: Path, tree: dict[str, bytes]) -> None:
    for rel, data in tree.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def entries_of(folder: Path, prefix: str) -> list[tuple[str, int, bytes]]:
    """``(name, st_mode, data)`` for a folder and everything under it, sorted, links as links."""
    out = [(prefix, stat.S_IFDIR | 0o755, b"")]
    for path in sorted(folder.rglob("*")):
        rel = f"{prefix}/{path.relative_to(folder).as_posix()}"
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            out.append((rel, stat.S_IFLNK | 0o755, os.readlink(path).encode()))
        elif stat.S_ISDIR(st.st_mode):
            out.append((rel, stat.S_IFDIR | 0o755, b""))
        else:
            out.append((rel, stat.S_IFREG | (st.st_mode & 0o777), path.read_bytes()))
    return out


def big_macho(small: bytes, pad: int, fill: bytes = b"\xcc") -> bytes:
    """A thin Mach-O grown by ``pad`` bytes of code before its signature (LC_CODE_SIGNATURE moved to match)."""
    (ncmds,) = struct.unpack_from("<I", small, 16)
    pos = 32
    for _ in range(ncmds):
        cmd, cmdsize = struct.unpack_from("<II", small, pos)
        if cmd == LC_CODE_SIGNATURE:
            (dataoff,) = struct.unpack_from("<I", small, pos + 8)
            head = bytearray(small[:dataoff])
            struct.pack_into("<I", head, pos + 8, dataoff + pad)
            return bytes(head) + (fill * (pad // len(fill) + 1))[:pad] + small[dataoff:]
        pos += cmdsize
    raise ValueError("no LC_CODE_SIGNATURE")


# ----------------------------------------------------------------------------------------- zip


def ditto_zip(folder: Path, out: Path, *, appledouble: bool = True,
              extra: Iterable[tuple[str, int, bytes]] = ()) -> Path:
    """A zip as ``ditto -c -k --sequesterRsrc --keepParent folder out`` lays it out."""
    with zipfile.ZipFile(out, "w") as zf:
        for name, mode, data in [*entries_of(folder, folder.name), *extra]:
            if stat.S_ISDIR(mode):
                info = zipfile.ZipInfo(name.rstrip("/") + "/")
            else:
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_STORED if stat.S_ISLNK(mode) else zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = mode << 16
            zf.writestr(info, data)
            if appledouble and stat.S_ISREG(mode) and name.endswith("Info.plist"):
                parent, _, base = name.rpartition("/")
                double = zipfile.ZipInfo(f"__MACOSX/{parent}/._{base}")
                double.create_system = 3
                double.external_attr = (stat.S_IFREG | 0o644) << 16
                zf.writestr(double, b"\x00\x05\x16\x07\x00\x02\x00\x00" + bytes(40))
    return out


# ---------------------------------------------------------------------------------------- cpio


def odc_header(name: str, mode: int, size: int, *, ino: int = 1, nlink: int = 1) -> bytes:
    raw = name.encode("utf-8", "surrogateescape") + b"\0"
    return (b"070707" + b"%06o" % 0 + b"%06o" % (ino & 0o777777) + b"%06o" % mode + b"%06o" % 0 + b"%06o" % 0
            + b"%06o" % nlink + b"%06o" % 0 + b"%011o" % 0 + b"%06o" % len(raw) + b"%011o" % size + raw)


def newc_header(name: str, mode: int, size: int, *, ino: int = 1, nlink: int = 1, magic: bytes = b"070701") -> bytes:
    raw = name.encode("utf-8", "surrogateescape") + b"\0"
    fields = (ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, len(raw), 0)
    head = magic + b"".join(b"%08x" % f for f in fields) + raw
    return head + bytes((-len(head)) % 4)


def cpio(entries: Iterable[tuple[str, int, bytes]], *, fmt: str = "odc", trailer: bool = True) -> bytes:
    out = bytearray()
    for ino, (name, mode, data) in enumerate(entries, start=1):
        if fmt == "odc":
            out += odc_header(name, mode, len(data), ino=ino) + data
        else:
            out += newc_header(name, mode, len(data), ino=ino) + data + bytes((-len(data)) % 4)
    if trailer:
        out += odc_header("TRAILER!!!", 0, 0, ino=0) if fmt == "odc" else newc_header("TRAILER!!!", 0, 0, ino=0)
    return bytes(out)


def gzip_payload(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def pbzx_chunks(pieces: Iterable[bytes], chunk: int = PBZX_CHUNK) -> Iterator[bytes]:
    """pbzx as Apple writes it: magic, chunk size, then (flags, length, xz-or-stored data) per chunk."""
    yield b"pbzx" + struct.pack(">Q", 0x01000000)
    buf = b""
    pending: bytes | None = None

    def frame(data: bytes, last: bool) -> bytes:
        packed = lzma.compress(data, preset=0)
        body = packed if len(packed) < len(data) else data
        flags = 0 if last else 0x01000000
        return struct.pack(">QQ", flags | (chunk & 0xFFFFFF), len(body)) + body

    for piece in pieces:
        buf += piece
        while len(buf) >= chunk:
            if pending is not None:
                yield frame(pending, False)
            pending, buf = buf[:chunk], buf[chunk:]
    if buf:
        if pending is not None:
            yield frame(pending, False)
        pending = buf
    if pending is not None:
        yield frame(pending, True)


def pbzx(data: bytes, chunk: int = PBZX_CHUNK) -> bytes:
    """pbzx framing where the flag of a chunk's header says whether another chunk follows it."""
    out = bytearray(b"pbzx" + struct.pack(">Q", 0x01000000 if data else 0))
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] or []
    for i, piece in enumerate(pieces):
        packed = lzma.compress(piece, preset=0)
        body = packed if len(packed) < len(piece) else piece
        last = i == len(pieces) - 1
        out += struct.pack(">QQ", 0 if last else 0x01000000, len(body)) + body
    return bytes(out)


# ----------------------------------------------------------------------------------------- xar


@dataclass
class XarMember:
    path: str  # "/"-separated; folders are implied by their members' paths
    data: bytes | Path = b""  # a Path: already encoded, copied into the heap as is (large payloads)
    encoding: str = "application/x-gzip"  # what the TOC says; gzip here is zlib, as xar writes it
    kind: str = "file"
    link: str | None = None
    raw_name: str | None = None  # write this name instead (hostile tests)


def _encode(data: bytes, encoding: str) -> bytes:
    if encoding == "application/x-gzip":
        return zlib.compress(data)
    if encoding == "application/x-bzip2":
        import bz2

        return bz2.compress(data)
    return data


def xar(members: list[XarMember], *, toc_extra: str = "", checksum: bool = True, truncate_heap: int = 0,
        sign_with: bytes | None = None) -> bytes:
    """A xar archive: header, zlib TOC, heap (the TOC's SHA-1 first, then each member's archived bytes)."""
    pieces = xar_pieces(members, toc_extra=toc_extra, checksum=checksum, sign_with=sign_with)
    out = b"".join(p if isinstance(p, bytes) else p.read_bytes() for p in pieces)
    return out[:len(out) - truncate_heap] if truncate_heap else out


def write_xar(members: list[XarMember], out: Path) -> Path:
    """:func:`xar` written piece by piece: a member whose ``data`` is a Path (stored as is) is copied, not loaded."""
    with open(out, "wb") as fh:
        for piece in xar_pieces(members):
            if isinstance(piece, bytes):
                fh.write(piece)
            else:
                with open(piece, "rb") as src:
                    while chunk := src.read(1 << 24):
                        fh.write(chunk)
    return out


def xar_pieces(members: list[XarMember], *, toc_extra: str = "", checksum: bool = True,
               sign_with: bytes | None = None) -> list[bytes | Path]:
    heap: list[bytes | Path] = [bytes(20)] if checksum else []
    heap_size = 20 if checksum else 0
    tree: dict[str, dict] = {}
    for m in members:
        node = tree
        parts = m.path.split("/")
        for part in parts[:-1]:
            node = node.setdefault(part, {"__dir__": True, "children": {}})["children"]
        leaf: dict = {"member": m}
        if m.kind != "directory" and m.kind != "symlink":
            if isinstance(m.data, Path):
                body: bytes | Path = m.data
                length = size = m.data.stat().st_size
            else:
                body = _encode(m.data, m.encoding)
                length, size = len(body), len(m.data)
            leaf["data"] = (heap_size, length, size)
            heap.append(body)
            heap_size += length
        node[parts[-1]] = node.get(parts[-1], {}) | leaf if m.kind == "directory" else leaf
    ids = iter(range(1, 10**9))

    def files(node: dict) -> str:
        out = []
        for name, entry in node.items():
            member = entry.get("member")
            shown = member.raw_name if member is not None and member.raw_name is not None else name
            kind = "directory" if entry.get("__dir__") or (member and member.kind == "directory") else (
                member.kind if member else "file")
            xml = f"<file id=\"{next(ids)}\"><name>{escape(shown)}</name><type>{kind}</type>"
            if "data" in entry:
                off, length, size = entry["data"]
                xml += (f"<data><length>{length}</length><offset>{off}</offset><size>{size}</size>"
                        f"<encoding style={quoteattr(member.encoding)}/></data>")
            if member is not None and member.link is not None:
                xml += f"<link type=\"file\">{escape(member.link)}</link>"
            xml += files(entry.get("children", {})) + "</file>"
            out.append(xml)
        return "".join(out)

    sig = ""
    if sign_with is not None:
        import base64

        sig = ("<signature style=\"RSA\"><offset>20</offset><size>0</size><KeyInfo "
               "xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><X509Data><X509Certificate>"
               + base64.b64encode(sign_with).decode() + "</X509Certificate></X509Data></KeyInfo></signature>")
    toc = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xar><toc>"
           + ("<checksum style=\"sha1\"><offset>0</offset><size>20</size></checksum>" if checksum else "")
           + sig + toc_extra + files(tree) + "</toc></xar>").encode()
    packed = zlib.compress(toc)
    if checksum:
        heap[0] = hashlib.sha1(packed).digest()
    header = b"xar!" + struct.pack(">HHQQI", 28, 1, len(packed), len(toc), 1)
    return [header + packed, *heap]


def package_info(identifier: str, install_location: str = "/", bundles: Iterable[tuple[str, str]] = (),
                 version: str = "1.0", files: int = 0) -> bytes:
    inner = "".join(f"<bundle path={quoteattr(p)} id={quoteattr(i)} CFBundleShortVersionString=\"1.0\"/>"
                    for p, i in bundles)
    return (f"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<pkg-info format-version=\"2\" identifier="
            f"{quoteattr(identifier)} version={quoteattr(version)} install-location={quoteattr(install_location)} "
            f"auth=\"root\"><payload numberOfFiles=\"{files}\" installKBytes=\"1\"/>{inner}"
            "<scripts><postinstall file=\"./postinstall\"/></scripts></pkg-info>").encode()


def distribution(title: str, refs: Iterable[str], archs: str = "arm64,x86_64", min_os: str = "11.0") -> bytes:
    pkg_refs = "".join(f"<pkg-ref id={quoteattr(r)} version=\"1.0\" onConclusion=\"none\">#{r}.pkg</pkg-ref>"
                       for r in refs)
    return (f"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<installer-gui-script minSpecVersion=\"2\"><title>"
            f"{escape(title)}</title><options customize=\"never\" hostArchitectures={quoteattr(archs)}/>"
            f"<volume-check><allowed-os-versions><os-version min={quoteattr(min_os)}/></allowed-os-versions>"
            f"</volume-check><product id=\"com.example.product\" version=\"2.0\"/>{pkg_refs}"
            "</installer-gui-script>").encode()


def component_members(payload: bytes, identifier: str, install_location: str = "/", prefix: str = "",
                      bundles: Iterable[tuple[str, str]] = ()) -> list[XarMember]:
    p = f"{prefix}/" if prefix else ""
    return [XarMember(f"{p}Bom", b"BOMStore" + bytes(24)),
            XarMember(f"{p}PackageInfo", package_info(identifier, install_location, bundles)),
            XarMember(f"{p}Payload", payload, encoding="application/octet-stream"),
            XarMember(f"{p}Scripts", gzip_payload(cpio([(".", stat.S_IFDIR | 0o755, b""),
                                                        ("./postinstall", stat.S_IFREG | 0o755, b"#!/bin/sh\n")])),
                      encoding="application/octet-stream")]
