"""``advise``: what to ship so the product launches, notarizes and loads its modules, and why that.

The plan is built by asking the engine, not by a second set of rules. The target as given is judged
first. Then every runtime of ``runtimes.csv`` is tried in every placement its product may use
(``placements.csv``: in process, a launchd daemon, the container app, an XPC service only for apps
and app extensions). Each try is a set of binaries, each with the entitlements it would be signed
with after the plan's own changes (the keys findings say to remove or add, e.g. the App Sandbox for
the App Store), each judged by the same rules as ``check``. An option may only be recommended when
every one of its binaries then passes; among those, :data:`RANKING` decides.

A system extension never ships alone: the plan always has its container app (which activates it,
and where the keys that belong on a container go: ``entitlements.csv`` ``belongs_on``). A binary
given with both a container's and an extension's keys (the forum thread's) is split in two.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from macwasm.policy.checker import (
    CheckOptions,
    entitlements_target,
    module_file,
    parse_entitlement_options,
)
from macwasm.policy.context import Context
from macwasm.policy.engine import Finding, TargetResult, evaluate
from macwasm.policy.tables import (
    ARCHES,
    GRADES,
    YES,
    Placement,
    entitlement_facts,
    keys_with,
    lookup_entitlement,
    module_sources,
    module_storage,
    placements,
    product_types,
    runtimes,
    weakest,
)
from macwasm.policy.target import Target, WasmFile, present_keys, split_runtimes
from macwasm.vocabulary import (
    APP,
    COMPONENT,
    CONTAINER_APP,
    DAEMON,
    DEFAULT_ARCH,
    DEFAULT_DISTRIBUTION,
    DEFAULT_PLATFORM,
    FAIL,
    HELPER_TOOL,
    LAUNCHD_AGENT,
    LAUNCHD_DAEMON,
    PASS,
    VERDICTS,
    XPC_SERVICE,
    XPC_SERVICE_PLACEMENT,
)
from macwasm.vocabulary import IN_PROCESS as IN_PROCESS

#: the ranking, stated in every plan (the order of the sort key in :func:`_rank_key`)
RANKING = ("Ranked by: (1) the verdict after the plan's own changes, and only options whose every binary then "
           "passes are recommended; (2) the entitlements the engine needs, fewest and weakest first: none, then "
           "allow-jit, then allow-unsigned-executable-memory; (3) placement: in process before a separate "
           "process; (4) speed; (5) maintained projects before ones in maintenance only; (6) how well the facts are "
           "known (code and Apple first).")
_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}
#: the product type of the binary a placement adds, and what the plan calls it
_HELPERS = {XPC_SERVICE_PLACEMENT: (XPC_SERVICE, "XPC service"), LAUNCHD_DAEMON: (DAEMON, "helper daemon"),
            LAUNCHD_AGENT: (HELPER_TOOL, "launchd agent"), CONTAINER_APP: (APP, "container app")}


@dataclass(frozen=True)
class Change:
    """One change the plan makes to a binary's entitlements, and why."""

    key: str
    action: str  # add | remove | move
    why: str
    rule_id: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "action": self.action, "why": self.why, "rule_id": self.rule_id}


@dataclass
class PlannedBinary:
    """A binary of the plan: what it is, where it goes, what it is signed with, and its verdict then."""

    role: str
    product_type: str
    entitlements: dict[str, Any]
    runtimes: tuple[str, ...]
    changes: list[Change]
    result: TargetResult
    location: str

    @property
    def verdict(self) -> str:
        return self.result.verdict

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "product_type": self.product_type, "location": self.location,
                "entitlements": dict(sorted(self.entitlements.items())), "runtimes": list(self.runtimes),
                "changes": [c.to_dict() for c in self.changes], "verdict": self.verdict,
                "findings": [f.to_dict() for f in self.result.findings if f.severity != "info"]}


@dataclass
class RuntimeOption:
    """One way to run the modules: a runtime in a placement, as the binaries it takes."""

    runtime: str
    name: str
    placement: str
    placement_name: str
    needs: str
    evidence: str
    binaries: list[PlannedBinary]
    jit_keys: tuple[str, ...]
    strength: int
    speed_tier: int
    grade: str
    rank: int = 0

    @property
    def verdict(self) -> str:
        return max((b.verdict for b in self.binaries), key=_VERDICT_RANK.__getitem__)

    @property
    def entitlements(self) -> list[str]:
        """The JIT keys the engine's binary gets (what the option costs in entitlements)."""
        return list(self.jit_keys)

    @property
    def reasons(self) -> list[str]:
        """Every warning and error of its binaries, once each (identical findings of two arches merged)."""
        seen: dict[str, None] = {}
        for b in self.binaries:
            for f in b.result.findings:
                if f.severity != "info":
                    seen.setdefault(f"{b.role}: {f.rule_id} ({f.severity}): {f.message}", None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "runtime": self.runtime, "name": self.name, "placement": self.placement,
                "placement_name": self.placement_name, "verdict": self.verdict, "entitlements": self.entitlements,
                "grade": self.grade, "speed_tier": self.speed_tier, "needs": self.needs, "evidence": self.evidence,
                "reasons": self.reasons, "binaries": [b.to_dict() for b in self.binaries]}


