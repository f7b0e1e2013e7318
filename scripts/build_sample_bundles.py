#!/usr/bin/env python3
"""Build the sample app bundles in ``data/bundles/`` (the origin of every file there).

Each bundle is a real ``.app`` tree: Info.plists, Mach-O executables whose embedded code
signature carries the entitlements (CodeDirectory with identifier, team id and flags, the XML
entitlements blob and its DER twin, a requirements blob, a CMS blob), and ``.wasm`` modules copied
from ``data/modules/``. What each bundle shows is in ``data/bundles/README.md``.

The executables hold no runnable code (their ``__TEXT`` page is zeros) and their CMS blobs are
placeholders: a certificate signed by a throw-away Ed25519 key named "NOT Apple" and a signer
whose signature bytes are zeros. Nothing here would pass Apple's checks; the point is that every
byte a *reader* looks at is laid out as ``codesign`` lays it out.

Deterministic: no clocks, no random numbers (the Ed25519 key comes from a fixed seed and Ed25519
signatures are deterministic), sorted plist keys. Running the script again rewrites identical
bytes; ``tests/test_bundle.py`` checks that.

Usage: ``.venv/bin/python scripts/build_sample_bundles.py [OUTDIR]`` (default ``data/bundles``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import plistlib
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core, keys, x509

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "data" / "bundles"
MODULES = REPO / "data" / "modules"
PROFILE = REPO / "tests" / "fixtures" / "profiles" / "devid-network-sysext.provisionprofile"
TEAM = "ABCDE12345"

# --------------------------------------------------------------------------- Mach-O constants
MH_MAGIC_64 = 0xFEEDFACF
FAT_MAGIC = 0xCAFEBABE
CPU = {"arm64": (0x0100000C, 0), "x86_64": (0x01000007, 3)}
MH_EXECUTE, MH_DYLIB = 2, 6
LC_SEGMENT_64, LC_CODE_SIGNATURE, LC_BUILD_VERSION = 0x19, 0x1D, 0x32
PLATFORM = {"macos": 1, "driverkit": 10}
PAGE = 0x1000

# --------------------------------------------------------------------------- code-signature constants
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CSMAGIC_REQUIREMENTS = 0xFADE0C01
CSMAGIC_EMBEDDED_ENTITLEMENTS = 0xFADE7171
CSMAGIC_EMBEDDED_DER_ENTITLEMENTS = 0xFADE7172
CSMAGIC_BLOBWRAPPER = 0xFADE0B01
SLOT_CD, SLOT_REQUIREMENTS, SLOT_ENTITLEMENTS, SLOT_DER, SLOT_CMS = 0, 2, 5, 7, 0x10000
CS_ADHOC, CS_HARD, CS_KILL, CS_RUNTIME, CS_LINKER_SIGNED = 0x2, 0x100, 0x200, 0x10000, 0x20000
EXECSEG_MAIN_BINARY = 0x1
HASH_SHA256 = 2


# ----------------------------------------------------------------------------------------- DER


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def der_value(value: Any, dict_tag: int = 0xB0, true_byte: int = 0xFF) -> bytes:
    """A plist value in DER as Apple's entitlements write it; ``dict_tag`` and ``true_byte`` vary by layout."""
    if isinstance(value, bool):
        return _der(0x01, bytes([true_byte if value else 0]))
    if isinstance(value, int):
        return _der(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))
    if isinstance(value, str):
        return _der(0x0C, value.encode("utf-8"))
    if isinstance(value, bytes):
        return _der(0x04, value)
    if isinstance(value, dt.datetime):
        return _der(0x18, value.strftime("%Y%m%d%H%M%SZ").encode())
    if isinstance(value, list):
        return _der(0x30, b"".join(der_value(v, dict_tag, true_byte) for v in value))
    if isinstance(value, dict):
        return der_dict(value, dict_tag, true_byte)
    raise TypeError(f"no DER form for {type(value).__name__}")


def der_dict(value: dict[str, Any], dict_tag: int = 0xB0, true_byte: int = 0xFF) -> bytes:
    """A dictionary as Apple's DER entitlements write it: (key, value) SEQUENCEs, keys sorted, in ``dict_tag``."""
    pairs = b"".join(_der(0x30, _der(0x0C, k.encode("utf-8")) + der_value(value[k], dict_tag, true_byte))
                     for k in sorted(value))
    return _der(dict_tag, pairs)


