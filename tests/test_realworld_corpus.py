"""Entitlements files of software that ships on macOS today, checked as the binaries they are signed onto.

``tests/realworld/index.csv`` records, for each file, where it was read (repository, path, commit,
licence), the binary it is signed onto, its product type and distribution, the engines that run in
it, how the build signs it (Hardened Runtime, keys the build settings add) and the evidence that it
ships. A checker that predicts a launch refusal or a crash for one of these is wrong, or the file
belongs to another target than the index says; either way the test fails and someone must find out
which. Development-only files must get their notarization finding.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from macwasm.policy import check
from macwasm.policy.engine import TargetResult
from macwasm.policy.tables import PRODUCT_TYPES, rules, runtimes

CORPUS = Path(__file__).resolve().parent / "realworld"
with open(CORPUS / "index.csv", newline="", encoding="utf-8") as _fh:
    ROWS = list(csv.DictReader(_fh))
#: what a shipping product must never be told (rules.csv ``predicts``)
FATAL = ("launch-refusal", "crash", "load-failure")
GET_TASK_ALLOW = "com.apple.security.get-task-allow"


def _keys(text: str) -> list[str]:
    return [k for k in text.split(";") if k]


def judge(row: dict[str, str], *, distribution: str | None = None) -> list[TargetResult]:
    """Check one corpus row as the binary it is signed onto."""
    options: dict[str, Any] = {
        "product_type": row["product_type"], "distribution": distribution or row["distribution"],
        "runtime": _keys(row["engines"]) or None, "arch": row["arch"] or "universal",
        "hardened_runtime": {"yes": True, "no": False}.get(row["hardened_runtime"]),
    }
    added = dict.fromkeys(_keys(row["build_adds"]), True)
    if row["keys"]:  # a signing config that is not a plist: the index lists the keys it gives this binary
        return check(entitlements={**dict.fromkeys(_keys(row["keys"]), True), **added}, **options)
    return check([str(CORPUS / row["file"])], entitlements=added or None, **options)


def test_the_corpus_is_large_and_covers_every_kind_of_product() -> None:
    assert len(ROWS) >= 40
    counts: dict[str, int] = {}
    for row in ROWS:
        counts[row["category"]] = counts.get(row["category"], 0) + 1
    for category, least in {"endpoint-security": 3, "network-extension": 5, "driverkit": 1, "container-app": 5,
                            "electron": 10, "firefox": 3, "wasm-runtime-app": 3}.items():
        assert counts.get(category, 0) >= least, (category, counts)
    assert {"endpoint-security-extension", "network-extension", "driverkit-driver", "system-extension"} <= {
        row["product_type"] for row in ROWS}


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_every_row_is_a_recorded_fact(row: dict[str, str]) -> None:
    path = CORPUS / row["file"]
    assert path.is_file()
    assert re.fullmatch(r"[0-9a-f]{40}", row["commit"]) and row["repo"].count("/") == 1 and row["path"]
    assert row["license"] and row["signed_onto"] and row["evidence_ships"] and row["why"]
    assert row["product_type"] in PRODUCT_TYPES
    assert row["ships"] in ("yes", "development", "other-target")
    assert all(engine in runtimes() for engine in _keys(row["engines"]))
    for key in _keys(row["keys"]) + _keys(row["build_adds"]):
        assert key.startswith("com.apple.")
    for key in _keys(row["keys"]):  # the keys of a non-plist signing config are really in the file
        assert key in path.read_text(encoding="utf-8")


def test_the_files_are_the_bytes_that_were_read() -> None:
    with open(CORPUS / "sha256.csv", newline="", encoding="utf-8") as fh:
        recorded = {r["file"]: r["sha256"] for r in csv.DictReader(fh)}
    for row in ROWS:
        digest = hashlib.sha256((CORPUS / row["file"]).read_bytes()).hexdigest()
        assert recorded[row["file"]] == digest, row["file"]


@pytest.mark.parametrize("row", [r for r in ROWS if r["ships"] == "yes"],
                         ids=[r["id"] for r in ROWS if r["ships"] == "yes"])
def test_no_launch_refusal_or_crash_is_predicted_for_software_that_ships(row: dict[str, str]) -> None:
    predicts = {rule_id: rule.predicts for rule_id, rule in rules().items()}
    for result in judge(row):
        fatal = [f"{f.rule_id}: {f.message}" for f in result.findings
                 if f.severity == "error" and predicts[f.rule_id] in FATAL]
        assert not fatal, (row["id"], fatal)


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_the_verdict_is_the_reviewed_one(row: dict[str, str]) -> None:
    verdicts = {result.verdict for result in judge(row)}
    worst = "fail" if "fail" in verdicts else "warn" if "warn" in verdicts else "pass"
    assert worst == row["expected_verdict"], (row["id"], row["why"],
                                              [(f.rule_id, f.message) for r in judge(row) for f in r.findings])


DEVELOPMENT = [r for r in ROWS if r["ships"] == "development"]


@pytest.mark.parametrize("row", DEVELOPMENT, ids=[r["id"] for r in DEVELOPMENT])
def test_a_development_file_gets_its_notarization_finding(row: dict[str, str]) -> None:
    """Checked for Developer ID, as if someone shipped it: get-task-allow is refused, and without a signature
    in the input the notarization requirements are said to be unchecked."""
    (result, *_) = judge(row, distribution="developer-id")
    fired = {f.rule_id for f in result.findings}
    text = (CORPUS / row["file"]).read_text(encoding="utf-8", errors="replace")
    holds_get_task_allow = re.search(re.escape(GET_TASK_ALLOW) + r"</key>\s*<true/>", text) is not None
    assert ("MW120" in fired) == holds_get_task_allow, (row["id"], fired)
    assert "MW125" in fired or "MW120" in fired
