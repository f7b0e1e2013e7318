"""``check X.xcodeproj`` / ``X.xcworkspace``: each target judged as the product it will build.

One :class:`~macwasm.policy.target.Target` per native target and build configuration, named
``App.xcodeproj [Target] (Debug)``, with the entitlements it will be signed with, the Hardened
Runtime as its build settings say, its ``.wasm`` files where its phases put them, and, when no
``--runtime`` is given, the runtime of the wasm engine it links (``data/xcode_engine_names.csv``;
the surest name wins, the choice is reported). The rules are the same as for a built bundle;
what the project could not tell travels as build notes that rules MW180-MW189 report.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from macwasm.errors import XcodeProjectError
from macwasm.inputs import InputItem
from macwasm.policy.checker import CheckOptions, _uses_jit_keys
from macwasm.policy.tables import NO, product_types
from macwasm.policy.target import Target, WasmFile
from macwasm.vocabulary import DEFAULT_PRODUCT_TYPE, FORM_XCODE_PROJECT
from macwasm.xcode import model as m
from macwasm.xcode import read_workspace, read_xcode_project


def project_paths(path: str) -> tuple[list[str], list[str]]:
    """``([.xcodeproj found], [.xcodeproj listed but missing])`` for a project or a workspace."""
    if path.rstrip("/").lower().endswith(".xcworkspace"):
        ws = read_workspace(path)
        return list(dict.fromkeys(ws.projects)), list(dict.fromkeys(ws.missing))
    return [path], []


def xcode_items(path: str) -> Iterator[InputItem]:
    """The CLI's inputs for one Xcode path: each project once, a missing one as an item with its error."""
    from macwasm.policy.checker import display_path

    try:
        found, missing = project_paths(path)
    except XcodeProjectError as err:
        yield InputItem(path, err)
        return
    yield from (InputItem(p) for p in found)
    for p in missing:
        yield InputItem(p, XcodeProjectError(f"listed by {display_path(path)} but not found", path=p))


def xcode_targets(path: str, opts: CheckOptions, extra: Mapping[str, Any] | None = None) -> list[Target]:
    """Targets of a project, or of every project a workspace lists that the checkout holds."""
    found, _missing = project_paths(path)
    return [t for p in found for t in targets_from_project(read_xcode_project(p), opts, extra)]


def _engine(pair: m.TargetConfig) -> m.EngineUse | None:
    return min(pair.engines, key=lambda e: (e.rank, e.engine)) if pair.engines else None


def _engine_note(pair: m.TargetConfig, engine: m.EngineUse) -> m.Note:
    others = sorted({e.engine for e in pair.engines} - {engine.engine})
    via = f" through {engine.via}" if engine.via else ""
    also = f"; also linked: {', '.join(others)}" if others else ""
    return m.Note(m.ENGINE, engine.runtime, f"{engine.engine} ({engine.linked_as}{via}){also}", pair.pbxproj)


def targets_from_project(facts: m.XcodeProjectFacts, opts: CheckOptions,
                         extra: Mapping[str, Any] | None = None) -> list[Target]:
    """One target per (native target, configuration), in the project's order (grouped by target)."""
    table = product_types()
    runs = {i for i, p in enumerate(facts.targets) if (p.engines or _uses_jit_keys(p.entitlements))
            and table[p.product_type or DEFAULT_PRODUCT_TYPE].own_entitlements != NO}
    out = []
    for i, pair in enumerate(facts.targets):
        ptype = opts.product_type or pair.product_type or DEFAULT_PRODUCT_TYPE
        basis = None if opts.product_type else (
            pair.product_type_basis if pair.product_type else f"assumed app: {pair.product_type_basis}")
        entitlements = None if pair.entitlements is None else {**pair.entitlements, **(extra or {})}
        engine = _engine(pair)
        notes = pair.notes
        runtimes = opts.runtimes
        if not runtimes and engine is not None:
            runtimes = (engine.runtime,)
            notes = (*notes, _engine_note(pair, engine))
        applies = i in runs if runs else not pair.embedded_in and table[ptype].own_entitlements != NO
        wasm = tuple(WasmFile(w.source, w.location, w.kind) for w in pair.wasm)
        base = opts.base()
        base["runtimes"] = runtimes
        if wasm and base["module_source"] is None:
            base["module_source"] = "bundled"
        out.append(Target(
            name=pair.name, subject=pair.pbxproj, product_type=ptype, product_type_basis=basis,
            entitlements=entitlements, input_form=FORM_XCODE_PROJECT, hardened_runtime=pair.hardened_runtime,
            wasm_files=wasm, runtime_applies=applies, build_notes=notes,
            entitlements_subject=pair.entitlements_path if pair.entitlements is not None else None,
            group=(("project", pair.project), ("xcode_target", pair.target), ("configuration", pair.configuration)),
            **base))
    return out


def is_workspace(path: str) -> bool:
    return os.path.isdir(path) and path.rstrip("/").lower().endswith(".xcworkspace")
