"""One small predicate per rule id of ``data/rules.csv``.

Each predicate answers "does this rule fire, and with what values?" by reading the derived facts
of :class:`~macwasm.policy.context.Context` (table columns such as ``relaxes_hardened_runtime`` or a
runtime's strategy per architecture). Wording, severity, fix and reference live in the rules
table; a predicate never names an entitlement key, a runtime or a message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from macwasm.policy.context import Context, Hit, group_arches, join
from macwasm.policy.evidence import evidence_url
from macwasm.policy.keys import (
    all_keys,
    closest_known,
    is_entitlement_key,
    known_keys,
    looks_like,
    plist_type,
    shown_value,
)
from macwasm.policy.tables import (
    JIT_STRATEGIES,
    NO,
    UNCONFIRMED,
    YES,
    Runtime,
    distributions,
    fact_phrase,
    keys_with,
    lookup_entitlement,
    refusal,
    trait_facts,
    weakest,
)
from macwasm.policy.tables import rules as rules_table
from macwasm.policy.tables import runtimes as runtimes_table
from macwasm.vocabulary import (
    AD_HOC_KINDS,
    ADHOC,
    FORM_BINARY,
    FORM_BUNDLE,
    FORM_ENTITLEMENTS,
    FORM_MODULE,
    FORM_PROFILE,
    LINKER_SIGNED,
    MACOS,
    MAP_JIT,
    NOTARIZATION_REJECTION,
    SIGNED,
    UNSIGNED,
)
from macwasm.xcode import model as xcode_notes

Predicate = Callable[[Context], Iterable[Hit]]
PREDICATES: dict[str, Predicate] = {}


def predicate(rule_id: str) -> Callable[[Predicate], Predicate]:
    def register(fn: Predicate) -> Predicate:
        if rule_id in PREDICATES:
            raise RuntimeError(f"two predicates for {rule_id}")
        PREDICATES[rule_id] = fn
        return fn
    return register


def _graded(grade: str) -> str:
    return f"evidence: {grade}"


# ------------------------------------------------------------------ system extensions (AMFI)

@predicate("MW101")
def sysex_relaxation(ctx: Context) -> Iterator[Hit]:
    if not ctx.sysex:
        return
    bad = [k for k in ctx.relaxations if ctx.known[k].sysex_tolerated != YES]
    if bad:
        yield Hit({"keys": join(bad), "basis": ctx.basis}, remove=tuple(bad))


@predicate("MW102")
def sysex_jit_forbidden(ctx: Context) -> Iterator[Hit]:
    tolerated = [k for k in ctx.relaxations if ctx.known[k].sysex_tolerated == YES]
    if tolerated and ctx.jit_forbidden:
        yield Hit({"keys": join(tolerated), "basis": ctx.basis}, remove=tuple(tolerated))


@predicate("MW103")
def sysex_jit_unsettled(ctx: Context) -> Iterator[Hit]:
    tolerated = [k for k in ctx.relaxations if ctx.known[k].sysex_tolerated == YES]
    if tolerated and ctx.jit_unsettled:
        yield Hit({"keys": join(tolerated), "basis": ctx.basis}, grade=UNCONFIRMED)


@predicate("MW104")
def sysex_unconfirmed_key(ctx: Context) -> Iterator[Hit]:
    if not ctx.sysex:
        return
    keys = ctx.keys_where(lambda f: UNCONFIRMED in (f.relaxes_hardened_runtime, f.allowed_in_system_extension))
    if keys:
        yield Hit({"keys": join(keys), "basis": ctx.basis}, grade=UNCONFIRMED)


@predicate("MW105")
def sysex_marker_unconfirmed(ctx: Context) -> Iterator[Hit]:
    if ctx.sysex or not ctx.sysex_unconfirmed_keys or not ctx.relaxations:
        return
    yield Hit({"keys": join(ctx.relaxations), "sysex_keys": join(ctx.sysex_unconfirmed_keys)},
              grade=UNCONFIRMED)


# ------------------------------------------------------------------ JIT and the runtimes

def _jit_applies(ctx: Context) -> bool:
    return bool(ctx.engines) and ctx.target.platform == MACOS and ctx.hardened_runtime_applies


def _holdable(ctx: Context, keys: Iterable[str]) -> bool:
    """Whether the binary could hold these keys at all (a system extension cannot hold most)."""
    return not ctx.sysex or all(ctx.tolerated_in_sysex(k) for k in keys)


def _falls_back(engine: Runtime, arches: Iterable[str]) -> bool:
    """The engine switches to its interpreter by itself when it may not make memory executable."""
    return all(engine.value("on_jit_denied", a) == "falls-back-to-interpreter" for a in arches)


def _unmet(ctx: Context, engine: Runtime) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """arch -> (JIT strategies no held key permits, the key each needs)."""
    held = set(ctx.ladder)
    out = {}
    for arch, (used, _needed) in ctx.jit_needs(engine).items():
        missing = tuple(s for s in used if not set(ctx.permitting_keys(s)) & held)
        if missing:
            out[arch] = (missing, tuple(k for k in (ctx.needed_key(s) for s in missing) if k))
    return out


def _engine_params(engine: Runtime, arches: tuple[str, ...], **more: str) -> tuple[dict[str, str], str]:
    grade = engine.grade_of("strategy", arches)
    return {"runtime": engine.runtime, "arches": join(arches), "evidence_grade": _graded(grade), **more}, grade


def _failure(strategies: Iterable[str]) -> str:
    """How macOS refuses these strategies without their keys (platform_facts.csv), in words."""
    texts = [f.value for s in strategies if (f := refusal(s)) is not None]
    return "; and ".join(dict.fromkeys(texts)) or "the JIT fails"


def _missing_key_hits(ctx: Context, *, with_ladder: bool) -> Iterator[Hit]:
    if not _jit_applies(ctx) or bool(ctx.ladder) != with_ladder:
        return
    for engine in ctx.engines:
        for (missing, needed), arches in group_arches(_unmet(ctx, engine)):
            if _falls_back(engine, arches) or not _holdable(ctx, needed):
                continue
            params, grade = _engine_params(engine, arches, strategy=join(missing), needed=join(needed),
                                           keys=join(ctx.ladder), failure=_failure(missing))
            yield Hit(params, grade=grade, add=needed)


@predicate("MW110")
def jit_without_entitlement(ctx: Context) -> Iterator[Hit]:
    yield from _missing_key_hits(ctx, with_ladder=False)


@predicate("MW111")
def jit_entitlement_mismatch(ctx: Context) -> Iterator[Hit]:
    yield from _missing_key_hits(ctx, with_ladder=True)


@predicate("MW112")
def weaker_jit_entitlement(ctx: Context) -> Iterator[Hit]:
    """A legacy key where every engine could take the MAP_JIT path: it works, but allow-jit is the safer key."""
    if not _jit_applies(ctx) or not ctx.engines:
        return
    map_jit_keys = set(ctx.permitting_keys("map-jit"))
    if map_jit_keys & set(ctx.ladder):
        return  # allow-jit is held: a second key is MW113's matter
    offers_map_jit = all("map-jit" in e.strategies(a) for e in ctx.engines for a in ctx.arches
                         if set(e.strategies(a)) & set(JIT_STRATEGIES))
    jits = [e for e in ctx.engines if any(set(e.strategies(a)) & set(JIT_STRATEGIES) for a in ctx.arches)]
    if not jits or not offers_map_jit or any(_unmet(ctx, e) for e in jits):
        return
    if any(c.applies(a, ctx.target.product_type, ctx.present, ctx.hardened_runtime_applies)
           and set(c.unless_keys) & map_jit_keys
           for e in jits for c in e.caveats for a in ctx.arches):
        return  # the runtime's own caveat asks for allow-jit already (MW116)
    weak = [k for k in ctx.ladder if ctx.known[k].permits_strategy != MAP_JIT]
    if weak:
        grade = weakest(e.grade_of("strategy", ctx.arches) for e in jits)
        yield Hit({"runtime": join(e.runtime for e in jits), "arches": join(ctx.arches), "keys": join(weak),
                   "evidence_grade": _graded(grade)}, grade=grade, remove=tuple(weak),
                  add=tuple(ctx.permitting_keys("map-jit")[:1]))


@predicate("MW113")
def jit_ladder_multiple(ctx: Context) -> Iterator[Hit]:
    if len(ctx.ladder) < 2:
        return
    if not ctx.engines:
        roles = join(f"{k} for engines that use {ctx.known[k].permits_strategy}"
                     for k in ctx.ladder)
        yield Hit({"keys": join(ctx.ladder), "why": f"No runtime was given to say which it needs ({roles}).",
                   "keep": "what its engines need"})
        return
    extra = [k for k in ctx.ladder if k not in ctx.required_keys]
    if not extra:
        return  # every key is needed by one of the engines
    needs = "; ".join(f"{name} needs {join(keys) or 'none of them'}" for name, keys in ctx.needs_by_engine.items())
    yield Hit({"keys": join(ctx.ladder), "why": f"{needs}; none needs {join(extra)}.",
               "keep": join(k for k in ctx.ladder if k in ctx.required_keys) or "none of them"},
              remove=tuple(extra))


@predicate("MW114")
def runtime_impossible_in_sysex(ctx: Context) -> Iterator[Hit]:
    if not ctx.engines or not ctx.sysex or ctx.target.platform != MACOS:
        return
    for engine in ctx.engines:
        per_arch = {}
        for arch, (used, needed) in ctx.jit_needs(engine).items():
            barred = tuple(k for k in needed if not ctx.tolerated_in_sysex(k))
            if barred:
                per_arch[arch] = (used, barred)
        for (used, barred), arches in group_arches(per_arch):
            if _falls_back(engine, arches):
                continue
            params, grade = _engine_params(engine, arches, strategy=join(used), needed=join(barred), basis=ctx.basis)
            yield Hit(params, grade=grade, remove=tuple(k for k in barred if k in ctx.present))


@predicate("MW115")
def runtime_arch_unsupported(ctx: Context) -> Iterator[Hit]:
    for engine in ctx.engines:
        arches = tuple(a for a in ctx.arches if "unsupported" in engine.strategies(a))
        if arches:
            params, grade = _engine_params(engine, arches)
            yield Hit(params, grade=grade)


@predicate("MW116")
def runtime_caveat(ctx: Context) -> Iterator[Hit]:
    for engine in ctx.engines:
        for caveat in engine.caveats:
            arches = tuple(a for a in ctx.arches if caveat.applies(a, ctx.target.product_type, ctx.present,
                                                                   ctx.hardened_runtime_applies))
            if arches:
                yield Hit({"runtime": engine.runtime, "arches": join(arches), "caveat": caveat.text,
                           "evidence_grade": _graded(caveat.grade)}, grade=caveat.grade,
                          reference=evidence_url(caveat.evidence) or None)


@predicate("MW117")
def build_time_aot_downloaded(ctx: Context) -> Iterator[Hit]:
    if ctx.target.module_source != "downloaded":
        return
    for engine in ctx.engines:
        if engine.loads_downloaded_modules == NO:
            grade = engine.grade_of("loads_downloaded_modules")
            yield Hit({"runtime": engine.runtime, "evidence_grade": _graded(grade)}, grade=grade)


@predicate("MW118")
def entitlement_breaks_runtime(ctx: Context) -> Iterator[Hit]:
    if not _jit_applies(ctx):
        return
    for key, fact in ctx.facts.items():
        if fact is None or fact.conflict is None:
            continue
        name, value = fact.conflict
        for engine in ctx.engines:
            arches = tuple(a for a in ctx.arches if engine.value(name, a) == value)
            if arches:
                grade = weakest((fact.grade, *(engine.grade_of(name, (a,)) for a in arches)))
                yield Hit({"runtime": engine.runtime, "arches": join(arches), "key": key,
                           "does": fact_phrase(name, value), "quote": fact.quote, "evidence_grade": _graded(grade)},
                          grade=grade, remove=(key,))


_FALLBACK_UNSETTLED = ("when macOS refuses with an error it falls back to its interpreter by itself (slower, no "
                       "crash); where macOS instead lets the call succeed and kills the process when the code first "
                       "runs, it crashes")


@predicate("MW119")
def jit_falls_back(ctx: Context) -> Iterator[Hit]:
    """The engines that quietly run interpreted where the JIT is refused: slower, not a crash."""
    if not _jit_applies(ctx):
        return
    for engine in ctx.engines:
        per_arch = {}
        for arch, (used, needed) in ctx.jit_needs(engine).items():
            unmet = _unmet(ctx, engine).get(arch)
            barred = tuple(k for k in needed if ctx.sysex and not ctx.tolerated_in_sysex(k))
            if (unmet or barred) and _falls_back(engine, (arch,)):
                per_arch[arch] = (used, tuple(dict.fromkeys((*(unmet[1] if unmet else ()), *barred))))
        for (used, needed), arches in group_arches(per_arch):
            refusals = [f.grade for s in used if (f := refusal(s)) is not None]
            grade = weakest((engine.grade_of("strategy", arches), engine.grade_of("on_jit_denied", arches), *refusals))
            outcome = (_FALLBACK_UNSETTLED if UNCONFIRMED in refusals else
                       "macOS refuses with an error, and it falls back to its interpreter by itself: slower, no crash")
            yield Hit({"runtime": engine.runtime, "arches": join(arches), "strategy": join(used),
                       "needed": join(needed), "outcome": outcome, "evidence_grade": _graded(grade)}, grade=grade)


@predicate("MW129")
def hardened_runtime_not_known(ctx: Context) -> Iterator[Hit]:
    """The JIT verdict hangs on a fact the input lacks: say which way it goes instead of guessing."""
    t = ctx.target
    if not ctx.engines or t.platform != MACOS or not ctx.hardened_runtime_unknown:
        return
    probe = Context(t.with_changes(hardened_runtime=True))
    table = rules_table()
    fired = [rid for rid, rule in table.items()
             if rid != "MW129" and "hardened_runtime" in rule.reads and rule.predicts != NOTARIZATION_REJECTION
             and rule.status == "active" and rid in PREDICATES and any(True for _ in PREDICATES[rid](probe))]
    if not fired:
        return
    row = distributions()[t.distribution]
    yield Hit({"distribution_name": row.name, "rule_list": join(f"{rid} ({table[rid].title})" for rid in fired),
               "runtime": join(e.runtime for e in ctx.engines), "evidence_grade": _graded(row.grade)},
              grade=row.grade)


# ------------------------------------------------------------------ notarization

@predicate("MW120")
def notary_get_task_allow(ctx: Context) -> Iterator[Hit]:
    keys = [k for k in ctx.keys_where(lambda f: f.notary_rejects_true == YES) if ctx.present[k] is True]
    if keys:
        yield Hit({"keys": join(keys)}, remove=tuple(keys))


@predicate("MW121")
def notary_hardened_runtime_off(ctx: Context) -> Iterator[Hit]:
    t = ctx.target
    # one finding per fault: unsigned (MW122) or ad hoc (MW123, whose fix re-signs with -o runtime) says it already;
    # library code runs under its host's runtime
    if (t.hardened_runtime is False and t.signature_kind in (SIGNED, None)
            and ctx.ptype.hardened_runtime_required == YES):
        yield Hit()


@predicate("MW122")
def notary_unsigned(ctx: Context) -> Iterator[Hit]:
    if ctx.target.signature_kind == UNSIGNED:
        yield Hit()


#: how a signature kind reads in a sentence ("The executable is ...")
_SIGNATURE_TEXT = {ADHOC: "signed ad hoc", LINKER_SIGNED: "linker-signed (an ad hoc signature the linker adds)"}


@predicate("MW123")
def notary_not_developer_id(ctx: Context) -> Iterator[Hit]:
    kind = ctx.target.signature_kind
    if kind in _SIGNATURE_TEXT:
        yield Hit({"signature_kind": kind, "signature_text": _SIGNATURE_TEXT[kind]})


@predicate("MW124")
def notary_no_timestamp(ctx: Context) -> Iterator[Hit]:
    if ctx.target.has_timestamp is False and ctx.target.signature_kind not in (UNSIGNED, *AD_HOC_KINDS):
        yield Hit()


@predicate("MW126")
def executable_missing(ctx: Context) -> Iterator[Hit]:
    t = ctx.target
    if t.missing_executable:
        yield Hit({"subject_name": t.subject or t.name, "detail": t.missing_executable})


_CURRENT_ARCHES = ("arm64", "x86_64")


@predicate("MW127")
def no_slice_for_architecture(ctx: Context) -> Iterator[Hit]:
    t = ctx.target
    if t.slice_arches is None:
        return
    present = set(t.slice_arches)
    slices = join(t.slice_arches)
    if not present & set(_CURRENT_ARCHES):
        yield Hit({"subject_name": t.subject or t.name, "slices": slices, "wanted": "arm64 and x86_64",
                   "consequence": "no current Mac runs it (Apple silicon needs arm64, or x86_64 under Rosetta; "
                   "Intel Macs need x86_64)."})
    elif t.requested_arch == "x86_64" and "x86_64" not in present:
        yield Hit({"subject_name": t.subject or t.name, "slices": slices, "wanted": "x86_64",
                   "consequence": "it does not run on Intel Macs, which --arch x86_64 asks for."})


@predicate("MW128")
def runs_under_rosetta(ctx: Context) -> Iterator[Hit]:
    t = ctx.target
    if t.slice_arches is None or "arm64" in t.slice_arches or "x86_64" not in t.slice_arches:
        return
    if t.requested_arch not in ("arm64", "universal"):
        return
    needs = [f"{e.runtime} needs {join(keys) or 'no key'}" for e in ctx.engines
             for keys in [tuple(dict.fromkeys(k for _, n in ctx.jit_needs(e).values() for k in n))]]
    note = "; ".join(needs) if needs else "no engine was given or found, so none was judged"
    yield Hit({"subject_name": t.subject or t.name, "x86_note": note})


@predicate("MW125")
def signature_not_in_input(ctx: Context) -> Iterator[Hit]:
    t = ctx.target
    if t.input_form != FORM_MODULE and t.signature_kind is None and t.hardened_runtime is None:
        yield Hit()


# ------------------------------------------------------------------ provisioning profiles

def _restricted(ctx: Context) -> list[str]:
    return ctx.keys_where(lambda f: f.restricted == YES and f.platform == ctx.target.platform)


@predicate("MW130")
def restricted_without_profile(ctx: Context) -> Iterator[Hit]:
    keys = _restricted(ctx)
    if keys and ctx.target.has_profile is False and ctx.ptype.can_embed_profile in (YES, "wrapper"):
        hint = (f"; a {ctx.target.product_type} needs an app-like wrapper bundle to carry one"
                if ctx.ptype.can_embed_profile == "wrapper" else "")
        yield Hit({"keys": join(keys), "wrapper_hint": hint})


@predicate("MW131")
def restricted_profile_not_in_reach(ctx: Context) -> Iterator[Hit]:
    keys = _restricted(ctx)
    if keys and ctx.target.has_profile is None and ctx.ptype.can_embed_profile != NO:
        yield Hit({"keys": join(keys)})


@predicate("MW132")
def restricted_without_place_for_profile(ctx: Context) -> Iterator[Hit]:
    keys = _restricted(ctx)
    if keys and ctx.ptype.can_embed_profile == NO:
        yield Hit({"keys": join(keys), "product_type": ctx.target.product_type}, remove=tuple(keys))


@predicate("MW133")
def restricted_not_in_profile(ctx: Context) -> Iterator[Hit]:
    allowed = ctx.target.profile_keys
    if ctx.target.has_profile and allowed is not None:
        keys = [k for k in _restricted(ctx) if k not in allowed]
        if keys:
            yield Hit({"keys": join(keys)})


# ------------------------------------------------------------------ modules

@predicate("MW140")
def wasm_in_code_location(ctx: Context) -> Iterator[Hit]:
    for wasm in ctx.target.wasm_files:
        if wasm.location == "code":
            yield Hit({"path": wasm.path}, subject=wasm.path)


def _component_hits(ctx: Context, supports: tuple[str, ...]) -> Iterator[Hit]:
    for engine in ctx.engines:
        if engine.component_model not in supports:
            continue
        grade = engine.grade_of("component_model")
        for name, kind in ctx.module_kinds:
            if kind == "component":
                yield Hit({"subject_name": name, "runtime": engine.runtime, "support": engine.component_model,
                           "evidence_grade": _graded(grade)}, subject=_file_subject(ctx, name), grade=grade)


def _file_subject(ctx: Context, name: str) -> str | None:
    """A module file found in a bundle is its own subject; a kind given as an option is the target's."""
    return name if any(w.path == name for w in ctx.target.wasm_files) else None


