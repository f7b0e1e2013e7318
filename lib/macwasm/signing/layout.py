"""The load commands that say where a slice's code, names and links are: segments, sections, dylibs,
symbol tables, export trie, chained fixups.

Their layout is Apple's ``mach-o/loader.h`` (xnu,
https://github.com/apple-oss-distributions/xnu/blob/main/EXTERNAL_HEADERS/mach-o/loader.h); chained
fixups are dyld's ``mach-o/fixup-chains.h``.

The signing facts need only LC_CODE_SIGNATURE and the version commands; finding which engine a
binary carries (:mod:`macwasm.signing.engines`) needs to know which libraries it links, which
sections it has and where its symbol names and export trie lie. :mod:`macwasm.signing.macho` hands
every load command to :func:`collect` while it walks them once; this module decodes the ones named
above into a :class:`SliceLayout` and checks each range against the slice, so that a reader of
``__LINKEDIT`` never has to trust an offset again.

Offsets in a :class:`SliceLayout` are relative to the slice (as the load commands give them);
``at`` fields are absolute file offsets of the load-command field, for errors. Raises
:class:`~macwasm.errors.MachOFormatError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from macwasm.errors import MachOFormatError

LC_SEGMENT = 0x1
LC_SYMTAB = 0x2
LC_DYSYMTAB = 0xB
LC_LOAD_DYLIB = 0xC
LC_ID_DYLIB = 0xD
LC_LOAD_WEAK_DYLIB = 0x18  # with LC_REQ_DYLD, which macho.py masks off before calling collect()
LC_SEGMENT_64 = 0x19
LC_REEXPORT_DYLIB = 0x1F
LC_LAZY_LOAD_DYLIB = 0x20
LC_DYLD_INFO = 0x22  # LC_DYLD_INFO_ONLY is the same number with LC_REQ_DYLD
LC_LOAD_UPWARD_DYLIB = 0x23
LC_DYLD_EXPORTS_TRIE = 0x33
LC_DYLD_CHAINED_FIXUPS = 0x34

#: the commands that link another library, by the names ``otool -l`` prints
LINK_COMMANDS = {LC_LOAD_DYLIB: "LC_LOAD_DYLIB", LC_LOAD_WEAK_DYLIB: "LC_LOAD_WEAK_DYLIB",
                 LC_REEXPORT_DYLIB: "LC_REEXPORT_DYLIB", LC_LAZY_LOAD_DYLIB: "LC_LAZY_LOAD_DYLIB",
                 LC_LOAD_UPWARD_DYLIB: "LC_LOAD_UPWARD_DYLIB"}
#: section types (the low byte of a section's flags) that occupy no bytes in the file
ZEROFILL_TYPES = (0x1, 0xC, 0x12)  # S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL


@dataclass(frozen=True)
class Segment:
    name: str
    vmaddr: int
    vmsize: int
    fileoff: int
    filesize: int


@dataclass(frozen=True)
class Section:
    segname: str
    sectname: str
    addr: int
    size: int
    offset: int  # in the slice; meaningless for zerofill sections
    flags: int
    at: int  # absolute offset of this section header's ``offset`` field, for errors

    @property
    def name(self) -> str:
        return f"{self.segname},{self.sectname}"

    @property
    def has_file_bytes(self) -> bool:
        return (self.flags & 0xFF) not in ZEROFILL_TYPES and self.size > 0


@dataclass(frozen=True)
class Dylib:
    command: str  # LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, ... (LINK_COMMANDS values)
    path: str


@dataclass(frozen=True)
class Range:
    """A ``(dataoff, datasize)`` pair of a linkedit load command, checked to lie in the slice."""

    offset: int
    size: int
    at: int  # absolute offset of the offset field


@dataclass(frozen=True)
class Symtab:
    symoff: int
    nsyms: int
    stroff: int
    strsize: int
    at: int


@dataclass(frozen=True)
class Dysymtab:
    ilocalsym: int
    nlocalsym: int
    iextdefsym: int
    nextdefsym: int
    iundefsym: int
    nundefsym: int
    at: int


@dataclass
class SliceLayout:
    """Where one slice keeps its code, names and links (what the engine detector reads)."""

    start: int  # of the slice in the file
    size: int  # of the slice
    order: str  # "<" or ">"
    is64: bool
    segments: list[Segment] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    dylibs: list[Dylib] = field(default_factory=list)
    id_dylib: str | None = None
    symtab: Symtab | None = None
    dysymtab: Dysymtab | None = None
    exports: Range | None = None  # LC_DYLD_EXPORTS_TRIE, else LC_DYLD_INFO's export_off/export_size
    chained_fixups: Range | None = None

    def section(self, segname: str | None, sectname: str) -> Section | None:
        """The first section of that name (any segment when ``segname`` is None)."""
        for s in self.sections:
            if s.sectname == sectname and (segname is None or s.segname == segname):
                return s
        return None


def collect(layout: SliceLayout, cmd: int, body: bytes, at: int, path: str | None) -> None:
    """Decode ``body`` (one whole load command, ``cmd`` with LC_REQ_DYLD masked off) into ``layout``."""
    if cmd in (LC_SEGMENT, LC_SEGMENT_64):
        _segment(layout, cmd == LC_SEGMENT_64, body, at, path)
    elif cmd in LINK_COMMANDS:
        layout.dylibs.append(Dylib(LINK_COMMANDS[cmd], _dylib_name(layout, body, at, path)))
    elif cmd == LC_ID_DYLIB:
        layout.id_dylib = _dylib_name(layout, body, at, path)
    elif cmd == LC_SYMTAB:
        _symtab(layout, body, at, path)
    elif cmd == LC_DYSYMTAB:
        _need(body, 80, "LC_DYSYMTAB", at, path)
        ilocal, nlocal, iextdef, nextdef, iundef, nundef = struct.unpack_from(layout.order + "6I", body, 8)
        layout.dysymtab = Dysymtab(ilocal, nlocal, iextdef, nextdef, iundef, nundef, at=at)
    elif cmd == LC_DYLD_INFO:
        _need(body, 48, "LC_DYLD_INFO", at, path)
        if layout.exports is None:  # LC_DYLD_EXPORTS_TRIE wins whichever comes first
            off, size = struct.unpack_from(layout.order + "II", body, 40)
            layout.exports = _range(layout, off, size, "the export trie of LC_DYLD_INFO", at + 40, path)
    elif cmd == LC_DYLD_EXPORTS_TRIE:
        layout.exports = _linkedit(layout, body, "LC_DYLD_EXPORTS_TRIE", at, path)
    elif cmd == LC_DYLD_CHAINED_FIXUPS:
        layout.chained_fixups = _linkedit(layout, body, "LC_DYLD_CHAINED_FIXUPS", at, path)


def _need(body: bytes, size: int, what: str, at: int, path: str | None) -> None:
    if len(body) < size:
        raise MachOFormatError(f"{what} of {len(body)} bytes is shorter than {size}", path=path, offset=at + 4)


def _range(layout: SliceLayout, off: int, size: int, what: str, at: int, path: str | None) -> Range | None:
    if size == 0:
        return None
    if off + size > layout.size:
        raise MachOFormatError(f"{what} ({size} bytes at {off}) runs past the end of the {layout.size}-byte slice",
                               path=path, offset=at)
    return Range(off, size, at)


def _linkedit(layout: SliceLayout, body: bytes, what: str, at: int, path: str | None) -> Range | None:
    _need(body, 16, what, at, path)
    off, size = struct.unpack_from(layout.order + "II", body, 8)
    return _range(layout, off, size, what, at + 8, path)


def _name16(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1")


def _segment(layout: SliceLayout, is64: bool, body: bytes, at: int, path: str | None) -> None:
    o = layout.order
    if is64:
        head, entry, what = 72, 80, "LC_SEGMENT_64"
        _need(body, head, what, at, path)
        vmaddr, vmsize, fileoff, filesize, _maxprot, _initprot, nsects, _flags = struct.unpack_from(o + "QQQQiiII",
                                                                                                   body, 24)
    else:
        head, entry, what = 56, 68, "LC_SEGMENT"
        _need(body, head, what, at, path)
        vmaddr, vmsize, fileoff, filesize, _maxprot, _initprot, nsects, _flags = struct.unpack_from(o + "IIIIiiII",
                                                                                                   body, 24)
    if head + nsects * entry > len(body):
        raise MachOFormatError(f"{what} claims {nsects} sections, which do not fit its {len(body)} bytes", path=path,
                               offset=at + (64 if is64 else 48))
    layout.segments.append(Segment(_name16(body[8:24]), vmaddr, vmsize, fileoff, filesize))
    for i in range(nsects):
        pos = head + i * entry
        sectname, segname = _name16(body[pos:pos + 16]), _name16(body[pos + 16:pos + 32])
        if is64:
            addr, size, offset, _align, _reloff, _nreloc, flags = struct.unpack_from(o + "QQIIIII", body, pos + 32)
        else:
            addr, size, offset, _align, _reloff, _nreloc, flags = struct.unpack_from(o + "IIIIIII", body, pos + 32)
        layout.sections.append(Section(segname, sectname, addr, size, offset, flags, at + pos + (48 if is64 else 40)))


def _dylib_name(layout: SliceLayout, body: bytes, at: int, path: str | None) -> str:
    _need(body, 24, "dylib command", at, path)
    (name_off,) = struct.unpack_from(layout.order + "I", body, 8)
    if not 24 <= name_off < len(body):
        raise MachOFormatError(f"dylib command's name offset {name_off} lies outside its {len(body)} bytes",
                               path=path, offset=at + 8)
    raw = body[name_off:]
    nul = raw.find(b"\0")
    if nul < 0:
        raise MachOFormatError("dylib command's name has no terminating NUL", path=path, offset=at + name_off)
    return raw[:nul].decode("utf-8", "replace")


def _symtab(layout: SliceLayout, body: bytes, at: int, path: str | None) -> None:
    _need(body, 24, "LC_SYMTAB", at, path)
    symoff, nsyms, stroff, strsize = struct.unpack_from(layout.order + "IIII", body, 8)
    entry = 16 if layout.is64 else 12
    if symoff + nsyms * entry > layout.size:
        raise MachOFormatError(f"LC_SYMTAB's {nsyms} symbols ({nsyms * entry} bytes at {symoff}) run past the end of "
                               f"the {layout.size}-byte slice", path=path, offset=at + 12)
    if stroff + strsize > layout.size:
        raise MachOFormatError(f"LC_SYMTAB's string table ({strsize} bytes at {stroff}) runs past the end of the "
                               f"{layout.size}-byte slice", path=path, offset=at + 20)
    layout.symtab = Symtab(symoff, nsyms, stroff, strsize, at)
