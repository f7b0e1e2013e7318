"""Typed results of the signing readers: the contract between the readers and the policy engine.

Every reader (plist, ``codesign`` output, provisioning profile, Mach-O, bundle) returns a
:class:`SigningFacts`; the policy engine consumes only these types, never a reader's internals
(what the checker needs beyond the JSON, such as a slice's DER entitlements, is a field here too).
``to_dict`` gives the JSON shape of ``macwasm entitlements --format json``.

Entitlement values keep their plist types (bool, str, int, float, bytes, datetime, list, dict);
``to_dict`` makes them JSON-ready (bytes as base64, dates as ISO 8601).
"""

from __future__ import annotations

import base64
import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

# What the facts came from (``source`` in the JSON), signature kinds (weakest first), blob states, how strongly
# an engine signal says the engine is there and where its code lives: named in macwasm.vocabulary, re-exported
# here, where the readers' callers have imported them from.
from macwasm.vocabulary import ABSENT
from macwasm.vocabulary import BLOB_STATES as BLOB_STATES
from macwasm.vocabulary import ENGINE_CONFIDENCES as ENGINE_CONFIDENCES
from macwasm.vocabulary import ENGINE_LOCATIONS as ENGINE_LOCATIONS
from macwasm.vocabulary import SIGNATURE_KINDS as SIGNATURE_KINDS
from macwasm.vocabulary import SOURCES as SOURCES

Entitlements = dict[str, Any]


@dataclass(frozen=True)
class CodeDirectoryInfo:
    """One CodeDirectory of a signature: the primary (slot 0) or an alternate (slots 0x1000-0x1004).

    codesign writes a SHA-1 primary plus a SHA-256 alternate for binaries that must also load on
    old systems (cmake's release binaries do); the kernel picks the strongest hash it knows.
    """

    slot: int
    hash_type: str  # sha1, sha256, sha256-truncated, sha384, ...
    version: int
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"slot": self.slot, "hash_type": self.hash_type, "version": self.version, "flags": list(self.flags)}


@dataclass(frozen=True)
class EngineDetection:
    """A JavaScript or WebAssembly engine found in a binary by its signatures (``data/engine_signatures.csv``).

    ``engine`` is a runtime family of ``data/runtimes.csv`` (v8, javascriptcore, wasmtime, wamr, ...).
    ``runtimes`` are the runtimes.csv keys that the matched signals show compiled in; empty when the
    binary does not tell the mode (wasmtime's JIT vs Pulley, WAMR's interpreter vs AOT loader).
    ``evidence`` says which signature matched and how, one line each.
    """

    engine: str
    confidence: str  # one of ENGINE_CONFIDENCES
    location: str  # one of ENGINE_LOCATIONS
    evidence: tuple[str, ...]
    runtimes: tuple[str, ...] = ()
    embedder: str | None = None  # the product around the engine when a signal tells it: Electron, Node.js, Bun
    signatures: tuple[str, ...] = ()  # ids of the engine_signatures.csv rows that matched

    def to_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "confidence": self.confidence, "location": self.location,
                "runtimes": list(self.runtimes), "embedder": self.embedder, "evidence": list(self.evidence),
                "signatures": list(self.signatures)}


@dataclass(frozen=True)
class Signature:
    """What the CodeDirectory (and the CMS blob, if any) of one Mach-O slice says."""

    kind: str  # one of SIGNATURE_KINDS
    team_id: str | None = None
    identifier: str | None = None
    hardened_runtime: bool = False
    flags: tuple[str, ...] = ()  # names: adhoc, linker-signed, runtime, library-validation, kill, hard, ...
    cd_version: int | None = None
    hash_type: str | None = None  # sha1, sha256, sha256-truncated, sha384, ...
    exec_seg_flags: tuple[str, ...] = ()  # main-binary, allow-unsigned, debugger, jit, ...
    has_requirements: bool = False
    cms: str = ABSENT  # one of BLOB_STATES
    signer: str | None = None  # subject of the leaf certificate, when a CMS blob is present (not verified)
    has_timestamp: bool | None = None  # a countersignature/timestamp in the CMS (None: not known)
    #: the leaf certificate's common name alone ("Developer ID Application: Name (TEAMID)"), not verified
    signer_name: str | None = None
    #: every CodeDirectory, primary first (its hash_type is ``hash_type`` above), then the alternates
    code_directories: tuple[CodeDirectoryInfo, ...] = ()

    @property
    def hash_types(self) -> tuple[str, ...]:
        """The hash of every CodeDirectory, primary first (``("sha1", "sha256")`` for cmake's binaries)."""
        return tuple(cd.hash_type for cd in self.code_directories) or ((self.hash_type,) if self.hash_type else ())

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "team_id": self.team_id,
            "identifier": self.identifier,
            "hardened_runtime": self.hardened_runtime,
            "flags": list(self.flags),
            "cd_version": self.cd_version,
            "hash_type": self.hash_type,
            "exec_seg_flags": list(self.exec_seg_flags),
            "has_requirements": self.has_requirements,
            "cms": self.cms,
            "signer": self.signer,
            "signer_name": self.signer_name,
            "has_timestamp": self.has_timestamp,
            "code_directories": [cd.to_dict() for cd in self.code_directories],
            "hash_types": list(self.hash_types),
        }


