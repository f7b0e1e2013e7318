"""A rule's documentation, in ruff's shape, for its page on the site and for ``macwasm rule ID``.

What it checks, why it matters, an example that fires and one that stays quiet, the fix, what the
logs say, the references and the evidence grade. Every part comes from the tables: the rule's row
of ``rules.csv`` and its two rows of ``rule_examples.csv``, which are evaluated here, every time the
page or the text is made, so the findings shown are the ones the engine gives now.
"""

from __future__ import annotations

import plistlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from macwasm.policy.engine import Finding, TargetResult, evaluate
from macwasm.policy.evidence import parse_item
from macwasm.policy.examples import CASES, RuleExample, rule_examples
from macwasm.policy.tables import Rule, rules
from macwasm.report.doc import Bullets, Code, Doc, Heading, Inline, Item, Link, Para, Pre, Span, Table, span
from macwasm.report.links import EVIDENCE_SOURCE, RULES_INDEX, page_link, rule_source, runtime_source
from macwasm.report.sarif import neutral_fix

#: what each prediction means for the product, in words (rules.csv ``predicts``)
PREDICTION_WORDS = {
    "launch-refusal": "the system refuses to launch the binary",
    "crash": "the process crashes (or its JIT fails) at run time",
    "load-failure": "the runtime fails to load the module",
    "notarization-rejection": "Apple's notary service rejects the upload",
    "store-rejection": "Mac App Store review rejects the build",
    "slower": "it works, but slower than planned",
    "none": "nothing breaks; the finding is advice or a note on what was not checked",
}
CASE_HEADINGS = {"fires": "Example that fires", "quiet": "Example that stays quiet"}
#: the target fields an example may set, as a reader names them (the rest are shown by name)
FIELD_LABELS = {
    "product_type": "product type", "product_type_basis": "product type basis", "platform": "platform",
    "distribution": "distribution", "runtimes": "runtime", "arch": "architectures", "module_source": "modules",
    "module_kind": "module kind", "input_form": "input", "signature_kind": "signature",
    "hardened_runtime": "Hardened Runtime", "has_timestamp": "secure timestamp",
    "has_profile": "embedded provisioning profile", "profile_keys": "keys the profile authorises",
    "wasm_files": ".wasm files", "build_notes": "what the Xcode project left open",
}


class UnknownRule(LookupError):
    """No rule has this id (the CLI says so and exits 2)."""


@dataclass(frozen=True)
class ExampleResult:
    example: RuleExample
    result: TargetResult

    @property
    def own(self) -> list[Finding]:
        return [f for f in self.result.findings if f.rule_id == self.example.rule_id]

    @property
    def holds(self) -> bool:
        """The example shows what its case says: the rule fires on a ``fires`` target, not on a ``quiet`` one."""
        return bool(self.own) == (self.example.case == "fires")


def find_rule(rule_id: str) -> Rule:
    table = rules()
    rule = table.get(rule_id.strip().upper())
    if rule is None:
        raise UnknownRule(f"no rule {rule_id!r} (rule ids are MW and three digits; 'macwasm rule' lists them)")
    return rule


def example_results(rule_id: str) -> list[ExampleResult]:
    """The rule's examples in page order, each evaluated now."""
    cases = rule_examples().get(rule_id, {})
    return [ExampleResult(cases[c], evaluate(cases[c].target)) for c in CASES if c in cases]


# ---------------------------------------------------------------------------------------------- pieces

def _refs(cell: str) -> list[Link]:
    """The links of a source cell (``;``-separated URLs and ``owner/repo@commit:path:line`` items)."""
    out: list[Link] = []
    for part in cell.replace(" ; ", ";").split(";"):
        item = parse_item(part.strip())
        if item is not None and item.url and all(link.url != item.url for link in out):
            out.append(Link(item.text, item.url))
    return out


def grade_link(grade: str, here: str) -> Link:
    return Link(grade, f"{page_link(here, EVIDENCE_SOURCE)}#{grade}")


def rule_link(rule_id: str, here: str) -> Link:
    return Link(rule_id, page_link(here, rule_source(rule_id)))


def _plist(entitlements: Mapping[str, Any]) -> str:
    """The entitlements as the ``.entitlements`` file would hold them (header lines left out)."""
    text = plistlib.dumps(dict(entitlements), sort_keys=False).decode()
    lines = [line.replace("\t", "  ") for line in text.splitlines()
             if not line.startswith(("<?xml", "<!DOCTYPE"))]
    return "\n".join(lines)


def _field_value(name: str, value: Any, here: str) -> Span:
    if name == "runtimes":
        parts: list[Inline] = []
        for i, runtime in enumerate(value):
            parts += [", "] if i else []
            parts.append(Link(runtime, page_link(here, runtime_source(runtime))))
        return tuple(parts)
    if isinstance(value, bool):
        return ("yes" if value else "no",)
    if name == "profile_keys":
        return tuple(Code(k) for k in value) if value else ("none",)
    if name == "wasm_files":
        return ("; ".join(f"{w['path']} ({w['location']}, {w['kind']}"
                          + (f", uses {', '.join(w['traits'])}" if w.get("traits") else "") + ")" for w in value),)
    if name == "build_notes":
        return ("; ".join(f"{n['kind']} in {n['setting']} ({n['detail']})" for n in value),)
    return (str(value),)


