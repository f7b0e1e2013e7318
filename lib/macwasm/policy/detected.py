"""From the engines a reader found in a binary to the runtimes the rules judge it with.

Engine detection (``signing/engines.py``, ``data/engine_signatures.csv``) says which family an
engine belongs to and, where the binary tells, which runtime modes are compiled in. A user who
gives no ``--runtime`` gets the binary judged with what was found, and an info finding (MW162)
saying so; a weak or import-only signal (an add-on inside its host) is not enough to judge by.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from macwasm.policy.tables import YES, runtimes

#: detections strong enough to judge a binary by (weaker ones are only shown by ``entitlements``)
USABLE_CONFIDENCE = ("high", "medium")
#: where the engine must be: in the binary or in a library it links (not only imported by an add-on)
USABLE_LOCATIONS = ("embedded", "linked")


def _family_default(family: str) -> str | None:
    """The family's runtime that macOS builds use by default (runtimes.csv ``default_on_macos``), first row."""
    return next((r.runtime for r in runtimes().values() if r.family == family and r.default_on_macos == YES), None)


def modes_of(family: str) -> list[str]:
    return [r.runtime for r in runtimes().values() if r.family == family and not r.is_strategy_only]


def judged_runtimes(detections: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    """(runtime, evidence) for each usable detection: its compiled-in modes, or its family's default mode."""
    out: dict[str, str] = {}
    for d in detections:
        if d.confidence not in USABLE_CONFIDENCE or d.location not in USABLE_LOCATIONS:
            continue
        keys = list(d.runtimes) or [k for k in (_family_default(d.engine),) if k]
        how = d.evidence[0] if d.evidence else d.engine
        for key in keys:
            out.setdefault(key, f"{d.engine}, {d.confidence}: {how}")
    return tuple(out.items())