@predicate("MW141")
def component_unsupported(ctx: Context) -> Iterator[Hit]:
    yield from _component_hits(ctx, (NO,))


@predicate("MW142")
def component_support_unconfirmed(ctx: Context) -> Iterator[Hit]:
    yield from _component_hits(ctx, ("experimental", UNCONFIRMED))


def _feature_hits(ctx: Context, supports: tuple[str, ...]) -> Iterator[Hit]:
    facts = trait_facts()
    for engine in ctx.engines:
        for path, trait in ctx.module_traits:
            fact = facts.get(trait)
            if fact is None or fact == "component_model":  # components: MW141/MW142
                continue
            value = engine.value(fact, default="")
            if value in supports:
                grade = engine.grade_of(fact)
                yield Hit({"subject_name": path, "runtime": engine.runtime, "trait": trait, "support": value,
                           "evidence_grade": _graded(grade)}, subject=path, grade=grade)


@predicate("MW146")
def module_feature_unsupported(ctx: Context) -> Iterator[Hit]:
    yield from _feature_hits(ctx, (NO,))


@predicate("MW148")
def module_feature_unconfirmed(ctx: Context) -> Iterator[Hit]:
    yield from _feature_hits(ctx, ("experimental", UNCONFIRMED))


@predicate("MW147")
def module_without_target(ctx: Context) -> Iterator[Hit]:
    for wasm in ctx.target.wasm_files:
        if wasm.location == "alone":
            what = ("a WebAssembly component (version 0x1000d)" if wasm.kind == "component"
                    else f"a {wasm.kind}" if wasm.kind != "not-wasm" else "not a WebAssembly module")
            traits = f", using {join(wasm.traits)}" if wasm.traits else ""
            yield Hit({"subject_name": wasm.path, "what": what + traits}, subject=wasm.path)


