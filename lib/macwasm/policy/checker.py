"""``check``: inputs (files, bundles, modules or bare ``--entitlement`` options) to verdicts.

The signing reader tells what an input is; this module turns its facts into one target per
executable (a bundle gives one per nested item, each with the role its place gives it) and lets
the engine judge each. What an input form cannot tell stays ``None`` on the target: a plist has
no signature, a bare entitlements file has no profile in reach.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from macwasm.policy.engine import TargetResult, evaluate
from macwasm.policy.tables import lookup_entitlement
from macwasm.policy.target import (
    Target,
    WasmFile,
    parse_entitlement,
    present_keys,
    resolve_product_type,
    split_runtimes,
    validate_options,
)
from macwasm.signing.model import NestedCode, Signature, SigningFacts, SliceFacts
from macwasm.vocabulary import (
    ARM64,
    BUNDLE,
    BUNDLED,
    DEFAULT_ARCH,
    DEFAULT_DISTRIBUTION,
    DEFAULT_PLATFORM,
    DEFAULT_PRODUCT_TYPE,
    ENTITLEMENT_SOURCES,
    FORM_BINARY,
    FORM_BUNDLE,
    FORM_ENTITLEMENTS,
    FORM_MODULE,
    FORM_OPTIONS,
    FORM_PROFILE,
    MACH_O,
    PROVISIONING_PROFILE,
    UNIVERSAL,
    UNSIGNED,
    X86_64,
)


@dataclass(frozen=True)
class CheckOptions:
    """The target options every command shares (``--product-type``, ``--runtime`` ...)."""

    product_type: str | None = None
    platform: str = DEFAULT_PLATFORM
    distribution: str = DEFAULT_DISTRIBUTION
    runtimes: tuple[str, ...] = ()
    arch: str = DEFAULT_ARCH
    module_source: str | None = None
    module_kind: str | None = None
    #: the Hardened Runtime as the signing step will set it, for inputs that do not carry a signature (a plist)
    hardened_runtime: bool | None = None

    def validate(self) -> None:
        validate_options(product_type=self.product_type, platform=self.platform, distribution=self.distribution,
                         runtimes=self.runtimes, arch=self.arch, module_source=self.module_source,
                         module_kind=self.module_kind)

    def base(self) -> dict[str, Any]:
        return {"platform": self.platform, "distribution": self.distribution, "runtimes": self.runtimes,
                "arch": self.arch, "module_source": self.module_source, "module_kind": self.module_kind}


def display_path(path: str) -> str:
    """The path as the user gave it, shortened to a relative one when it lies below the working directory.

    Two modules named ``ok.wasm`` in different folders must stay two different targets, so a path
    is never cut to its base name; an absolute path below the working directory is made relative
    so that reports do not depend on where the checkout lives.
    """
    if path == "-":
        return "-"
    if not os.path.isabs(path):
        return os.path.normpath(path)
    rel = os.path.relpath(path)
    return rel if rel != ".." and not rel.startswith(".." + os.sep) else os.path.normpath(path)


def entitlements_target(entitlements: Mapping[str, Any], opts: CheckOptions, *, name: str = "(command line)",
                        subject: str | None = None, input_form: str = FORM_OPTIONS) -> Target:
    ptype, basis = resolve_product_type(opts.product_type, None, entitlements)
    return Target(name=name, subject=subject, product_type=ptype, product_type_basis=basis,
                  entitlements=dict(entitlements), input_form=input_form, **opts.base())


def _signature_facts(signature: Signature | None) -> dict[str, Any]:
    if signature is None:
        return {"signature_kind": UNSIGNED, "hardened_runtime": False, "has_timestamp": None}
    return {"signature_kind": signature.kind, "hardened_runtime": bool(signature.hardened_runtime),
            "has_timestamp": signature.has_timestamp}


def _uses_jit_keys(entitlements: Mapping[str, Any] | None) -> bool:
    for key, value in present_keys(entitlements).items():
        fact = lookup_entitlement(key, value)
        if fact is not None and fact.jit_ladder is not None:
            return True
    return False


def wasm_location(path: str) -> str | None:
    """resources | code | other for a module inside a bundle (judged in the innermost one), None outside any.

    The bundle reader's rule is used as is, so a module checked on its own gets the same answer as
    when its bundle is read (a system extension's own ``Contents/Resources`` is data, not code).
    """
    from macwasm.signing.bundle import BUNDLE_EXTENSIONS
    from macwasm.signing.bundle import wasm_location as location_in_bundle

    parts = os.path.normpath(path).split(os.sep)
    if not any(part.lower().endswith(BUNDLE_EXTENSIONS) for part in parts[:-1]):
        return None
    return location_in_bundle("/".join(parts))


def targets_from_facts(facts: SigningFacts, opts: CheckOptions,
                       extra: Mapping[str, Any] | None = None) -> list[Target]:
    """One target per executable the reader found (the main item first, then nested items).

    Each source a reader reports has its builder in :data:`TARGET_BUILDERS`; a source without one is
    a bug (a reader learnt a form the checker does not), never silently judged as something else.
    """
    build = TARGET_BUILDERS.get(facts.source)
    if build is None:
        raise LookupError(f"no target builder for the source {facts.source!r} of {facts.path}: add one to "
                          "macwasm.policy.checker.TARGET_BUILDERS")
    subject = display_path(facts.path)
    entitlements = dict(facts.entitlements or {})
    if extra:
        entitlements.update(extra)
    return build(facts, opts, subject, entitlements, extra)


def _entitlements_targets(facts: SigningFacts, opts: CheckOptions, subject: str, entitlements: dict[str, Any],
                          extra: Mapping[str, Any] | None) -> list[Target]:
    """A file of entitlements alone: no signature, no profile in reach."""
    ptype, basis = resolve_product_type(opts.product_type, facts.role, entitlements)
    return [Target(name=subject, subject=subject, product_type=ptype, product_type_basis=basis,
                   entitlements=entitlements, input_form=FORM_ENTITLEMENTS, **opts.base())]


def _profile_targets(facts: SigningFacts, opts: CheckOptions, subject: str, entitlements: dict[str, Any],
                     extra: Mapping[str, Any] | None) -> list[Target]:
    """A provisioning profile: the keys it allows are the entitlements, and a profile is in reach."""
    ptype, basis = resolve_product_type(opts.product_type, facts.role, entitlements)
    keys = frozenset(facts.profile.entitlements) if facts.profile else frozenset()
    return [Target(name=subject, subject=subject, product_type=ptype, product_type_basis=basis,
                   entitlements=entitlements, input_form=FORM_PROFILE, has_profile=True, profile_keys=keys,
                   **opts.base())]


def _binary_targets(facts: SigningFacts, opts: CheckOptions, subject: str, entitlements: dict[str, Any],
                    extra: Mapping[str, Any] | None) -> list[Target]:
    """A Mach-O file: one target per way it must hold up (a slice, a slice's DER entitlements)."""
    base = opts.base()
    targets = []
    for label, ents, signature, arch, slice_ in _variants(facts, entitlements, extra, opts.arch):
        ptype, basis = resolve_product_type(opts.product_type, facts.role, ents)
        if facts.role and not opts.product_type:  # a lone file's role comes from its Mach-O file type
            basis = "inferred from its Mach-O file type (a dylib or loadable bundle is library code)"
        name = subject + label
        targets.append(Target(name=name, subject=name, product_type=ptype, product_type_basis=basis,
                              entitlements=ents, input_form=FORM_BINARY, has_profile=False,
                              **_signature_facts(signature),
                              **{**base, "arch": arch, **_binary_facts(facts, slice_, opts)}))
    return targets


def _binary_facts(facts: SigningFacts, slice_: SliceFacts | None, opts: CheckOptions) -> dict[str, Any]:
    """What the binary itself says beyond its signature: its architectures, and its engines when no runtime
    was given (the engines of the slice judged, or of the main executable's first slice)."""
    from macwasm.policy.detected import judged_runtimes
    from macwasm.signing.macho import arch_family

    slices = facts.slices
    out: dict[str, Any] = {"requested_arch": opts.arch}
    if slices:
        out["slice_arches"] = tuple(dict.fromkeys(arch_family(s.arch) for s in slices))
    if not opts.runtimes:
        source = slice_ if slice_ is not None else (slices[0] if slices else None)
        found = judged_runtimes(source.engines if source is not None else ())
        if found:
            out["runtimes"] = tuple(k for k, _ in found)
            out["detected"] = found
    return out


#: slice architectures that name an --arch choice (arm64e runs where arm64 does)
_ARCH_OF_SLICE = {"arm64": ARM64, "arm64e": ARM64, "x86_64": X86_64, "x86_64h": X86_64}


class _Variant(NamedTuple):
    """One way an executable must hold up: a slice, or a slice's DER entitlements (name suffix in ``label``)."""

    label: str
    entitlements: dict[str, Any]
    signature: Signature | None
    arch: str
    slice: SliceFacts | None  # the slice it comes from (None for inputs without slices)


def _variants(facts: SigningFacts, entitlements: dict[str, Any], extra: Mapping[str, Any] | None,
              arch: str) -> list[_Variant]:
    """Per slice when a universal file's slices disagree, plus a DER variant where DER and XML differ.

    The reader's top-level facts are the first slice's. When the slices of one file carry different
    signatures or entitlements, judging only the first would pass an unsigned x86_64 slice, or miss
    the arm64 slice's JIT keys; each slice is then its own target, named ``path [arch]`` and checked
    for its own architecture. Agreeing slices stay one target; a thin file is checked for its own
    architecture. Which of a signature's two entitlement sets (XML, DER) a given macOS version
    enforces is UNCONFIRMED in our sources, so where they differ the DER set is judged as well.
    """
    slices = facts.slices
    first = slices[0] if slices else None
    if first is not None and len(slices) == 1 and arch == UNIVERSAL:
        variants = [_Variant("", entitlements, facts.signature, _ARCH_OF_SLICE.get(first.arch, arch), first)]
    elif not facts.slices_differ:
        variants = [_Variant("", entitlements, facts.signature, arch, first)]
    else:
        variants = [_Variant(f" [{s.arch}]", {**(s.entitlements or {}), **(extra or {})}, s.signature,
                             _ARCH_OF_SLICE.get(s.arch, arch), s) for s in slices
                    if arch == UNIVERSAL or _ARCH_OF_SLICE.get(s.arch, arch) == arch]
        variants = variants or [_Variant("", entitlements, facts.signature, arch, first)]
    out = []
    for v in variants:
        out.append(v)
        der = v.slice.der_entitlements if v.slice is not None else None
        if v.slice is not None and v.slice.der_matches_xml is False and der is not None:
            out.append(v._replace(label=f" [{v.slice.arch}, DER entitlements]", entitlements={**der, **(extra or {})}))
    return out


def _bundle_targets(facts: SigningFacts, opts: CheckOptions, subject: str, entitlements: dict[str, Any],
                    extra: Mapping[str, Any] | None = None) -> list[Target]:
    from macwasm.signing.bundle import executable_missing

    wasm = tuple(WasmFile(w.path, w.location, w.kind) for w in facts.wasm_files)
    base = opts.base()
    if wasm and base["module_source"] is None:
        base["module_source"] = BUNDLED
    # The runtime runs in the executables prepared for a JIT; with none prepared, in the main one.
    profile_keys = frozenset(facts.profile.entitlements) if facts.profile else None
    items: list[tuple[NestedCode | None, str, str, dict[str, Any], Signature | None, bool, frozenset[str] | None,
                      str]]
    items = [(None, v.label, facts.role or DEFAULT_PRODUCT_TYPE, v.entitlements, v.signature, facts.profile is not None,
              profile_keys, v.arch) for v in _variants(facts, entitlements, extra, opts.arch)]
    items += [(n, "", n.role, dict(n.entitlements or {}), n.signature, n.has_profile, None, opts.arch)
              for n in facts.nested]
    jit_items = {i for i, item in enumerate(items) if _uses_jit_keys(item[3])}
    targets = []
    for i, (nested, label, role, ents, signature, has_profile, keys, arch) in enumerate(items):
        ptype, basis = (opts.product_type, None) if (opts.product_type and nested is None) else (
            role, "inferred from its place in the bundle")
        name = (subject if nested is None else f"{subject}/{nested.path}") + label
        applies = i in jit_items if jit_items else nested is None
        own = _binary_facts(facts, None, opts) if nested is None else {"requested_arch": opts.arch}
        target = Target(name=name, subject=name, product_type=ptype, product_type_basis=basis, entitlements=ents,
                        input_form=FORM_BUNDLE, has_profile=has_profile, profile_keys=keys,
                        wasm_files=wasm if nested is None else (), runtime_applies=applies,
                        **_signature_facts(signature), **{**base, "arch": arch, **own})
        error = facts.error if nested is None else nested.error
        if error:
            # the fault is the error (a missing executable above all): no "unsigned" follow-up for it
            target = target.with_changes(signature_kind=None, hardened_runtime=None, has_timestamp=None)
            if executable_missing(error):
                target = target.with_changes(missing_executable=error)
        targets.append(target)
    return targets


#: source (what the reader says the input is) -> the targets it gives; every source of the vocabulary has one
TARGET_BUILDERS: dict[str, Callable[[SigningFacts, CheckOptions, str, dict[str, Any], Mapping[str, Any] | None],
                                    list[Target]]] = {
    **dict.fromkeys(ENTITLEMENT_SOURCES, _entitlements_targets),
    PROVISIONING_PROFILE: _profile_targets,
    MACH_O: _binary_targets,
    BUNDLE: _bundle_targets,
}


def module_file(path: str, *, location: str | None = None) -> WasmFile:
    """A ``.wasm`` file as a module the engine sees: kind and traits from the wasm inspector.

    ``location`` is where it sits in a bundle; outside any bundle it is the given ``location``
    ("given" for a module named with ``--module``, "alone" for one checked on its own).
    """
    from macwasm.wasm import inspect_path

    info = inspect_path(path)
    subject = display_path(path)
    where = wasm_location(path) or location or "alone"
    return WasmFile(subject, where, info.kind, tuple(info.traits))


def module_target(path: str, opts: CheckOptions) -> Target:
    """A ``.wasm`` path on its own: what it is, where it sits when in a bundle, and that it needs a binary."""
    wasm = module_file(path)
    base = opts.base()
    return Target(name=wasm.path, subject=wasm.path, product_type=opts.product_type or DEFAULT_PRODUCT_TYPE,
                  input_form=FORM_MODULE, wasm_files=(wasm,), **base)


def with_modules(target: Target, modules: Sequence[WasmFile], opts: CheckOptions | None = None) -> Target:
    """The target with the modules its engine loads (only where the runtime runs), and what the options say of
    the signing step where the input itself does not tell (a signature read from the binary wins)."""
    if opts is not None and opts.hardened_runtime is not None and target.hardened_runtime is None:
        target = target.with_changes(hardened_runtime=opts.hardened_runtime)
    if not modules or not target.runtime_applies:
        return target
    return target.with_changes(wasm_files=(*target.wasm_files, *modules))


def targets_for_path(path: str, opts: CheckOptions, extra: Mapping[str, Any] | None = None) -> list[Target]:
    if path.lower().endswith(".wasm") and not os.path.isdir(path):
        return [module_target(path, opts)]
    from macwasm.xcode import is_xcode_input

    if is_xcode_input(path):
        from macwasm.policy.xcode import xcode_targets

        return xcode_targets(path, opts, extra)
    from macwasm.signing.reader import read_signing_facts

    return targets_from_facts(read_signing_facts(path), opts, extra)


def parse_entitlement_options(specs: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in specs:
        key, value = parse_entitlement(spec)
        out[key] = value
    return out


def check(paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] = (), *,
          entitlements: Mapping[str, Any] | Iterable[str] | None = None,
          modules: Sequence[str | os.PathLike[str]] = (),
          product_type: str | None = None, platform: str = DEFAULT_PLATFORM, distribution: str = DEFAULT_DISTRIBUTION,
          runtime: str | Sequence[str] | None = None, arch: str = DEFAULT_ARCH, module_source: str | None = None,
          module_kind: str | None = None, hardened_runtime: bool | None = None) -> list[TargetResult]:
    """Check inputs (or, with no path, the given entitlements alone); one result per executable.

    ``entitlements`` is a dict or ``KEY[=VALUE]`` strings; with paths they are added to each file's.
    ``modules`` are ``.wasm`` files the binaries load (their kind and proposals are judged against the runtime).
    Raises :class:`~macwasm.errors.MacwasmError` for unreadable input or an unknown option value.
    """
    opts = CheckOptions(product_type, platform, distribution, split_runtimes(runtime), arch, module_source,
                        module_kind, hardened_runtime)
    opts.validate()
    names = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]
    extra: dict[str, Any] = {}
    if entitlements is not None:
        extra = dict(entitlements) if isinstance(entitlements, Mapping) else parse_entitlement_options(entitlements)
    loaded = [module_file(os.fspath(m), location="given") for m in modules]
    if not names:
        return [evaluate(with_modules(entitlements_target(extra, opts), loaded, opts))]
    return [evaluate(with_modules(t, loaded, opts)) for path in names for t in targets_for_path(path, opts, extra)]
