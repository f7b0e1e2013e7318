"""The fact tables as pandas frames, and the views the knowledge base shows of them.

Notebooks and the site read the tables through here, never with their own ``read_csv``: the file
is found the same way the engine finds it (``MACWASM_DATA``, the installed package, the checkout),
and the derived views (which key a strategy needs, a runtime's facts per architecture with the
evidence beside each) are computed once, from the same rows the checker uses.
"""

from __future__ import annotations

from typing import Any

from macwasm.datafiles import data_path
from macwasm.policy.evidence import evidence_url


def frame(name: str) -> Any:
    """``data/<name>.csv`` as strings (empty cells stay empty strings, never NaN)."""
    import pandas as pd

    file = name if name.endswith(".csv") else f"{name}.csv"
    return pd.read_csv(data_path(file), dtype=str, keep_default_na=False)


def strategy_keys(platform: str = "macos") -> dict[str, str]:
    """strategy -> the least powerful key that permits it (``permits_strategy`` of entitlements.csv)."""
    from macwasm.policy.tables import entitlement_facts

    out: dict[str, tuple[int, str]] = {}
    for f in entitlement_facts():
        if f.permits_strategy and f.platform == platform:
            rung = f.jit_ladder or 0
            if f.permits_strategy not in out or rung < out[f.permits_strategy][0]:
                out[f.permits_strategy] = (rung, f.key)
    return {strategy: key for strategy, (_, key) in out.items()}


def needs_text(strategy_cell: str, platform: str = "macos") -> str:
    """What a strategy cell asks of the binary, in keys: "none", one key, "a + b", or "a or b"."""
    keys = strategy_keys(platform)
    joiner = " or " if "|" in strategy_cell else " + "
    parts = strategy_cell.replace("|", "+").split("+")
    named = [keys[p] for p in parts if p in keys]
    if "unsupported" in parts:
        return "not available"
    if "out-of-process" in parts:
        return "none in this binary"
    return joiner.join(dict.fromkeys(named)) or "none"


def runtime_matrix(*, engines_only: bool = True) -> Any:
    """One row per runtime and architecture: strategy, the keys it needs, and why we believe it.

    ``evidence`` is a link to the line of code or the document the strategy rests on, ``grade`` how
    it is known; the runtime's identity (engine family, embedding, versions) comes first.
    """
    import pandas as pd

    from macwasm.policy.tables import ARCHES, runtimes

    rows = []
    for rt in runtimes().values():
        if engines_only and rt.is_strategy_only:
            continue
        for arch in ARCHES:
            fact = rt.fact("strategy", arch)
            if fact is None:
                continue
            rows.append({"runtime": rt.runtime, "family": rt.family, "embedding": rt.embedding,
                         "versions": rt.versions, "arch": arch, "strategy": fact.value,
                         "needs": needs_text(fact.value), "grade": fact.grade,
                         "evidence": evidence_url(fact.evidence), "quote": fact.quote})
    return pd.DataFrame(rows)


def runtime_facts_frame(fact: str) -> Any:
    """One row per runtime and architecture a fact (component_model, threads, ...) is stated for, with its
    grade and evidence link; ``arch`` is ``any`` when one row holds for both."""
    import pandas as pd

    from macwasm.policy.tables import runtimes

    rows = []
    for rt in runtimes().values():
        if rt.is_strategy_only:
            continue
        for f in rt.facts:
            if f.fact == fact:
                rows.append({"runtime": rt.runtime, "arch": f.arch, fact: f.value, "grade": f.grade,
                             "evidence": evidence_url(f.evidence), "note": f.note})
    return pd.DataFrame(rows, columns=["runtime", "arch", fact, "grade", "evidence", "note"])


def entitlements_frame() -> Any:
    """entitlements.csv with a link to the evidence of each row (its first source a browser can open)."""
    table = frame("entitlements")
    table["evidence"] = [evidence_url(" ; ".join(s.strip() for s in cell.split(";"))) for cell in table["source"]]
    return table
