"""Go build information (``runtime/debug.BuildInfo``) read from a Mach-O slice without running it.

Go writes it into the ``__go_buildinfo`` section: a 32-byte header (``"\\xff Go buildinf:"``,
pointer size, flags), then, since Go 1.18 (flag ``0x2``), two varint-prefixed strings: the Go
version and the module information; older linkers (Go 1.13-1.17) store two pointers to Go string
headers instead, which we follow through the segment table. The module information is lines of
tab-separated fields between two 16-byte sentinels: ``path``, ``mod``, ``dep`` (one per module
whose packages are linked into the binary), ``=>`` (a replacement of the previous ``dep``) and
``build``. That list of linked modules is what tells that a binary carries wazero.

The format is Go's own (``src/debug/buildinfo/buildinfo.go`` and ``src/runtime/debug/mod.go``);
this is an independent reader of it. Raises :class:`~macwasm.errors.MachOFormatError` on a
truncated or inconsistent blob; caps (:data:`GO_MAX_BUILDINFO_SIZE`, :data:`GO_MAX_MODULES`) turn
into notes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from macwasm.errors import MachOFormatError
from macwasm.limits import GO_MAX_BUILDINFO_SIZE, GO_MAX_MODULES
from macwasm.signing.layout import SliceLayout
from macwasm.signing.linkedit import uleb128

MAGIC = b"\xff Go buildinf:"
HEADER_SIZE = 32
FLAG_BIG_ENDIAN = 0x1
FLAG_INLINE = 0x2
SECTION = "__go_buildinfo"


@dataclass(frozen=True)
class GoModule:
    path: str
    version: str
    replaced_by: str | None = None  # "path version" of a => line


@dataclass(frozen=True)
class GoBuildInfo:
    go_version: str
    main_path: str | None
    main_module: GoModule | None
    deps: tuple[GoModule, ...]

    @property
    def modules(self) -> tuple[GoModule, ...]:
        return ((self.main_module,) if self.main_module else ()) + self.deps


def read_go_buildinfo(buf: Any, layout: SliceLayout, path: str | None, notes: list[str]) -> GoBuildInfo | None:
    """The slice's Go build info, or None when it has no ``__go_buildinfo`` section (not a Go binary)."""
    section = layout.section(None, SECTION)
    if section is None or not section.has_file_bytes:
        return None
    start = layout.start + section.offset
    size = min(section.size, GO_MAX_BUILDINFO_SIZE)
    if section.offset + section.size > layout.size:
        raise MachOFormatError(f"section {section.name} ({section.size} bytes at {section.offset}) runs past the end "
                               f"of the {layout.size}-byte slice", path=path, offset=section.at)
    blob = bytes(buf[start:start + size])
    if len(blob) < HEADER_SIZE or not blob.startswith(MAGIC):
        raise MachOFormatError(f"{SECTION} does not start with the Go build-info header", path=path, offset=start)
    ptr_size, flags = blob[14], blob[15]
    if flags & FLAG_INLINE:
        version, pos = _varint_string(blob, HEADER_SIZE, start, "Go version", path, notes)
        modinfo, _ = _varint_string(blob, pos, start, "module information", path, notes)
    else:
        if ptr_size not in (4, 8):
            raise MachOFormatError(f"Go build info pointer size {ptr_size} is not 4 or 8", path=path, offset=start + 14)
        order = ">" if flags & FLAG_BIG_ENDIAN else "<"
        fmt = order + ("I" if ptr_size == 4 else "Q")
        version = _pointed_string(buf, layout, blob, 16, fmt, ptr_size, start, path, notes)
        modinfo = _pointed_string(buf, layout, blob, 16 + ptr_size, fmt, ptr_size, start, path, notes)
    if version is None:
        return None
    return _parse_modinfo(version.decode("utf-8", "replace"), modinfo or b"", notes)


def _varint_string(blob: bytes, pos: int, base: int, what: str, path: str | None,
                   notes: list[str]) -> tuple[bytes | None, int]:
    start = pos
    try:
        length, pos = uleb128(blob, pos, len(blob), f"Go build info: the length of the {what}", None)
    except MachOFormatError as err:
        raise MachOFormatError(err.reason, path=path, offset=base + start) from None
    if length > GO_MAX_BUILDINFO_SIZE:
        notes.append(f"engine detection: the Go build info's {what} claims {length} bytes, more than the limit of "
                     f"{GO_MAX_BUILDINFO_SIZE}; not read")
        return None, pos
    if pos + length > len(blob):
        raise MachOFormatError(f"Go build info: the {what} ({length} bytes) runs past the end of {SECTION}",
                               path=path, offset=base + start)
    return blob[pos:pos + length], pos + length


def _pointed_string(buf: Any, layout: SliceLayout, blob: bytes, at: int, fmt: str, ptr_size: int, base: int,
                    path: str | None, notes: list[str]) -> bytes | None:
    """Pre-1.18 layout: a pointer to a Go string header ``{data, len}``, both virtual addresses."""
    (header_addr,) = struct.unpack_from(fmt, blob, at)
    header_at = _file_offset(layout, header_addr, 2 * ptr_size, path, base + at)
    raw = bytes(buf[header_at:header_at + 2 * ptr_size])
    data_addr, length = struct.unpack(fmt[0] + fmt[1] * 2, raw)
    if length > GO_MAX_BUILDINFO_SIZE:
        notes.append(f"engine detection: a Go build-info string claims {length} bytes, more than the limit of "
                     f"{GO_MAX_BUILDINFO_SIZE}; not read")
        return None
    data_at = _file_offset(layout, data_addr, length, path, header_at)
    return bytes(buf[data_at:data_at + length])


def _file_offset(layout: SliceLayout, addr: int, length: int, path: str | None, at: int) -> int:
    for seg in layout.segments:
        if seg.vmaddr <= addr and addr + length <= seg.vmaddr + seg.filesize:
            if seg.fileoff + (addr - seg.vmaddr) + length > layout.size:
                break
            return layout.start + seg.fileoff + (addr - seg.vmaddr)
    raise MachOFormatError(f"Go build info points at address 0x{addr:x} ({length} bytes), which no segment's file "
                           "bytes hold", path=path, offset=at)


def _parse_modinfo(version: str, modinfo: bytes, notes: list[str]) -> GoBuildInfo:
    if len(modinfo) >= 33 and modinfo[-17:-16] == b"\n":
        modinfo = modinfo[16:-16]
    main_path = None
    main: GoModule | None = None
    deps: list[GoModule] = []
    lines = modinfo.decode("utf-8", "replace").split("\n")
    if len(lines) > GO_MAX_MODULES:
        notes.append(f"engine detection: only the first {GO_MAX_MODULES} of {len(lines)} Go build-info lines were "
                     "read")
        lines = lines[:GO_MAX_MODULES]
    for line in lines:
        parts = line.split("\t")
        kind = parts[0]
        if kind == "path" and len(parts) >= 2:
            main_path = parts[1]
        elif kind in ("mod", "dep") and len(parts) >= 3:
            module = GoModule(parts[1], parts[2])
            if kind == "mod":
                main = module
            else:
                deps.append(module)
        elif kind == "=>" and len(parts) >= 3 and deps:
            last = deps[-1]
            deps[-1] = GoModule(last.path, last.version, f"{parts[1]} {parts[2]}")
    return GoBuildInfo(version, main_path, main, tuple(deps))
