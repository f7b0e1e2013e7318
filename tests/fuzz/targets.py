"""Fuzz targets: one per reader, each a function of bytes that may only return or raise its reader's error.

A target encodes the reader's contract: for any input it returns a result whose invariants hold, or
raises the reader's own :class:`~macwasm.errors.MacwasmError` subclass, exactly one per reader (a
reader that calls another wraps that reader's error in its own). Anything else (another exception
type, a broken invariant) is a finding. The same targets serve the coverage-guided
``atheris`` runner (``run_atheris.py``, ``make fuzz``) and the short hypothesis pass in ``make test``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from macwasm.errors import MacwasmError


class InvariantBroken(AssertionError):
    """A reader returned a result that contradicts its own contract."""


@dataclass(frozen=True)
class Target:
    name: str
    module: str  # where the reader lives; a target whose module is missing is reported, not skipped silently
    error: str  # the reader's error class name in macwasm.errors
    run: Callable[[bytes], None]


def _errors():
    return importlib.import_module("macwasm.errors")


def _check_offset(err: MacwasmError, size: int) -> None:
    if err.offset is not None and not (0 <= err.offset <= max(size, 0) + 16):
        raise InvariantBroken(f"error offset 0x{err.offset:x} lies outside the {size}-byte input: {err}")
    if not err.reason:
        raise InvariantBroken("error without a reason")


def wasm(data: bytes) -> None:
    from macwasm.wasm import inspect_bytes

    try:
        info = inspect_bytes(data, path="fuzz.wasm")
    except _errors().WasmFormatError as err:
        _check_offset(err, len(data))
        return
    d = info.to_dict()
    if d["kind"] not in ("core-module", "component", "unknown-version", "not-wasm"):
        raise InvariantBroken(f"unknown kind {d['kind']!r}")
    for sec in d["sections"]:
        if not (sec["offset"] >= 0 and sec["offset"] + sec["size"] <= len(data)):
            raise InvariantBroken(f"section {sec} runs outside the {len(data)}-byte input")
    if d["well_formed"] and d["error"]:
        raise InvariantBroken("well_formed result carries an error")


def plist(data: bytes) -> None:
    from macwasm.signing.plist import load_plist

    try:
        _value, fmt = load_plist(data, path="fuzz.plist")
    except _errors().PlistFormatError as err:
        _check_offset(err, len(data))
        return
    if fmt not in ("xml-plist", "binary-plist"):
        raise InvariantBroken(f"unknown plist format {fmt!r}")


def codesign_text(data: bytes) -> None:
    from macwasm.signing.codesign_text import parse_codesign_output

    try:
        ents = parse_codesign_output(data, path="fuzz.txt")
    except _errors().PlistFormatError as err:
        _check_offset(err, len(data))
        return
    if not isinstance(ents, dict):
        raise InvariantBroken(f"entitlements are a {type(ents).__name__}, not a dict")


def profile(data: bytes) -> None:
    from macwasm.signing import profile as profile_mod

    try:
        facts = profile_mod.read_profile(data, path="fuzz.provisionprofile")
    except _errors().ProfileFormatError as err:
        _check_offset(err, len(data))
        return
    if facts.signature_verified:
        raise InvariantBroken("a profile claims a verified signature; macwasm never verifies it")


def macho(data: bytes) -> None:
    from macwasm.signing.macho import read_macho

    try:
        slices = read_macho(data, path="fuzz.macho")
    except _errors().MachOFormatError as err:
        _check_offset(err, len(data))
        return
    from macwasm.signing.model import ENGINE_CONFIDENCES, ENGINE_LOCATIONS

    for s in slices:
        sig = s.signature
        if sig is not None and sig.kind in ("adhoc", "linker-signed") and sig.team_id:
            raise InvariantBroken(f"{sig.kind} signature reports a team id {sig.team_id!r}")
        if sig is not None and sig.code_directories and sig.code_directories[0].hash_type != sig.hash_type:
            raise InvariantBroken("the first CodeDirectory listed is not the primary one")
        engines = [d.engine for d in s.engines]
        if len(engines) != len(set(engines)):
            raise InvariantBroken(f"an engine is reported twice in one slice: {engines}")
        for d in s.engines:  # the engine detector's readers (symbols, export trie, fixups, Go build info)
            if d.confidence not in ENGINE_CONFIDENCES or d.location not in ENGINE_LOCATIONS:
                raise InvariantBroken(f"engine detection outside its vocabulary: {d}")
            if not d.evidence or len(d.evidence) != len(d.signatures):
                raise InvariantBroken(f"engine detection without one evidence line per signature: {d}")


def der(data: bytes) -> None:
    from macwasm.signing import der as der_mod

    try:
        value = der_mod.decode_der_entitlements(data)
    except _errors().DerFormatError as err:
        _check_offset(err, len(data))
        return
    if not isinstance(value, dict):
        raise InvariantBroken(f"DER entitlements decoded to a {type(value).__name__}")


def explain(data: bytes) -> None:
    from macwasm.policy.explain import explain as explain_fn

    try:
        report = explain_fn(data.decode("utf-8", "replace"), path="fuzz.log")
    except _errors().LogFormatError as err:
        _check_offset(err, len(data) * 4)
        return
    if report.unrecognised < 0 or len(report.matches) < 0:
        raise InvariantBroken("negative counts")


def xcode(data: bytes) -> None:
    from macwasm.xcode.pbxproj import parse_pbxproj

    try:
        project = parse_pbxproj(data, path="fuzz.pbxproj", xcodeproj="/nonexistent/Fuzz.xcodeproj")
    except _errors().XcodeProjectError as err:
        _check_offset(err, len(data))
        if err.line is not None and not 1 <= err.line <= data.count(b"\n") + 1:
            raise InvariantBroken(f"error line {err.line} lies outside the input: {err}") from None
        return
    for target in project.targets:
        if not isinstance(target.name, str) or not all(isinstance(c.settings, dict) for c in target.configurations):
            raise InvariantBroken(f"target {target!r} is not typed as promised")


TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target("wasm", "macwasm.wasm", "WasmFormatError", wasm),
        Target("plist", "macwasm.signing.plist", "PlistFormatError", plist),
        Target("codesign_text", "macwasm.signing.codesign_text", "PlistFormatError", codesign_text),
        Target("profile", "macwasm.signing.profile", "ProfileFormatError", profile),
        Target("macho", "macwasm.signing.macho", "MachOFormatError", macho),
        Target("der", "macwasm.signing.der", "DerFormatError", der),
        Target("explain", "macwasm.policy.explain", "LogFormatError", explain),
        Target("xcode", "macwasm.xcode.pbxproj", "XcodeProjectError", xcode),
    ]
}
