"""Facts derived once per target from the tables, shared by every rule predicate.

The predicates must not know entitlement keys or runtime names; they ask this context questions
("which present keys relax the Hardened Runtime?", "what does the runtime do on arm64?") whose
answers come from the rows of ``entitlements.csv``, ``product_types.csv`` and ``runtimes.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from macwasm.datafiles import table_key
from macwasm.policy.tables import (
    ARCHES,
    JIT_STRATEGIES,
    NO,
    UNCONFIRMED,
    YES,
    EntitlementFact,
    ProductType,
    Runtime,
    distributions,
    entitlement_facts,
    lookup_entitlement,
    product_types,
    runtimes,
)
from macwasm.policy.target import Target, present_keys
from macwasm.vocabulary import ARM64, IOS, UNIVERSAL


@dataclass(frozen=True)
class Hit:
    """One reason a rule fires: the values for its message template and what a fix changes."""

    params: dict[str, Any] = field(default_factory=dict)
    subject: str | None = None
    grade: str | None = None  # the weakest fact the finding rests on (None: the rule's own)
    remove: tuple[str, ...] = ()
    add: tuple[str, ...] = ()
    #: (written, meant) pairs: a misspelt key whose value a fix moves to the key it was meant to be
    rename: tuple[tuple[str, str], ...] = ()
    reference: str | None = None  # a link of the finding's own (a caveat's evidence), else the rule's


def join(keys: Any) -> str:
    return ", ".join(keys)


class Context:
    def __init__(self, target: Target) -> None:
        self.target = target

    # ---------------------------------------------------------------- entitlements
    @cached_property
    def present(self) -> dict[str, Any]:
        return present_keys(self.target.entitlements)

    @cached_property
    def facts(self) -> dict[str, EntitlementFact | None]:
        return {k: lookup_entitlement(k, v) for k, v in self.present.items()}

    @cached_property
    def known(self) -> dict[str, EntitlementFact]:
        """The present keys entitlements.csv has a row for (what :meth:`keys_where` chooses among)."""
        return {k: f for k, f in self.facts.items() if f is not None}

    def keys_where(self, predicate: Any) -> list[str]:
        return [k for k, f in self.known.items() if predicate(f)]

    @cached_property
    def sysex_keys(self) -> list[str]:
        return self.keys_where(lambda f: f.system_extension_marker == YES)

    @cached_property
    def sysex_unconfirmed_keys(self) -> list[str]:
        return self.keys_where(lambda f: f.system_extension_marker == UNCONFIRMED)

    @cached_property
    def relaxations(self) -> list[str]:
        return self.keys_where(lambda f: f.relaxes_hardened_runtime == YES)

    @cached_property
    def ladder(self) -> list[str]:
        keys = self.keys_where(lambda f: f.jit_ladder is not None and f.platform == self.target.platform)
        return sorted(keys, key=lambda k: self.known[k].jit_ladder or 0)

    # ---------------------------------------------------------------- product type
    @cached_property
    def ptype(self) -> ProductType:
        return product_types()[self.target.product_type]

    @cached_property
    def sysex(self) -> bool:
        """AMFI's system-extension rule applies: keyed on entitlements, or the product type says so."""
        return bool(self.sysex_keys) or self.ptype.is_system_extension == YES

    @cached_property
    def basis(self) -> str:
        if self.sysex_keys:
            return f"holds system-extension entitlements ({join(self.sysex_keys)})"
        return f"is a {self.target.product_type} (a system extension)"

    @cached_property
    def jit_forbidden(self) -> bool:
        """A system extension that may not JIT at all (DriverKit)."""
        if not self.sysex:
            return False
        return (any(self.known[k].sysex_allows_jit == NO for k in self.sysex_keys)
                or self.ptype.allow_jit == NO)

    @cached_property
    def jit_unsettled(self) -> bool:
        """A system extension whose right to JIT is not documented (no key settles it)."""
        if not self.sysex or self.jit_forbidden:
            return False
        settled = any(self.known[k].sysex_allows_jit == YES for k in self.sysex_keys)
        return not settled and self.ptype.allow_jit == UNCONFIRMED

    # ---------------------------------------------------------------- runtimes
    @cached_property
    def engines(self) -> tuple[Runtime, ...]:
        """The runtimes that run in this binary (several engines in one process need the union of keys)."""
        if not self.target.runtime_applies or self.ptype.own_entitlements == NO:
            return ()  # library code: its host's entitlements and Hardened Runtime decide (check the host)
        table = runtimes()
        return tuple(table[name] for name in self.target.runtimes)

    @cached_property
    def arches(self) -> tuple[str, ...]:
        if self.target.platform == IOS:
            return (ARM64,)
        return ARCHES if self.target.arch == UNIVERSAL else (self.target.arch,)

    def permitting_keys(self, strategy: str) -> list[str]:
        """Keys of this platform whose ``permits_strategy`` is ``strategy``, least powerful first."""
        return list(_permitting_keys(strategy, self.target.platform, table_key()))

    def needed_key(self, strategy: str) -> str | None:
        keys = self.permitting_keys(strategy)
        return keys[0] if keys else None

    def effective_strategies(self, engine: Runtime, arch: str) -> tuple[str, ...]:
        """The strategies the engine takes here: all of an ``a+b`` cell, or of ``a|b`` the first whose key is held
        (the first of all when none is: the path the engine prefers)."""
        parts = engine.strategies(arch)
        if not engine.alternatives(arch):
            return parts
        held = set(self.ladder)
        return next(((s,) for s in parts if set(self.permitting_keys(s)) & held), parts[:1])

    def jit_needs(self, engine: Runtime) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """arch -> (JIT strategies the engine uses there, the key each needs), for the arches where it JITs."""
        out = {}
        for arch in self.arches:
            used = tuple(s for s in self.effective_strategies(engine, arch) if s in JIT_STRATEGIES)
            if used:
                out[arch] = (used, tuple(k for k in (self.needed_key(s) for s in used) if k))
        return out

    @cached_property
    def needs_by_engine(self) -> dict[str, tuple[str, ...]]:
        """engine -> every JIT key it needs on the arches checked (for the several-engines messages)."""
        out = {}
        for engine in self.engines:
            keys = dict.fromkeys(k for _, needed in self.jit_needs(engine).values() for k in needed)
            out[engine.runtime] = tuple(keys)
        return out

    @cached_property
    def required_keys(self) -> set[str]:
        return {k for keys in self.needs_by_engine.values() for k in keys}

    def tolerated_in_sysex(self, key: str) -> bool:
        fact = lookup_entitlement(key, True)
        return bool(fact and fact.sysex_tolerated == YES and not self.jit_forbidden)

    @cached_property
    def hardened_runtime_unknown(self) -> bool:
        """Neither the input nor the distribution says whether the binary runs under the Hardened Runtime.

        A Developer ID build must have it (notarization), so there it is assumed; an App Store or
        development build need not (distributions.csv), and then the JIT rules' premise is open (MW129).
        """
        return (self.target.hardened_runtime is None
                and distributions()[self.target.distribution].hardened_runtime != "required")

    @cached_property
    def hardened_runtime_applies(self) -> bool:
        return self.target.hardened_runtime is True or (self.target.hardened_runtime is None
                                                        and not self.hardened_runtime_unknown)

    # ---------------------------------------------------------------- modules
    @cached_property
    def module_kinds(self) -> list[tuple[str, str]]:
        """(subject name, kind) for the module kind given and every .wasm file found."""
        out = []
        if self.target.module_kind:
            out.append(("the module", self.target.module_kind))
        out.extend((w.path, w.kind) for w in self.target.wasm_files)
        return out

    @cached_property
    def module_traits(self) -> list[tuple[str, str]]:
        """(module path, trait) for every trait of the modules the binary ships or loads."""
        return [(w.path, t) for w in self.target.wasm_files for t in w.traits]


@lru_cache(maxsize=64)
def _permitting_keys(strategy: str, platform: str, _root_key: str) -> tuple[str, ...]:
    chosen = sorted((f for f in entitlement_facts() if f.permits_strategy == strategy and f.platform == platform),
                    key=lambda f: f.jit_ladder or 0)
    return tuple(dict.fromkeys(f.key for f in chosen))


def group_arches(per_arch: dict[str, Any]) -> list[tuple[Any, tuple[str, ...]]]:
    """Arches with the same value together: [(value, ("arm64", "x86_64")), ...] in arch order.

    One finding per distinct fault: the same fault on both architectures is one finding naming both.
    """
    groups: dict[Any, list[str]] = {}
    for arch, value in per_arch.items():
        groups.setdefault(value, []).append(arch)
    return [(value, tuple(arches)) for value, arches in groups.items()]
