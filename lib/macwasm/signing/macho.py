"""Mach-O files (thin and universal) read for their signing facts: one :class:`SliceFacts` per slice.

The format is Apple's ``mach-o/loader.h`` (header, load commands, ``LC_*``; xnu,
https://github.com/apple-oss-distributions/xnu/blob/main/EXTERNAL_HEADERS/mach-o/loader.h) and
``mach-o/fat.h`` for universal files (same folder); the constants below carry their names.

Why a reader of our own: the facts that decide whether an app launches (signature kind, team,
Hardened Runtime, entitlements) sit in the header, the load commands and the ``LC_CODE_SIGNATURE``
region, a few KB of a file that may be hundreds of MB. We read only those (the input may be an
``mmap``; slicing it copies just the bytes asked for), never the code, symbols or hashes.

Each slice of a universal file is reported on its own, because lipo'd slices are often signed
apart and can differ in identifier, team, flags and entitlements; :func:`slice_disagreements`
says where they do (and what each slice itself flagged, e.g. DER vs XML entitlements).

Raises only :class:`~macwasm.errors.MachOFormatError` (a fault in the DER or XML entitlements
wrapped in it) with the path and the absolute file offset; ``category="limit"`` when a cap from
:mod:`macwasm.limits` is hit. Never writes to the input.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from macwasm.errors import LIMIT, MachOFormatError
from macwasm.limits import MACHO_MAX_FAT_ARCHS, MACHO_MAX_LOAD_COMMANDS, MACHO_MAX_SIZEOFCMDS
from macwasm.signing.codesig import read_code_signature
from macwasm.signing.engines import detect_engines
from macwasm.signing.layout import SliceLayout, collect
from macwasm.signing.model import SliceFacts
from macwasm.vocabulary import UNSIGNED

MH_MAGIC = 0xFEEDFACE
MH_MAGIC_64 = 0xFEEDFACF
FAT_MAGIC = 0xCAFEBABE
FAT_MAGIC_64 = 0xCAFEBABF
#: first four bytes of a thin Mach-O -> (byte order, 64-bit)
_THIN = {
    b"\xce\xfa\xed\xfe": ("<", False),
    b"\xcf\xfa\xed\xfe": ("<", True),
    b"\xfe\xed\xfa\xce": (">", False),
    b"\xfe\xed\xfa\xcf": (">", True),
}
_FAT = {b"\xca\xfe\xba\xbe": False, b"\xca\xfe\xba\xbf": True}

LC_REQ_DYLD = 0x80000000
LC_CODE_SIGNATURE = 0x1D
LC_VERSION_MIN_MACOSX = 0x24
LC_VERSION_MIN_IPHONEOS = 0x25
LC_VERSION_MIN_TVOS = 0x2F
LC_VERSION_MIN_WATCHOS = 0x30
LC_BUILD_VERSION = 0x32
_VERSION_MIN_PLATFORM = {LC_VERSION_MIN_MACOSX: "macos", LC_VERSION_MIN_IPHONEOS: "ios",
                         LC_VERSION_MIN_TVOS: "tvos", LC_VERSION_MIN_WATCHOS: "watchos"}
#: LC_BUILD_VERSION platform numbers (mach-o/loader.h PLATFORM_*)
PLATFORMS = {1: "macos", 2: "ios", 3: "tvos", 4: "watchos", 5: "bridgeos", 6: "maccatalyst", 7: "ios-simulator",
             8: "tvos-simulator", 9: "watchos-simulator", 10: "driverkit", 11: "visionos",
             12: "visionos-simulator"}

CPU_ARCH_ABI64 = 0x01000000
CPU_ARCH_ABI64_32 = 0x02000000
CPU_TYPE_VAX = 1
CPU_TYPE_MC680X0 = 6
CPU_TYPE_X86 = 7
CPU_TYPE_MC98000 = 10
CPU_TYPE_HPPA = 11
CPU_TYPE_ARM = 12
CPU_TYPE_MC88000 = 13
CPU_TYPE_SPARC = 14
CPU_TYPE_I860 = 15
CPU_TYPE_POWERPC = 18
CPU_SUBTYPE_MASK = 0xFF000000  # capability bits (e.g. LIB64, ptrauth ABI) above the subtype
#: cputype -> the name lipo and NXArchInfo use (mach/machine.h); subtypes that change the name are below
_CPU_NAMES = {
    CPU_TYPE_VAX: "vax",
    CPU_TYPE_MC680X0: "m68k",
    CPU_TYPE_MC98000: "m98k",
    CPU_TYPE_HPPA: "hppa",
    CPU_TYPE_MC88000: "m88k",
    CPU_TYPE_SPARC: "sparc",
    CPU_TYPE_I860: "i860",
    CPU_TYPE_X86: "i386",
    CPU_TYPE_X86 | CPU_ARCH_ABI64: "x86_64",
    CPU_TYPE_ARM: "arm",
    CPU_TYPE_ARM | CPU_ARCH_ABI64: "arm64",
    CPU_TYPE_ARM | CPU_ARCH_ABI64_32: "arm64_32",
    CPU_TYPE_POWERPC: "ppc",
    CPU_TYPE_POWERPC | CPU_ARCH_ABI64: "ppc64",
}
_SUBTYPE_NAMES = {
    (CPU_TYPE_X86 | CPU_ARCH_ABI64, 8): "x86_64h",
    (CPU_TYPE_ARM | CPU_ARCH_ABI64, 2): "arm64e",
    (CPU_TYPE_ARM, 6): "armv6",
    (CPU_TYPE_ARM, 9): "armv7",
    (CPU_TYPE_ARM, 11): "armv7s",
    (CPU_TYPE_ARM, 12): "armv7k",
    (CPU_TYPE_ARM, 14): "armv6m",
    (CPU_TYPE_ARM, 15): "armv7m",
    (CPU_TYPE_ARM, 16): "armv7em",
}
#: the architecture a named slice runs as, for comparing slices with ``--arch`` (arm64 / x86_64)
ARCH_FAMILIES = {"arm64e": "arm64", "x86_64h": "x86_64"}
MIN_HEADER_SIZE = 28


@dataclass(frozen=True)
class FatArch:
    cputype: int
    cpusubtype: int
    offset: int
    size: int
    align: int


def is_macho(first_bytes: bytes) -> bool:
    """Whether a file that starts with these bytes (8 suffice) is a Mach-O file, thin or universal.

    ``0xcafebabe`` also starts every Java class file, followed by its minor and major version
    (major >= 45), so a fat header is believed only when its architecture count is small.
    """
    head = bytes(first_bytes[:8])
    if head[:4] in _THIN:
        return True
    if head[:4] in _FAT and len(head) >= 8:
        count: int = struct.unpack(">I", head[4:8])[0]
        return 0 < count <= MACHO_MAX_FAT_ARCHS
    return False


def arch_name(cputype: int, cpusubtype: int) -> str:
    """``arm64``, ``arm64e``, ``x86_64``, ``i386``, ... (``cpu-0x...`` for types we do not name)."""
    cputype &= 0xFFFFFFFF
    sub = cpusubtype & ~CPU_SUBTYPE_MASK & 0xFFFFFFFF
    named = _SUBTYPE_NAMES.get((cputype, sub))
    if named:
        return named
    return _CPU_NAMES.get(cputype, f"cpu-0x{cputype:x}")


def arch_family(arch: str) -> str:
    """``arm64`` for arm64e, ``x86_64`` for x86_64h; every other name (``ppc``, ``i386``, ``arm64_32``) as it is.

    An Apple silicon Mac runs arm64 and arm64e slices natively and x86_64 ones under Rosetta; it
    runs no ppc, ppc64 or i386 slice at all, and an Intel Mac no arm64 one.
    """
    return ARCH_FAMILIES.get(arch, arch)


def read_macho(data: Any, *, path: str | None = None) -> list[SliceFacts]:
    """Every slice's facts, in file order. ``data``: bytes, bytearray, memoryview or a read-only mmap."""
    size = len(data)
    magic = bytes(data[:4])
    if len(magic) < 4:
        raise MachOFormatError(f"file of {size} bytes is too short for a Mach-O magic", path=path, offset=0)
    if magic in _FAT:
        return [_read_slice(data, arch.offset, arch.size, path, arch) for arch in read_fat_header(data, path=path)]
    if magic in _THIN:
        return [_read_slice(data, 0, size, path, None)]
    raise MachOFormatError(f"not a Mach-O file (starts with {magic.hex()})", path=path, offset=0)