@dataclass
class Plan:
    target: dict[str, Any]
    as_given: TargetResult
    options: list[RuntimeOption]
    recommended: RuntimeOption | None
    why_none: str | None
    modules: dict[str, Any]
    ranking: str = RANKING
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return self.as_given.verdict

    @property
    def best(self) -> RuntimeOption | None:
        return self.recommended

    def option(self, rank: int) -> RuntimeOption:
        for o in self.options:
            if o.rank == rank:
                return o
        raise IndexError(f"no option ranked {rank}")

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "verdict": self.verdict, "ranking": self.ranking,
                "as_given": [f.to_dict() for f in self.as_given.findings],
                "recommended": self.recommended.rank if self.recommended else None, "why_none": self.why_none,
                "modules": self.modules, "notes": self.notes, "options": [o.to_dict() for o in self.options]}


# ---------------------------------------------------------------------------------------------- roles

def _extension_type(given_type: str, present: Mapping[str, Any]) -> str | None:
    """The system-extension product type this plan builds, if any: the type given, or the one its keys say."""
    if product_types()[given_type].is_system_extension == YES:
        return given_type
    best: tuple[int, str] | None = None
    for key, value in present.items():
        fact = lookup_entitlement(key, value)
        if fact is None or fact.system_extension_marker != YES or not fact.implies_product_type:
            continue
        if product_types()[fact.implies_product_type].is_system_extension == YES:
            cand = (fact.implies_rank or 0, fact.implies_product_type)
            best = cand if best is None or cand < best else best
    return best[1] if best else None


def _belongs(key: str, value: Any) -> str:
    fact = lookup_entitlement(key, value)
    return fact.belongs_on if fact else "any"


def _split(given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[Change], list[Change]]:
    """The extension's keys, the container's, and the moves that say which went where and why."""
    ext, app = {}, {}
    ext_moves, app_moves = [], []
    for key, value in given.items():
        where = _belongs(key, value)
        if where in ("extension", "any"):
            ext[key] = value
        if where in ("container-app", "any"):
            app[key] = value
        if where == "extension":
            app_moves.append(Change(key, "remove", "a system-extension key: it belongs on the extension"))
        elif where == "container-app":
            ext_moves.append(Change(key, "remove", "it belongs on the container app"))
    return ext, app, ext_moves, app_moves


def _container_keys(ext_type: str) -> list[str]:
    """The key that lets the container app activate system extensions (belongs_on=container-app, not restricted
    to a client role), added when the plan builds one."""
    return [f.key for f in entitlement_facts() if f.belongs_on == "container-app" and f.category ==
            "system-extension-container"][:1]


# ---------------------------------------------------------------------------------------------- judging

def _target_for(base: Target, *, name: str, product_type: str, entitlements: Mapping[str, Any],
                runtimes_: tuple[str, ...], modules: Sequence[WasmFile]) -> Target:
    return base.with_changes(name=name, subject=name, product_type=product_type, product_type_basis=None,
                             entitlements=dict(entitlements), runtimes=runtimes_, runtime_applies=bool(runtimes_),
                             wasm_files=tuple(modules) if runtimes_ else (),
                             module_kind=base.module_kind if runtimes_ else None,
                             module_source=base.module_source if runtimes_ else None)


def _ladder_keys() -> set[str]:
    return {f.key for f in entitlement_facts() if f.jit_ladder is not None}


