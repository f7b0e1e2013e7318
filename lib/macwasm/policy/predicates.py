"""One small predicate per rule id of ``data/rules.csv``.

Each predicate answers "does this rule fire, and with what values?" by reading the derived facts
of :class:`~macwasm.policy.context.Context` (table columns such as ``relaxes_hardened_runtime`` or a
runtime's strategy per architecture). Wording, severity, fix and reference live in the rules
table; a predicate never names an entitlement key, a runtime or a message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from macwasm.policy.context import Context, Hit, group_arches, join
from macwasm.policy.tables import JIT_STRATEGIES, NO, UNCONFIRMED, YES, keys_with
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


def _conf(ctx: Context) -> str:
    return f"confidence: {ctx.runtime_confidence}"


# ------------------------------------------------------------------ system extensions (AMFI)

@predicate("MW101")
def sysex_relaxation(ctx: Context) -> Iterator[Hit]:
    if not ctx.sysex:
        return
    bad = [k for k in ctx.relaxations if ctx.facts[k].sysex_tolerated != YES]  # type: ignore[union-attr]
    if bad:
        yield Hit({"keys": join(bad), "basis": ctx.basis}, remove=tuple(bad))


@predicate("MW102")
def sysex_jit_forbidden(ctx: Context) -> Iterator[Hit]:
    tolerated = [k for k in ctx.relaxations if ctx.facts[k].sysex_tolerated == YES]  # type: ignore[union-attr]
    if tolerated and ctx.jit_forbidden:
        yield Hit({"keys": join(tolerated), "basis": ctx.basis}, remove=tuple(tolerated))


@predicate("MW103")
def sysex_jit_unsettled(ctx: Context) -> Iterator[Hit]:
    tolerated = [k for k in ctx.relaxations if ctx.facts[k].sysex_tolerated == YES]  # type: ignore[union-attr]
    if tolerated and ctx.jit_unsettled:
        yield Hit({"keys": join(tolerated), "basis": ctx.basis}, confidence=UNCONFIRMED)


@predicate("MW104")
def sysex_unconfirmed_key(ctx: Context) -> Iterator[Hit]:
    if not ctx.sysex:
        return
    keys = ctx.keys_where(lambda f: UNCONFIRMED in (f.relaxes_hardened_runtime, f.allowed_in_system_extension))
    if keys:
        yield Hit({"keys": join(keys), "basis": ctx.basis}, confidence=UNCONFIRMED)


@predicate("MW105")
def sysex_marker_unconfirmed(ctx: Context) -> Iterator[Hit]:
    if ctx.sysex or not ctx.sysex_unconfirmed_keys or not ctx.relaxations:
        return
    yield Hit({"keys": join(ctx.relaxations), "sysex_keys": join(ctx.sysex_unconfirmed_keys)},
              confidence=UNCONFIRMED)


# ------------------------------------------------------------------ JIT and the runtime

def _jit_applies(ctx: Context) -> bool:
    return ctx.runtime is not None and ctx.target.platform == "macos" and ctx.hardened_runtime_applies


def _holdable(ctx: Context, keys: Iterable[str]) -> bool:
    """Whether the binary could hold these keys at all (a system extension cannot hold most)."""
    return not ctx.sysex or all(ctx.tolerated_in_sysex(k) for k in keys)


@predicate("MW110")
def jit_without_entitlement(ctx: Context) -> Iterator[Hit]:
    if not _jit_applies(ctx) or ctx.ladder:
        return
    for (used, needed), arches in group_arches(ctx.jit_needs):
        if _holdable(ctx, needed):
            yield Hit({"runtime": ctx.runtime.runtime, "strategy": join(used), "arches": arches,  # type: ignore[union-attr]
                       "needed": join(needed), "confidence": _conf(ctx)},
                      confidence=ctx.runtime_confidence, add=needed)


@predicate("MW111")
def jit_entitlement_mismatch(ctx: Context) -> Iterator[Hit]:
    if not _jit_applies(ctx) or not ctx.ladder:
        return
    per_arch = {}
    for arch, (used, _needed) in ctx.jit_needs.items():
        missing = tuple(s for s in used if not set(ctx.permitting_keys(s)) & set(ctx.ladder))
        if missing:
            per_arch[arch] = (missing, tuple(ctx.needed_key(s) or "" for s in missing))
    for (missing, needed), arches in group_arches(per_arch):
        if _holdable(ctx, needed):
            yield Hit({"runtime": ctx.runtime.runtime, "strategy": join(missing), "arches": arches,  # type: ignore[union-attr]
                       "needed": join(needed), "keys": join(ctx.ladder), "confidence": _conf(ctx)},
                      confidence=ctx.runtime_confidence, add=needed)


@predicate("MW112")
def weaker_jit_entitlement(ctx: Context) -> Iterator[Hit]:
    if not _jit_applies(ctx):
        return
    every = [ctx.strategies(a) for a in ctx.arches]
    if not every or any(s != ("map-jit",) for s in every):
        return
    weak = [k for k in ctx.ladder if ctx.facts[k].permits_strategy == "unsigned-memory"]  # type: ignore[union-attr]
    if weak:
        yield Hit({"runtime": ctx.runtime.runtime, "arches": join(ctx.arches), "keys": join(weak),  # type: ignore[union-attr]
                   "confidence": _conf(ctx)}, confidence=ctx.runtime_confidence, remove=tuple(weak))


@predicate("MW113")
def jit_ladder_multiple(ctx: Context) -> Iterator[Hit]:
    if len(ctx.ladder) < 2:
        return
    required = {k for _, needed in ctx.jit_needs.values() for k in needed} if ctx.runtime else set()
    extra = [k for k in ctx.ladder if k not in required]
    if not extra:
        return
    keep = [k for k in ctx.ladder if k in required]
    keep_text = join(keep) if keep else "the one the runtime needs (allow-jit for a MAP_JIT runtime)"
    yield Hit({"keys": join(ctx.ladder), "keep": keep_text}, remove=tuple(extra) if keep else ())


@predicate("MW114")
def runtime_impossible_in_sysex(ctx: Context) -> Iterator[Hit]:
    if ctx.runtime is None or not ctx.sysex or ctx.target.platform != "macos":
        return
    per_arch = {}
    for arch, (used, needed) in ctx.jit_needs.items():
        barred = tuple(k for k in needed if not ctx.tolerated_in_sysex(k))
        if barred:
            per_arch[arch] = (used, barred)
    for (used, barred), arches in group_arches(per_arch):
        yield Hit({"runtime": ctx.runtime.runtime, "strategy": join(used), "arches": arches, "needed": join(barred),
                   "basis": ctx.basis, "confidence": _conf(ctx)}, confidence=ctx.runtime_confidence,
                  remove=tuple(k for k in barred if k in ctx.present))


@predicate("MW115")
def runtime_arch_unsupported(ctx: Context) -> Iterator[Hit]:
    if ctx.runtime is None:
        return
    arches = [a for a in ctx.arches if "unsupported" in ctx.strategies(a)]
    if arches:
        yield Hit({"runtime": ctx.runtime.runtime, "arches": join(arches), "confidence": _conf(ctx)},
                  confidence=ctx.runtime_confidence)


@predicate("MW116")
def runtime_caveat(ctx: Context) -> Iterator[Hit]:
    rt = ctx.runtime
    if rt is None or not rt.caveat:
        return
    arches = list(ctx.arches) if rt.caveat_arch == "any" else [a for a in ctx.arches if a == rt.caveat_arch]
    if arches:
        yield Hit({"runtime": rt.runtime, "arches": join(arches), "caveat": rt.caveat,
                   "confidence": f"confidence: {rt.caveat_confidence}"}, confidence=rt.caveat_confidence)


@predicate("MW117")
def build_time_aot_downloaded(ctx: Context) -> Iterator[Hit]:
    rt = ctx.runtime
    if rt is not None and ctx.target.module_source == "downloaded" and rt.loads_downloaded_modules == NO:
        yield Hit({"runtime": rt.runtime, "confidence": _conf(ctx)}, confidence=rt.confidence)


# ------------------------------------------------------------------ notarization

@predicate("MW120")
def notary_get_task_allow(ctx: Context) -> Iterator[Hit]:
    keys = [k for k in ctx.keys_where(lambda f: f.notary_rejects_true == YES) if ctx.present[k] is True]
    if keys:
        yield Hit({"keys": join(keys)}, remove=tuple(keys))


@predicate("MW121")
def notary_hardened_runtime_off(ctx: Context) -> Iterator[Hit]:
    if ctx.target.hardened_runtime is False:
        yield Hit()


@predicate("MW122")
def notary_unsigned(ctx: Context) -> Iterator[Hit]:
    if ctx.target.signature_kind == "unsigned":
        yield Hit()


@predicate("MW123")
def notary_not_developer_id(ctx: Context) -> Iterator[Hit]:
    if ctx.target.signature_kind in ("adhoc", "linker-signed"):
        yield Hit({"signature_kind": ctx.target.signature_kind})


@predicate("MW124")
def notary_no_timestamp(ctx: Context) -> Iterator[Hit]:
    if ctx.target.has_timestamp is False and ctx.target.signature_kind not in ("unsigned", "adhoc", "linker-signed"):
        yield Hit()


@predicate("MW125")
def signature_not_in_input(ctx: Context) -> Iterator[Hit]:
    t = ctx.target
    if t.input_form != "module" and t.signature_kind is None and t.hardened_runtime is None:
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
    rt = ctx.runtime
    if rt is None or rt.component_model not in supports:
        return
    for name, kind in ctx.module_kinds:
        if kind == "component":
            yield Hit({"subject_name": name, "runtime": rt.runtime, "support": rt.component_model,
                       "confidence": _conf(ctx)}, subject=_file_subject(ctx, name), confidence=rt.confidence)


def _file_subject(ctx: Context, name: str) -> str | None:
    """A module file found in a bundle is its own subject; a kind given as an option is the target's."""
    return name if any(w.path == name for w in ctx.target.wasm_files) else None