@predicate("MW143")
def downloaded_module_integrity(ctx: Context) -> Iterator[Hit]:
    if ctx.target.module_source == "downloaded":
        yield Hit()


@predicate("MW144")
def app_store_downloaded_code(ctx: Context) -> Iterator[Hit]:
    if ctx.target.module_source == "downloaded":
        yield Hit(grade=UNCONFIRMED)


@predicate("MW145")
def not_a_loadable_module(ctx: Context) -> Iterator[Hit]:
    for name, kind in ctx.module_kinds:
        if kind in ("not-wasm", "unknown-version"):
            yield Hit({"subject_name": name, "kind": kind}, subject=_file_subject(ctx, name))


# ------------------------------------------------------------------ platform, sandbox, libraries

@predicate("MW150")
def ios_jit(ctx: Context) -> Iterator[Hit]:
    for engine in ctx.engines:
        used = [st for st in ctx.effective_strategies(engine, "arm64") if st in JIT_STRATEGIES]
        if used:
            yield Hit({"runtime": engine.runtime, "strategy": join(used)},
                      grade=engine.grade_of("strategy", ("arm64",)))


@predicate("MW151")
def sandbox_key_without_sandbox(ctx: Context) -> Iterator[Hit]:
    by_required: dict[str, list[str]] = {}
    for key in ctx.keys_where(lambda f: bool(f.requires_key)):
        required = ctx.known[key].requires_key
        if required not in ctx.present:
            by_required.setdefault(required, []).append(key)
    for required, keys in by_required.items():
        yield Hit({"keys": join(keys), "required": required})