def der_entitlements(entitlements: dict[str, Any]) -> bytes:
    """The current wrapped layout: [APPLICATION 16] { INTEGER 1, dictionary }."""
    return _der(0x70, _der(0x02, b"\x01") + der_dict(entitlements))


def xml_entitlements(entitlements: dict[str, Any]) -> bytes:
    return plistlib.dumps(entitlements, fmt=plistlib.FMT_XML, sort_keys=True)


# ----------------------------------------------------------------------------------------- CMS


@dataclass(frozen=True)
class CmsPersona:
    """Whom a placeholder certificate names. The sample bundles and the Mach-O test fixtures each keep
    their own (and so their committed bytes); the builder is shared."""

    key_label: bytes  # hashed into the throw-away Ed25519 key's seed
    company: str  # in the common name: "Developer ID Application: {company} NOT Apple ({team})"
    organization: str
    serial: int
    signature_length: int  # zero bytes standing for the signer's signature
    with_user_id: bool  # a UID attribute holding the team id, as Apple's certificates carry


SAMPLE_PERSONA = CmsPersona(b"macwasm sample bundles: NOT an Apple key", "Example Corp",
                            "Example Corp (sample, NOT Apple)", 0x6D616377, 256, True)


def placeholder_cms(team: str, persona: CmsPersona = SAMPLE_PERSONA, *, timestamp: bool = False, ber: bool = False,
                    certificate: bool = True) -> bytes:
    """CMS SignedData with a self-issued "NOT Apple" certificate for ``team`` and a zero-filled signer signature.

    ``timestamp`` adds a placeholder timestamp token as an unsigned attribute; ``ber`` writes the
    outer SEQUENCE with an indefinite length, as ``codesign`` does; ``certificate=False`` leaves the
    certificate out (the signer then names an issuer nobody can look up).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(persona.key_label).digest())
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    subject = x509.Name.build({
        **({"user_id": team} if persona.with_user_id else {}),
        "common_name": f"Developer ID Application: {persona.company} NOT Apple ({team})",
        "organizational_unit_name": team,
        "organization_name": persona.organization,
        "country_name": "US",
    })
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": persona.serial,
        "signature": {"algorithm": "ed25519"},
        "issuer": subject,
        "validity": {"not_before": x509.Time({"utc_time": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}),
                     "not_after": x509.Time({"utc_time": dt.datetime(2035, 1, 1, tzinfo=dt.UTC)})},
        "subject": subject,
        "subject_public_key_info": keys.PublicKeyInfo.load(public),
    })
    cert = x509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": {"algorithm": "ed25519"},
        "signature_value": key.sign(tbs.dump()),
    })
    signer: dict[str, Any] = {
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": subject, "serial_number": persona.serial})}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
        "signature": core.OctetString(bytes(persona.signature_length)),  # placeholder: never a valid signature
    }
    if timestamp:
        token = cms.ContentInfo({"content_type": "data", "content": core.OctetString(b"placeholder token")})
        signer["unsigned_attrs"] = [cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]})]
    signed = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "data"},  # detached, as in code signatures
        "certificates": [cms.CertificateChoices({"certificate": cert})] if certificate else [],
        "signer_infos": [cms.SignerInfo(signer)],
    })
    der = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
    if not ber:
        return der
    first = der[1]  # BER as codesign writes it: indefinite outer length, end-of-contents octets
    return b"\x30\x80" + der[2 + (first & 0x7F if first & 0x80 else 0):] + b"\x00\x00"


# ------------------------------------------------------------------------------------ signature


def _blob(magic: int, body: bytes) -> bytes:
    return struct.pack(">II", magic, 8 + len(body)) + body


def code_signature(code: bytes, *, identifier: str, team: str | None, flags: int,
                   entitlements: dict[str, Any] | None, cms_kind: str, exec_seg_flags: int,
                   exec_seg_limit: int) -> bytes:
    """SuperBlob: CodeDirectory, requirements, XML + DER entitlements, CMS wrapper (as codesign orders them)."""
    blobs: list[tuple[int, bytes]] = []
    special: dict[int, bytes] = {}
    linker_signed = bool(flags & CS_LINKER_SIGNED)
    if not linker_signed:
        requirements = _blob(CSMAGIC_REQUIREMENTS, struct.pack(">I", 0))
        blobs.append((SLOT_REQUIREMENTS, requirements))
        special[SLOT_REQUIREMENTS] = requirements
    if entitlements is not None:
        xml = _blob(CSMAGIC_EMBEDDED_ENTITLEMENTS, xml_entitlements(entitlements))
        der = _blob(CSMAGIC_EMBEDDED_DER_ENTITLEMENTS, der_entitlements(entitlements))
        blobs += [(SLOT_ENTITLEMENTS, xml), (SLOT_DER, der)]
        special[SLOT_ENTITLEMENTS], special[SLOT_DER] = xml, der
    n_special = max(special, default=0)
    ident = identifier.encode() + b"\0"
    team_bytes = team.encode() + b"\0" if team else b""
    header = 88
    ident_off = header
    team_off = ident_off + len(ident) if team else 0
    hash_off = header + len(ident) + len(team_bytes) + 32 * n_special
    code_hashes = [hashlib.sha256(code[i:i + PAGE]).digest() for i in range(0, len(code), PAGE)]
    special_hashes = b"".join(
        hashlib.sha256(special[slot]).digest() if slot in special else bytes(32) for slot in range(n_special, 0, -1))
    body_len = hash_off + 32 * len(code_hashes)
    cd = struct.pack(
        ">IIIIIIIIIBBBBIIIIQQQQ",
        CSMAGIC_CODEDIRECTORY, body_len, 0x20400, flags, hash_off, ident_off, n_special, len(code_hashes),
        len(code), 32, HASH_SHA256, 0, 12, 0, 0, team_off, 0, 0, 0, exec_seg_limit, exec_seg_flags,
    ) + ident + team_bytes + special_hashes + b"".join(code_hashes)
    assert len(cd) == body_len
    blobs.insert(0, (SLOT_CD, cd))
    if cms_kind == "empty":
        blobs.append((SLOT_CMS, _blob(CSMAGIC_BLOBWRAPPER, b"")))
    elif cms_kind == "signed":
        blobs.append((SLOT_CMS, _blob(CSMAGIC_BLOBWRAPPER, placeholder_cms(team or ""))))
    index_len = 12 + 8 * len(blobs)
    offset, index, payload = index_len, b"", b""
    for slot, blob in blobs:
        index += struct.pack(">II", slot, offset)
        payload += blob
        offset += len(blob)
    return struct.pack(">III", CSMAGIC_EMBEDDED_SIGNATURE, index_len + len(payload), len(blobs)) + index + payload


def _segment(name: str, vmaddr: int, vmsize: int, fileoff: int, filesize: int, prot: int) -> bytes:
    return struct.pack("<II16sQQQQiiII", LC_SEGMENT_64, 72, name.encode(), vmaddr, vmsize, fileoff, filesize,
                       prot, prot, 0, 0)


def macho(arch: str = "arm64", *, identifier: str, team: str | None = None, kind: str = "signed",
          entitlements: dict[str, Any] | None = None, runtime: bool = True, platform: str = "macos",
          filetype: int = MH_EXECUTE) -> bytes:
    """A thin 64-bit Mach-O with __TEXT, __LINKEDIT, LC_BUILD_VERSION and an embedded signature.

    ``kind``: ``signed`` (team id + CMS placeholder), ``adhoc`` (empty CMS, no team) or
    ``linker-signed`` (what ld64 writes: adhoc + linker-signed flags, no requirements, no entitlements).
    """
    cputype, subtype = CPU[arch]
    flags = CS_RUNTIME if runtime else 0
    if kind == "adhoc":
        flags |= CS_ADHOC
        team = None
    elif kind == "linker-signed":
        flags = CS_ADHOC | CS_LINKER_SIGNED
        team, entitlements = None, None
    minos, sdk = (0x0B0000, 0x0E0000) if platform == "macos" else (0x140000, 0x170000)
    cmds_len = 72 * 2 + 24 + 16
    code = bytearray(PAGE)
    header = struct.pack("<IiiIIIII", MH_MAGIC_64, cputype, subtype, filetype, 4, cmds_len, 0x00200085, 0)
    sig = code_signature(bytes(PAGE), identifier=identifier, team=team, flags=flags, entitlements=entitlements,
                         cms_kind={"signed": "signed", "adhoc": "empty"}.get(kind, "absent"),
                         exec_seg_flags=EXECSEG_MAIN_BINARY if filetype == MH_EXECUTE else 0,
                         exec_seg_limit=PAGE)  # placeholder; the real signature hashes the final header below
    sig_size = (len(sig) + 15) // 16 * 16
    cmds = (_segment("__TEXT", 0x100000000, PAGE, 0, PAGE, 5)
            + _segment("__LINKEDIT", 0x100000000 + PAGE, PAGE, PAGE, sig_size, 1)
            + struct.pack("<IIIIII", LC_BUILD_VERSION, 24, PLATFORM[platform], minos, sdk, 0)
            + struct.pack("<IIII", LC_CODE_SIGNATURE, 16, PAGE, sig_size))
    code[: len(header) + len(cmds)] = header + cmds
    sig = code_signature(bytes(code), identifier=identifier, team=team, flags=flags, entitlements=entitlements,
                         cms_kind={"signed": "signed", "adhoc": "empty"}.get(kind, "absent"),
                         exec_seg_flags=EXECSEG_MAIN_BINARY if filetype == MH_EXECUTE else 0, exec_seg_limit=PAGE)
    assert (len(sig) + 15) // 16 * 16 == sig_size
    return bytes(code) + sig + bytes(sig_size - len(sig))


def fat(*slices: bytes) -> bytes:
    """A universal (fat 32) file: big-endian header, slices aligned to 2^14."""
    align = 14
    header = struct.pack(">II", FAT_MAGIC, len(slices))
    offset = (8 + 20 * len(slices) + (1 << align) - 1) >> align << align
    archs, body = b"", b""
    for data in slices:
        cputype, subtype = struct.unpack_from("<ii", data, 4)
        archs += struct.pack(">iiIII", cputype, subtype, offset, len(data), align)
        pad = (-len(data)) % (1 << align)
        body += data + bytes(pad)
        offset += len(data) + pad
    head = header + archs
    first = (8 + 20 * len(slices) + (1 << align) - 1) >> align << align
    return head + bytes(first - len(head)) + body


# ---------------------------------------------------------------------------------------- bundles

Tree = dict[str, bytes]


def info_plist(executable: str, identifier: str, package_type: str = "APPL", **extra: Any) -> bytes:
    value = {
        "CFBundleExecutable": executable,
        "CFBundleIdentifier": identifier,
        "CFBundleInfoDictionaryVersion": "6.0",
        "CFBundleName": executable,
        "CFBundlePackageType": package_type,
        "CFBundleShortVersionString": "1.0",
        "CFBundleVersion": "1",
        "LSMinimumSystemVersion": "11.0",
        **extra,
    }
    return plistlib.dumps(value, fmt=plistlib.FMT_XML, sort_keys=True)


def app(prefix: str, executable: str, identifier: str, entitlements: dict[str, Any] | None, *,
        package_type: str = "APPL", universal: bool = False, **info: Any) -> Tree:
    """A deep (macOS-style) bundle: Contents/Info.plist and Contents/MacOS/<executable>."""
    binary = macho(identifier=identifier, team=TEAM, entitlements=entitlements)
    if universal:
        binary = fat(macho("x86_64", identifier=identifier, team=TEAM, entitlements=entitlements), binary)
    return {
        f"{prefix}/Contents/Info.plist": info_plist(executable, identifier, package_type, **info),
        f"{prefix}/Contents/MacOS/{executable}": binary,
    }


def _module(name: str) -> bytes:
    return (MODULES / name).read_bytes()


APP_GROUP = f"{TEAM}.com.example.shared"
NE_FILTER_SYSEX = {"com.apple.developer.networking.networkextension": ["content-filter-provider-systemextension"]}


def container_filter() -> Tree:
    """A container app that installs a network system extension; the sysex may use allow-jit only."""
    root = "ContainerFilter.app"
    sysex = f"{root}/Contents/Library/SystemExtensions/com.example.filter.systemextension"
    tree = app(root, "ContainerFilter", "com.example.filter.app", {
        "com.apple.developer.system-extension.install": True,
        "com.apple.security.application-groups": [APP_GROUP],
    })
    tree |= app(sysex, "com.example.filter", "com.example.filter", {
        **NE_FILTER_SYSEX,
        "com.apple.security.application-groups": [APP_GROUP],
        "com.apple.security.cs.allow-jit": True,
    }, package_type="SYSX", NetworkExtension={
        "NEMachServiceName": f"{TEAM}.com.example.filter",
        "NEProviderClasses": {"com.apple.networkextension.filter-data": "FilterDataProvider"},
    })
    tree[f"{root}/Contents/Resources/filter-rules.wasm"] = _module("mvp.wasm")
    tree[f"{root}/Contents/embedded.provisionprofile"] = PROFILE.read_bytes()
    tree[f"{sysex}/Contents/embedded.provisionprofile"] = PROFILE.read_bytes()
    return tree


def misplaced_module() -> Tree:
    """An app whose wasm module sits in Contents/MacOS (a code location) instead of Contents/Resources."""
    root = "MisplacedModule.app"
    tree = app(root, "MisplacedModule", "com.example.misplaced", {"com.apple.security.cs.allow-jit": True})
    tree[f"{root}/Contents/MacOS/plugin.wasm"] = _module("component-wasi-p2.wasm")
    tree[f"{root}/Contents/Resources/ok.wasm"] = _module("mvp.wasm")
    return tree


def forum_case() -> Tree:
    """The forum thread's app: its own main executable holds ES + NE sysex keys and the W+X relaxation."""
    root = "ForumCase.app"
    entitlements = {
        "com.apple.developer.endpoint-security.client": True,
        "com.apple.developer.networking.networkextension": [
            "content-filter-provider-systemextension", "dns-proxy-systemextension",
            "app-proxy-provider-systemextension",
        ],
        "com.apple.developer.system-extension.install": True,
        "com.apple.security.application-groups": [f"{TEAM}.xxxxxx"],
        "com.apple.security.get-task-allow": False,
        "com.apple.security.network.client": True,
        "com.apple.security.cs.allow-unsigned-executable-memory": True,
    }
    return app(root, "ForumCase", "com.example.forumcase", entitlements, universal=True)


