"""Byte builders for Mach-O files and embedded code signatures, for the Mach-O reader's tests.

Everything is laid out as Apple documents it (mach-o/loader.h, mach-o/fat.h, the kernel's
cs_blobs.h) and as ``codesign`` orders it, but kept small: a thin file is a header, its load
commands and the signature at :data:`SIG_OFFSET`; no code. Pieces are separate functions so that a
test can build a well-formed file and then break exactly one field. The CMS blob is a placeholder
made with a throw-away Ed25519 key named "NOT Apple": deterministic, and never a valid signature.

Run as a script to (re)write the committed fixtures: ``.venv/bin/python tests/macho_builders.py``.
"""

from __future__ import annotations

import hashlib
import plistlib
import struct
import sys
from pathlib import Path
from typing import Any

from repo_scripts import load_script

CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CSMAGIC_REQUIREMENTS = 0xFADE0C01
CSMAGIC_EMBEDDED_ENTITLEMENTS = 0xFADE7171
CSMAGIC_EMBEDDED_DER_ENTITLEMENTS = 0xFADE7172
CSMAGIC_BLOBWRAPPER = 0xFADE0B01
SLOT_CD, SLOT_REQUIREMENTS, SLOT_ENTITLEMENTS, SLOT_DER, SLOT_ALT_CD, SLOT_CMS = 0, 2, 5, 7, 0x1000, 0x10000
CS_ADHOC, CS_HARD, CS_KILL, CS_RESTRICT = 0x2, 0x100, 0x200, 0x800
CS_LIBRARY_VALIDATION, CS_RUNTIME, CS_LINKER_SIGNED = 0x2000, 0x10000, 0x20000
EXECSEG_MAIN_BINARY, EXECSEG_JIT = 0x1, 0x40
HASH_SHA1, HASH_SHA256 = 1, 2

CPU = {"arm64": (0x0100000C, 0), "arm64e": (0x0100000C, 0x80000002), "x86_64": (0x01000007, 3),
       "i386": (7, 3), "arm64_32": (0x0200000C, 1), "armv7": (12, 9), "x86_64h": (0x01000007, 8),
       "ppc": (18, 0), "ppc64": (0x01000012, 0)}
LC_CODE_SIGNATURE, LC_BUILD_VERSION, LC_VERSION_MIN_MACOSX, LC_UUID = 0x1D, 0x32, 0x24, 0x1B
MH_EXECUTE = 2
#: where :func:`thin` puts the signature
SIG_OFFSET = 0x100
#: offsets inside a 64-bit file built by :func:`thin` (header 32 bytes, then LC_BUILD_VERSION, LC_CODE_SIGNATURE)
NCMDS_AT, SIZEOFCMDS_AT, FIRST_CMD_AT = 16, 20, 32
SIGCMD_AT = 32 + 24  # LC_CODE_SIGNATURE: cmd, cmdsize, dataoff, datasize
TEAM = "ABCDE12345"


def blob(magic: int, body: bytes) -> bytes:
    return struct.pack(">II", magic, 8 + len(body)) + body


# ------------------------------------------------------------------------------------------ DER
# The DER and CMS builders are the sample bundles' (scripts/build_sample_bundles.py), one implementation
# for both sets of committed fixtures; these fixtures keep their own certificate persona.

_BUNDLES = load_script("build_sample_bundles")
_der = _BUNDLES._der
TEST_PERSONA = _BUNDLES.CmsPersona(b"macwasm macho tests: NOT an Apple key", "Test Corp", "Test Corp (NOT Apple)",
                                   0x4D414348, 64, False)


def der_wrapped(entitlements: dict[str, Any]) -> bytes:
    """Today's layout: [APPLICATION 16] { INTEGER 1, [CONTEXT 16] { SEQUENCE { key, value } ... } }."""
    return _der(0x70, _der(0x02, b"\x01") + _BUNDLES.der_dict(entitlements, 0xB0, 0xFF))


def der_bare(entitlements: dict[str, Any]) -> bytes:
    """The older layout (Node.js 18's signer): a SET of key/value SEQUENCEs, true written as 0x01."""
    return _BUNDLES.der_dict(entitlements, 0x31, 0x01)


def xml(entitlements: dict[str, Any], *, leading: bytes = b"") -> bytes:
    return leading + plistlib.dumps(entitlements, fmt=plistlib.FMT_XML, sort_keys=True)


# ------------------------------------------------------------------------------------------ CMS