def read_fat_header(data: Any, *, path: str | None = None) -> list[FatArch]:
    """The architectures of a universal file, each checked to lie in the file and apart from the others."""
    size = len(data)
    magic = bytes(data[:4])
    is64 = _FAT[magic]
    if size < 8:
        raise MachOFormatError("fat header is truncated", path=path, offset=size)
    (count,) = struct.unpack(">I", bytes(data[4:8]))
    if count == 0:
        raise MachOFormatError("fat header lists no architectures", path=path, offset=4)
    if count > MACHO_MAX_FAT_ARCHS:
        raise MachOFormatError(f"fat header claims {count} architectures, more than the limit of "
                               f"{MACHO_MAX_FAT_ARCHS} (a Java class file shares this magic)", path=path, offset=4,
                               category=LIMIT)
    entry = 32 if is64 else 20
    end = 8 + count * entry
    if end > size:
        raise MachOFormatError(f"fat header of {count} architectures needs {end} bytes, the file has {size}",
                               path=path, offset=size)
    raw = bytes(data[8:end])
    archs: list[FatArch] = []
    for i in range(count):
        at = 8 + i * entry
        if is64:
            cputype, cpusub, offset, length, align, _ = struct.unpack_from(">iiQQII", raw, i * entry)
        else:
            cputype, cpusub, offset, length, align = struct.unpack_from(">iiIII", raw, i * entry)
        if offset < end:
            raise MachOFormatError(f"slice {i} ({arch_name(cputype, cpusub)}) starts at {offset}, inside the fat "
                                   "header", path=path, offset=at + 8)
        if length < MIN_HEADER_SIZE or offset + length > size:
            raise MachOFormatError(f"slice {i} ({arch_name(cputype, cpusub)}) of {length} bytes at {offset} does "
                                   f"not fit the {size}-byte file", path=path, offset=at + (16 if is64 else 12))
        archs.append(FatArch(cputype, cpusub, offset, length, align))
    ordered = sorted(archs, key=lambda a: a.offset)
    for a, b in itertools.pairwise(ordered):
        if b.offset < a.offset + a.size:
            raise MachOFormatError(f"slices {arch_name(a.cputype, a.cpusubtype)} and "
                                   f"{arch_name(b.cputype, b.cpusubtype)} overlap", path=path, offset=b.offset)
    return archs