def apply_findings(ents: dict[str, Any], findings: Iterable[Finding], *, keep: Collection[str] = (),
                   may_add: Callable[[str], bool] = lambda key: True) -> list[Change]:
    """Make in ``ents`` what the findings (not the info ones) say to remove, add, or respell; the changes made.

    Shared by the plan and ``check --write-fixed`` so both fix a file the same way. A misspelt key's
    value moves to the key it was meant to be (its type kept); ``keep`` is never removed and
    ``may_add`` refuses additions the caller decides itself (the plan's JIT keys).
    """
    changes: list[Change] = []
    for f in findings:
        if f.severity == "info":
            continue
        for key in f.remove:
            if key in ents and key not in keep:
                del ents[key]
                changes.append(Change(key, "remove", f.title, f.rule_id))
        for written, meant in f.rename:
            if written in ents and written not in keep:
                value = ents.pop(written)
                changes.append(Change(written, "remove", f.title, f.rule_id))
                if meant not in ents and may_add(meant):
                    ents[meant] = value
                    changes.append(Change(meant, "add", f"what {written} was meant to be", f.rule_id))
        for key in f.add:
            if key not in ents and may_add(key):
                ents[key] = True
                changes.append(Change(key, "add", f.title, f.rule_id))
    return changes


def _fix_pass(target: Target, changes: list[Change], *, keep: set[str],
              ignore: Collection[str] = ()) -> tuple[Target, TargetResult]:
    """Apply what the findings say to remove or add (once more if that changes anything), keeping ``keep``.

    ``ignore``: rules left out (``--ignore``), so the plan agrees with what ``check`` reports.
    """
    result = evaluate(target, ignore=ignore)
    ladder = _ladder_keys()
    for _ in range(2):
        ents = dict(target.entitlements or {})
        made = apply_findings(ents, result.findings, keep=keep, may_add=lambda key: key not in ladder)
        if not made:
            break
        changes.extend(made)
        target = target.with_changes(entitlements=ents)
        result = evaluate(target, ignore=ignore)
    return target, result


def _planned(role: str, target: Target, changes: list[Change], *, keep: set[str],
             ignore: Collection[str] = ()) -> PlannedBinary:
    target, result = _fix_pass(target, changes, keep=keep, ignore=ignore)
    return PlannedBinary(role, target.product_type, dict(target.entitlements or {}), target.runtimes, changes,
                         result, product_types()[target.product_type].bundle_location)


def _strength(keys: Iterable[str]) -> int:
    rungs = [f.jit_ladder or 0 for k in keys if (f := lookup_entitlement(k, True)) is not None]
    return max(rungs, default=0)


# ---------------------------------------------------------------------------------------------- options

@dataclass
class _Roles:
    host_type: str  # the product type the engine runs in, in process
    host_role: str
    host_keys: dict[str, Any]
    host_changes: list[Change]
    container_keys: dict[str, Any] | None  # None: no container app in this plan
    container_changes: list[Change]


def _roles(base: Target, given: Mapping[str, Any]) -> _Roles:
    ladder = _ladder_keys()
    ext_type = _extension_type(base.product_type, present_keys(given))
    if ext_type is None:
        keys = {k: v for k, v in given.items() if k not in ladder}
        changes = [Change(k, "remove", "the runtime's own keys are added per option") for k in given if k in ladder]
        return _Roles(base.product_type, f"the {base.product_type}", keys, changes, None, [])
    ext, app, ext_moves, app_moves = _split(given)
    ext_changes = ext_moves + [Change(k, "remove", "the runtime's own keys are added per option")
                               for k in ext if k in ladder]
    ext = {k: v for k, v in ext.items() if k not in ladder}
    app = {k: v for k, v in app.items() if k not in ladder}
    for key in _container_keys(ext_type):
        if key not in app:
            app[key] = True
            app_moves.append(Change(key, "add", "the container app activates the system extension"))
    role = "the driver" if product_types()[ext_type].category == "driverkit" else "the extension"
    return _Roles(ext_type, role, ext, ext_changes, app, app_moves)


def _jit_keys_for(base: Target, name: str, product_type: str, keys: Mapping[str, Any]) -> tuple[str, ...]:
    probe = base.with_changes(product_type=product_type, entitlements=dict(keys), runtimes=(name,),
                              runtime_applies=True)
    ctx = Context(probe)
    out: dict[str, None] = {}
    for engine in ctx.engines:
        for _, needed in ctx.jit_needs(engine).values():
            out.update(dict.fromkeys(needed))
    return tuple(out)


