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
       "i386": (7, 3), "arm64_32": (0x0200000C, 1), "armv7": (12, 9)}
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
    for path in write_fixtures(root / "macho", fixtures()) + write_fixtures(root / "der", der_fixtures()):
        print(path)
