"""The policy fact tables (``data/*.csv``) as typed rows.

Apple's rules change, and the people who know them best are release engineers, not Python
readers. So every fact the engine uses (which key relaxes the Hardened Runtime, which product
may hold a profile, how a runtime makes code executable, what the notary log says) is a row
with a ``source``; the engine only asks questions of these rows. A table with a missing column
or a value outside its vocabulary is refused with :class:`TableFormatError` naming the line,
because a silently misread fact would turn into a wrong verdict.
"""

from __future__ import annotations

import csv
import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from macwasm.datafiles import data_path
from macwasm.errors import TableFormatError

YES, NO, UNCONFIRMED = "yes", "no", "unconfirmed"
CONFIDENCE = ("verified", "inferred", "unconfirmed")
SEVERITIES = ("error", "warning", "info")
#: how a runtime makes code run, per architecture ("a+b": it needs both)
STRATEGIES = ("interpreter", "map-jit", "unsigned-memory", "aot-in-binary", "out-of-process", "unsupported")
#: strategies that create executable memory in the process (the JIT rules apply)
JIT_STRATEGIES = ("map-jit", "unsigned-memory")
PRODUCT_TYPES = (
    "app", "app-extension", "xpc-service", "helper-tool", "login-item", "daemon", "command-line-tool",
    "network-extension", "endpoint-security-extension", "driverkit-driver", "system-extension", "framework",
)
PLATFORMS = ("macos", "ios")
DISTRIBUTIONS = ("developer-id", "app-store", "development")
ARCHES = ("arm64", "x86_64")
ARCH_CHOICES = ("arm64", "x86_64", "universal")
MODULE_SOURCES = ("bundled", "downloaded")
MODULE_KINDS = ("core-module", "component", "unknown-version", "not-wasm")


@dataclass(frozen=True)
class EntitlementFact:
    key: str
    value_pattern: str  # fnmatch pattern one string value must match ("" = any value)
    category: str
    relaxes_hardened_runtime: str
    sysex_tolerated: str
    system_extension_marker: str
    sysex_allows_jit: str
    jit_ladder: int | None
    permits_strategy: str
    restricted: str
    requires_key: str
    notary_rejects_true: str
    platform: str
    implies_product_type: str
    implies_rank: int | None
    allowed_in_system_extension: str
    confidence: str
    notes: str
    source: str

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
    confidence: str
    notes: str
    source: str


@dataclass(frozen=True)
class Runtime:
    runtime: str
    name: str
    family: str
    mode: str
    strategy_arm64: str
    strategy_x86_64: str
    default_on_macos: str
    component_model: str
    loads_downloaded_modules: str
    speed_tier: int
    language: str
    license: str
    confidence: str
    caveat: str
    caveat_arch: str
    caveat_confidence: str
    notes: str
    source: str

    def strategies(self, arch: str) -> tuple[str, ...]:
        cell = self.strategy_arm64 if arch == "arm64" else self.strategy_x86_64
        return tuple(cell.split("+"))

    @property
    def is_strategy_only(self) -> bool:
        return self.family == "strategy"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str
    unconfirmed_severity: str
    title: str
    checks: str
    message: str
    fix: str
    reference: str
    log_message: str
    diagnostic_id: str
    platforms: tuple[str, ...]  # () = all
    distributions: tuple[str, ...]  # () = all
    reads: tuple[str, ...]  # the target fields the predicate reads (lets audit judge per rule group)
    confidence: str
    status: str
    since: str
    source: str

    def applies(self, platform: str, distribution: str) -> bool:
        return (not self.platforms or platform in self.platforms) and (
            not self.distributions or distribution in self.distributions)


@dataclass(frozen=True)
class ModuleSource:
    module_source: str
    where: str
    covered_by: str
    advice: str
    confidence: str
    source: str


