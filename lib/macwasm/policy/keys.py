"""Entitlement keys as written: known or not, typed right or not, and what a plist without any looks like.

A misspelt relaxation (``allow-jti``) grants nothing, so a checker that simply ignores it would
judge the binary without it and say nothing; a string ``yes`` where the system reads a boolean is
just as silent. These helpers let the rules name such keys. What counts as known is data
(``entitlements.csv``, ``apple_entitlement_keys.csv``, ``plist_kinds.csv``); this module only measures.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from macwasm.policy.tables import entitlement_facts, known_apple_keys, plist_kinds

#: at most this many single-character edits (or one swap of neighbours) make a key a likely typo
TYPO_DISTANCE = 2
#: keys shorter than this are too short to tell a typo from another word
TYPO_MIN_LENGTH = 12


@lru_cache(maxsize=4)
def _known(_key: str = "") -> dict[str, str]:
    """Every known key -> its value type (judged keys first, then the other keys Apple defines)."""
    out: dict[str, str] = {}
    for fact in entitlement_facts():
        out.setdefault(fact.key, fact.value_type)
    for key, known in known_apple_keys().items():
        out.setdefault(key, known.value_type)
    return out


def known_keys() -> dict[str, str]:
    import os

    return _known(os.environ.get("MACWASM_DATA", ""))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (insert, delete, replace, swap of neighbours), cut off past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def closest_known(key: str) -> str | None:
    """The known key this unknown one is most likely a typo of (same letters in another case counts)."""
    known = known_keys()
    if key in known or len(key) < TYPO_MIN_LENGTH:
        return None
    best: tuple[int, str] | None = None
    low = key.lower()
    for candidate in known:
        d = edit_distance(low, candidate.lower(), TYPO_DISTANCE)
        if d <= TYPO_DISTANCE and (best is None or (d, candidate) < best):
            best = (d, candidate)
    return best[1] if best else None


def plist_type(value: Any) -> str:
    """The plist type name of a value as the readers return it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "dictionary"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (bytes, bytearray)):
        return "data"
    if isinstance(value, _dt.datetime):
        return "date"
    return type(value).__name__


def is_entitlement_key(key: str) -> bool:
    return key in known_keys() or any(k.entitlement_namespace == "yes" and k.matches(key) for k in plist_kinds())


def looks_like(keys: Iterable[str]) -> tuple[str, list[str]] | None:
    """(kind, the keys that say so) for a plist whose keys match another kind of plist best."""
    keys = list(keys)
    scores: dict[str, list[str]] = {}
    for kind in plist_kinds():
        if kind.entitlement_namespace == "yes":
            continue
        for key in keys:
            if kind.matches(key) and key not in scores.setdefault(kind.kind, []):
                scores[kind.kind].append(key)
    scores = {k: v for k, v in scores.items() if v}
    if not scores:
        return None
    best = max(scores, key=lambda k: (len(scores[k]), k))
    return best, scores[best]


def shown_value(value: Any, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= limit else text[: limit - 3] + "..."


def all_keys(entitlements: Mapping[str, Any] | None) -> list[str]:
    return [str(k) for k in (entitlements or {})]