def _try(base: Target, roles: _Roles, name: str, modules: Sequence[WasmFile],
         ignore: Collection[str] = ()) -> list[RuntimeOption]:
    rt = runtimes()[name]
    jit = _jit_keys_for(base, name, roles.host_type, roles.host_keys)
    grade = weakest((rt.grade_of("strategy", ARCHES), rt.grade_of("component_model")))
    out = []
    for placement in placements().values():
        if roles.host_type not in placement.hosts_for:
            continue
        if placement.placement != IN_PROCESS and not jit:
            continue  # an engine that needs no key gains nothing from another process
        if placement.placement == "container-app" and roles.container_keys is None:
            continue
        binaries = _binaries(base, roles, placement, name, jit, modules, ignore)
        needs = f"Started by {placement.launched_by}; runs as {placement.runs_as}. {placement.needs}"
        label = placement.name
        if placement.placement == IN_PROCESS and "out-of-process" in rt.strategies("arm64"):
            label = f"{placement.name}; {rt.mode}"
        out.append(RuntimeOption(name, rt.name, placement.placement, label, needs,
                                 placement.source, binaries, jit, _strength(jit), rt.speed_tier,
                                 weakest((grade, placement.grade))))
    return out


def _binaries(base: Target, roles: _Roles, placement: Placement, name: str, jit: tuple[str, ...],
              modules: Sequence[WasmFile], ignore: Collection[str] = ()) -> list[PlannedBinary]:
    keep = set(jit)
    with_jit = dict.fromkeys(jit, True)
    out = []
    host_runs = placement.placement == IN_PROCESS
    host_keys = {**roles.host_keys, **(with_jit if host_runs else {})}
    host = _target_for(base, name=roles.host_role, product_type=roles.host_type, entitlements=host_keys,
                       runtimes_=(name,) if host_runs else (), modules=modules)
    host_changes = list(roles.host_changes) + ([Change(k, "add", "the runtime needs it") for k in jit]
                                               if host_runs else [])
    out.append(_planned(roles.host_role, host, host_changes, keep=keep, ignore=ignore))
    container_runs = placement.placement == "container-app"
    if roles.container_keys is not None:
        keys = {**roles.container_keys, **(with_jit if container_runs else {})}
        changes = list(roles.container_changes) + ([Change(k, "add", "the runtime runs here and needs it")
                                                    for k in jit] if container_runs else [])
        target = _target_for(base, name="container app", product_type=APP, entitlements=keys,
                             runtimes_=(name,) if container_runs else (), modules=modules)
        out.append(_planned("container app", target, changes, keep=keep, ignore=ignore))
    if not host_runs and not container_runs:
        ptype, role = _HELPERS[placement.placement]
        keys = dict(with_jit)
        if "com.apple.security.app-sandbox" in roles.host_keys and ptype == "xpc-service":
            keys["com.apple.security.app-sandbox"] = True  # a sandboxed app's XPC service is sandboxed too
        target = _target_for(base, name=role, product_type=ptype, entitlements=keys, runtimes_=(name,),
                             modules=modules)
        out.append(_planned(role, target, [Change(k, "add", "the runtime runs here and needs it") for k in keys],
                            keep=keep, ignore=ignore))
    return out


_MAINTAINED_RANK = {"yes": 0, "maintenance-only": 1, "no": 2}


def _rank_key(option: RuntimeOption) -> tuple[Any, ...]:
    maintained = runtimes()[option.runtime].value("maintained", default="n/a")
    return (_VERDICT_RANK[option.verdict], option.strength, len(option.jit_keys),
            option.placement != IN_PROCESS, -option.speed_tier, _MAINTAINED_RANK.get(maintained, 3),
            GRADES.index(option.grade), option.runtime, option.placement)


# ---------------------------------------------------------------------------------------------- modules

def _modules(base: Target, option: RuntimeOption | None, host_type: str) -> dict[str, Any]:
    """Where the modules go for the binary that runs them: bundled in Resources, or stored and handed over."""
    source = module_sources()[base.module_source or "bundled"]
    runner = next((b for b in option.binaries if b.runtimes), None) if option else None
    ptype = runner.product_type if runner else host_type
    out: dict[str, Any] = {"module_source": source.module_source, "runs_in": runner.role if runner else None,
                           "covered_by": source.covered_by, "advice": source.advice, "grade": source.grade,
                           "source": source.source}
    if source.module_source == "bundled":
        out["where"] = product_types()[ptype].wasm_location
        return out
    sandboxed = base.distribution == "app-store" or bool(runner and "com.apple.security.app-sandbox" in
                                                             runner.entitlements)
    storage = module_storage(ptype, sandboxed)
    if storage is not None:
        out.update({"storage_case": storage.storage_case, "where": storage.location, "owner": storage.owner_and_mode,
                    "downloads": storage.downloads, "handoff": storage.handoff, "integrity": storage.integrity,
                    "grade": weakest((source.grade, storage.grade)), "source": f"{source.source}; {storage.source}"})
    return out