@predicate("MW141")
def component_unsupported(ctx: Context) -> Iterator[Hit]:
    yield from _component_hits(ctx, (NO,))


@predicate("MW142")
def component_support_unconfirmed(ctx: Context) -> Iterator[Hit]:
    yield from _component_hits(ctx, ("experimental", UNCONFIRMED))


@predicate("MW143")
def downloaded_module_integrity(ctx: Context) -> Iterator[Hit]:
    if ctx.target.module_source == "downloaded":
        yield Hit()


@predicate("MW144")
def app_store_downloaded_code(ctx: Context) -> Iterator[Hit]:
    if ctx.target.module_source == "downloaded":
        yield Hit(confidence=UNCONFIRMED)


@predicate("MW145")
def not_a_loadable_module(ctx: Context) -> Iterator[Hit]:
    for name, kind in ctx.module_kinds:
        if kind in ("not-wasm", "unknown-version"):
            yield Hit({"subject_name": name, "kind": kind}, subject=_file_subject(ctx, name))


# ------------------------------------------------------------------ platform, sandbox, libraries

@predicate("MW150")
def ios_jit(ctx: Context) -> Iterator[Hit]:
    if ctx.runtime is None:
        return
    used = [s for s in ctx.strategies("arm64") if s in JIT_STRATEGIES]
    if used:
        yield Hit({"runtime": ctx.runtime.runtime, "strategy": join(used)}, confidence=ctx.runtime_confidence)


@predicate("MW151")
def sandbox_key_without_sandbox(ctx: Context) -> Iterator[Hit]:
    by_required: dict[str, list[str]] = {}
    for key in ctx.keys_where(lambda f: bool(f.requires_key)):
        required = ctx.facts[key].requires_key  # type: ignore[union-attr]
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
    if not ctx.target.runtime and ctx.target.runtime_applies:
        yield Hit()


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
    if ctx.runtime is not None:
        yield from _notes(ctx, xcode_notes.ENGINE)


@predicate("MW187")
def xcode_wasm_destination_unknown(ctx: Context) -> Iterator[Hit]:
    yield from _notes(ctx, xcode_notes.WASM_DESTINATION_UNKNOWN)
