"""``advise``: what to change so the target launches, notarizes and loads its modules.

The plan is built by asking the engine, not by a second set of rules: the findings of the target
as given say which keys to add and remove; every runtime of ``runtimes.csv`` is then tried with
the entitlements its strategy needs (and, for a system extension, also in a separate XPC service
without system-extension keys), and the options are ranked by verdict, by how sure the facts
are, by simplicity (in process first) and by speed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from macwasm.policy.checker import CheckOptions, entitlements_target, parse_entitlement_options
from macwasm.policy.context import Context
from macwasm.policy.engine import Finding, TargetResult, evaluate
from macwasm.policy.tables import ARCHES, CONFIDENCE, Runtime, module_sources, product_types, runtimes
from macwasm.policy.target import Target, split_runtimes

_VERDICT_RANK = {"pass": 0, "warn": 1, "fail": 2}
IN_PROCESS = "in-process"
SEPARATE = "separate XPC service"


@dataclass
class RuntimeOption:
    runtime: str
    name: str
    placement: str
    verdict: str
    entitlements: list[str]
    confidence: str
    speed_tier: int
    reasons: list[str]
    rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "runtime": self.runtime, "name": self.name, "placement": self.placement,
                "verdict": self.verdict, "entitlements": self.entitlements, "confidence": self.confidence,
                "speed_tier": self.speed_tier, "reasons": self.reasons}


@dataclass
class Plan:
    target: dict[str, Any]
    verdict: str
    reasons: list[dict[str, Any]]
    add: list[dict[str, str]]
    remove: list[dict[str, str]]
    modules: dict[str, str]
    options: list[RuntimeOption] = field(default_factory=list)

    @property
    def best(self) -> RuntimeOption | None:
        return self.options[0] if self.options else None

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "verdict": self.verdict, "reasons": self.reasons, "add": self.add,
                "remove": self.remove, "modules": self.modules, "options": [o.to_dict() for o in self.options]}


def _key_changes(findings: Iterable[Finding], attr: str) -> list[dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for f in findings:
        if f.severity == "info":
            continue
        for key in getattr(f, attr):
            out.setdefault(key, {"key": key, "rule_id": f.rule_id, "why": f.title})
    return list(out.values())


def _jit_keys(ctx: Context) -> set[str]:
    return set(ctx.ladder)


def _needed(ctx: Context) -> list[str]:
    keys: dict[str, None] = {}
    for engine in ctx.engines:
        for _, needed in ctx.jit_needs(engine).values():
            for k in needed:
                keys.setdefault(k, None)
    return list(keys)


def _reasons(result: TargetResult, runtime_notes: str) -> list[str]:
    reasons = [f"{f.rule_id} ({f.severity}): {f.message}" for f in result.findings if f.severity != "info"]
    reasons.append(runtime_notes)
    return reasons


def _try_runtime(base: Target, name: str, removals: set[str]) -> list[RuntimeOption]:
    """The runtime in process with the keys it needs; for a system extension also in an XPC service."""
    rt = runtimes()[name]
    options = []
    trial = base.with_changes(runtimes=(name,), runtime_applies=True)
    ctx = Context(trial)
    kept = {k: v for k, v in (base.entitlements or {}).items() if k not in removals and k not in _jit_keys(ctx)}
    needed = _needed(ctx)
    in_process = trial.with_changes(entitlements={**kept, **dict.fromkeys(needed, True)})
    result = evaluate(in_process)
    options.append(RuntimeOption(name, rt.name, IN_PROCESS, result.verdict, sorted(needed), _grade(rt),
                                 rt.speed_tier, _reasons(result, rt.notes)))
    if ctx.sysex and needed:
        service = Target(name=f"{base.name} (XPC service)", product_type="xpc-service", platform=base.platform,
                         distribution=base.distribution, runtimes=(name,), arch=base.arch,
                         module_source=base.module_source, module_kind=base.module_kind,
                         entitlements=dict.fromkeys(needed, True), input_form=base.input_form)
        service_result = evaluate(service)
        # the extension itself then holds no JIT key and runs no runtime
        host = evaluate(base.with_changes(entitlements=kept, runtimes=(), runtime_applies=False))
        verdict = max(service_result.verdict, host.verdict, key=_VERDICT_RANK.__getitem__)
        reasons = [f"the JIT runs in an XPC service holding only {', '.join(needed)} and no system-extension "
                   "entitlement; the extension talks to it over XPC"]
        reasons += _reasons(service_result, rt.notes)[:-1] + _reasons(host, rt.notes)
        options.append(RuntimeOption(name, rt.name, SEPARATE, verdict, sorted(needed), _grade(rt),
                                     rt.speed_tier, reasons))
    return options


def _grade(rt: Runtime) -> str:
    return rt.grade_of("strategy", ARCHES)


def _rank_key(option: RuntimeOption) -> tuple[Any, ...]:
    return (_VERDICT_RANK[option.verdict], CONFIDENCE.index(option.confidence),
            option.placement != IN_PROCESS, -option.speed_tier, option.runtime)


def advise(*, entitlements: Mapping[str, Any] | Iterable[str] | None = None, product_type: str | None = None,
           platform: str = "macos", distribution: str = "developer-id", runtime: str | None = None,
           arch: str = "universal", module_source: str | None = None,
           module_kind: str | None = None, hardened_runtime: bool | None = None) -> Plan:
    """The plan for one target; ``entitlements`` (dict or ``KEY[=VALUE]`` strings) are what it holds now."""
    opts = CheckOptions(product_type, platform, distribution, split_runtimes(runtime), arch, module_source,
                        module_kind)
    opts.validate()
    given: dict[str, Any] = {}
    if entitlements is not None:
        given = dict(entitlements) if isinstance(entitlements, Mapping) else parse_entitlement_options(entitlements)
    base = entitlements_target(given, opts, name="(plan)")
    result = evaluate(base)
    remove = _key_changes(result.findings, "remove")
    add = _key_changes(result.findings, "add")
    removals = {r["key"] for r in remove}

    source = module_sources()[module_source or "bundled"]
    ptype = product_types()[base.product_type]
    modules = {"module_source": source.module_source,
               "where": source.where if source.module_source == "downloaded" else ptype.wasm_location,
               "covered_by": source.covered_by, "advice": source.advice, "confidence": source.grade,
               "source": source.source}

    names = [r.runtime for r in runtimes().values() if not r.is_strategy_only]
    for name in split_runtimes(runtime):
        if name not in names:
            names.append(name)
    options = [o for name in names for o in _try_runtime(base, name, removals)]
    options.sort(key=_rank_key)
    for i, option in enumerate(options, start=1):
        option.rank = i
    target = {"product_type": base.product_type, "product_type_basis": base.product_type_basis,
              "platform": platform, "distribution": distribution, "runtime": ";".join(split_runtimes(runtime)) or None,
              "arch": arch,
              "module_source": module_source, "module_kind": module_kind, "entitlements": sorted(given)}
    reasons = [f.to_dict() for f in result.findings]
    return Plan(target, result.verdict, reasons, add, remove, modules, options)