def cms(team: str = TEAM, *, timestamp: bool = False, ber: bool = False, certificate: bool = True) -> bytes:
    """CMS SignedData with a self-issued "NOT Apple" certificate whose OU is ``team``; signature bytes zero."""
    return _BUNDLES.placeholder_cms(team, TEST_PERSONA, timestamp=timestamp, ber=ber, certificate=certificate)


# ----------------------------------------------------------------------------------- signature


def code_directory(identifier: str | bytes = "com.example.tool", *, team: str | bytes | None = None,
                   flags: int = 0, version: int = 0x20400, hash_type: int = HASH_SHA256,
                   exec_seg_flags: int = 0, special: dict[int, bytes] | None = None,
                   ident_offset: int | None = None, team_offset: int | None = None) -> bytes:
    """A CodeDirectory: header for ``version``, identifier, team, hashes of ``special`` blobs, one code page."""
    size = next(n for v, n in ((0x20400, 88), (0x20300, 64), (0x20200, 52), (0x20100, 48), (0, 44)) if version >= v)
    ident = (identifier.encode() if isinstance(identifier, str) else identifier) + b"\0"
    team_raw = b"" if team is None else (team.encode() if isinstance(team, str) else team) + b"\0"
    digest = 20 if hash_type == HASH_SHA1 else 32
    algo = hashlib.sha1 if hash_type == HASH_SHA1 else hashlib.sha256
    special = special or {}
    n_special = max(special, default=0)
    ident_off = size if ident_offset is None else ident_offset
    team_off = (size + len(ident) if team_raw else 0) if team_offset is None else team_offset
    hash_off = size + len(ident) + len(team_raw) + digest * n_special
    hashes = b"".join(algo(special[s]).digest() if s in special else bytes(digest) for s in range(n_special, 0, -1))
    hashes += algo(b"\0" * 4096).digest()
    length = hash_off + digest
    fields = struct.pack(">IIIIIIIIIBBBBI", CSMAGIC_CODEDIRECTORY, length, version, flags, hash_off, ident_off,
                         n_special, 1, 4096, digest, hash_type, 0, 12, 0)
    if version >= 0x20100:
        fields += struct.pack(">I", 0)  # scatterOffset
    if version >= 0x20200:
        fields += struct.pack(">I", team_off)
    if version >= 0x20300:
        fields += struct.pack(">IQ", 0, 0)  # spare3, codeLimit64
    if version >= 0x20400:
        fields += struct.pack(">QQQ", 0, 4096, exec_seg_flags)
    assert len(fields) == size
    return fields + ident + team_raw + hashes


def superblob(entries: list[tuple[int, bytes]]) -> bytes:
    """A SuperBlob holding ``(slot, blob)`` entries in the order given."""
    offset = 12 + 8 * len(entries)
    index, payload = b"", b""
    for slot, data in entries:
        index += struct.pack(">II", slot, offset)
        payload += data
        offset += len(data)
    return struct.pack(">III", CSMAGIC_EMBEDDED_SIGNATURE, offset, len(entries)) + index + payload