@predicate("MW152")
def app_store_without_sandbox(ctx: Context) -> Iterator[Hit]:
    if ctx.target.entitlements is None or ctx.ptype.app_store_requires_sandbox != YES:
        return
    switches = keys_with("category", "app-sandbox")
    if switches and not any(k in ctx.present for k in switches):
        yield Hit({"product_type": ctx.target.product_type, "required": switches[0]}, add=(switches[0],))


@predicate("MW153")
def entitlements_on_library(ctx: Context) -> Iterator[Hit]:
    if ctx.ptype.own_entitlements == NO and ctx.present:
        keys = list(ctx.present)
        yield Hit({"product_type": ctx.target.product_type, "keys": join(keys)}, remove=tuple(keys))


# ------------------------------------------------------------------ what the input did not say

@predicate("MW160")
def product_type_inferred(ctx: Context) -> Iterator[Hit]:
    if ctx.target.product_type_basis:
        yield Hit({"product_type": ctx.target.product_type, "basis": ctx.target.product_type_basis})


@predicate("MW161")
def runtime_not_given(ctx: Context) -> Iterator[Hit]:
    if not ctx.target.runtimes and ctx.target.runtime_applies and not ctx.target.missing_executable:
        yield Hit()


@predicate("MW162")
def runtime_detected(ctx: Context) -> Iterator[Hit]:
    from macwasm.policy.detected import modes_of

    found = ctx.target.detected
    if found and ctx.target.runtime_applies:
        families = dict.fromkeys(runtimes_table()[k].family for k, _ in found)
        modes = join(m for f in families for m in modes_of(f))
        names = join(k for k, _ in found)
        how = (f"judged as {names}" if ctx.engines else
               f"found {names}; library code runs under its host's entitlements, so check the host executable "
               f"with --runtime {names}")
        yield Hit({"how": how, "evidence": "; ".join(e for _, e in found), "modes": modes})


