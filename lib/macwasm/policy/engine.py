"""Evaluate the rules of ``data/rules.csv`` on a target and give a verdict.

A finding's words come from the rule row (message template, fix, reference, the exact AMFI or
notary-log string); its values from the predicate. When a finding rests on a fact marked
``unconfirmed`` an ``error`` is lowered to the rule's ``unconfirmed_severity`` and the message says
UNCONFIRMED: the engine reports doubt as doubt instead of guessing a launch failure.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from macwasm.policy import predicates as _predicates
from macwasm.policy.context import Context, Hit
from macwasm.policy.tables import UNCONFIRMED, Rule, rules, weakest
from macwasm.policy.target import Target
from macwasm.vocabulary import ERROR, FAIL, PASS, SEVERITIES, WARN, WARNING
from macwasm.vocabulary import VERDICTS as VERDICTS

PREDICATES = _predicates.PREDICATES
_SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: str
    message: str
    fix: str
    reference: str
    subject: str | None
    #: how well the rule and the facts it used are known: the weakest of their grades (vocabulary.GRADES)
    grade: str
    title: str = ""
    log_message: str = ""
    diagnostic_id: str = ""
    remove: tuple[str, ...] = ()
    add: tuple[str, ...] = ()
    #: (written, meant): a fix moves the value of a misspelt key to the key it was meant to be
    rename: tuple[tuple[str, str], ...] = ()
    #: the entitlement keys the message names (its ``{keys}``), for SARIF's line of a key
    keys: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "severity": self.severity, "message": self.message, "fix": self.fix,
                "reference": self.reference, "subject": self.subject, "grade": self.grade}


@dataclass
class TargetResult:
    target: str
    product_type: str
    verdict: str
    findings: list[Finding] = field(default_factory=list)
    subject: str | None = None
    runtimes: tuple[str, ...] = ()
    group: tuple[tuple[str, str], ...] = ()  # e.g. project / target / configuration of an Xcode target

    @property
    def rule_ids(self) -> list[str]:
        return [f.rule_id for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        out = {"target": self.target, "product_type": self.product_type, "verdict": self.verdict,
               "findings": [f.to_dict() for f in self.findings]}
        return {**dict(self.group), **out} if self.group else out


def verdict_of(findings: list[Finding]) -> str:
    severities = {f.severity for f in findings}
    if ERROR in severities:
        return FAIL
    return WARN if WARNING in severities else PASS


def finding_order(finding: Finding) -> tuple[int, str]:
    return (_SEVERITY_ORDER[finding.severity], finding.rule_id)


def make_finding(rule: Rule, hit: Hit, target: Target) -> Finding:
    grade = weakest((rule.grade, hit.grade or rule.grade))
    severity = rule.severity
    params = {"log_message": rule.log_message, **hit.params}
    message = rule.message.format(**params)
    if grade == UNCONFIRMED:
        if severity == ERROR:
            severity = rule.unconfirmed_severity
        if "UNCONFIRMED" not in message:
            message = f"UNCONFIRMED: {message}"
    return Finding(rule_id=rule.id, severity=severity, message=message, fix=rule.fix.format(**params),
                   reference=hit.reference or rule.reference, subject=hit.subject or _default_subject(rule, target),
                   grade=grade, title=rule.title, log_message=rule.log_message,
                   diagnostic_id=rule.diagnostic_id, remove=hit.remove, add=hit.add, rename=hit.rename,
                   keys=_keys_named(hit))


def _default_subject(rule: Rule, target: Target) -> str | None:
    """A finding about entitlement keys points at the entitlements file when that is not the target's subject."""
    if target.entitlements_subject and "entitlements" in rule.reads:
        return target.entitlements_subject
    return target.subject


def _keys_named(hit: Hit) -> tuple[str, ...]:
    """The entitlement keys a finding names (for the SARIF region: the line of the first one's <key>)."""
    text = str(hit.params.get("keys") or hit.params.get("key") or "")
    return tuple(k for k in text.split(", ") if k)


def evaluate(target: Target, *, only: Collection[str] | None = None, ignore: Collection[str] = ()) -> TargetResult:
    """Every active rule that applies to the target's platform and distribution, in id order.

    ``only``: just these rules (audit judges rule groups apart); ``ignore``: leave these out (``--ignore``).
    """
    ctx = Context(target)
    findings: list[Finding] = []
    for rule in rules().values():
        if rule.status != "active" or (only is not None and rule.id not in only) or rule.id in ignore:
            continue
        if not rule.applies(target.platform, target.distribution):
            continue
        fn = PREDICATES.get(rule.id)
        if fn is None:
            continue  # a rule row without code yet: listed by tests, never silently half-applied
        findings.extend(make_finding(rule, hit, target) for hit in fn(ctx))
    findings.sort(key=finding_order)
    return TargetResult(target=target.name, product_type=target.product_type, verdict=verdict_of(findings),
                        findings=findings, subject=target.subject,
                        runtimes=target.runtimes if target.runtime_applies else (), group=target.group)