@dataclass(frozen=True)
class SliceFacts:
    """One architecture slice of a (possibly universal) Mach-O."""

    arch: str  # arm64, arm64e, x86_64, i386, ...
    signature: Signature | None  # None: no LC_CODE_SIGNATURE (unsigned)
    entitlements: Entitlements | None  # None: no entitlements blob at all
    entitlements_blob: str = ABSENT  # one of BLOB_STATES (the XML blob)
    der_entitlements_blob: str = ABSENT  # one of BLOB_STATES
    der_matches_xml: bool | None = None  # None when one of the two blobs is absent
    platform: str | None = None  # macos, ios, driverkit, ... from LC_BUILD_VERSION when present
    min_os: str | None = None
    sdk: str | None = None
    #: JavaScript and WebAssembly engines this slice carries, links or imports (strongest first)
    engines: tuple[EngineDetection, ...] = ()
    # What the checker needs beyond the JSON contract (``to_dict`` leaves them out; equality ignores them):
    #: what the slice itself flagged (DER != XML, alternate CodeDirectories, an unreadable CMS blob, engine caps)
    notes: tuple[str, ...] = field(default=(), compare=False)
    #: where the slice starts in the file (0 for a thin file)
    offset: int = field(default=0, compare=False)
    #: how the DER entitlements are laid out (wrapped | bare-set; None: no DER blob)
    der_layout: str | None = field(default=None, compare=False)
    #: the DER entitlements themselves (None: no DER blob), judged on their own where they differ from the XML
    der_entitlements: Entitlements | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "arch": self.arch,
            "signature": self.signature.to_dict() if self.signature else None,
            "entitlements": json_ready(self.entitlements),
            "entitlements_blob": self.entitlements_blob,
            "der_entitlements_blob": self.der_entitlements_blob,
            "der_matches_xml": self.der_matches_xml,
            "platform": self.platform,
            "min_os": self.min_os,
            "sdk": self.sdk,
            "engines": [e.to_dict() for e in self.engines],
        }


@dataclass(frozen=True)
class ProfileFacts:
    """What a provisioning profile says. Its CMS signature is *not* verified by macwasm."""

    name: str | None
    team_ids: tuple[str, ...]
    entitlements: Entitlements
    expiration: _dt.datetime | None
    provisions_all_devices: bool
    device_count: int
    platforms: tuple[str, ...] = ()
    uuid: str | None = None
    signature_verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "team_ids": list(self.team_ids),
            "entitlements": json_ready(self.entitlements),
            "expiration": json_ready(self.expiration),
            "provisions_all_devices": self.provisions_all_devices,
            "device_count": self.device_count,
            "platforms": list(self.platforms),
            "uuid": self.uuid,
            "signature_verified": self.signature_verified,
        }


@dataclass(frozen=True)
class NestedCode:
    """A piece of code nested in a bundle, with the role its location and Info.plist give it."""

    path: str  # relative to the outer bundle
    role: str  # a product_type name from data/product_types.csv (app-extension, network-extension, ...)
    entitlements: Entitlements | None
    signature: Signature | None
    bundle_id: str | None = None
    has_profile: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "role": self.role,
            "entitlements": json_ready(self.entitlements),
            "signature": self.signature.to_dict() if self.signature else None,
            "bundle_id": self.bundle_id,
            "has_profile": self.has_profile,
            "error": self.error,
        }


@dataclass(frozen=True)
class WasmFileFacts:
    """A ``.wasm`` file found in a bundle: where it sits and what the wasm inspector says it is."""

    path: str  # relative to the bundle
    location: str  # resources | code | other
    kind: str  # core-module | component | unknown-version | not-wasm (or "error")
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "location": self.location, "kind": self.kind, "error": self.error}


@dataclass
class SigningFacts:
    """Everything one input tells about entitlements and signatures."""

    path: str
    source: str  # one of SOURCES
    entitlements: Entitlements | None = None  # the main executable's (or the file's) entitlements
    signature: Signature | None = None  # the main executable's signature (first slice's)
    slices: list[SliceFacts] = field(default_factory=list)
    nested: list[NestedCode] = field(default_factory=list)
    wasm_files: list[WasmFileFacts] = field(default_factory=list)
    profile: ProfileFacts | None = None
    bundle_id: str | None = None
    role: str | None = None  # product type of the main item, when the input tells it
    notes: list[str] = field(default_factory=list)  # facts worth saying (slices disagree, DER != XML, ...)
    error: str | None = None

    @property
    def slices_differ(self) -> bool:
        """Whether the slices carry different signatures or entitlements.

        The top-level ``signature`` and ``entitlements`` are the first slice's; when this is true they
        do not speak for the file, and the checker judges each slice on its own.
        """
        return len({(repr(s.signature), repr(s.entitlements)) for s in self.slices}) > 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "source": self.source,
            "entitlements": json_ready(self.entitlements),
            "signature": self.signature.to_dict() if self.signature else None,
            "slices": [s.to_dict() for s in self.slices],
            "slices_differ": self.slices_differ,
            "nested": [n.to_dict() for n in self.nested],
            "wasm_files": [w.to_dict() for w in self.wasm_files],
            "profile": self.profile.to_dict() if self.profile else None,
            "bundle_id": self.bundle_id,
            "role": self.role,
            "notes": list(self.notes),
            "error": self.error,
        }


def json_ready(value: Any) -> Any:
    """Plist values to JSON values: bytes as base64 text, dates as ISO 8601, keys sorted."""
    if isinstance(value, dict):
        return {str(k): json_ready(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return value
