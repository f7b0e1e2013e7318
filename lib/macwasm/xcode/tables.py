"""The Xcode fact tables (``data/xcode_*.csv``) as typed rows.

Which Xcode product type is which of our product types, where a copy phase puts files, what the
build system sets by default and which linked names give away a wasm engine are facts with sources,
read here the way :mod:`macwasm.policy.tables` reads the policy tables (same checks, same errors).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from macwasm.datafiles import check_value, int_value, read_rows, table_error, table_key
from macwasm.policy.tables import runtimes
from macwasm.vocabulary import GRADES, product_types

#: how a product type is refined: by its entitlements (system extensions), by where a host embeds it
REFINEMENTS = ("", "entitlements", "embedding")
#: what a build-settings row is (the resolver asks the table, not the code, which setting plays which part)
SETTING_ROLES = (
    "context", "derived", "folder", "product-name", "sdk", "hardened-runtime", "sign-flags", "entitlements-path",
    "sign-style", "team", "sign-identity", "bundle-id", "build-location",
)
#: what an engine-name row matches: a linked file's name, or a Swift package product's name
ENGINE_KINDS = ("file", "package-product")
#: the copy-destination base of an absolute dstPath (outside any product)
ABSOLUTE = "(absolute)"


@dataclass(frozen=True)
class XcodeProductType:
    xcode_product_type: str
    product_type: str  # "" = not judged (tests, static libraries ...)
    wrapper_extension: str
    refine: str
    grade: str
    notes: str
    source: str


@dataclass(frozen=True)
class CopyDestination:
    dst_subfolder_spec: str
    name: str
    base: str  # a build-setting expression relative to the products folder, or ABSOLUTE
    grade: str
    notes: str
    source: str


@dataclass(frozen=True)
class BuildSettingFact:
    setting: str
    default: str
    role: str
    grade: str
    notes: str
    source: str


@dataclass(frozen=True)
class EngineName:
    kind: str
    pattern: str  # fnmatch pattern, matched without regard to case
    engine: str
    runtime: str
    rank: int  # lower = surer that this is the wasm engine
    grade: str
    notes: str
    source: str

    def matches(self, kind: str, name: str) -> bool:
        return kind == self.kind and fnmatch.fnmatchcase(name.lower(), self.pattern.lower())


def _fields(cls: Any) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


@lru_cache(maxsize=4)
def _product_types(_root_key: str) -> dict[str, XcodeProductType]:
    name = "xcode_product_types.csv"
    out: dict[str, XcodeProductType] = {}
    for line, row in read_rows(name, _fields(XcodeProductType)):
        if row["product_type"]:
            check_value(name, line, "product_type", row["product_type"], product_types())
        check_value(name, line, "refine", row["refine"], REFINEMENTS)
        check_value(name, line, "grade", row["grade"], GRADES)
        out[row["xcode_product_type"]] = XcodeProductType(**{c: row[c] for c in _fields(XcodeProductType)})
    return out


@lru_cache(maxsize=4)
def _copy_destinations(_root_key: str) -> dict[str, CopyDestination]:
    name = "xcode_copy_destinations.csv"
    out: dict[str, CopyDestination] = {}
    for line, row in read_rows(name, _fields(CopyDestination)):
        int_value(name, line, "dst_subfolder_spec", row["dst_subfolder_spec"])
        check_value(name, line, "grade", row["grade"], GRADES)
        out[row["dst_subfolder_spec"]] = CopyDestination(**{c: row[c] for c in _fields(CopyDestination)})
    return out


@lru_cache(maxsize=4)
def _build_settings(_root_key: str) -> dict[str, BuildSettingFact]:
    name = "xcode_build_settings.csv"
    out: dict[str, BuildSettingFact] = {}
    for line, row in read_rows(name, _fields(BuildSettingFact)):
        check_value(name, line, "role", row["role"], SETTING_ROLES)
        check_value(name, line, "grade", row["grade"], GRADES)
        out[row["setting"]] = BuildSettingFact(**{c: row[c] for c in _fields(BuildSettingFact)})
    single = [r for r in SETTING_ROLES if r not in ("context", "derived", "folder", "build-location")]
    for role in single:
        if sum(1 for f in out.values() if f.role == role) != 1:
            raise table_error(name, f"role {role!r} must name exactly one setting")
    return out


@lru_cache(maxsize=4)
def _engine_names(_root_key: str) -> tuple[EngineName, ...]:
    name = "xcode_engine_names.csv"
    cols = tuple(c for c in _fields(EngineName) if c != "rank")
    out = []
    known = runtimes()
    for line, row in read_rows(name, (*cols, "rank")):
        check_value(name, line, "kind", row["kind"], ENGINE_KINDS)
        check_value(name, line, "runtime", row["runtime"], known)
        check_value(name, line, "grade", row["grade"], GRADES)
        rank = int_value(name, line, "rank", row["rank"])
        out.append(EngineName(**{c: row[c] for c in cols}, rank=rank if rank is not None else 99))
    return tuple(out)


def xcode_product_types() -> dict[str, XcodeProductType]:
    return _product_types(table_key())


def copy_destinations() -> dict[str, CopyDestination]:
    return _copy_destinations(table_key())


def build_setting_facts() -> dict[str, BuildSettingFact]:
    return _build_settings(table_key())


def engine_names() -> tuple[EngineName, ...]:
    return _engine_names(table_key())


def setting_for(role: str) -> str:
    """The one build setting that plays ``role`` (``entitlements-path`` -> ``CODE_SIGN_ENTITLEMENTS``)."""
    for fact in build_setting_facts().values():
        if fact.role == role:
            return fact.setting
    raise table_error("xcode_build_settings.csv", f"no build setting has the role {role!r}")


def settings_with(role: str) -> frozenset[str]:
    return frozenset(f.setting for f in build_setting_facts().values() if f.role == role)


def find_engine(kind: str, name: str) -> EngineName | None:
    for row in engine_names():
        if row.matches(kind, name):
            return row
    return None
