"""The policy fact tables (``data/*.csv``) as typed rows.

Apple's rules change, and the people who know them best are release engineers, not Python
readers. So every fact the engine uses (which key relaxes the Hardened Runtime, which product
may hold a profile, how a runtime makes code executable, what the notary log says) is a row
with a ``source``; the engine only asks questions of these rows. A table with a missing column
or a value outside its vocabulary is refused with :class:`TableFormatError` naming the line,
because a silently misread fact would turn into a wrong verdict.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from macwasm.datafiles import check_value, int_value, list_value, read_rows, table_error, table_key
from macwasm.vocabulary import ANY_ARCH, FRAMEWORK, PLACEMENTS

# The vocabularies are named in macwasm.vocabulary; they are re-exported here, where callers (and the
# notebooks) have imported them from since the tables were first read.
from macwasm.vocabulary import ARCH_CHOICES as ARCH_CHOICES
from macwasm.vocabulary import ARCHES as ARCHES
from macwasm.vocabulary import DISTRIBUTIONS as DISTRIBUTIONS
from macwasm.vocabulary import GRADES as GRADES
from macwasm.vocabulary import JIT_STRATEGIES as JIT_STRATEGIES
from macwasm.vocabulary import MODULE_KINDS as MODULE_KINDS
from macwasm.vocabulary import MODULE_SOURCES as MODULE_SOURCES
from macwasm.vocabulary import NO as NO
from macwasm.vocabulary import PLATFORMS as PLATFORMS
from macwasm.vocabulary import PREDICTIONS as PREDICTIONS
from macwasm.vocabulary import SEVERITIES as SEVERITIES
from macwasm.vocabulary import STRATEGIES as STRATEGIES
from macwasm.vocabulary import UNCONFIRMED as UNCONFIRMED
from macwasm.vocabulary import YES as YES
from macwasm.vocabulary import product_types as product_type_names

#: plist value types an entitlement may expect (``value_type`` of entitlements.csv)
VALUE_TYPES = ("boolean", "array", "string", "dictionary", "any")

#: the facts a runtime row may state, with the values each may take (``strategy`` is checked by parts)
RUNTIME_FACTS: dict[str, tuple[str, ...]] = {
    "strategy": STRATEGIES,
    "jit_write_api": ("pthread_jit_write_protect_np", "pthread_jit_write_with_callback_np", "none", "n/a"),
    "map_jit_regions": ("one", "several", "n/a"),
    "on_jit_denied": ("fails", "falls-back-to-interpreter", "n/a"),
    "component_model": (YES, NO, "experimental", UNCONFIRMED, "n/a"),
    "loads_downloaded_modules": (YES, NO),
    "threads": (YES, NO, "experimental", UNCONFIRMED),
    "gc": (YES, NO, "experimental", UNCONFIRMED),
    "memory64": (YES, NO, "experimental", UNCONFIRMED),
    "exceptions": (YES, NO, "experimental", UNCONFIRMED),
    "legacy_exceptions": (YES, NO, "experimental", UNCONFIRMED),
    "simd": (YES, NO, "experimental", UNCONFIRMED),
    "maintained": (YES, NO, "maintenance-only", "n/a"),
}
#: what a runtime fact value means, in words for messages (``fact_phrase`` falls back to "its FACT is VALUE")
FACT_PHRASES: dict[tuple[str, str], str] = {
    ("jit_write_api", "pthread_jit_write_protect_np"): "switches its JIT pages between writable and executable "
    "with pthread_jit_write_protect_np",
    ("map_jit_regions", "several"): "maps more than one MAP_JIT region",
}


def fact_phrase(fact: str, value: str) -> str:
    return FACT_PHRASES.get((fact, value), f"has {fact.replace('_', ' ')} {value}")


#: the facts every runtime row must state, because verdicts are drawn from them
VERDICT_FACTS = ("strategy", "component_model", "loads_downloaded_modules")
FACT_ARCHES = (ANY_ARCH, *ARCHES)


def _strategy_parts(cell: str) -> list[str]:
    if "+" in cell and "|" in cell:
        return [cell]  # refused by the vocabulary check: one form per cell
    return cell.replace("|", "+").split("+")


def weakest(grades: Iterable[str]) -> str:
    """The weakest of some grades (a finding claims no more than the facts it rests on)."""
    found = [g for g in grades if g in GRADES]
    return max(found, key=GRADES.index) if found else GRADES[0]



@dataclass(frozen=True)
class EntitlementFact:
    key: str
    value_pattern: str  # fnmatch pattern one string value must match ("" = any value)
    value_type: str  # the plist type the system reads: boolean, array, string, dictionary
    category: str
    relaxes_hardened_runtime: str
    sysex_tolerated: str
    system_extension_marker: str
    sysex_allows_jit: str
    jit_ladder: int | None
    permits_strategy: str
    conflicts_with: str  # "fact=value" of a runtime this key breaks: jit_write_api=pthread_jit_write_protect_np
    restricted: str
    requires_key: str
    notary_rejects_true: str
    platform: str
    implies_product_type: str
    implies_rank: int | None
    allowed_in_system_extension: str
    belongs_on: str  # any | container-app | extension: where a split plan puts the key
    grade: str
    quote: str
    notes: str
    source: str

    @property
    def conflict(self) -> tuple[str, str] | None:
        """(runtime fact, value) that this key breaks, if any."""
        if not self.conflicts_with:
            return None
        fact, _, value = self.conflicts_with.partition("=")
        return fact, value

    def matches_value(self, value: Any) -> bool:
        if not self.value_pattern:
            return True
        values = value if isinstance(value, (list, tuple)) else [value]
        return any(isinstance(v, str) and fnmatch.fnmatchcase(v, self.value_pattern) for v in values)


@dataclass(frozen=True)
class ProductType:
    product_type: str
    category: str
    bundle_location: str
    is_system_extension: str
    relaxations_allowed: str
    allow_jit: str
    can_embed_profile: str
    own_entitlements: str
    app_store_requires_sandbox: str
    wasm_location: str
    notarization_signing: str
    hardened_runtime_required: str  # notarization asks for the Hardened Runtime on it (executables, not libraries)
    grade: str
    notes: str
    source: str


@dataclass(frozen=True)
class RuntimeFact:
    """One fact about one runtime mode on one architecture, with the evidence it rests on.

    A verdict acts on these cells, so each carries its ``grade`` (how we know: read in the
    runtime's ``code``, documented by ``apple``, ``observed`` in a shipping product or a crash
    report, ``inferred`` from other facts, or ``unconfirmed``) and its ``evidence``
    (``owner/repo@commit:path:line`` for code, a URL otherwise) with the ``quote`` it rests on.
    """

    runtime: str
    fact: str
    arch: str  # arm64 | x86_64 | any
    value: str
    grade: str
    evidence: str
    quote: str
    note: str


@dataclass(frozen=True)
class RuntimeCaveat:
    """A condition a runtime brings with it, in force only where its scope says so."""

    id: str
    runtime: str
    arch: str  # arm64 | x86_64 | any
    product_types: tuple[str, ...]  # () = every product type
    unless_keys: tuple[str, ...]  # the caveat is silent when one of these entitlements is present
    hardened_runtime_only: str  # yes: it is about what the Hardened Runtime enforces, silent when that is off
    text: str
    grade: str
    evidence: str
    quote: str

    def applies(self, arch: str, product_type: str, present: Iterable[str], hardened_runtime: bool = True) -> bool:
        return ((self.arch in ("any", arch)) and (not self.product_types or product_type in self.product_types)
                and not set(self.unless_keys) & set(present)
                and (hardened_runtime or self.hardened_runtime_only != YES))


@dataclass(frozen=True)
class Runtime:
    """A runtime mode (engine, embedding or version range), its identity, and its facts per architecture."""

    runtime: str
    name: str
    family: str
    embedding: str
    versions: str
    mode: str
    default_on_macos: str
    speed_tier: int
    language: str
    license: str
    notes: str
    source: str
    facts: tuple[RuntimeFact, ...] = ()
    caveats: tuple[RuntimeCaveat, ...] = ()

    def fact(self, name: str, arch: str = "any") -> RuntimeFact | None:
        """The arch-specific fact if there is one, else the one for ``any`` arch."""
        found = None
        for f in self.facts:
            if f.fact == name:
                if f.arch == arch:
                    return f
                if f.arch == "any":
                    found = f
        return found

    def value(self, name: str, arch: str = "any", default: str = "") -> str:
        f = self.fact(name, arch)
        return f.value if f else default

    def strategies(self, arch: str) -> tuple[str, ...]:
        """Every strategy the engine needs on ``arch`` (for ``a|b``, the alternatives: see :meth:`alternatives`)."""
        return tuple(_strategy_parts(self.value("strategy", arch)))

    def alternatives(self, arch: str) -> bool:
        """Whether the strategies on ``arch`` are alternatives (either suffices) rather than all needed."""
        return "|" in self.value("strategy", arch)

    def grade_of(self, name: str, arches: Iterable[str] = ("any",)) -> str:
        """The weakest grade among the facts ``name`` on these arches (what a finding may claim)."""
        return weakest(f.grade for f in (self.fact(name, a) for a in arches) if f is not None)

    @property
    def component_model(self) -> str:
        return self.value("component_model", default="n/a")

    @property
    def loads_downloaded_modules(self) -> str:
        return self.value("loads_downloaded_modules", default=YES)

    @property
    def is_strategy_only(self) -> bool:
        return self.family == "strategy"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str
    unconfirmed_severity: str
    predicts: str  # what happens to the product when the rule is right (launch-refusal, crash, ...): PREDICTIONS
    title: str
    checks: str  # the engineer's note: which table columns the predicate reads
    message: str
    fix: str
    reference: str
    log_message: str
    diagnostic_id: str
    platforms: tuple[str, ...]  # () = all
    distributions: tuple[str, ...]  # () = all
    reads: tuple[str, ...]  # the target fields the predicate reads (lets audit judge per rule group)
    grade: str
    status: str
    since: str
    source: str
    why: str  # why it matters, in a sentence or two, for the rule's page and ``macwasm rule``

    def applies(self, platform: str, distribution: str) -> bool:
        return (not self.platforms or platform in self.platforms) and (
            not self.distributions or distribution in self.distributions)


@dataclass(frozen=True)
class KnownKey:
    """An entitlement key Apple defines that no rule judges: known, so it is never taken for a typo."""

    key: str
    value_type: str
    platform: str
    source: str


@dataclass(frozen=True)
class PlistKind:
    """A key pattern that tells what kind of property list a file is (entitlements, Info.plist, launchd ...)."""

    kind: str
    key_pattern: str
    entitlement_namespace: str
    meaning: str
    source: str

    def matches(self, key: str) -> bool:
        return fnmatch.fnmatchcase(key, self.key_pattern)


@dataclass(frozen=True)
class Placement:
    """Where a runtime can run for a product: in the binary, or in another process the product can start."""

    placement: str
    name: str
    hosts_for: tuple[str, ...]  # the product types this placement can take the engine for
    runs_as: str
    launched_by: str
    needs: str
    grade: str
    quote: str
    source: str


@dataclass(frozen=True)
class Distribution:
    """A way a product ships, and whether it must run under the Hardened Runtime (the JIT rules' premise)."""

    distribution: str
    name: str
    hardened_runtime: str  # required | optional
    grade: str
    quote: str
    source: str
    note: str


HARDENED_RUNTIME_NEEDS = ("required", "optional")


@dataclass(frozen=True)
class ModuleStorage:
    """Where downloaded modules live for one kind of product, who fetches them and how they reach the engine."""

    storage_case: str
    applies_to: tuple[str, ...]
    sandboxed: str  # yes | no | any
    location: str
    owner_and_mode: str
    downloads: str
    handoff: str
    integrity: str
    grade: str
    source: str


@dataclass(frozen=True)
class ModuleSource:
    module_source: str
    where: str
    covered_by: str
    advice: str
    grade: str
    source: str


# The one loader is macwasm.datafiles; these names are kept for modules that imported them from here.
_read = read_rows
_check = check_value
_int_or_none = int_value


def __getattr__(name: str) -> tuple[str, ...]:
    """``PRODUCT_TYPES``: the rows of product_types.csv (:func:`macwasm.vocabulary.product_types`), read when asked."""
    if name == "PRODUCT_TYPES":
        return product_type_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_TRI = (YES, NO, UNCONFIRMED)
_TRI_NA = (YES, NO, UNCONFIRMED, "n/a")


@lru_cache(maxsize=4)
def _entitlements(_root_key: str) -> tuple[EntitlementFact, ...]:
    name = "entitlements.csv"
    cols = tuple(f for f in EntitlementFact.__dataclass_fields__ if f not in ("jit_ladder", "implies_rank"))
    out = []
    for line, row in _read(name, (*cols, "jit_ladder", "implies_rank")):
        for col in ("relaxes_hardened_runtime", "sysex_tolerated", "system_extension_marker", "restricted",
                    "notary_rejects_true"):
            _check(name, line, col, row[col], _TRI)
        _check(name, line, "sysex_allows_jit", row["sysex_allows_jit"], _TRI_NA)
        _check(name, line, "allowed_in_system_extension", row["allowed_in_system_extension"], _TRI_NA)
        _check(name, line, "grade", row["grade"], GRADES)
        _check(name, line, "value_type", row["value_type"], VALUE_TYPES)
        _check(name, line, "belongs_on", row["belongs_on"], ("any", "container-app", "extension"))
        _check(name, line, "platform", row["platform"], PLATFORMS)
        _check(name, line, "permits_strategy", row["permits_strategy"], ("", *JIT_STRATEGIES))
        if row["conflicts_with"]:
            fact, _, value = row["conflicts_with"].partition("=")
            _check(name, line, "conflicts_with fact", fact, RUNTIME_FACTS)
            _check(name, line, "conflicts_with value", value, RUNTIME_FACTS[fact])
        if row["implies_product_type"]:
            _check(name, line, "implies_product_type", row["implies_product_type"], product_type_names())
        values = {c: row[c] for c in cols}
        out.append(EntitlementFact(**values, jit_ladder=_int_or_none(name, line, "jit_ladder", row["jit_ladder"]),
                                   implies_rank=_int_or_none(name, line, "implies_rank", row["implies_rank"])))
    return tuple(out)


@lru_cache(maxsize=4)
def _product_types(_root_key: str) -> dict[str, ProductType]:
    name = "product_types.csv"
    cols = tuple(ProductType.__dataclass_fields__)
    out: dict[str, ProductType] = {}
    for line, row in _read(name, cols):
        _check(name, line, "relaxations_allowed", row["relaxations_allowed"], (YES, NO, "inherits"))
        _check(name, line, "allow_jit", row["allow_jit"], (YES, NO, UNCONFIRMED, "inherits"))
        _check(name, line, "can_embed_profile", row["can_embed_profile"], (YES, NO, "wrapper", "n/a"))
        _check(name, line, "hardened_runtime_required", row["hardened_runtime_required"], (YES, NO))
        _check(name, line, "grade", row["grade"], GRADES)
        out[row["product_type"]] = ProductType(**{c: row[c] for c in cols})
    product_type_names()  # the names themselves: each once, none empty
    return out


def _runtime_facts(name: str = "runtime_facts.csv") -> dict[str, list[RuntimeFact]]:
    cols = tuple(RuntimeFact.__dataclass_fields__)
    out: dict[str, list[RuntimeFact]] = {}
    seen: set[tuple[str, str, str]] = set()
    for line, row in _read(name, cols, source_column="evidence"):
        fact = _check(name, line, "fact", row["fact"], RUNTIME_FACTS)
        _check(name, line, "arch", row["arch"], FACT_ARCHES)
        for part in _strategy_parts(row["value"]) if fact == "strategy" else (row["value"],):
            _check(name, line, f"value of {fact}", part, RUNTIME_FACTS[fact])
        _check(name, line, "grade", row["grade"], GRADES)
        key = (row["runtime"], fact, row["arch"])
        if key in seen:
            raise table_error(name, f"a second {fact} fact for {row['runtime']} on {row['arch']}", line)
        seen.add(key)
        out.setdefault(row["runtime"], []).append(RuntimeFact(**{c: row[c] for c in cols}))
    return out


def _runtime_caveats(name: str = "runtime_caveats.csv") -> dict[str, list[RuntimeCaveat]]:
    cols = tuple(RuntimeCaveat.__dataclass_fields__)
    out: dict[str, list[RuntimeCaveat]] = {}
    for line, row in _read(name, cols, source_column="evidence"):
        _check(name, line, "arch", row["arch"], FACT_ARCHES)
        _check(name, line, "grade", row["grade"], GRADES)
        _check(name, line, "hardened_runtime_only", row["hardened_runtime_only"], (YES, NO))
        scope = list_value(row["product_types"])
        for ptype in scope:
            _check(name, line, "product_types", ptype, product_type_names())
        unless = list_value(row["unless_keys"], everything=("",))
        values: dict[str, Any] = {c: row[c] for c in cols}
        out.setdefault(row["runtime"], []).append(RuntimeCaveat(**{**values, "product_types": scope,
                                                                   "unless_keys": unless}))
    return out


@lru_cache(maxsize=4)
def _runtimes(_root_key: str) -> dict[str, Runtime]:
    name = "runtimes.csv"
    cols = tuple(f for f in Runtime.__dataclass_fields__ if f not in ("speed_tier", "facts", "caveats"))
    facts = _runtime_facts()
    caveats = _runtime_caveats()
    out: dict[str, Runtime] = {}
    for line, row in _read(name, (*cols, "speed_tier")):
        key = row["runtime"]
        if key in out:
            raise table_error(name, f"duplicate runtime {key}", line)
        mine = tuple(facts.pop(key, ()))
        stated = {(f.fact, f.arch) for f in mine}
        for fact in VERDICT_FACTS:
            arches = ("any",) if fact != "strategy" else None
            if (fact, "any") in stated or (arches is None and all((fact, a) in stated for a in ARCHES)):
                continue
            raise table_error(name, f"runtime {key} has no {fact} fact (for every architecture) in "
                                   "runtime_facts.csv: a verdict would rest on nothing", line)
        tier = _int_or_none(name, line, "speed_tier", row["speed_tier"]) or 0
        out[key] = Runtime(**{c: row[c] for c in cols}, speed_tier=tier, facts=mine,
                           caveats=tuple(caveats.pop(key, ())))
    strays = sorted(set(facts) | set(caveats))
    if strays:
        raise table_error(name, f"facts or caveats for runtime(s) not in runtimes.csv: {', '.join(strays)}")
    return out


@lru_cache(maxsize=4)
def _rules(_root_key: str) -> dict[str, Rule]:
    name = "rules.csv"
    cols = tuple(Rule.__dataclass_fields__)
    out: dict[str, Rule] = {}
    for line, row in _read(name, cols):
        _check(name, line, "severity", row["severity"], SEVERITIES)
        _check(name, line, "unconfirmed_severity", row["unconfirmed_severity"], SEVERITIES)
        _check(name, line, "predicts", row["predicts"], PREDICTIONS)
        _check(name, line, "grade", row["grade"], GRADES)
        if row["id"] in out:
            raise table_error(name, f"duplicate rule id {row['id']}", line)
        values: dict[str, Any] = {c: row[c] for c in cols}
        for col in ("platforms", "distributions", "reads"):
            values[col] = list_value(row[col])
        out[row["id"]] = Rule(**values)
    return out


@lru_cache(maxsize=4)
def _module_sources(_root_key: str) -> dict[str, ModuleSource]:
    name = "module_sources.csv"
    cols = tuple(ModuleSource.__dataclass_fields__)
    out = {}
    for line, row in _read(name, cols):
        _check(name, line, "module_source", row["module_source"], MODULE_SOURCES)
        out[row["module_source"]] = ModuleSource(**{c: row[c] for c in cols})
    return out


@lru_cache(maxsize=4)
def _known_keys(_root_key: str) -> dict[str, KnownKey]:
    name = "apple_entitlement_keys.csv"
    cols = tuple(KnownKey.__dataclass_fields__)
    out = {}
    for line, row in _read(name, cols):
        _check(name, line, "value_type", row["value_type"], VALUE_TYPES)
        _check(name, line, "platform", row["platform"], PLATFORMS)
        out[row["key"]] = KnownKey(**{c: row[c] for c in cols})
    return out


@lru_cache(maxsize=4)
def _plist_kinds(_root_key: str) -> tuple[PlistKind, ...]:
    name = "plist_kinds.csv"
    cols = tuple(PlistKind.__dataclass_fields__)
    out = []
    for line, row in _read(name, cols):
        _check(name, line, "entitlement_namespace", row["entitlement_namespace"], (YES, NO))
        out.append(PlistKind(**{c: row[c] for c in cols}))
    return tuple(out)


# The public accessors key the caches on MACWASM_DATA (a reviewer's corrected copy of the tables is
# honoured without a restart): macwasm.datafiles.table_key.
_root = table_key


def entitlement_facts() -> tuple[EntitlementFact, ...]:
    return _entitlements(_root())


def product_types() -> dict[str, ProductType]:
    return _product_types(_root())


def runtimes() -> dict[str, Runtime]:
    return _runtimes(_root())


def rules() -> dict[str, Rule]:
    return _rules(_root())


def module_sources() -> dict[str, ModuleSource]:
    return _module_sources(_root())


def _product_list(name: str, line: int, column: str, text: str) -> tuple[str, ...]:
    out = list_value(text, everything=("",))
    for ptype in out:
        _check(name, line, column, ptype, product_type_names())
    return out


@lru_cache(maxsize=4)
def _placements(_root_key: str) -> dict[str, Placement]:
    name = "placements.csv"
    cols = tuple(Placement.__dataclass_fields__)
    out = {}
    for line, row in _read(name, cols):
        _check(name, line, "grade", row["grade"], GRADES)
        _check(name, line, "placement", row["placement"], PLACEMENTS)
        values: dict[str, Any] = {c: row[c] for c in cols}
        values["hosts_for"] = _product_list(name, line, "hosts_for", row["hosts_for"])
        out[row["placement"]] = Placement(**values)
    return out


@lru_cache(maxsize=4)
def _module_storage(_root_key: str) -> tuple[ModuleStorage, ...]:
    name = "module_storage.csv"
    cols = tuple(ModuleStorage.__dataclass_fields__)
    out = []
    for line, row in _read(name, cols):
        _check(name, line, "grade", row["grade"], GRADES)
        _check(name, line, "sandboxed", row["sandboxed"], (YES, NO, "any"))
        values: dict[str, Any] = {c: row[c] for c in cols}
        values["applies_to"] = _product_list(name, line, "applies_to", row["applies_to"])
        out.append(ModuleStorage(**values))
    covered = {p for row in out for p in row.applies_to}
    missing = [p for p in product_type_names() if p not in covered and p != FRAMEWORK]
    if missing:
        raise table_error(name, f"no storage case for product type(s) {', '.join(missing)}")
    return tuple(out)


@dataclass(frozen=True)
class PlatformFact:
    """A fact about macOS itself (the kernel, libpthread, AMFI's behaviour as reported), with its evidence."""

    subject: str
    fact: str
    value: str
    grade: str
    evidence: str
    quote: str
    note: str


@lru_cache(maxsize=4)
def _platform_facts(_root_key: str) -> tuple[PlatformFact, ...]:
    name = "platform_facts.csv"
    cols = tuple(PlatformFact.__dataclass_fields__)
    out = []
    for line, row in _read(name, cols, source_column="evidence"):
        _check(name, line, "grade", row["grade"], GRADES)
        out.append(PlatformFact(**{c: row[c] for c in cols}))
    return tuple(out)


def platform_facts() -> tuple[PlatformFact, ...]:
    return _platform_facts(_root())


def refusal(strategy: str) -> PlatformFact | None:
    """How macOS refuses a strategy whose key is missing (``platform_facts.csv``: subject strategy, fact refusal)."""
    return next((f for f in platform_facts() if f.subject == strategy and f.fact == "refusal"), None)


@lru_cache(maxsize=4)
def _distributions(_root_key: str) -> dict[str, Distribution]:
    name = "distributions.csv"
    cols = tuple(Distribution.__dataclass_fields__)
    out = {}
    for line, row in _read(name, cols):
        _check(name, line, "distribution", row["distribution"], DISTRIBUTIONS)
        _check(name, line, "hardened_runtime", row["hardened_runtime"], HARDENED_RUNTIME_NEEDS)
        _check(name, line, "grade", row["grade"], GRADES)
        out[row["distribution"]] = Distribution(**{c: row[c] for c in cols})
    missing = [d for d in DISTRIBUTIONS if d not in out]
    if missing:
        raise table_error(name, f"no row for distribution(s) {', '.join(missing)}")
    return out


def distributions() -> dict[str, Distribution]:
    return _distributions(_root())


def placements() -> dict[str, Placement]:
    return _placements(_root())


def module_storage(product_type: str, sandboxed: bool) -> ModuleStorage | None:
    """The storage case for a product type (a sandboxed app and a plain one differ)."""
    for row in _module_storage(_root()):
        if product_type in row.applies_to and row.sandboxed in ("any", YES if sandboxed else NO):
            return row
    return None


@lru_cache(maxsize=4)
def _trait_facts(_root_key: str) -> dict[str, str]:
    name = "wasm_traits.csv"
    out = {}
    for line, row in _read(name, ("trait", "runtime_fact", "source")):
        if row["runtime_fact"]:
            _check(name, line, "runtime_fact", row["runtime_fact"], RUNTIME_FACTS)
            out[row["trait"]] = row["runtime_fact"]
    return out


def trait_facts() -> dict[str, str]:
    """Module trait -> the runtime fact that says whether a runtime supports it (threads -> threads ...)."""
    return _trait_facts(_root())


def known_apple_keys() -> dict[str, KnownKey]:
    """Entitlement keys Apple defines beyond the ones entitlements.csv judges."""
    return _known_keys(_root())


def plist_kinds() -> tuple[PlistKind, ...]:
    return _plist_kinds(_root())


@lru_cache(maxsize=4)
def _facts_by_key(_root_key: str) -> dict[str, tuple[EntitlementFact, ...]]:
    out: dict[str, list[EntitlementFact]] = {}
    for fact in entitlement_facts():
        out.setdefault(fact.key, []).append(fact)
    return {k: tuple(v) for k, v in out.items()}


def lookup_entitlement(key: str, value: Any) -> EntitlementFact | None:
    """The first row for ``key`` whose value pattern matches (rows with a pattern come first)."""
    for fact in _facts_by_key(_root()).get(key, ()):
        if fact.matches_value(value):
            return fact
    return None


def keys_with(column: str, value: str) -> tuple[str, ...]:
    """Entitlement keys whose ``column`` equals ``value`` (for plans and fixes)."""
    seen: dict[str, None] = {}
    for fact in entitlement_facts():
        if str(getattr(fact, column)) == value:
            seen.setdefault(fact.key, None)
    return tuple(seen)