def driver_host() -> Tree:
    """An app with a DriverKit driver (.dext, shallow bundle) that claims allow-jit (not allowed for dexts)."""
    root = "DriverHost.app"
    dext = f"{root}/Contents/Library/SystemExtensions/com.example.driver.dext"
    tree = app(root, "DriverHost", "com.example.driverhost", {"com.apple.developer.system-extension.install": True})
    tree[f"{dext}/Info.plist"] = info_plist("com.example.driver", "com.example.driver", "DEXT",
                                            IOKitPersonalities={"ExampleDriver": {"IOClass": "IOUserService"}},
                                            OSBundleUsageDescription="Sample driver (macwasm test data)")
    tree[f"{dext}/com.example.driver"] = macho(identifier="com.example.driver", team=TEAM, platform="driverkit",
                                               entitlements={"com.apple.developer.driverkit": True,
                                                             "com.apple.security.cs.allow-jit": True})
    return tree


def jit_service() -> Tree:
    """An app that keeps its JIT in an XPC service; the app itself holds no relaxation."""
    root = "JitService.app"
    xpc = f"{root}/Contents/XPCServices/com.example.jit.xpc"
    tree = app(root, "JitService", "com.example.jitservice", {"com.apple.security.app-sandbox": True})
    tree |= app(xpc, "com.example.jit", "com.example.jit", {"com.apple.security.cs.allow-jit": True},
                package_type="XPC!", XPCService={"ServiceType": "Application"})
    tree[f"{root}/Contents/Resources/engine.wasm"] = _module("mvp.wasm")
    return tree


BUNDLES = (container_filter, misplaced_module, forum_case, driver_host, jit_service)


def build(out: Path) -> list[Path]:
    """Write every sample bundle under ``out`` (replacing earlier copies); return the files written."""
    written = []
    for make in BUNDLES:
        tree = make()
        top = out / next(iter(tree)).split("/")[0]
        if top.exists():
            shutil.rmtree(top)
        for rel, data in sorted(tree.items()):
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if "/MacOS/" in rel or rel.endswith(".dext/com.example.driver"):
                target.chmod(0o755)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", type=Path, default=OUT, help="default: data/bundles")
    out = parser.parse_args(argv).outdir
    files = build(out)
    print(f"wrote {len(files)} files under {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