@dataclass
class _Commands:
    signature: tuple[int, int] | None = None  # (dataoff, datasize) within the slice
    platform: str | None = None
    min_os: str | None = None
    sdk: str | None = None
    has_build_version: bool = False
    layout: SliceLayout | None = None  # segments, dylibs, symbol tables: what the engine detector reads


def _read_slice(data: Any, start: int, size: int, path: str | None, fat: FatArch | None) -> SliceFacts:
    head = bytes(data[start:start + 32])
    kind = _THIN.get(head[:4])
    if kind is None:
        what = "a fat header inside a fat file" if head[:4] in _FAT else f"0x{head[:4].hex()}"
        raise MachOFormatError(f"slice does not start with a Mach-O magic ({what})", path=path, offset=start)
    order, is64 = kind
    header_size = 32 if is64 else 28
    if size < header_size or len(head) < header_size:
        raise MachOFormatError(f"Mach-O header is truncated ({min(size, len(head))} of {header_size} bytes)",
                               path=path, offset=start + min(size, len(head)))
    cputype, cpusub, _filetype, ncmds, sizeofcmds, _flags = struct.unpack_from(order + "iiIIII", head, 4)
    if fat is not None and (cputype, cpusub & ~CPU_SUBTYPE_MASK) != (fat.cputype, fat.cpusubtype & ~CPU_SUBTYPE_MASK):
        raise MachOFormatError(f"slice header says {arch_name(cputype, cpusub)} but the fat header says "
                               f"{arch_name(fat.cputype, fat.cpusubtype)}", path=path, offset=start + 4)
    commands = _read_load_commands(data, start, size, order, is64, ncmds, sizeofcmds, path)
    facts: dict[str, Any] = {}
    notes: tuple[str, ...] = ()
    der_layout = None
    der_entitlements = None
    signature = None
    if commands.signature is not None:
        dataoff, datasize = commands.signature
        sig = read_code_signature(data, start + dataoff, datasize, path=path)
        signature, notes, der_layout, der_entitlements = sig.signature, sig.notes, sig.der_layout, sig.der_entitlements
        facts = {"entitlements": sig.entitlements, "entitlements_blob": sig.entitlements_blob,
                 "der_entitlements_blob": sig.der_entitlements_blob, "der_matches_xml": sig.der_matches_xml}
    entitlements = facts.pop("entitlements", None)
    engine_notes: list[str] = []
    engines = detect_engines(data, commands.layout, path=path, notes=engine_notes) if commands.layout else ()
    return SliceFacts(arch=arch_name(cputype, cpusub), signature=signature, entitlements=entitlements,
                      platform=commands.platform, min_os=commands.min_os, sdk=commands.sdk, engines=engines,
                      notes=tuple(notes) + tuple(engine_notes), offset=start, der_layout=der_layout,
                      der_entitlements=der_entitlements, **facts)