# ------------------------------------------------------------------ keys as written

#: input forms whose values keep their plist types (options and table cells have no type syntax)
_TYPED_FORMS = (FORM_ENTITLEMENTS, FORM_BINARY, FORM_BUNDLE, FORM_PROFILE)
_EXAMPLES = {"boolean": "<true/>", "array": "<array><string>...</string></array>", "string": "<string>...</string>",
             "dictionary": "<dict>...</dict>"}


@predicate("MW170")
def not_an_entitlements_file(ctx: Context) -> Iterator[Hit]:
    t = ctx.target
    if t.input_form != FORM_ENTITLEMENTS or not t.entitlements:
        return
    written = all_keys(t.entitlements)
    if any(is_entitlement_key(k) for k in written):
        return
    guess = looks_like(written)
    kind, examples = guess if guess else ("no kind of plist we know", written[:3])
    yield Hit({"subject_name": t.subject or t.name, "count": str(len(written)), "kind": kind,
               "examples": join(examples[:3])})


@predicate("MW171")
def unknown_entitlement_key(ctx: Context) -> Iterator[Hit]:
    for key in all_keys(ctx.target.entitlements):
        closest = closest_known(key)
        if closest is None:
            continue
        meant = lookup_entitlement(closest, True)
        if meant is not None and meant.relaxes_hardened_runtime == YES and ctx.sysex and meant.sysex_tolerated != YES:
            consequence = (f"Spelt right it would be a relaxation this binary may not hold (MW101: it {ctx.basis}, "
                           "and AMFI refuses it at launch); as written it grants nothing.")
            # the fix drops it: spelt right it would make the binary fail to launch
            yield Hit({"key": key, "closest": closest, "consequence": consequence}, remove=(key,))
            continue
        if meant is not None and meant.jit_ladder is not None:
            consequence = "As written it grants nothing: the JIT rules judge the binary without it."
        else:
            consequence = "As written it grants nothing."
        yield Hit({"key": key, "closest": closest, "consequence": consequence}, rename=((key, closest),))