def signature(identifier: str = "com.example.tool", *, kind: str = "signed", team: str | None = TEAM,
              entitlements: dict[str, Any] | None = None, der: str | bytes | None = "wrapped",
              xml_blob: bytes | None = None, runtime: bool = True, requirements: bool = True,
              cms_blob: bytes | None = None, alternate_sha256: bool = False, extra_flags: int = 0,
              exec_seg_flags: int = EXECSEG_MAIN_BINARY, cd_team: str | bytes | None = "same") -> bytes:
    """An embedded signature as codesign lays it out.

    ``kind``: ``signed`` (CMS with a certificate), ``adhoc`` (adhoc flag, empty CMS), ``linker-signed``
    (adhoc + linker-signed, CodeDirectory only). ``der``: ``wrapped``, ``bare``, raw bytes, or None for
    no DER blob. ``cd_team``: what the CodeDirectory's team field holds (``same`` = ``team``).
    """
    flags = extra_flags | (CS_RUNTIME if runtime else 0)
    if kind == "adhoc":
        flags |= CS_ADHOC
    elif kind == "linker-signed":
        flags |= CS_ADHOC | CS_LINKER_SIGNED
    cd_team_value = team if cd_team == "same" else cd_team
    special: dict[int, bytes] = {}
    entries: list[tuple[int, bytes]] = []
    if requirements and kind != "linker-signed":
        entries.append((SLOT_REQUIREMENTS, blob(CSMAGIC_REQUIREMENTS, struct.pack(">I", 0))))
    if entitlements is not None or xml_blob is not None:
        entries.append((SLOT_ENTITLEMENTS, blob(CSMAGIC_EMBEDDED_ENTITLEMENTS,
                                                xml_blob if xml_blob is not None else xml(entitlements or {}))))
    if der is not None and (entitlements is not None or isinstance(der, bytes)):
        body = der if isinstance(der, bytes) else (der_wrapped if der == "wrapped" else der_bare)(entitlements or {})
        entries.append((SLOT_DER, blob(CSMAGIC_EMBEDDED_DER_ENTITLEMENTS, body)))
    for slot, data in entries:
        special[slot] = data
    cd = code_directory(identifier, team=cd_team_value, flags=flags, exec_seg_flags=exec_seg_flags, special=special,
                        hash_type=HASH_SHA1 if alternate_sha256 else HASH_SHA256)
    entries.insert(0, (SLOT_CD, cd))
    if alternate_sha256:
        entries.append((SLOT_ALT_CD, code_directory(identifier, team=cd_team_value, flags=flags,
                                                    exec_seg_flags=exec_seg_flags, special=special)))
    if cms_blob is not None:
        entries.append((SLOT_CMS, blob(CSMAGIC_BLOBWRAPPER, cms_blob)))
    elif kind == "signed":
        entries.append((SLOT_CMS, blob(CSMAGIC_BLOBWRAPPER, cms(team or ""))))
    elif kind == "adhoc":
        entries.append((SLOT_CMS, blob(CSMAGIC_BLOBWRAPPER, b"")))
    return superblob(entries)


# -------------------------------------------------------------------------------------- Mach-O


def thin(arch: str = "arm64", sig: bytes | None = None, *, bits: int = 64, big_endian: bool = False,
         platform: int = 1, minos: int = 0x0B0000, sdk: int = 0x0E0200, build_version: bool = True,
         extra_cmds: bytes = b"", extra_ncmds: int = 0) -> bytes:
    """Header, LC_BUILD_VERSION, LC_CODE_SIGNATURE (if ``sig``), then the signature at :data:`SIG_OFFSET`."""
    order = ">" if big_endian else "<"
    cputype, subtype = CPU[arch]
    cmds = b""
    ncmds = extra_ncmds
    if build_version:
        cmds += struct.pack(order + "IIIIII", LC_BUILD_VERSION, 24, platform, minos, sdk, 0)
        ncmds += 1
    if sig is not None:
        cmds += struct.pack(order + "IIII", LC_CODE_SIGNATURE, 16, SIG_OFFSET, len(sig))
        ncmds += 1
    cmds += extra_cmds
    magic = 0xFEEDFACF if bits == 64 else 0xFEEDFACE
    header = struct.pack(order + "IIIIIIII", magic, cputype, subtype, MH_EXECUTE, ncmds, len(cmds), 0x00200085, 0)
    if bits == 32:
        header = header[:28]
    head = header + cmds
    assert len(head) <= SIG_OFFSET
    out = head + bytes(SIG_OFFSET - len(head))
    if sig is not None:
        out += sig + bytes((-len(sig)) % 16)
    return out


