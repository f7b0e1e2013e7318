"""A runtime's documentation, for its page on the site and for ``macwasm runtime NAME``.

How it makes code run on each architecture and which entitlement that takes, what the checker says
for each product type holding exactly those entitlements, which module kinds and proposals it
supports, and the caveats it brings: every fact with its grade and a link to the line of code or the
document it rests on. All of it is read from ``runtimes.csv``, ``runtime_facts.csv`` and
``runtime_caveats.csv`` through :mod:`macwasm.policy.tables`; the verdicts are evaluated when the
page or the text is made.
"""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import urlparse

from macwasm.policy.context import Context
from macwasm.policy.engine import TargetResult, evaluate
from macwasm.policy.evidence import parse_cell
from macwasm.policy.frames import needs_text
from macwasm.policy.tables import (
    ARCHES,
    PRODUCT_TYPES,
    RUNTIME_FACTS,
    Runtime,
    RuntimeFact,
    entitlement_facts,
    runtimes,
    trait_facts,
)
from macwasm.policy.target import Target
from macwasm.report.doc import Bullets, Code, Doc, Heading, Inline, Item, Link, Para, Span, Table, span
from macwasm.report.links import RUNTIMES_INDEX, page_link, runtime_source
from macwasm.report.rule_doc import grade_link, rule_link

#: facts shown in their own sections (the rest go under "Other facts")
STRATEGY = "strategy"
COMPONENT_MODEL = "component_model"
NOT_APPLICABLE = "n/a"


class UnknownRuntime(LookupError):
    """No runtime (or strategy) has this name (the CLI says so and exits 2)."""


def find_runtime(name: str) -> Runtime:
    table = runtimes()
    rt = table.get(name.strip().lower())
    if rt is None:
        raise UnknownRuntime(f"no runtime {name!r}; the runtimes are {', '.join(table)} (macwasm runtime lists them)")
    return rt


def evidence_link(cell: str, here: str) -> Inline:
    """The cell's first item as a short link: ``repo file:line`` for code, the address for a document,
    the other runtime's page for ``runtime_facts:<runtime>``."""
    items, bad = parse_cell(cell)
    if not items:
        return bad[0] if bad else ""
    item = items[0]
    if item.same_as is not None:
        return Link(f"as for {item.same_as}", page_link(here, runtime_source(item.same_as)))
    if item.repo is not None:
        where = posixpath.basename(item.path or "") or item.commit or ""
        if item.first_line is not None:
            where += f":{item.first_line}" + (f"-{item.last_line}" if item.last_line else "")
        elif item.symbol:
            where += f" {item.symbol}"
        return Link(f"{item.repo.split('/')[-1]} {where}".strip(), item.url)
    parsed = urlparse(item.url)
    label = (parsed.netloc + parsed.path).rstrip("/")
    return Link(label if len(label) <= 60 else label[:57] + "...", item.url)


def _fact_row(f: RuntimeFact, here: str, *, name: str | None = None) -> tuple[Span, ...]:
    first = (span(name or f.fact.replace("_", " ")),) if name != "" else ()
    return (*first, span(f.arch), span(Code(f.value)), span(grade_link(f.grade, here)),
            span(evidence_link(f.evidence, here)))


def _strategy_section(rt: Runtime, here: str) -> list[Any]:
    rows = []
    for arch in ARCHES:
        f = rt.fact(STRATEGY, arch)
        if f is None:
            continue
        needs = needs_text(f.value)
        rows.append((span(arch), span(Code(f.value)), span(Code(needs) if needs not in ("none", "not available",
                     "none in this binary") else needs), span(grade_link(f.grade, here)),
                     span(evidence_link(f.evidence, here))))
    return [Heading("Strategy per architecture"),
            Para(("How the runtime makes code run on each architecture, and the entitlement that needs under "
                  "the Hardened Runtime (", Code("a|b"), ": either path; ", Code("a+b"), ": both).")),
            Table(("architecture", "strategy", "entitlements it needs", "grade", "evidence"), tuple(rows))]