def _why_none(options: list[RuntimeOption], baseline: TargetResult) -> str:
    if baseline.verdict == FAIL:
        errors = "; ".join(dict.fromkeys(f"{f.rule_id} {f.title}" for f in baseline.findings if f.severity == "error"))
        return f"No option passes: the product fails before any runtime is chosen ({errors})."
    counts: dict[str, int] = {}
    for o in options:
        for rule in dict.fromkeys(f"{f.rule_id} {f.title}" for b in o.binaries for f in b.result.findings
                                  if f.severity in ("error", "warning")):
            counts[rule] = counts.get(rule, 0) + 1
    if not counts:
        return "No option passes."
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return "No option passes cleanly; most often in the way: " + "; ".join(f"{r} ({n} of {len(options)})"
                                                                        for r, n in top) + "."


# ---------------------------------------------------------------------------------------------- entry

def advise(*, entitlements: Mapping[str, Any] | Iterable[str] | None = None, product_type: str | None = None,
           platform: str = DEFAULT_PLATFORM, distribution: str = DEFAULT_DISTRIBUTION,
           runtime: str | Sequence[str] | None = None, arch: str = DEFAULT_ARCH, module_source: str | None = None,
           module_kind: str | None = None,
           module: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
           hardened_runtime: bool | None = None, ignore: Collection[str] = ()) -> Plan:
    """The plan for one product; ``entitlements`` (dict or ``KEY[=VALUE]`` strings) are what it holds now.

    ``module`` names the ``.wasm`` files it loads: their kind (core module or component) and the
    proposals they use are judged against each runtime. ``runtime`` is what it uses now, if anything:
    it decides the verdict as given, not which options are tried (every runtime is). ``ignore``: rules
    left out of every judgement (``--ignore``), the verdict as given included.
    """
    files = [module] if isinstance(module, (str, os.PathLike)) else list(module or ())
    loaded = [module_file(os.fspath(m), location="given") for m in files]
    if module_kind is None and loaded:
        kinds = {w.kind for w in loaded}
        module_kind = COMPONENT if COMPONENT in kinds else loaded[0].kind
    # a module file speaks for itself (its kind and traits); --module-kind describes modules not at hand
    opts = CheckOptions(product_type, platform, distribution, split_runtimes(runtime), arch, module_source,
                        None if loaded else module_kind, hardened_runtime)
    opts.validate()
    given: dict[str, Any] = {}
    if entitlements is not None:
        given = dict(entitlements) if isinstance(entitlements, Mapping) else parse_entitlement_options(entitlements)
    base = entitlements_target(given, opts, name="(as given)")
    if hardened_runtime is not None:
        base = base.with_changes(hardened_runtime=hardened_runtime)
    as_given = evaluate(base.with_changes(wasm_files=tuple(loaded)), ignore=ignore)
    roles = _roles(base, given)

    names = [r.runtime for r in runtimes().values() if not r.is_strategy_only]
    names += [n for n in opts.runtimes if n not in names]
    options = [o for n in names for o in _try(base, roles, n, loaded, ignore)]
    options.sort(key=_rank_key)
    for i, option in enumerate(options, start=1):
        option.rank = i
    recommended = next((o for o in options if o.verdict == PASS), None)
    why_none = None
    if recommended is None:
        baseline = evaluate(_target_for(base, name=roles.host_role, product_type=roles.host_type,
                                        entitlements=roles.host_keys, runtimes_=(), modules=()), ignore=ignore)
        why_none = _why_none(options, baseline)
    notes = []
    if roles.container_keys is not None and base.product_type != roles.host_type:
        notes.append(f"The keys given hold system-extension entitlements, so the plan builds {roles.host_role} "
                     f"({roles.host_type}) and its container app, each with the keys that belong on it.")
    target = {"product_type": base.product_type, "product_type_basis": base.product_type_basis,
              "host_product_type": roles.host_type, "platform": platform, "distribution": distribution,
              "runtime": ";".join(opts.runtimes) or None, "arch": arch, "module_source": base.module_source,
              "module_kind": module_kind, "modules": [w.path for w in loaded], "entitlements": sorted(given),
              "ignored_rules": sorted(ignore)}
    return Plan(target, as_given, options, recommended, why_none, _modules(base, recommended, roles.host_type),
                notes=notes)


def sandbox_key() -> str:
    return keys_with("category", "app-sandbox")[0]


def findings_text(findings: Iterable[Finding]) -> list[str]:
    return [f"{f.rule_id} {f.severity}: {f.message}" for f in findings if f.severity != "info"]