def _read(name: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    path = data_path(name)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            found = tuple(reader.fieldnames or ())
            missing = [c for c in columns if c not in found]
            if missing:
                raise TableFormatError(f"missing column(s) {', '.join(missing)}", path=str(path))
            rows = [(line, {k: (v or "").strip() for k, v in row.items() if k is not None})
                    for line, row in enumerate(reader, start=2)]
    except OSError as exc:
        raise TableFormatError(f"cannot read the table: {exc.strerror or exc}", path=str(path)) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise TableFormatError(f"not a readable CSV table: {exc}", path=str(path)) from None
    for line, row in rows:
        if not row.get("source"):
            raise TableFormatError(f"line {line}: every fact needs a source", path=str(path))
    return rows


def _check(path: str, line: int, column: str, value: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise TableFormatError(f"line {line}: {column} {value!r} is not one of {', '.join(allowed)}",
                               path=str(data_path(path)))
    return value


def _int_or_none(path: str, line: int, column: str, value: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise TableFormatError(f"line {line}: {column} {value!r} is not a number", path=str(data_path(path))) from None


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
        _check(name, line, "confidence", row["confidence"], CONFIDENCE)
        _check(name, line, "platform", row["platform"], PLATFORMS)
        _check(name, line, "permits_strategy", row["permits_strategy"], ("", *JIT_STRATEGIES))
        if row["implies_product_type"]:
            _check(name, line, "implies_product_type", row["implies_product_type"], PRODUCT_TYPES)
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
        _check(name, line, "product_type", row["product_type"], PRODUCT_TYPES)
        _check(name, line, "relaxations_allowed", row["relaxations_allowed"], (YES, NO, "inherits"))
        _check(name, line, "allow_jit", row["allow_jit"], (YES, NO, UNCONFIRMED, "inherits"))
        _check(name, line, "can_embed_profile", row["can_embed_profile"], (YES, NO, "wrapper", "n/a"))
        _check(name, line, "confidence", row["confidence"], CONFIDENCE)
        out[row["product_type"]] = ProductType(**{c: row[c] for c in cols})
    missing = [p for p in PRODUCT_TYPES if p not in out]
    if missing:
        raise TableFormatError(f"no row for product type(s) {', '.join(missing)}", path=str(data_path(name)))
    return out


@lru_cache(maxsize=4)
def _runtimes(_root_key: str) -> dict[str, Runtime]:
    name = "runtimes.csv"
    cols = tuple(f for f in Runtime.__dataclass_fields__ if f != "speed_tier")
    out: dict[str, Runtime] = {}
    for line, row in _read(name, (*cols, "speed_tier")):
        for col in ("strategy_arm64", "strategy_x86_64"):
            for part in row[col].split("+"):
                _check(name, line, col, part, STRATEGIES)
        _check(name, line, "confidence", row["confidence"], CONFIDENCE)
        _check(name, line, "component_model", row["component_model"],
               (YES, NO, UNCONFIRMED, "experimental", "unknown"))
        _check(name, line, "loads_downloaded_modules", row["loads_downloaded_modules"], (YES, NO))
        _check(name, line, "caveat_arch", row["caveat_arch"], ("", "any", *ARCHES))
        if row["caveat"]:
            _check(name, line, "caveat_confidence", row["caveat_confidence"], CONFIDENCE)
        tier = _int_or_none(name, line, "speed_tier", row["speed_tier"]) or 0
        out[row["runtime"]] = Runtime(**{c: row[c] for c in cols}, speed_tier=tier)
    return out


@lru_cache(maxsize=4)
def _rules(_root_key: str) -> dict[str, Rule]:
    name = "rules.csv"
    cols = tuple(Rule.__dataclass_fields__)
    out: dict[str, Rule] = {}
    for line, row in _read(name, cols):
        _check(name, line, "severity", row["severity"], SEVERITIES)
        _check(name, line, "unconfirmed_severity", row["unconfirmed_severity"], SEVERITIES)
        _check(name, line, "confidence", row["confidence"], CONFIDENCE)
        if row["id"] in out:
            raise TableFormatError(f"line {line}: duplicate rule id {row['id']}", path=str(data_path(name)))
        values: dict[str, Any] = {c: row[c] for c in cols}
        for col in ("platforms", "distributions", "reads"):
            values[col] = () if row[col] in ("", "*") else tuple(p.strip() for p in row[col].split(";"))
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


# The public accessors key the caches on MACWASM_DATA (a reviewer's corrected copy of the
# tables is honoured without a restart); building a Path per call would dominate an evaluation.
def _root() -> str:
    return os.environ.get("MACWASM_DATA", "")


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