def target_blocks(description: Mapping[str, Any], here: str) -> list[Any]:
    """What the example target is: its entitlements as a plist, the other facts as a list."""
    blocks: list[Any] = []
    entitlements = description.get("entitlements") or {}
    if entitlements:
        blocks.append(Pre(_plist(entitlements), "xml"))
    else:
        blocks.append(Para(("No entitlements.",)))
    items = [Item(_field_value(name, value, here), lead=f"{FIELD_LABELS.get(name, name)}:")
             for name, value in description.items() if name != "entitlements"]
    if items:
        blocks.append(Bullets(tuple(items)))
    return blocks


def _finding_items(findings: list[Finding]) -> list[Item]:
    items = []
    for f in findings:
        items.append(Item((f.message,), lead=f"{f.severity} {f.rule_id}"))
        if f.severity != "info":
            items.append(Item((f.fix,), lead="fix:"))
    return items


def example_blocks(ex: ExampleResult, here: str) -> list[Any]:
    rule_id = ex.example.rule_id
    blocks: list[Any] = [Heading(CASE_HEADINGS[ex.example.case]), *target_blocks(ex.example.description, here)]
    verdict = span("macwasm's verdict: ", Code(ex.result.verdict), ". ")
    if ex.own:
        blocks.append(Para((*verdict, f"{rule_id} finds:")))
        blocks.append(Bullets(tuple(_finding_items(ex.own))))
    else:
        blocks.append(Para((*verdict, f"No {rule_id} finding.")))
    others = [f for f in ex.result.findings if f.rule_id != rule_id]
    if others:
        parts: list[Inline] = ["Other findings on this target: "]
        for i, f in enumerate(others):
            parts += [", "] if i else []
            parts += [rule_link(f.rule_id, here), f" ({f.severity})"]
        blocks.append(Para((*parts, ".")))
    if not ex.holds:
        blocks.append(Para((f"NOTE: with the tables in use this example does not show what it should "
                            f"({rule_id} {'does not fire' if ex.example.case == 'fires' else 'fires'}).",)))
    return blocks


def _meta(rule: Rule, here: str) -> Bullets:
    severity = rule.severity + (f" ({rule.unconfirmed_severity} when a fact it rests on is unconfirmed)"
                                if rule.unconfirmed_severity != rule.severity else "")
    applies = []
    if rule.platforms:
        applies.append("platform " + ", ".join(rule.platforms))
    if rule.distributions:
        applies.append("distribution " + ", ".join(rule.distributions))
    items = [Item((severity,), lead="Severity:"),
             Item((PREDICTION_WORDS.get(rule.predicts, rule.predicts), " (", Code(rule.predicts), ")"),
                  lead="Predicts:"),
             Item((grade_link(rule.grade, here),), lead="Evidence grade:"),
             Item(("; ".join(applies) or "every platform and distribution",), lead="Applies to:"),
             Item((f"{rule.status}, since macwasm {rule.since}",), lead="Status:")]
    return Bullets(tuple(items))


def rule_doc(rule_id: str) -> Doc:
    """The whole page of one rule (raises :class:`UnknownRule`)."""
    rule = find_rule(rule_id)
    here = rule_source(rule.id)
    doc = Doc(f"{rule.id} {rule.name}")
    doc.add(Para((rule.title + ".",)), _meta(rule, here))
    doc.add(Heading("What it checks"), Para((rule.checks,)))
    doc.add(Heading("Why it matters"), Para((rule.why,)))
    for ex in example_results(rule.id):
        doc.add(*example_blocks(ex, here))
    doc.add(Heading("Fix"), Para((neutral_fix(rule),)))
    if rule.log_message or rule.diagnostic_id:
        parts: list[Inline] = ["When it happens, the system says: ", Code(rule.log_message)] if rule.log_message else []
        if rule.diagnostic_id:
            parts += [" (", Code("macwasm explain"), f" knows it as {rule.diagnostic_id})."]
        doc.add(Heading("What the logs say"), Para(tuple(parts)))
    refs = _refs(rule.reference)
    refs += [link for link in _refs(rule.source) if all(link.url != r.url for r in refs)]
    doc.add(Heading("References"), Bullets(tuple(Item((link,)) for link in refs)))
    return doc


def rules_index_doc() -> Doc:
    """Every rule in one table, linked to its page."""
    here = RULES_INDEX
    doc = Doc("Rules")
    doc.add(Para(("Every rule macwasm applies, from ", Code("data/rules.csv"), ". Each page shows an example "
                  "that fires and one that stays quiet, evaluated when the page was built; ",
                  Code("macwasm rule ID"), " prints the same page in a terminal.")))
    rows = tuple((span(rule_link(r.id, here)), span(r.severity), span(r.predicts), span(grade_link(r.grade, here)),
                  span(r.title)) for r in rules().values())
    doc.add(Table(("rule", "severity", "predicts", "grade", "title"), rows))
    return doc


def rule_record(rule_id: str) -> dict[str, Any]:
    """The rule and its examples' results as JSON-ready data (``macwasm rule ID --format json``)."""
    rule = find_rule(rule_id)
    examples = [{"case": ex.example.case, "target": dict(ex.example.description), "verdict": ex.result.verdict,
                 "findings": [f.to_dict() for f in ex.result.findings], "holds": ex.holds}
                for ex in example_results(rule.id)]
    fields = ("id", "name", "title", "severity", "unconfirmed_severity", "predicts", "checks", "why",
              "reference", "log_message", "diagnostic_id", "grade", "status", "since", "source")
    return {**{f: getattr(rule, f) for f in fields}, "fix": neutral_fix(rule), "examples": examples}
