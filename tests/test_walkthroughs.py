"""CONTRIBUTING.md's how-tos, done in tests: each change touches the files the layout points to and nothing else.

Adding a runtime is two table rows; adding a rule is a row and a predicate; adding an input form is a
source name, a reader and a target builder; adding an output format is a renderer and a registry line
(``test_cli_conventions.py`` registers one); changing a limit is one constant and its row
(``test_limits.py`` keeps the table and the readers honest). Tables are changed in copies (``MACWASM_DATA``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from macwasm import vocabulary
from macwasm.policy.checker import TARGET_BUILDERS, CheckOptions, targets_from_facts
from macwasm.policy.context import Context, Hit
from macwasm.policy.engine import PREDICATES, evaluate
from macwasm.policy.target import Target
from macwasm.signing.model import SigningFacts

JIT = "com.apple.security.cs.allow-jit"
SANDBOX = "com.apple.security.app-sandbox"


@pytest.fixture
def tables(tables_copy: Path) -> Path:
    return tables_copy


def _append(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, newline="", encoding="utf-8") as fh:
        columns = next(csv.reader(fh))
    with open(path, "a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns, lineterminator="\n")
        writer.writerows([{c: row.get(c, "") for c in columns} for row in rows])


def test_add_a_runtime_two_rows_and_check_accepts_and_judges_it(tables: Path, cli) -> None:
    """runtimes.csv names it; runtime_facts.csv says how it runs code (here: MAP_JIT on both architectures)."""
    _append(tables / "runtimes.csv", [{
        "runtime": "toyjit", "name": "Toy JIT", "family": "toyjit", "embedding": "a C library", "versions": "1.0",
        "mode": "JIT", "default_on_macos": "yes", "speed_tier": "2", "language": "C", "license": "MIT",
        "notes": "a walk-through", "source": "https://example.invalid/toyjit"}])
    evidence = {"grade": "code", "evidence": "https://example.invalid/toyjit/src/jit.c", "quote": "MAP_JIT",
                "note": ""}
    _append(tables / "runtime_facts.csv", [
        {"runtime": "toyjit", "fact": "strategy", "arch": "any", "value": "map-jit", **evidence},
        {"runtime": "toyjit", "fact": "component_model", "arch": "any", "value": "no", **evidence},
        {"runtime": "toyjit", "fact": "loads_downloaded_modules", "arch": "any", "value": "yes", **evidence},
    ])
    without = cli("check", "--entitlement", SANDBOX, "--runtime", "toyjit", "--format", "json")
    assert without.returncode == 1, without.stderr
    (record,) = json.loads(without.stdout)
    (needs,) = [f for f in record["findings"] if f["severity"] == "error"]
    assert needs["rule_id"] == "MW110" and "toyjit uses map-jit" in needs["message"] and JIT in needs["fix"]
    with_key = cli("check", "--entitlement", SANDBOX, "--entitlement", JIT, "--runtime", "toyjit")
    assert with_key.returncode == 0, with_key.stdout + with_key.stderr
    plan = json.loads(cli("advise", "--product-type", "app", "--format", "json").stdout)
    assert "toyjit" in {o["runtime"] for o in plan["options"]}


def test_add_a_rule_a_row_and_a_predicate_and_it_fires(tables: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """rules.csv holds its words (message, fix, reference, severity); the predicate only says when it fires."""
    _append(tables / "rules.csv", [{
        "id": "MW199", "name": "WalkThroughRule", "severity": "warning", "unconfirmed_severity": "warning",
        "predicts": "none", "title": "A rule added in a walk-through", "checks": "The sandbox key.",
        "message": "The binary holds {key}, which this walk-through flags.", "fix": "Drop {key}.",
        "reference": "https://example.invalid/rule", "platforms": "macos", "distributions": "*",
        "reads": "entitlements", "grade": "apple", "status": "active", "since": "0.1.0",
        "source": "https://example.invalid/rule"}])

    def walkthrough(ctx: Context):  # the predicate: facts come from the context, words from the row
        if SANDBOX in ctx.present:
            yield Hit({"key": SANDBOX}, remove=(SANDBOX,))

    monkeypatch.setitem(PREDICATES, "MW199", walkthrough)
    fired = evaluate(Target(name="t", entitlements={SANDBOX: True}))
    quiet = evaluate(Target(name="t", entitlements={JIT: True}))
    (finding,) = [f for f in fired.findings if f.rule_id == "MW199"]
    assert finding.severity == "warning"
    assert finding.message == f"The binary holds {SANDBOX}, which this walk-through flags."
    assert fired.verdict == "warn" and "MW199" not in quiet.rule_ids
    from macwasm.report.sarif import sarif_rules

    assert "MW199" in {r["id"] for r in sarif_rules()}


def test_add_an_input_form_a_source_and_its_target_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader returns SigningFacts with its source; the checker's TARGET_BUILDERS says what targets it gives.
    Without a builder the source is refused, never taken for another form."""
    facts = SigningFacts(path="app.notarized-ticket", source="notarization-ticket", entitlements={JIT: True})
    with pytest.raises(LookupError, match="TARGET_BUILDERS"):
        targets_from_facts(facts, CheckOptions())

    def ticket_targets(facts, opts, subject, entitlements, extra):
        return [Target(name=subject, subject=subject, entitlements=entitlements, input_form=vocabulary.FORM_OPTIONS,
                       **opts.base())]

    monkeypatch.setitem(TARGET_BUILDERS, "notarization-ticket", ticket_targets)
    (target,) = targets_from_facts(facts, CheckOptions(runtimes=("wasmtime",)))
    result = evaluate(target)
    assert target.name == "app.notarized-ticket" and "MW111" in result.rule_ids  # allow-jit does not serve wasmtime


def test_every_file_the_how_tos_name_exists(repo: Path) -> None:
    import re

    text = (repo / "CONTRIBUTING.md").read_text()
    named = set(re.findall(r"`((?:lib|data|tests)/[^`*<> ]+)`", text))
    assert {"lib/macwasm/report/formats.py", "lib/macwasm/limits.py", "data/runtimes.csv"} <= named
    for path in named:
        target = path.split("::")[0].split(" ")[0]
        assert (repo / target).exists(), f"CONTRIBUTING.md names {target}, which does not exist"
