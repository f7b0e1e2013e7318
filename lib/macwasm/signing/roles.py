"""The role (product type) of a piece of code in a bundle, from ``data/product_roles.csv``.

Apple decides what a nested item *is* from where it sits (``Contents/PlugIns``,
``Contents/Library/SystemExtensions`` ...), its extension (``.appex``, ``.dext`` ...) and keys in
its Info.plist or entitlements (a ``NetworkExtension`` dictionary makes a system extension a
network one). Those facts live in the table with their sources, not in ``if`` statements, so a
reviewer can correct one row without reading code. Rules are tried in ``rule`` order; the first
whose every non-empty condition holds wins, so specific rules come before general ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from macwasm.datafiles import check_value, int_value, read_rows, table_error, table_key
from macwasm.vocabulary import COMMAND_LINE_TOOL, product_types

ROLES_TABLE = "product_roles.csv"
COLUMNS = ("rule", "extension", "location", "info_plist_key", "entitlement", "role", "confirmed", "source", "notes")


@dataclass(frozen=True)
class RoleRule:
    rule: int
    extension: str  # ".appex"; "" = any
    location: str  # "Library/SystemExtensions" (relative to the enclosing Contents/); "" = any
    info_plist_key: str  # top-level Info.plist key that must be present; "" = any
    entitlement: str  # entitlement key the item's executable must hold; "" = any
    role: str
    confirmed: str
    source: str

    def matches(self, extension: str, location: str, info_keys: Iterable[str], entitlements: Iterable[str]) -> bool:
        if self.extension and self.extension != extension:
            return False
        if self.location and self.location != location:
            return False
        if self.info_plist_key and self.info_plist_key not in info_keys:
            return False
        return not (self.entitlement and self.entitlement not in entitlements)


@lru_cache(maxsize=4)
def _load(_key: str) -> tuple[RoleRule, ...]:
    roles = product_types()  # every role is a product type of data/product_types.csv
    rules = []
    for line, row in read_rows(ROLES_TABLE, COLUMNS, exact=True):
        check_value(ROLES_TABLE, line, "role", row["role"], roles)
        number = int_value(ROLES_TABLE, line, "rule", row["rule"])
        if number is None:
            raise table_error(ROLES_TABLE, "every row needs its rule number", line)
        rules.append(RoleRule(number, row["extension"].lower(), row["location"].strip("/"),
                              row["info_plist_key"], row["entitlement"], row["role"], row["confirmed"], row["source"]))
    return tuple(sorted(rules, key=lambda r: r.rule))


def role_rules() -> tuple[RoleRule, ...]:
    return _load(table_key())


def code_locations() -> tuple[str, ...]:
    """Locations (relative to ``Contents/``) where the table says code lives, in a stable order."""
    seen: dict[str, None] = {}
    for rule in role_rules():
        if rule.location:
            seen.setdefault(rule.location, None)
    return tuple(seen)


def is_code_location(relative: str) -> bool:
    """True for a path under a code location of its bundle (``MacOS/x``, ``Library/Anything/x`` ...).

    Apple's layout reserves every ``Contents/Library/<Name>`` folder for a kind of nested code, so
    ``Library/*`` counts even when the table has no rule for that particular name.
    """
    parts = relative.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "Library":
        return True
    return any(relative == loc or relative.startswith(loc + "/") for loc in code_locations())


#: what the table's ``extension`` column calls a bundle folder whose name has no extension
BARE_BUNDLE = "(bundle)"


def resolve_role(name: str, location: str, info_plist: Mapping[str, Any] | None = None,
                 entitlements: Mapping[str, Any] | None = None, *, is_bundle: bool = False) -> tuple[str, int]:
    """``(role, rule number)`` for an item called ``name`` found in ``location`` ("" for the input itself)."""
    dot = name.rfind(".")
    extension = name[dot:].lower() if dot > 0 else ""
    if is_bundle and not extension:
        extension = BARE_BUNDLE
    keys = tuple(info_plist or ())
    ents = tuple(entitlements or ())
    for rule in role_rules():
        if rule.matches(extension, location.strip("/"), keys, ents):
            return rule.role, rule.rule
    return COMMAND_LINE_TOOL, 0  # unreachable with the shipped table (its last rule matches everything)