def _read_load_commands(data: Any, start: int, size: int, order: str, is64: bool, ncmds: int, sizeofcmds: int,
                        path: str | None) -> _Commands:
    header_size = 32 if is64 else 28
    align = 8 if is64 else 4
    if ncmds > MACHO_MAX_LOAD_COMMANDS:
        raise MachOFormatError(f"header claims {ncmds} load commands, more than the limit of "
                               f"{MACHO_MAX_LOAD_COMMANDS}", path=path, offset=start + 16, category=LIMIT)
    if sizeofcmds > MACHO_MAX_SIZEOFCMDS:
        raise MachOFormatError(f"load commands claim {sizeofcmds} bytes, more than the limit of "
                               f"{MACHO_MAX_SIZEOFCMDS}", path=path, offset=start + 20, category=LIMIT)
    if header_size + sizeofcmds > size:
        raise MachOFormatError(f"load commands ({sizeofcmds} bytes) run past the end of the "
                               f"{'slice' if start else 'file'} ({size - header_size} bytes after the header)",
                               path=path, offset=start + 20)
    if ncmds * 8 > sizeofcmds:
        raise MachOFormatError(f"{ncmds} load commands cannot fit in sizeofcmds {sizeofcmds}", path=path,
                               offset=start + 16)
    base = start + header_size
    raw = bytes(data[base:base + sizeofcmds])
    layout = SliceLayout(start, size, order, is64)
    out = _Commands(layout=layout)
    pos = 0
    for i in range(ncmds):
        at = base + pos
        if pos + 8 > sizeofcmds:
            raise MachOFormatError(f"load command {i} starts past sizeofcmds", path=path, offset=at)
        cmd, cmdsize = struct.unpack_from(order + "II", raw, pos)
        if cmdsize < 8 or cmdsize % align:
            raise MachOFormatError(f"load command {i} (0x{cmd:x}) has cmdsize {cmdsize}, not a multiple of {align} "
                                   "of at least 8", path=path, offset=at + 4)
        if pos + cmdsize > sizeofcmds:
            raise MachOFormatError(f"load command {i} (0x{cmd:x}) of {cmdsize} bytes runs past sizeofcmds "
                                   f"{sizeofcmds}", path=path, offset=at + 4)
        body = raw[pos:pos + cmdsize]
        cmd &= ~LC_REQ_DYLD
        collect(layout, cmd, body, at, path)
        if cmd == LC_CODE_SIGNATURE:
            _code_signature_command(out, body, order, at, size, path)
        elif cmd == LC_BUILD_VERSION and not out.has_build_version:
            if cmdsize < 24:
                raise MachOFormatError(f"LC_BUILD_VERSION of {cmdsize} bytes is shorter than 24", path=path,
                                       offset=at + 4)
            platform, minos, sdk = struct.unpack_from(order + "III", body, 8)
            out.platform = PLATFORMS.get(platform, f"platform-{platform}")
            out.min_os, out.sdk, out.has_build_version = version_text(minos), version_text(sdk), True
        elif cmd in _VERSION_MIN_PLATFORM and not out.has_build_version and out.platform is None:
            if cmdsize < 16:
                raise MachOFormatError(f"version-min command of {cmdsize} bytes is shorter than 16", path=path,
                                       offset=at + 4)
            version, sdk = struct.unpack_from(order + "II", body, 8)
            out.platform, out.min_os, out.sdk = _VERSION_MIN_PLATFORM[cmd], version_text(version), version_text(sdk)
        pos += cmdsize
    return out