def required_keys(runtime: str, product_type: str) -> tuple[str, ...]:
    """The JIT keys the runtime needs in a binary of this product type (both architectures), ladder order."""
    ctx = Context(Target(name=runtime, product_type=product_type, runtimes=(runtime,), entitlements={}))
    rung = {f.key: f.jit_ladder or 0 for f in entitlement_facts()}
    return tuple(sorted(ctx.required_keys, key=lambda k: (rung.get(k, 0), k)))


def product_type_results(runtime: str) -> list[tuple[str, tuple[str, ...], TargetResult]]:
    """Per product type: the keys the runtime needs and the checker's result for a binary holding exactly those."""
    out = []
    for ptype in PRODUCT_TYPES:
        keys = required_keys(runtime, ptype)
        target = Target(name=f"{runtime} in a {ptype}", product_type=ptype, runtimes=(runtime,),
                        entitlements=dict.fromkeys(keys, True), input_form="options")
        out.append((ptype, keys, evaluate(target)))
    return out


def _product_section(rt: Runtime, here: str) -> list[Any]:
    rows = []
    for ptype, keys, result in product_type_results(rt.runtime):
        problems: list[Inline] = []
        for rule_id, severity in dict.fromkeys((f.rule_id, f.severity) for f in result.findings
                                               if f.severity != "info"):
            problems += [", "] if problems else []
            problems += [rule_link(rule_id, here), f" ({severity})"]
        given: Span = tuple(x for i, k in enumerate(keys) for x in ((", ",) if i else ()) + (Code(k),)) or ("none",)
        rows.append((span(ptype), given, span(Code(result.verdict)), tuple(problems) or ("-",)))
    return [Heading("Entitlements needed per product type"),
            Para(("For each product type, a binary (arm64 and x86_64) that runs this runtime and holds exactly "
                  "the entitlements its strategy needs, checked with the rules: the verdict, and the errors and "
                  "warnings that stand between it and a launch.",)),
            Table(("product type", "entitlements", "verdict", "errors and warnings"), tuple(rows))]


def _facts_section(title: str, intro: str, facts: list[RuntimeFact], here: str) -> list[Any]:
    if not facts:
        return []
    return [Heading(title), Para((intro,)),
            Table(("fact", "architecture", "value", "grade", "evidence"), tuple(_fact_row(f, here) for f in facts))]


def _caveat_section(rt: Runtime, here: str) -> list[Any]:
    if not rt.caveats:
        return []
    items = []
    for c in rt.caveats:
        scope = [f"on {c.arch}" if c.arch != "any" else "on every architecture"]
        scope.append("in " + ", ".join(c.product_types) if c.product_types else "in every product type")
        if c.unless_keys:
            scope.append("unless the binary holds " + ", ".join(c.unless_keys))
        if c.hardened_runtime_only == "yes":
            scope.append("under the Hardened Runtime")
        items.append(Item((c.text, f" ({'; '.join(scope)}; grade ", grade_link(c.grade, here), "; evidence ",
                           evidence_link(c.evidence, here), ")"), lead=f"{c.id}:"))
    return [Heading("Caveats"), Para(("Conditions the runtime brings with it; ", rule_link("MW116", here),
                                      " reports each one where it is in force.")), Bullets(tuple(items))]


def _quotes_section(rt: Runtime, here: str) -> list[Any]:
    seen: set[str] = set()
    items = []
    for f in rt.facts:
        if f.quote and f.quote not in seen and f.value != NOT_APPLICABLE:
            seen.add(f.quote)
            items.append(Item((f"“{f.quote}” ", evidence_link(f.evidence, here)),
                              lead=f"{f.fact.replace('_', ' ')} ({f.arch}):"))
    return [Heading("What the evidence says"), Bullets(tuple(items))] if items else []