@predicate("MW172")
def entitlement_value_type(ctx: Context) -> Iterator[Hit]:
    if ctx.target.input_form not in _TYPED_FORMS:
        return
    known = known_keys()
    for key, value in (ctx.target.entitlements or {}).items():
        expected = known.get(key)
        if expected in (None, "any"):
            continue
        actual = plist_type(value)
        if actual != expected:
            yield Hit({"key": key, "actual": actual, "value": shown_value(value), "expected": expected,
                       "example": _EXAMPLES.get(expected or "", expected or "")})


# ------------------------------------------------------------------ Xcode projects: what the project did not tell

def _notes(ctx: Context, kind: str) -> Iterator[Hit]:
    """One hit per build note of ``kind``; the note's file is the finding's subject."""
    for note in ctx.target.build_notes:
        if note.kind == kind:
            where = f"{note.subject}:{note.line}" if note.subject and note.line else (note.subject or "the project")
            yield Hit({"setting": note.setting, "variable": note.detail, "path": note.detail, "detail": note.detail,
                       "where": where, "runtime": note.setting}, subject=note.subject)


@predicate("MW180")
def xcode_unresolved_variable(ctx: Context) -> Iterator[Hit]:
    yield from _notes(ctx, xcode_notes.UNRESOLVED_VARIABLE)


