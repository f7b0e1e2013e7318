"""Every case of data/scenarios.csv: the expected verdict, the rules that must fire and those that must not.

The scenarios are the project's acceptance cases, each with its source (the forum thread and its
fixes, Apple documentation, third-party reports). They run through the same row-to-target path
as ``macwasm audit``, and the whole table once more through the vectorised audit.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from macwasm.policy.audit_table import _EntitlementCells, audit, audit_rowwise, row_target
from macwasm.policy.engine import evaluate

DATA = Path(__file__).resolve().parents[1] / "data"
with open(DATA / "scenarios.csv", newline="", encoding="utf-8") as _fh:
    SCENARIOS = list(csv.DictReader(_fh))


def _ids(text: str) -> set[str]:
    return {part for part in text.split(";") if part}


def test_at_least_forty_sourced_scenarios() -> None:
    assert len(SCENARIOS) >= 40
    assert all(row["source"].strip() for row in SCENARIOS)
    assert len({row["id"] for row in SCENARIOS}) == len(SCENARIOS)


@pytest.mark.parametrize("row", SCENARIOS, ids=[row["id"] for row in SCENARIOS])
def test_scenario(row: dict[str, str]) -> None:
    result = evaluate(row_target(row, _EntitlementCells(str(DATA))))
    fired = set(result.rule_ids)
    messages = [f"{f.rule_id} {f.severity}: {f.message}" for f in result.findings]
    assert result.verdict == row["expected_verdict"], messages
    assert _ids(row["must_fire"]) <= fired, messages
    assert not (_ids(row["must_not_fire"]) & fired), messages


def test_forum_case_names_the_keys_and_the_amfi_message() -> None:
    row = next(r for r in SCENARIOS if r["id"] == "S01")
    result = evaluate(row_target(row, _EntitlementCells(str(DATA))))
    finding = next(f for f in result.findings if f.rule_id == "MW101")
    assert "com.apple.security.cs.allow-unsigned-executable-memory" in finding.message
    assert "com.apple.developer.endpoint-security.client" in finding.message
    assert "AMFI" in finding.message
    assert "Hardened Runtime relaxation entitlements disallowed on System Extensions" in finding.message
    # the keys the app may keep are not named as offenders
    offending = finding.message.split("relaxation(s)")[1]
    assert "network.client" not in offending and "application-groups" not in offending


def test_vectorised_audit_agrees_with_the_row_loop_on_all_scenarios() -> None:
    frame = pd.read_csv(DATA / "scenarios.csv", dtype=str, keep_default_na=False).rename(columns={"id": "name"})
    fast = audit(frame, base_dir=str(DATA)).astype(str)
    slow = audit_rowwise(frame, base_dir=str(DATA)).astype(str)
    pd.testing.assert_frame_equal(fast, slow)
    assert list(fast["verdict"]) == list(frame["expected_verdict"])