def _code_signature_command(out: _Commands, body: bytes, order: str, at: int, size: int, path: str | None) -> None:
    if out.signature is not None:
        raise MachOFormatError("more than one LC_CODE_SIGNATURE", path=path, offset=at)
    if len(body) < 16:
        raise MachOFormatError(f"LC_CODE_SIGNATURE of {len(body)} bytes is shorter than 16", path=path, offset=at + 4)
    dataoff, datasize = struct.unpack_from(order + "II", body, 8)
    if dataoff + datasize > size:
        raise MachOFormatError(f"code signature at {dataoff} ({datasize} bytes) runs past the end of the slice "
                               f"({size} bytes)", path=path, offset=at + 8)
    out.signature = (dataoff, datasize)


def version_text(packed: int) -> str:
    """``xxxx.yy.zz`` nibble-packed versions as ``11.0`` or ``14.2.1``."""
    major, minor, patch = packed >> 16, (packed >> 8) & 0xFF, packed & 0xFF
    return f"{major}.{minor}.{patch}" if patch else f"{major}.{minor}"


# ------------------------------------------------------------------------------------- slices


def slice_disagreements(slices: list[SliceFacts]) -> list[str]:
    """What the slices of one file say against each other, then what each slice flagged about itself.

    Cross-slice: identifier, team, signature kind, flags, Hardened Runtime and entitlements.
    Per slice (prefixed with its arch): DER vs XML entitlements, alternate CodeDirectories, a CMS
    blob that could not be read.
    """
    out: list[str] = []
    if len(slices) > 1:
        def sig(s: SliceFacts, name: str) -> Any:
            return getattr(s.signature, name) if s.signature is not None else None

        checks: list[tuple[str, Callable[[SliceFacts], Any]]] = [
            ("signature kind", lambda s: s.signature.kind if s.signature else UNSIGNED),
            ("identifier", lambda s: sig(s, "identifier")),
            ("team id", lambda s: sig(s, "team_id")),
            ("Hardened Runtime", lambda s: bool(sig(s, "hardened_runtime"))),
            ("CodeDirectory flags", lambda s: ",".join(sig(s, "flags") or ()) or None),
        ]
        for what, get in checks:
            values = [get(s) for s in slices]
            if len(set(map(repr, values))) > 1:
                out.append(f"slices disagree on {what}: "
                           + ", ".join(f"{s.arch}={v if v is not None else 'none'}" for s, v in zip(slices, values,
                                                                                                       strict=True)))
        ents = [s.entitlements for s in slices]
        if any(_ents_key(e) != _ents_key(ents[0]) for e in ents[1:]):
            out.append("slices disagree on entitlements: " + ", ".join(
                f"{s.arch}={'none' if e is None else ('{}' if not e else ','.join(sorted(e)))}"
                for s, e in zip(slices, ents, strict=True)))
    for s in slices:
        out.extend(f"{s.arch}: {note}" for note in s.notes)
    return out


def _ents_key(ents: dict[str, Any] | None) -> str:
    return "none" if ents is None else repr(sorted((k, repr(v)) for k, v in ents.items()))