def fat(*slices: bytes, bits: int = 32, align: int = 12) -> bytes:
    """A universal file: big-endian fat header, each slice aligned to 2**align, cputypes taken from the slices."""
    entry = 32 if bits == 64 else 20
    head_len = 8 + entry * len(slices)
    step = 1 << align
    offset = (head_len + step - 1) // step * step
    archs, body = b"", b""
    for data in slices:
        order = ">" if data[:4] in (b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce") else "<"
        cputype, subtype = struct.unpack_from(order + "II", data, 4)
        if bits == 64:
            archs += struct.pack(">IIQQII", cputype, subtype, offset, len(data), align, 0)
        else:
            archs += struct.pack(">IIIII", cputype, subtype, offset, len(data), align)
        pad = (-len(data)) % step
        body += data + bytes(pad)
        offset += len(data) + pad
    magic = 0xCAFEBABF if bits == 64 else 0xCAFEBABE
    head = struct.pack(">II", magic, len(slices)) + archs
    first = (head_len + step - 1) // step * step
    return head + bytes(first - len(head)) + body


# ---------------------------------------------------------------- linked images (engine detection)
# Load commands of mach-o/loader.h, the export trie of dyld's MachOTrie, dyld_chained_fixups_header of
# mach-o/fixup-chains.h and Go's build-info blob, laid out by :func:`image` after the load commands.

LC_SEGMENT, LC_SYMTAB, LC_DYSYMTAB, LC_LOAD_DYLIB, LC_ID_DYLIB, LC_SEGMENT_64 = 0x1, 0x2, 0xB, 0xC, 0xD, 0x19
LC_REQ_DYLD = 0x80000000
LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB = 0x18 | LC_REQ_DYLD, 0x1F | LC_REQ_DYLD
LC_LAZY_LOAD_DYLIB, LC_LOAD_UPWARD_DYLIB = 0x20, 0x23 | LC_REQ_DYLD
LC_DYLD_INFO_ONLY = 0x22 | LC_REQ_DYLD
LC_DYLD_EXPORTS_TRIE, LC_DYLD_CHAINED_FIXUPS = 0x33 | LC_REQ_DYLD, 0x34 | LC_REQ_DYLD
MH_DYLIB = 6
S_ZEROFILL = 0x1
VM_BASE = 0x100000000
GO_MAGIC = b"\xff Go buildinf:"
GO_SENTINEL_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
GO_SENTINEL_END = bytes.fromhex("f932433186182072008242104116d8f2")


def uleb(value: int, width: int = 0) -> bytes:
    """ULEB128, padded to ``width`` bytes with continuation bits when asked (dyld reads padded ones too)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value or len(out) + 1 < width:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def export_trie(names: list[str] | list[bytes]) -> bytes:
    """A compressed export trie of ``names`` (address 0x1000 + index each), child offsets padded to 4 bytes."""
    wanted = sorted({n.encode() if isinstance(n, str) else n for n in names})

    def node(prefix: bytes, suffixes: list[bytes]) -> tuple[bool, list[tuple[bytes, Any]]]:
        terminal = b"" in suffixes
        groups: dict[int, list[bytes]] = {}
        for s in suffixes:
            if s:
                groups.setdefault(s[0], []).append(s)
        edges = []
        for _first, group in sorted(groups.items()):
            label = group[0]
            for s in group[1:]:
                while not s.startswith(label):
                    label = label[:-1]
            edges.append((label, node(prefix + label, [s[len(label):] for s in group])))
        return terminal, edges

    flat: list[tuple[bool, list[tuple[bytes, Any]], bytes]] = []

    def number(n: tuple[bool, list[tuple[bytes, Any]]], prefix: bytes) -> int:
        index = len(flat)
        flat.append((n[0], n[1], prefix))
        for label, child in n[1]:
            number(child, prefix + label)
        return index

    number(node(b"", wanted), b"")
    index_of = {id(entry[1]): i for i, entry in enumerate(flat)}

    def terminal_info(prefix: bytes) -> bytes:
        return uleb(0) + uleb(0x1000 + wanted.index(prefix))

    sizes = []
    for terminal, edges, prefix in flat:
        info = terminal_info(prefix) if terminal else b""
        sizes.append(len(uleb(len(info))) + len(info) + 1 + sum(len(label) + 1 + 4 for label, _ in edges))
    offsets = [sum(sizes[:i]) for i in range(len(flat))]
    out = b""
    for terminal, edges, prefix in flat:
        info = terminal_info(prefix) if terminal else b""
        out += uleb(len(info)) + info + bytes([len(edges)])
        for label, child in edges:
            out += label + b"\0" + uleb(offsets[index_of[id(child[1])]], 4)
    return out


def chained_fixups(imports: list[tuple[str, int]], *, imports_format: int = 1) -> bytes:
    """dyld_chained_fixups_header, an empty starts table, the imports and their NUL-terminated names."""
    entry = {1: 4, 2: 8, 3: 16}[imports_format]
    pool = b"\0"
    raw = b""
    for name, ordinal in imports:
        offset = len(pool)
        pool += name.encode() + b"\0"
        if imports_format == 3:
            raw += struct.pack("<QQ", (ordinal & 0xFFFF) | (offset << 32), 0)
        else:
            word = (ordinal & 0xFF) | (offset << 9)
            raw += struct.pack("<I", word) + (struct.pack("<i", 0) if imports_format == 2 else b"")
    imports_off = 32
    symbols_off = imports_off + entry * len(imports)
    header = struct.pack("<7I", 0, 28, imports_off, symbols_off, len(imports), imports_format, 0)
    return header + struct.pack("<I", 0) + raw + pool


def go_buildinfo(version: str = "go1.22.1", *, path: str = "example.com/tool",
                 main: tuple[str, str] = ("example.com/tool", "(devel)"), deps: list[tuple[str, str]] | None = None,
                 replaced: dict[str, tuple[str, str]] | None = None) -> bytes:
    """A Go 1.18+ ``__go_buildinfo`` section: header with the inline flag, then the two varint strings."""
    lines = [f"path\t{path}", f"mod\t{main[0]}\t{main[1]}\t"]
    for dep_path, dep_version in deps or []:
        lines.append(f"dep\t{dep_path}\t{dep_version}\th1:AAAA=")
        if replaced and dep_path in replaced:
            lines.append(f"=>\t{replaced[dep_path][0]}\t{replaced[dep_path][1]}\t")
    lines.append("build\t-compiler=gc")
    modinfo = GO_SENTINEL_START + ("\n".join(lines) + "\n").encode() + GO_SENTINEL_END
    body = uleb(len(version)) + version.encode() + uleb(len(modinfo)) + modinfo
    return GO_MAGIC + bytes([8, 0x2]) + bytes(16) + body


def go_buildinfo_pointers(version: str = "go1.16.5", deps: list[tuple[str, str]] | None = None, *,
                          ptr_size: int = 8, big_endian: bool = False):
    """The Go 1.13-1.17 layout: two pointers to string headers, as a function of the section's address."""
    lines = ["path\texample.com/old", "mod\texample.com/old\t(devel)\t"]
    lines += [f"dep\t{p}\t{v}\th1:AAAA=" for p, v in deps or []]
    modinfo = GO_SENTINEL_START + ("\n".join(lines) + "\n").encode() + GO_SENTINEL_END

    word = (">" if big_endian else "<") + ("I" if ptr_size == 4 else "Q")

    def at(addr: int) -> bytes:
        headers = 32
        strings = headers + 4 * ptr_size
        version_hdr = struct.pack(word, addr + strings) + struct.pack(word, len(version))
        mod_hdr = struct.pack(word, addr + strings + len(version)) + struct.pack(word, len(modinfo))
        pointers = struct.pack(word, addr + headers) + struct.pack(word, addr + headers + 2 * ptr_size)
        head = GO_MAGIC + bytes([ptr_size, 0x1 if big_endian else 0]) + pointers
        return head + bytes(headers - len(head)) + version_hdr + mod_hdr + version.encode() + modinfo

    return at


def _dylib_command(cmd: int, path: str, order: str) -> bytes:
    name = path.encode() + b"\0"
    size = (24 + len(name) + 7) // 8 * 8
    return struct.pack(order + "IIIIII", cmd, size, 24, 2, 0x10000, 0x10000) + name + bytes(size - 24 - len(name))


def image(arch: str = "arm64", *, bits: int = 64, big_endian: bool = False, filetype: int = MH_EXECUTE,
          dylibs: list[tuple[int, str]] | list[str] = (), id_dylib: str | None = None,
          sections: list[tuple[str, str, Any]] = (), symbols: list[tuple[str, str, int]] | None = None,
          exports: list[str] | bytes | None = None, exports_in_dyld_info: bool = False,
          imports: list[tuple[str, int]] | bytes | None = None, imports_format: int = 1,
          sig: bytes | None = None) -> bytes:
    """A thin Mach-O with the commands the engine detector reads, their data laid out after the commands.

    ``dylibs``: paths (LC_LOAD_DYLIB) or ``(cmd, path)``. ``sections``: ``(segname, sectname, data)``
    where data is bytes, an int (a zerofill section of that size) or a function of the section's
    address returning bytes (see :func:`go_buildinfo_pointers`); one segment per segname. ``symbols``:
    ``(name, "local" | "extdef" | "undef", library ordinal)``, written as ld64 orders them (locals,
    then extdefs and undefs each sorted by name) with LC_DYSYMTAB. ``exports``: names for an export
    trie (LC_DYLD_EXPORTS_TRIE, or LC_DYLD_INFO_ONLY with ``exports_in_dyld_info``) or raw trie
    bytes. ``imports``: ``(name, ordinal)`` for LC_DYLD_CHAINED_FIXUPS, or its raw bytes.
    """
    order = ">" if big_endian else "<"
    is64 = bits == 64
    cputype, subtype = CPU[arch]
    link = [(LC_LOAD_DYLIB, d) if isinstance(d, str) else d for d in dylibs]
    segnames = list(dict.fromkeys(seg for seg, _, _ in sections))
    blobs: list[tuple[str, Any]] = []  # (key, data), laid out in this order

    for i, (_seg, _sect, data) in enumerate(sections):
        blobs.append((f"sect{i}", data))
    nlist = b""
    strtab = b""
    dysym = None
    if symbols is not None:
        strtab = b" \0"
        groups = {"local": [], "extdef": [], "undef": []}
        for name, kind, ordinal in symbols:
            groups[kind].append((name, ordinal))
        ordered = groups["local"] + sorted(groups["extdef"]) + sorted(groups["undef"])
        for name, ordinal in ordered:
            kind = next(k for k, g in groups.items() if (name, ordinal) in g)
            strx = len(strtab)
            strtab += name.encode() + b"\0"
            ntype = {"local": 0x0E, "extdef": 0x0F, "undef": 0x01}[kind]
            desc = (ordinal & 0xFF) << 8 if kind == "undef" else 0
            sect = 0 if kind == "undef" else 1
            value = 0 if kind == "undef" else 0x1000
            nlist += struct.pack(order + ("IBBHQ" if is64 else "IBBHI"), strx, ntype, sect, desc, value)
        nl, ne, nu = (len(groups[k]) for k in ("local", "extdef", "undef"))
        dysym = (0, nl, nl, ne, nl + ne, nu)
        blobs += [("symtab", nlist), ("strtab", strtab)]
    if exports is not None:
        blobs.append(("exports", exports if isinstance(exports, bytes) else export_trie(exports)))
    if imports is not None:
        blobs.append(("fixups", imports if isinstance(imports, bytes) else chained_fixups(
            imports, imports_format=imports_format)))

    def commands(where: dict[str, tuple[int, int]]) -> list[bytes]:
        cmds = []
        for segname in segnames:
            own = [(i, s) for i, s in enumerate(sections) if s[0] == segname]
            starts = [where.get(f"sect{i}", (0, 0)) for i, _ in own]
            fileoff = min(o for o, _ in starts) if starts else 0
            end = max(o + n for o, n in starts) if starts else 0
            body = b""
            for (_i, (_seg, sectname, data)), (off, size) in zip(own, starts, strict=True):
                zerofill = isinstance(data, int)
                length = data if zerofill else size
                fields = (VM_BASE + off if is64 else off, length, 0 if zerofill else off, 0, 0, 0,
                          S_ZEROFILL if zerofill else 0, 0, 0)
                name16 = sectname.encode().ljust(16, b"\0") + segname.encode().ljust(16, b"\0")
                body += name16 + (struct.pack(order + "QQIIIIIIII", *fields, 0) if is64
                                  else struct.pack(order + "IIIIIIIII", *fields))
            seg16 = segname.encode().ljust(16, b"\0")
            vm = VM_BASE + fileoff if is64 else fileoff
            if is64:
                cmd = struct.pack(order + "II", LC_SEGMENT_64, 72 + len(body)) + seg16 + struct.pack(
                    order + "QQQQiiII", vm, end - fileoff, fileoff, end - fileoff, 5, 5, len(own), 0)
            else:
                cmd = struct.pack(order + "II", LC_SEGMENT, 56 + len(body)) + seg16 + struct.pack(
                    order + "IIIIiiII", vm, end - fileoff, fileoff, end - fileoff, 5, 5, len(own), 0)
            cmds.append(cmd + body)
        if id_dylib is not None:
            cmds.append(_dylib_command(LC_ID_DYLIB, id_dylib, order))
        cmds += [_dylib_command(cmd, path, order) for cmd, path in link]
        if symbols is not None:
            (so, _), (st, sn) = where.get("symtab", (0, 0)), where.get("strtab", (0, 0))
            cmds.append(struct.pack(order + "6I", LC_SYMTAB, 24, so, len(nlist) // (16 if is64 else 12), st, sn))
            cmds.append(struct.pack(order + "II6I12I", LC_DYSYMTAB, 80, *dysym, *([0] * 12)))
        if exports is not None:
            eo, en = where.get("exports", (0, 0))
            if exports_in_dyld_info:
                cmds.append(struct.pack(order + "12I", LC_DYLD_INFO_ONLY, 48, *([0] * 8), eo, en))
            else:
                cmds.append(struct.pack(order + "4I", LC_DYLD_EXPORTS_TRIE, 16, eo, en))
        if imports is not None:
            fo, fn = where.get("fixups", (0, 0))
            cmds.append(struct.pack(order + "4I", LC_DYLD_CHAINED_FIXUPS, 16, fo, fn))
        if sig is not None:
            cmds.append(struct.pack(order + "IIII", LC_CODE_SIGNATURE, 16, where["sig"][0], len(sig)))
        return cmds

    header_size = 32 if is64 else 28
    cmds_size = sum(len(c) for c in commands({}))
    pos = (header_size + cmds_size + 15) // 16 * 16
    where: dict[str, tuple[int, int]] = {}
    data_area = b""
    resolved: list[bytes] = []
    for key, data in blobs + ([("sig", sig)] if sig is not None else []):
        if isinstance(data, int):  # zerofill: no file bytes
            where[key] = (pos + len(data_area), data)
            resolved.append(b"")
            continue
        raw = data((VM_BASE if is64 else 0) + pos + len(data_area)) if callable(data) else data
        where[key] = (pos + len(data_area), len(raw))
        data_area += raw + bytes((-len(raw)) % 16)
        resolved.append(raw)
    cmds = commands(where)
    assert sum(len(c) for c in cmds) == cmds_size
    magic = 0xFEEDFACF if is64 else 0xFEEDFACE
    header = struct.pack(order + "IIIIIIII", magic, cputype, subtype, filetype, len(cmds), cmds_size, 0x00200085, 0)
    head = header[:header_size] + b"".join(cmds)
    return head + bytes(pos - len(head)) + data_area


def command_offset(data: bytes, cmd: int, *, nth: int = 0) -> int:
    """File offset of the ``nth`` load command ``cmd`` (LC_REQ_DYLD included) of a thin little-endian file."""
    is64 = data[:4] == b"\xcf\xfa\xed\xfe"
    ncmds = struct.unpack_from("<I", data, 16)[0]
    pos = 32 if is64 else 28
    seen = 0
    for _ in range(ncmds):
        c, size = struct.unpack_from("<II", data, pos)
        if c == cmd:
            if seen == nth:
                return pos
            seen += 1
        pos += size
    raise KeyError(hex(cmd))


# ------------------------------------------------------------------------------------ fixtures

JIT = {"com.apple.security.cs.allow-jit": True}
RICH = {
    "com.apple.security.cs.allow-jit": True,
    "com.apple.security.app-sandbox": True,
    "com.apple.security.application-groups": [f"{TEAM}.group"],
    "com.apple.developer.team-identifier": TEAM,
    "com.example.count": 3,
    "com.example.nested": {"inner": [True, "x"]},
}


def fixtures() -> dict[str, bytes]:
    """The committed fixtures (``tests/fixtures/macho/``), by file name; deterministic."""
    return {
        "signed-hardened-arm64": thin("arm64", signature("com.example.signed", entitlements=RICH)),
        "signed-bare-der-x86_64": thin("x86_64", signature(
            "com.example.node-like", entitlements=JIT, der="bare",
            xml_blob=xml(JIT, leading=b"  "), cms_blob=cms(TEAM, timestamp=True, ber=True))),
        "adhoc-empty-entitlements-arm64": thin("arm64", signature("com.example.adhoc", kind="adhoc", team=None,
                                                                  entitlements={}, runtime=False)),
        "linker-signed-cd-only-arm64": thin("arm64", signature("a.out", kind="linker-signed", team=None,
                                                               runtime=False)),
        "unsigned-x86_64": thin("x86_64"),
        "universal-differing-slices": fat(
            thin("x86_64", signature("com.example.uni.x86", entitlements={})),
            thin("arm64", signature("com.example.uni", entitlements=JIT)),
        ),
        "universal64-signed-and-unsigned": fat(thin("arm64e", signature("com.example.e", entitlements=JIT)),
                                               thin("x86_64"), bits=64),
        "der-disagrees-with-xml-arm64": thin("arm64", signature("com.example.mismatch", entitlements=JIT,
                                                                der=der_wrapped({}))),
        "ppc-only-unsigned": thin("ppc", bits=32, big_endian=True, build_version=False),
        "universal-i386-ppc": fat(thin("i386", bits=32, build_version=False),
                                  thin("ppc", bits=32, big_endian=True, build_version=False)),
        "universal-sha1-sha256-cds": fat(thin("x86_64", signature("com.example.cmake-like", alternate_sha256=True)),
                                         thin("arm64", signature("com.example.cmake-like", alternate_sha256=True))),
    }


#: a cargo registry path as rustc writes it into panic locations
RUST_PANIC_PATH = "/Users/runner/.cargo/registry/src/index.crates.io-6f17d22bba15001f/{}/src/lib.rs"


def engine_fixtures() -> dict[str, bytes]:
    """Small linked images, one per kind of engine signal (``tests/fixtures/macho-engines/``; fuzz seeds too)."""
    return {
        "engines-electron-helper-arm64": image(
            dylibs=[(LC_LOAD_DYLIB, "@rpath/Electron Framework.framework/Electron Framework"),
                    (LC_LOAD_DYLIB, "/usr/lib/libSystem.B.dylib")],
            symbols=[("_main", "extdef", 0), ("_napi_create_function", "undef", 1)],
            imports=[("_napi_create_function", 1), ("_dyld_stub_binder", 2)]),
        "engines-libwasmtime-dylib-arm64": image(
            filetype=MH_DYLIB, id_dylib="@rpath/libwasmtime.dylib",
            exports=["_wasmtime_store_new", "_wasmtime_module_new", "_wasm_engine_new", "_wasm_store_new"],
            symbols=[("_wasmtime_store_new", "extdef", 0), ("_wasm_engine_new", "extdef", 0),
                     ("_malloc", "undef", 1)], dylibs=["/usr/lib/libSystem.B.dylib"]),
        "engines-bun-like-arm64": image(
            sections=[("__TEXT", "__text", b"\0" * 16), ("__TEXT", "__jsc_int", b"\0" * 16),
                      ("__DATA", "__jsc_opcodes", 64), ("__DATA", "__wtf_config", 64), ("__BUN", "__bun", b"\0" * 16)],
            exports=["__ZN2v87Isolate10GetCurrentEv", "_napi_create_function", "__ZN3JSC9CallFrame13describeFrameEv"]),
        "engines-go-wazero-arm64": image(sections=[("__DATA", "__go_buildinfo", go_buildinfo(
            deps=[("github.com/tetratelabs/wazero", "v1.12.0"), ("golang.org/x/sys", "v0.30.0")]))]),
        "engines-go-old-layout-x86_64": image("x86_64", sections=[("__DATA", "__go_buildinfo", go_buildinfo_pointers(
            deps=[("github.com/bytecodealliance/wasmtime-go/v25", "v25.0.0")]))]),
        "engines-static-wamr-x86_64": image(
            "x86_64", symbols=[("_wasm_runtime_full_init", "local", 0), ("_aot_load_from_aot_file", "local", 0),
                               ("_wasm_interp_call_wasm", "local", 0), ("_main", "extdef", 0),
                               ("_mmap", "undef", 1)], dylibs=["/usr/lib/libSystem.B.dylib"]),
        "engines-rust-wasmtime-arm64": image(sections=[
            ("__TEXT", "__cstring", b"called `Option::unwrap()` on a `None` value\0"),
            ("__TEXT", "__const", "".join(RUST_PANIC_PATH.format(c) for c in (
                "wasmtime-25.0.1", "cranelift-codegen-0.112.1", "wasmparser-0.217.0")).encode())]),
        "engines-stripped-wasm3-i386": image("i386", bits=32, sections=[
            ("__TEXT", "__cstring", b"out of order Wasm section\0incompatible Wasm binary version\0")]),
        "engines-ppc-wasm3-symbols": image("ppc", bits=32, big_endian=True, symbols=[
            ("_m3Err_mallocFailed", "extdef", 0), ("_m3_NewRuntime", "extdef", 0)]),
        "engines-none-arm64": image(
            dylibs=["/System/Library/Frameworks/Foundation.framework/Versions/C/Foundation",
                    "/usr/lib/libSystem.B.dylib"],
            sections=[("__TEXT", "__cstring", b"hello, wasm world\0"), ("__TEXT", "__const", b"\0" * 32)],
            symbols=[("_main", "extdef", 0), ("_printf", "undef", 2)], exports=["__mh_execute_header", "_main"]),
    }


def der_fixtures() -> dict[str, bytes]:
    """DER entitlements payloads (``tests/fixtures/der/``): seeds for the DER fuzz target and its tests."""
    return {
        "wrapped-rich.der": der_wrapped(RICH),
        "wrapped-empty.der": der_wrapped({}),
        "bare-set-jit.der": der_bare(JIT),
        "bare-set-rich.der": der_bare(RICH),
    }


def write_fixtures(folder: Path, made: dict[str, bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in made.items():
        target = folder / name
        target.write_bytes(data)
        written.append(target)
    return written


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "fixtures"
    for path in (write_fixtures(root / "macho", fixtures()) + write_fixtures(root / "macho-engines", engine_fixtures())
                 + write_fixtures(root / "der", der_fixtures())):
        print(path)
