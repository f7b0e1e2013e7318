"""SARIF 2.1.0 for ``macwasm check --format sarif`` (GitHub code scanning, IDE viewers).

The rule metadata (``tool.driver.rules``) is ``data/rules.csv`` itself, so a reviewer who fixes a
rule's wording fixes it in every SARIF viewer too. Locations are relative URIs: code scanning
refuses absolute paths from another machine, and a log must not leak a build host's layout.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from macwasm import __version__
from macwasm.policy.engine import TargetResult
from macwasm.policy.tables import rules

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
#: SARIF has no "info" level; "note" is its name for it
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def relative_uri(subject: str) -> str | None:
    """A relative, percent-encoded URI for a subject path; None for an absolute or empty one."""
    if not subject or subject == "-":
        return None
    path = subject.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return None
    path = posixpath.normpath(path)
    if path.startswith(".."):
        return None
    return quote(path, safe="/._-~")


def sarif_rules() -> list[dict[str, Any]]:
    out = []
    for rule in rules().values():
        out.append({
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.checks},
            "help": {"text": f"{rule.fix} Reference: {rule.reference}"},
            "helpUri": rule.reference,
            "defaultConfiguration": {"level": LEVELS[rule.severity]},
            "properties": {"confidence": rule.grade, "since": rule.since,
                           "tags": ["macos", "code-signing", "webassembly"]},
        })
    return out


def to_sarif(results: Iterable[TargetResult], *, errors: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """One SARIF log with one run; ``errors`` (unreadable inputs) become tool notifications."""
    rule_rows = sarif_rules()
    index = {r["id"]: i for i, r in enumerate(rule_rows)}
    sarif_results = []
    for result in results:
        for f in result.findings:
            entry: dict[str, Any] = {
                "ruleId": f.rule_id,
                "ruleIndex": index[f.rule_id],
                "level": LEVELS[f.severity],
                "message": {"text": f"{f.message} Fix: {f.fix}"},
                "properties": {"target": result.target, "productType": result.product_type,
                               "verdict": result.verdict, "confidence": f.confidence},
            }
            uri = relative_uri(f.subject or result.subject or "")
            if uri:
                entry["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": uri}}}]
            sarif_results.append(entry)
    notifications = []
    for err in errors:
        note: dict[str, Any] = {"level": "error", "message": {"text": str(err.get("error", "unreadable input"))}}
        uri = relative_uri(str(err.get("target", "")))
        if uri:
            note["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": uri}}}]
        notifications.append(note)
    invocation: dict[str, Any] = {"executionSuccessful": not notifications}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "macwasm", "version": __version__, "rules": rule_rows}},
            "invocations": [invocation],
            "results": sarif_results,
        }],
    }
