"""An ``.xcodeproj`` to one :class:`TargetConfig` per native target and build configuration.

For each pair this resolves the build settings (xcconfig files included), reads the
``.entitlements`` file the product will be signed with, decides whether the Hardened Runtime is
on, where the target's copy phases put ``.wasm`` files and other targets' products, and which
linked frameworks or Swift package products name a wasm engine. Product types come from
``data/xcode_product_types.csv``; a system extension is refined by its entitlements
(``implies_product_type``), an app or tool by where a host embeds it (``product_roles.csv``).
Nothing is built, run or written.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from macwasm.errors import InputError, MacwasmError
from macwasm.inputs import open_readonly, walk_folder
from macwasm.xcode import model as m
from macwasm.xcode.pbxproj import BuildConfiguration, BuildPhase, NativeTarget, PbxProject, read_pbxproj
from macwasm.xcode.settings import BUILD_LOCATION, UNDEFINED, BuildSettings, Resolved, settings_layer
from macwasm.xcode.tables import (
    ABSOLUTE,
    copy_destinations,
    find_engine,
    setting_for,
    xcode_product_types,
)
from macwasm.xcode.xcconfig import Assignment, IncludeBudget, MissingInclude, read_xcconfig

#: Copy Bundle Resources copies into the product's Resources folder: the row of that copy destination
RESOURCES_SPEC = "7"
#: codesign's option that turns on the Hardened Runtime (codesign(1): --options runtime, -o runtime)
_CODESIGN_OPTION_FLAGS = ("--options", "-o")
_RUNTIME_OPTION = "runtime"
_PROBLEM_NOTES = {UNDEFINED: m.UNRESOLVED_VARIABLE, BUILD_LOCATION: m.BUILD_LOCATION}
_WASM = ".wasm"


def _display(path: str | None) -> str | None:
    if path is None:
        return None
    from macwasm.policy.checker import display_path

    return display_path(path)


@dataclass
class _Chain:
    assignments: tuple[Assignment, ...]
    notes: tuple[m.Note, ...]


class _Resolver:
    def __init__(self, project: PbxProject) -> None:
        self.p = project
        self.pbxproj = _display(project.pbxproj) or project.pbxproj
        self.xcodeproj = _display(project.xcodeproj) or project.xcodeproj
        self.budget = IncludeBudget()
        self.chains: dict[str, _Chain] = {}
        self.by_id = {t.id: t for t in project.targets}
        self.project_configs = {c.name: c for c in project.configurations}

    # ---------------------------------------------------------------- xcconfig
    def chain(self, conf: BuildConfiguration | None) -> _Chain:
        base = conf.base_configuration if conf else None
        if base is None:
            return _Chain((), ())
        if base.path is None:
            return _Chain((), (m.Note(m.MISSING_FILE, "baseConfigurationReference", base.name, self.pbxproj),))
        if base.path in self.chains:
            return self.chains[base.path]
        if not os.path.isfile(base.path):
            found = _Chain((), (m.Note(m.MISSING_FILE, "baseConfigurationReference", _display(base.path) or "",
                                       self.pbxproj),))
        else:
            chain = read_xcconfig(base.path, self.budget)
            found = _Chain(chain.assignments, tuple(self.include_note(x) for x in chain.missing))
        self.chains[base.path] = found
        return found

    def include_note(self, missing: MissingInclude) -> m.Note:
        kind = m.OPTIONAL_INCLUDE_MISSING if missing.optional else m.MISSING_FILE
        shown = missing.path if missing.path.startswith("<") else _display(missing.path) or missing.path
        return m.Note(kind, "#include?" if missing.optional else "#include", shown, _display(missing.included_from),
                      missing.line)

    # ---------------------------------------------------------------- settings
    def settings(self, target: NativeTarget, conf: BuildConfiguration, wrapper_extension: str
                 ) -> tuple[BuildSettings, tuple[m.Note, ...]]:
        project_conf = self.project_configs.get(conf.name) or self.project_configs.get(
            self.p.default_configuration or "")
        project_chain = self.chain(project_conf)
        target_chain = self.chain(conf)
        layers: list[list[Assignment]] = [[a] for a in project_chain.assignments]
        if project_conf is not None:
            layers.append(settings_layer(project_conf.settings, self.p.pbxproj))
        layers.extend([a] for a in target_chain.assignments)
        layers.append(settings_layer(conf.settings, self.p.pbxproj))
        context = {"PROJECT_DIR": os.path.abspath(self.p.project_dir), "PROJECT_NAME": self.p.name,
                   "PROJECT_FILE_PATH": os.path.abspath(self.p.xcodeproj), "TARGET_NAME": target.name,
                   "CONFIGURATION": conf.name, "WRAPPER_EXTENSION": wrapper_extension}
        return (BuildSettings(layers, context=context, configuration=conf.name),
                project_chain.notes + target_chain.notes)

    def problem_notes(self, resolved: Resolved) -> list[m.Note]:
        return [m.Note(_PROBLEM_NOTES.get(p.kind, m.UNSUPPORTED_SETTING), resolved.setting, p.variable,
                       _display(p.origin) if p.origin else self.pbxproj, p.line) for p in resolved.problems]

    # ---------------------------------------------------------------- one pair
    def resolve_pair(self, target: NativeTarget, conf: BuildConfiguration) -> tuple[m.TargetConfig, BuildSettings]:
        row = xcode_product_types().get(target.product_type)
        settings, chain_notes = self.settings(target, conf, row.wrapper_extension if row else "")
        notes: list[m.Note] = list(chain_notes)
        ents_path, ents = self.entitlements(settings, notes)
        hardened, basis = self.hardened_runtime(settings, notes)
        wasm = tuple(self.wasm_copies(target, settings, notes))
        engines = tuple(_own_engines(target))
        value = {role: settings.resolve(setting_for(role)).value
                 for role in ("sign-style", "team", "sign-identity", "bundle-id")}
        deps = tuple(self.by_id[d].name for d in target.dependencies if d in self.by_id)
        pair = m.TargetConfig(
            project=self.xcodeproj, pbxproj=self.pbxproj, target=target.name, configuration=conf.name,
            xcode_product_type=target.product_type, product_type=row.product_type if row else None,
            product_type_basis=f"Xcode product type {target.product_type}" if row else
            f"the Xcode product type {target.product_type or '(none)'} is not in data/xcode_product_types.csv",
            product_file=target.product_file, entitlements_path=_display(ents_path), entitlements=ents,
            hardened_runtime=hardened, hardened_runtime_basis=basis, sign_style=value["sign-style"] or None,
            team=value["team"] or None, sign_identity=value["sign-identity"] or None,
            bundle_id=value["bundle-id"] or None, dependencies=deps, engines=engines, wasm=wasm,
            notes=tuple(dict.fromkeys(notes)))
        return pair, settings

    def entitlements(self, settings: BuildSettings, notes: list[m.Note]) -> tuple[str | None, dict[str, Any] | None]:
        resolved = settings.resolve(setting_for("entitlements-path"))
        if resolved.value is None:
            notes.extend(self.problem_notes(resolved))
            return None, None
        if not resolved.value.strip():
            return None, {}  # no entitlements file: signed with none of its own
        path = resolved.value.strip()
        if not os.path.isabs(path):
            path = os.path.join(os.path.abspath(self.p.project_dir), path)
        path = os.path.normpath(path)
        where = _display(resolved.origin) if resolved.origin else self.pbxproj
        if not os.path.isfile(path):
            notes.append(m.Note(m.MISSING_FILE, resolved.setting, _display(path) or path, where, resolved.line))
            return path, None
        from macwasm.signing.plist import read_entitlements_file

        try:
            ents, _fmt = read_entitlements_file(path)
        except MacwasmError as err:
            notes.append(m.Note(m.BAD_ENTITLEMENTS, resolved.setting, err.with_path(_display(path) or path).message,
                                _display(path), None))
            return path, None
        return path, ents

    def hardened_runtime(self, settings: BuildSettings, notes: list[m.Note]) -> tuple[bool | None, str]:
        enable = settings.resolve(setting_for("hardened-runtime"))
        flags = settings.resolve(setting_for("sign-flags"))
        if enable.value is not None and enable.value.strip().upper() == "YES":
            return True, f"{enable.setting} = YES"
        if flags.value is not None and runtime_option_in(flags.value):
            return True, f"{flags.setting} has --options runtime"
        if enable.value is None or flags.value is None:
            notes.extend(self.problem_notes(enable) + self.problem_notes(flags))
            return None, f"{enable.setting} or {flags.setting} could not be resolved"
        return False, f"{enable.setting} is {enable.value or 'not set'} and {flags.setting} has no --options runtime"

    # ---------------------------------------------------------------- phases
    def destination(self, phase: BuildPhase, settings: BuildSettings, spec: str | None = None
                    ) -> tuple[str | None, Resolved | None]:
        """The phase's folder relative to the product's bundle (``Contents/PlugIns``); None outside it."""
        row = copy_destinations().get(spec if spec is not None else (phase.dst_subfolder_spec or ""))
        if row is None or row.base == ABSOLUTE:
            return None, None
        expr = row.base + ("/" + phase.dst_path if phase.dst_path and spec is None else "")
        resolved = settings.evaluate(expr.lstrip("/"), f"dstPath of {phase.name or phase.isa}")
        wrapper = settings.resolve("WRAPPER_NAME").value
        if resolved.value is None or not wrapper:
            return None, resolved
        full = os.path.normpath(resolved.value)
        if full == wrapper:
            return "", resolved
        if full.startswith(wrapper + "/"):
            return full[len(wrapper) + 1:], resolved
        return None, resolved

    def wasm_copies(self, target: NativeTarget, settings: BuildSettings, notes: list[m.Note]) -> Iterator[m.WasmCopy]:
        from macwasm.signing.bundle import wasm_location

        wrapper = settings.resolve("WRAPPER_NAME").value or target.name
        for phase in target.phases:
            if phase.isa not in ("PBXResourcesBuildPhase", "PBXCopyFilesBuildPhase"):
                continue
            files = [(f.file, rel) for f in phase.files if f.file is not None for rel in _wasm_in(f.file)]
            if not files:
                continue
            spec = RESOURCES_SPEC if phase.isa == "PBXResourcesBuildPhase" else None
            where, resolved = self.destination(phase, settings, spec)
            label = phase.name or ("Copy Bundle Resources" if spec else "Copy Files")
            if where is None:
                if resolved is not None and resolved.value is None:
                    notes.extend(self.problem_notes(resolved))
                notes.append(m.Note(m.WASM_DESTINATION_UNKNOWN, label,
                                    f"dstSubfolderSpec {phase.dst_subfolder_spec}, dstPath {phase.dst_path!r}",
                                    self.pbxproj))
            for ref, rel in files:
                source = os.path.join(ref.path, rel) if ref.path and rel else ref.path
                name = os.path.join(ref.name, rel) if rel else ref.name  # a folder is copied as a folder
                bundle_path = f"{where}/{name}" if where else (name if where == "" else "")
                location = wasm_location(f"{wrapper}/{bundle_path}") if where is not None else "other"
                yield m.WasmCopy(_display(source) or ref.name, bundle_path, location, _wasm_kind(source), label)
        yield from self.synchronized_wasm(target, settings, wrapper)

    def synchronized_wasm(self, target: NativeTarget, settings: BuildSettings, wrapper: str) -> Iterator[m.WasmCopy]:
        """.wasm files in Xcode 16 synchronized folders: resources of the target unless excepted."""
        from macwasm.signing.bundle import wasm_location

        if not target.synchronized_folders:
            return
        row = copy_destinations()[RESOURCES_SPEC]
        resources = settings.evaluate(row.base, "Resources").value or ""
        where = resources[len(wrapper) + 1:] if resources.startswith(wrapper + "/") else "Contents/Resources"
        for folder, excluded in target.synchronized_folders:
            for item in walk_folder(folder, lambda e: e.name.lower().endswith(_WASM)):
                if item.error is not None:
                    continue
                rel = os.path.relpath(item.path, folder)
                if rel in excluded:
                    continue
                bundle_path = f"{where}/{os.path.basename(rel)}"
                yield m.WasmCopy(_display(item.path) or rel, bundle_path, wasm_location(f"{wrapper}/{bundle_path}"),
                                 _wasm_kind(item.path), "synchronized folder")

    def embeddings(self, target: NativeTarget, settings: BuildSettings) -> Iterator[m.Embedding]:
        for phase in target.phases:
            if phase.isa != "PBXCopyFilesBuildPhase":
                continue
            for f in phase.files:
                if f.product_of is None or f.product_of not in self.by_id:
                    continue
                where, _ = self.destination(phase, settings)
                yield m.Embedding(target.name, self.by_id[f.product_of].name, where if where is not None else "",
                                  phase.name or "Copy Files")


def _wasm_in(ref: Any) -> list[str]:
    """"" for a .wasm file itself; paths below a copied folder for the .wasm files it holds."""
    if ref.name.lower().endswith(_WASM):
        return [""]
    if ref.path and (ref.file_type == "folder" or ref.file_type.startswith("folder")) and os.path.isdir(ref.path):
        return [os.path.relpath(i.path, ref.path) for i in walk_folder(ref.path, lambda e: e.name.lower().endswith(
            _WASM)) if i.error is None]
    return []


def _wasm_kind(path: str | None) -> str:
    from macwasm.limits import WASM_MAX_FILE_SIZE
    from macwasm.wasm.header import classify_header

    if not path or not os.path.isfile(path):
        return "error"
    try:
        with open_readonly(path, max_size=WASM_MAX_FILE_SIZE) as buf:
            return classify_header(bytes(buf[:8])).kind
    except InputError:
        return "error"


def runtime_option_in(flags: str) -> bool:
    """Whether codesign flags such as ``--timestamp --options=runtime,library`` turn on the Hardened Runtime."""
    try:
        tokens = shlex.split(flags)
    except ValueError:
        tokens = flags.split()
    for i, tok in enumerate(tokens):
        values = ""
        if tok in _CODESIGN_OPTION_FLAGS and i + 1 < len(tokens):
            values = tokens[i + 1]
        elif tok.startswith("--options="):
            values = tok[len("--options="):]
        if _RUNTIME_OPTION in values.split(","):
            return True
    return False


def _own_engines(target: NativeTarget) -> Iterator[m.EngineUse]:
    seen: set[tuple[str, str]] = set()
    linked: list[tuple[str, str, str]] = []
    for phase in target.phases:
        if phase.isa != "PBXFrameworksBuildPhase":
            continue
        for f in phase.files:
            if f.package_product:
                linked.append(("package-product", f.package_product, f"Swift package product {f.package_product}"))
            elif f.file is not None and f.product_of is None:
                linked.append(("file", f.file.name, f"linked {f.file.name}"))
    linked.extend(("package-product", p, f"Swift package product {p}") for p in target.package_products)
    for kind, name, how in linked:
        row = find_engine(kind, name)
        if row is not None and (row.engine, how) not in seen:
            seen.add((row.engine, how))
            yield m.EngineUse(row.engine, row.runtime, row.rank, how)


def _linked_targets(target: NativeTarget) -> list[str]:
    return [f.product_of for p in target.phases if p.isa == "PBXFrameworksBuildPhase" for f in p.files
            if f.product_of]


def _propagated_engines(target: NativeTarget, by_id: dict[str, NativeTarget]) -> list[m.EngineUse]:
    """Engines of the framework targets this one links, transitively (the engine runs in this process)."""
    out: list[m.EngineUse] = []
    seen = {target.id}
    todo = list(_linked_targets(target))
    while todo:
        tid = todo.pop(0)
        if tid in seen or tid not in by_id:
            continue
        seen.add(tid)
        other = by_id[tid]
        out.extend(replace(e, via=other.name) for e in _own_engines(other))
        todo.extend(_linked_targets(other))
    return out


def _refined_type(pair: m.TargetConfig, host: m.Embedding | None) -> tuple[str | None, str]:
    from macwasm.policy.tables import product_types
    from macwasm.policy.target import infer_product_type
    from macwasm.signing.roles import resolve_role

    row = xcode_product_types().get(pair.xcode_product_type)
    if row is None or not pair.product_type:
        return pair.product_type, pair.product_type_basis
    ptype, basis = pair.product_type, pair.product_type_basis
    if row.refine == "entitlements":
        inferred = infer_product_type(pair.entitlements)
        table = product_types()
        if inferred and table[inferred[0]].category == table[ptype].category:
            ptype, basis = inferred[0], f"{basis}, {inferred[1]}"
    elif row.refine == "embedding" and host is not None and host.bundle_path:
        location = host.bundle_path[len("Contents/"):] if host.bundle_path.startswith("Contents/") else host.bundle_path
        name = pair.product_file or pair.target
        ptype, _rule = resolve_role(name, location, None, pair.entitlements, is_bundle=bool(row.wrapper_extension))
        basis = f"{basis}, embedded by {host.host} in {host.bundle_path}"
    return ptype, basis


def read_xcode_project(path: str | os.PathLike[str]) -> m.XcodeProjectFacts:
    """Every native target in every build configuration of ``X.xcodeproj``, grouped by target.

    Raises :class:`~macwasm.errors.XcodeProjectError` (malformed project or xcconfig, include cycle,
    a cap hit) or ``InputError`` (the folder or its project.pbxproj cannot be read).
    """
    project = read_pbxproj(path)
    r = _Resolver(project)
    from macwasm.limits import XCODE_MAX_TARGET_CONFIGS

    pairs: dict[tuple[str, str], m.TargetConfig] = {}
    settings: dict[tuple[str, str], BuildSettings] = {}
    skipped = []
    count = 0
    for target in project.targets:
        row = xcode_product_types().get(target.product_type)
        if row is not None and not row.product_type:
            skipped.append((target.name, target.product_type))
            continue
        for conf in target.configurations:
            count += 1
            if count > XCODE_MAX_TARGET_CONFIGS:
                from macwasm.errors import LIMIT, XcodeProjectError

                raise XcodeProjectError(f"more than {XCODE_MAX_TARGET_CONFIGS} target/configuration pairs",
                                        path=r.pbxproj, category=LIMIT)
            pairs[(target.id, conf.name)], settings[(target.id, conf.name)] = r.resolve_pair(target, conf)
    hosts: dict[tuple[str, str], list[m.Embedding]] = {}
    embeds: dict[tuple[str, str], list[m.Embedding]] = {}
    names = {t.name: t.id for t in project.targets}
    for (tid, conf_name), s in settings.items():
        for e in r.embeddings(r.by_id[tid], s):
            embeds.setdefault((tid, conf_name), []).append(e)
            hosts.setdefault((names[e.embedded], conf_name), []).append(e)
    out = []
    for (tid, conf_name), pair in pairs.items():
        embedded_in = tuple(hosts.get((tid, conf_name), ()))
        ptype, basis = _refined_type(pair, embedded_in[0] if embedded_in else None)
        engines = pair.engines + tuple(_propagated_engines(r.by_id[tid], r.by_id))
        out.append(replace(pair, product_type=ptype, product_type_basis=basis, embedded_in=embedded_in,
                           embeds=tuple(embeds.get((tid, conf_name), ())), engines=engines))
    configurations = tuple(c.name for c in project.configurations)
    return m.XcodeProjectFacts(r.xcodeproj, configurations, tuple(out), tuple(skipped))
