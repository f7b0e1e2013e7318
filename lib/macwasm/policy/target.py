"""What the engine checks: one executable (or one module) with everything known about it.

A target is built from a reader's :class:`~macwasm.signing.model.SigningFacts`, from command-line
options (``--entitlement KEY[=VALUE]``) or from one row of an audit table. ``None`` always means
"the input does not tell" (no signature in a plist, no profile in reach), which the rules report
as ``info`` rather than guessing either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from macwasm.errors import UsageError
from macwasm.policy.tables import entitlement_facts, lookup_entitlement
from macwasm.policy.tables import runtimes as _runtime_table
from macwasm.vocabulary import (
    ARCH_CHOICES,
    DEFAULT_ARCH,
    DEFAULT_DISTRIBUTION,
    DEFAULT_PLATFORM,
    DISTRIBUTIONS,
    FORM_OPTIONS,
    MODULE_KINDS,
    MODULE_SOURCES,
    PLATFORMS,
    product_types,
)

# what a target is checked as when nothing says otherwise, and what the input was (which decides the facts
# known: a plist has no signature, a bundle has), named in macwasm.vocabulary
from macwasm.vocabulary import DEFAULT_PRODUCT_TYPE as DEFAULT_PRODUCT_TYPE
from macwasm.vocabulary import INPUT_FORMS as INPUT_FORMS

if TYPE_CHECKING:
    from macwasm.xcode.model import Note

_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


@dataclass(frozen=True)
class WasmFile:
    """A module the binary ships or loads: where it sits, what it is, and which proposals it uses."""

    path: str
    location: str  # resources | code | other (in a bundle) | given (named with --module, outside any bundle)
    kind: str
    traits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    name: str
    subject: str | None = None  # path shown in findings / SARIF (relative where possible)
    product_type: str = DEFAULT_PRODUCT_TYPE
    product_type_basis: str | None = None  # None: given by the user; else how it was inferred
    platform: str = DEFAULT_PLATFORM
    distribution: str = DEFAULT_DISTRIBUTION
    #: the engines that run wasm in this binary (an Electron app that also runs wasmtime has two);
    #: the entitlements they need are the union of each one's
    runtimes: tuple[str, ...] = ()
    arch: str = DEFAULT_ARCH
    module_source: str | None = None
    module_kind: str | None = None
    entitlements: Mapping[str, Any] | None = None  # None: the input holds no entitlements
    input_form: str = FORM_OPTIONS  # one of INPUT_FORMS
    signature_kind: str | None = None
    hardened_runtime: bool | None = None
    has_timestamp: bool | None = None
    has_profile: bool | None = None
    profile_keys: frozenset[str] | None = None
    wasm_files: tuple[WasmFile, ...] = field(default_factory=tuple)
    runtime_applies: bool = True  # False for bundle items that do not run the wasm runtime
    #: what the binary's slices are (arch families, e.g. ("arm64", "x86_64"), ("ppc",)); None: the input does not say
    slice_arches: tuple[str, ...] | None = None
    requested_arch: str = DEFAULT_ARCH  # the architectures the product must run on (--arch), before a slice narrowed it
    #: engines found in the binary and judged because no runtime was given: (runtime, evidence) pairs
    detected: tuple[tuple[str, str], ...] = ()
    missing_executable: str | None = None  # the reader's words when the bundle's executable is not there
    # Xcode projects: what the project says or could not resolve (rules MW180-MW189), where findings about
    # entitlement keys point (the .entitlements file; the rest point at ``subject``), how reports group it
    build_notes: tuple[Note, ...] = ()
    entitlements_subject: str | None = None
    group: tuple[tuple[str, str], ...] = ()

    def with_changes(self, **changes: Any) -> Target:
        return replace(self, **changes)


def parse_value(text: str) -> Any:
    """A command-line/table entitlement value: bare key = true, true/false, comma list, or text."""
    low = text.strip().lower()
    if low in _TRUE or low == "":
        return True
    if low in _FALSE:
        return False
    if "," in text:
        return [part.strip() for part in text.split(",") if part.strip()]
    return text.strip()


def parse_entitlement(spec: str) -> tuple[str, Any]:
    key, sep, value = spec.partition("=")
    key = key.strip()
    if not key or any(c.isspace() for c in key):
        raise UsageError(f"not an entitlement KEY[=VALUE]: {spec!r}")
    return key, (parse_value(value) if sep else True)


def parse_entitlement_list(text: str) -> dict[str, Any]:
    """``KEY;KEY=VALUE;...`` (the audit table's form) as a dict; empty text is no entitlement."""
    out: dict[str, Any] = {}
    for part in text.split(";"):
        if part.strip():
            key, value = parse_entitlement(part)
            out[key] = value
    return out


def validate_choice(name: str, value: str | None, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        raise UsageError(f"{name} {value!r} is not one of {', '.join(allowed)}")


def split_runtimes(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Runtime names as given: one name, a ``;`` or ``,`` list (the audit table's cell), or a sequence."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    names: dict[str, None] = {}
    for item in items:
        for part in str(item).replace(",", ";").split(";"):
            if part.strip():
                names.setdefault(part.strip(), None)
    return tuple(names)


def validate_options(*, product_type: str | None = None, platform: str | None = None,
                     distribution: str | None = None, runtimes: Iterable[str] = (), arch: str | None = None,
                     module_source: str | None = None, module_kind: str | None = None) -> None:
    """Refuse names the tables do not know, before anything is checked (a typo is a usage error)."""
    validate_choice("product type", product_type, product_types())
    validate_choice("platform", platform, PLATFORMS)
    validate_choice("distribution", distribution, DISTRIBUTIONS)
    known = _runtime_table()
    for name in runtimes:
        validate_choice("runtime", name, known)
    validate_choice("arch", arch, ARCH_CHOICES)
    validate_choice("module source", module_source, MODULE_SOURCES)
    validate_choice("module kind", module_kind, MODULE_KINDS)


def present_keys(entitlements: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keys that grant something: Apple's boolean entitlements default to false, so false is absent."""
    if not entitlements:
        return {}
    return {k: v for k, v in entitlements.items() if v is not False and v is not None}


def infer_product_type(entitlements: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """The product type the entitlements imply (``implies_product_type``, lowest rank wins)."""
    best: tuple[int, str, str] | None = None
    for key, value in present_keys(entitlements).items():
        fact = lookup_entitlement(key, value)
        if fact and fact.implies_product_type and fact.implies_rank is not None:
            cand = (fact.implies_rank, fact.implies_product_type, key)
            if best is None or cand < best:
                best = cand
    if best is None:
        return None
    return best[1], f"inferred from the entitlement {best[2]}"


def resolve_product_type(given: str | None, role: str | None,
                         entitlements: Mapping[str, Any] | None) -> tuple[str, str | None]:
    if given:
        return given, None
    if role:
        return role, "inferred from its place in the bundle"
    inferred = infer_product_type(entitlements)
    if inferred:
        return inferred
    return DEFAULT_PRODUCT_TYPE, "assumed: no product type given and the input does not say"


def known_keys() -> frozenset[str]:
    return frozenset(f.key for f in entitlement_facts())
