"""What GitHub code scanning requires of an uploaded SARIF file, beyond the 2.1.0 schema.

From GitHub's documentation ("SARIF support for code scanning", "SARIF results exceed one or more
limits") and the upload action's own errors ("locationFromSarifResult: expected at least one
location"). :func:`upload_problems` lists every breach, so a test can show all of them at once.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

MAX_RUNS = 20
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_LOCATIONS = 1_000
MAX_TAGS = 20
PLACEHOLDER = re.compile(r"(?<!\{)\{[a-z_]+\}(?!\})")


def _uri_problem(uri: Any) -> str | None:
    if not isinstance(uri, str) or not uri:
        return "no artifactLocation.uri"
    parsed = urlparse(uri)
    if parsed.scheme:
        return None if parsed.scheme == "file" and parsed.path.startswith("/") else f"URI scheme of {uri!r}"
    if uri.startswith("/") or ".." in uri.split("/"):
        return f"relative URI {uri!r} leaves the root"
    return None


def upload_problems(log: dict[str, Any]) -> list[str]:
    problems = []
    if log.get("version") != "2.1.0":
        problems.append("version is not 2.1.0")
    runs = log.get("runs")
    if not isinstance(runs, list) or not 1 <= len(runs) <= MAX_RUNS:
        return [*problems, f"runs must be a list of 1-{MAX_RUNS}"]
    for r, run in enumerate(runs):
        driver = run.get("tool", {}).get("driver", {})
        if not driver.get("name"):
            problems.append(f"run {r}: tool.driver.name missing")
        rules = driver.get("rules", [])
        if len(rules) > MAX_RULES:
            problems.append(f"run {r}: {len(rules)} rules")
        for rule in rules:
            if len(rule.get("properties", {}).get("tags", [])) > MAX_TAGS:
                problems.append(f"rule {rule.get('id')}: more than {MAX_TAGS} tags")
            for part in ("text", "markdown"):
                text = rule.get("help", {}).get(part, "")
                if PLACEHOLDER.search(text):
                    problems.append(f"rule {rule.get('id')}: raw placeholder in help.{part}: {text[:80]!r}")
        ids = [rule.get("id") for rule in rules]
        results = run.get("results", [])
        if len(results) > MAX_RESULTS:
            problems.append(f"run {r}: {len(results)} results")
        for i, res in enumerate(results):
            where = f"run {r} result {i} ({res.get('ruleId')})"
            if not res.get("ruleId"):
                problems.append(f"{where}: no ruleId")
            if "ruleIndex" in res and (res["ruleIndex"] >= len(ids) or ids[res["ruleIndex"]] != res.get("ruleId")):
                problems.append(f"{where}: ruleIndex does not point at its rule")
            if not res.get("message", {}).get("text"):
                problems.append(f"{where}: no message.text")
            if PLACEHOLDER.search(res.get("message", {}).get("text", "")):
                problems.append(f"{where}: raw placeholder in message")
            locations = res.get("locations") or []
            if not locations:
                problems.append(f"{where}: no location (code scanning refuses it)")
            if len(locations) > MAX_LOCATIONS:
                problems.append(f"{where}: {len(locations)} locations")
            for loc in locations:
                physical = loc.get("physicalLocation", {})
                problem = _uri_problem(physical.get("artifactLocation", {}).get("uri"))
                if problem:
                    problems.append(f"{where}: {problem}")
                region = physical.get("region")
                if region is not None and not (isinstance(region.get("startLine"), int) and region["startLine"] >= 1):
                    problems.append(f"{where}: region without a startLine >= 1")
            for key, value in (res.get("partialFingerprints") or {}).items():
                if not isinstance(value, str) or not value:
                    problems.append(f"{where}: partialFingerprints[{key}] is not a string")
    return problems