def runtime_doc(name: str) -> Doc:
    """The whole page of one runtime or strategy (raises :class:`UnknownRuntime`)."""
    rt = find_runtime(name)
    here = runtime_source(rt.runtime)
    doc = Doc(rt.runtime if rt.name == rt.runtime else f"{rt.runtime}: {rt.name}")
    if rt.is_strategy_only:
        doc.add(Para(("A strategy rather than a named engine: what ", Code(f"--runtime {rt.runtime}"),
                      " stands for when the engine is not in the table.")))
    identity = [("family", rt.family), ("embedding", rt.embedding), ("versions", rt.versions), ("mode", rt.mode),
                ("default on macOS", rt.default_on_macos), ("speed tier", str(rt.speed_tier)),
                ("language", rt.language), ("license", rt.license)]
    doc.add(Bullets(tuple(Item((value,), lead=f"{label}:") for label, value in identity
                          if value and value != NOT_APPLICABLE)))
    if rt.notes:
        doc.add(Para((rt.notes,)))
    doc.add(*_strategy_section(rt, here), *_product_section(rt, here))
    traits = set(trait_facts().values())
    support = [f for f in rt.facts if (f.fact == COMPONENT_MODEL or f.fact in traits) and f.value != NOT_APPLICABLE]
    other = [f for f in rt.facts if f.fact not in (STRATEGY, COMPONENT_MODEL) and f.fact not in traits
             and f.value != NOT_APPLICABLE]
    order = list(RUNTIME_FACTS)
    doc.add(*_facts_section("Component model and proposals",
                            "Which module kinds and WebAssembly proposals the runtime loads (rules MW141, MW142, "
                            "MW146, MW148 read these).", sorted(support, key=lambda f: order.index(f.fact)), here))
    doc.add(*_facts_section("Other facts", "What else the rules read about this runtime.",
                            sorted(other, key=lambda f: order.index(f.fact)), here))
    doc.add(*_caveat_section(rt, here), *_quotes_section(rt, here))
    sources = [item for item in parse_cell(rt.source.replace("; ", " ; "))[0] if item.url]
    if sources:
        doc.add(Heading("Sources"), Bullets(tuple(Item((Link(s.text, s.url),)) for s in sources)))
    return doc


def _strategy_cell(rt: Runtime, arch: str) -> Span:
    f = rt.fact(STRATEGY, arch)
    return span(Code(f.value)) if f else span("-")


def runtimes_index_doc() -> Doc:
    """Every runtime and strategy in two tables, linked to their pages."""
    here = RUNTIMES_INDEX
    doc = Doc("Runtimes")
    doc.add(Para(("Every runtime mode macwasm knows, from ", Code("data/runtimes.csv"), " and its facts (",
                  Code("runtime_facts.csv"), ", ", Code("runtime_caveats.csv"), "). ", Code("macwasm runtime NAME"),
                  " prints the same page in a terminal; ", Code("--runtime NAME"), " checks a binary with it.")))

    def row(rt: Runtime) -> tuple[Span, ...]:
        return (span(Link(rt.runtime, page_link(here, runtime_source(rt.runtime)))), _strategy_cell(rt, "arm64"),
                _strategy_cell(rt, "x86_64"), span(Code(rt.component_model)), span(rt.name))

    columns = ("runtime", "arm64", "x86_64", "component model", "name")
    table = runtimes().values()
    doc.add(Heading("Engines"), Table(columns, tuple(row(rt) for rt in table if not rt.is_strategy_only)))
    doc.add(Heading("Strategies"), Para(("For an engine not in the table: name the way it makes code run.",)),
            Table(columns, tuple(row(rt) for rt in table if rt.is_strategy_only)))
    return doc


def runtime_record(name: str) -> dict[str, Any]:
    """The runtime, its facts, caveats and per-product verdicts as JSON-ready data (``--format json``)."""
    rt = find_runtime(name)
    fields = ("runtime", "name", "family", "embedding", "versions", "mode", "default_on_macos", "speed_tier",
              "language", "license", "notes", "source")
    facts = [{"fact": f.fact, "arch": f.arch, "value": f.value, "grade": f.grade, "evidence": f.evidence,
              "quote": f.quote, "note": f.note} for f in rt.facts]
    caveats = [{"id": c.id, "arch": c.arch, "product_types": list(c.product_types), "unless_keys": list(c.unless_keys),
                "text": c.text, "grade": c.grade, "evidence": c.evidence} for c in rt.caveats]
    per_product = [{"product_type": p, "entitlements": list(keys), "verdict": r.verdict,
                    "findings": [f.to_dict() for f in r.findings]} for p, keys, r in product_type_results(rt.runtime)]
    return {**{f: getattr(rt, f) for f in fields}, "facts": facts, "caveats": caveats, "product_types": per_product}
