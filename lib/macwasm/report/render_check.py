"""``check``: a verdict per target, as text, JSON, JSON Lines, SARIF or GitHub workflow annotations.

The payload is a :class:`CheckRun`: the outcomes as they come (a :class:`TargetResult` per target,
an error record per input that could not be read) and the counts, filled while they are consumed.
Text and JSON stream (memory stays flat over a batch of 10,000 inputs); SARIF is one document.

Every JSON record has the same keys, read or not (``target``, ``product_type``, ``verdict``,
``findings``, ``error``, ``error_category``, ``error_offset``, and ``schema_version``); an Xcode
target's record starts with its ``project``, ``xcode_target`` and ``configuration``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from macwasm.errors import MacwasmError
from macwasm.policy.engine import TargetResult
from macwasm.report.emit import printable, write_json, write_jsonl
from macwasm.report.formats import RenderOptions
from macwasm.report.links import rule_url
from macwasm.report.schema import versioned
from macwasm.report.text import block
from macwasm.vocabulary import FAIL, INFO, PASS, UNJUDGED, VERDICTS, WARN

#: the counts a check run keeps (the verdicts, and inputs that could not be read)
UNREADABLE = "unreadable"
Outcome = TargetResult | dict[str, Any]


@dataclass
class CheckRun:
    """What ``check`` hands to its renderers."""

    outcomes: Iterable[Outcome]
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*VERDICTS, UNREADABLE), 0))


def error_record(path: str, err: MacwasmError) -> dict[str, Any]:
    """The record of an input that could not be read: a target's keys, verdict ``error``, and the error."""
    return {"target": path, "product_type": None, "verdict": UNJUDGED, "findings": [], "error": err.message,
            "error_category": err.category, "error_offset": err.offset}


def record(outcome: Outcome) -> dict[str, Any]:
    """The JSON record of one outcome (versioned; the same keys for a target and an unreadable input)."""
    if isinstance(outcome, dict):
        return versioned(outcome)
    return versioned({**outcome.to_dict(), "error": None, "error_category": None, "error_offset": None})


def quiet(result: TargetResult) -> TargetResult:
    """The result without its info-severity findings (``-q``)."""
    return replace(result, findings=[f for f in result.findings if f.severity != INFO])


def _outcomes(run: CheckRun, options: RenderOptions) -> Iterator[Outcome]:
    for outcome in run.outcomes:
        yield quiet(outcome) if options.quiet and isinstance(outcome, TargetResult) else outcome


def json_array(run: CheckRun, out: TextIO, options: RenderOptions) -> None:
    write_json((record(o) for o in _outcomes(run, options)), out)


def json_lines(run: CheckRun, out: TextIO, options: RenderOptions) -> None:
    write_jsonl((record(o) for o in _outcomes(run, options)), out)


def table(run: CheckRun, out: TextIO, options: RenderOptions) -> None:
    """A block per target: verdict line, then one line per finding with its fix, its reference (the
    primary source: Apple's page, or the finding's own evidence such as a caveat's) and its rule's page
    (``macwasm rule ID`` prints the same page offline); a summary."""
    for outcome in _outcomes(run, options):
        if isinstance(outcome, dict):
            out.write(printable(f"{outcome['target']}  ERROR  {outcome['error']}\n\n"))
            continue
        r = outcome
        if options.quiet and not r.findings:
            continue
        out.write(printable(f"{r.target}  [{r.product_type}]  {r.verdict.upper()}\n"))
        for f in r.findings:
            subject = f" ({f.subject})" if f.subject and f.subject != r.subject else ""
            out.write(printable(block(f.message + subject, first=f"  {f.severity:<7} {f.rule_id}  ")))
            if f.severity != INFO:
                out.write(printable(block(f.fix, first="          fix: ", rest=" " * 15)))
                # links stay whole, to be clicked: the primary source first, then the rule's page
                out.write(printable(f"          ref: {f.reference}\n"))
                out.write(printable(f"          see: {rule_url(f.rule_id)}\n"))
        out.write("\n")
    if options.quiet:
        return
    counts = run.counts
    total = counts[PASS] + counts[WARN] + counts[FAIL]
    out.write(f"{total} target(s): {counts[PASS]} pass, {counts[WARN]} warn, {counts[FAIL]} fail"
              + (f"; {counts[UNREADABLE]} unreadable" if counts[UNREADABLE] else "") + "\n")


def _split(run: CheckRun, options: RenderOptions) -> tuple[list[TargetResult], list[dict[str, Any]]]:
    results: list[TargetResult] = []
    errors: list[dict[str, Any]] = []
    for outcome in _outcomes(run, options):
        if isinstance(outcome, dict):
            errors.append(outcome)
        else:
            results.append(outcome)
    return results, errors


def sarif(run: CheckRun, out: TextIO, options: RenderOptions) -> None:
    from macwasm.report.sarif import to_sarif

    results, errors = _split(run, options)
    log = to_sarif(results, errors=errors, root=options.root)
    out.write(json.dumps(log, indent=2, ensure_ascii=False) + "\n")
    nowhere = sum(1 for r in log["runs"][0]["results"] if not r.get("locations"))
    if nowhere and options.say is not None:
        options.say(f"{nowhere} SARIF result(s) have no file to point at (--entitlement or standard input): code "
                    "scanning refuses results without a location")


def github(run: CheckRun, out: TextIO, options: RenderOptions) -> None:
    """One workflow annotation per finding, at the place SARIF gives it (the file, the line of the key)."""
    from macwasm.report.github import error_annotation, finding_annotation
    from macwasm.report.sarif import Where, subject_locator

    for outcome in _outcomes(run, options):
        if isinstance(outcome, dict):
            out.write(error_annotation(outcome["error"], Where(outcome["target"]), options.root))
            continue
        for f in outcome.findings:
            out.write(finding_annotation(outcome, f, subject_locator(outcome, f), options.root))