@predicate("MW181")
def xcode_file_missing(ctx: Context) -> Iterator[Hit]:
    yield from _notes(ctx, xcode_notes.MISSING_FILE)


@predicate("MW182")
def xcode_build_location(ctx: Context) -> Iterator[Hit]:
    yield from _notes(ctx, xcode_notes.BUILD_LOCATION)


@predicate("MW183")
def xcode_setting_not_evaluated(ctx: Context) -> Iterator[Hit]:
    yield from _notes(ctx, xcode_notes.UNSUPPORTED_SETTING)


@predicate("MW184")
def xcode_optional_include_missing(ctx: Context) -> Iterator[Hit]:
    yield from _notes(ctx, xcode_notes.OPTIONAL_INCLUDE_MISSING)


@predicate("MW185")
def xcode_entitlements_unreadable(ctx: Context) -> Iterator[Hit]:
    yield from _notes(ctx, xcode_notes.BAD_ENTITLEMENTS)


@predicate("MW186")
def xcode_runtime_from_engine(ctx: Context) -> Iterator[Hit]:
    if ctx.engines:
        yield from _notes(ctx, xcode_notes.ENGINE)


@predicate("MW187")
def xcode_wasm_destination_unknown(ctx: Context) -> Iterator[Hit]:
    yield from _notes(ctx, xcode_notes.WASM_DESTINATION_UNKNOWN)
