"""Every rule of data/rules.csv, both ways: a target it must fire on and one it must stay quiet on.

The fixtures are the rows of data/rule_examples.csv (the same rows the rule pages and ``macwasm rule``
show, evaluated there too); a rule row without a pair there (or a predicate without a row) fails the
coverage test, so a new rule cannot land untested.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from macwasm.errors import TableFormatError
from macwasm.policy.engine import PREDICATES, evaluate
from macwasm.policy.examples import CASES, rule_examples
from macwasm.policy.tables import rules
from macwasm.policy.target import Target

JIT = "com.apple.security.cs.allow-jit"
UNS = "com.apple.security.cs.allow-unsigned-executable-memory"
ES = "com.apple.developer.endpoint-security.client"
NE = "com.apple.developer.networking.networkextension"
NE_SYSEX = ["content-filter-provider-systemextension"]
INSTALL = "com.apple.developer.system-extension.install"
DK = "com.apple.developer.driverkit"
CAM = "com.apple.security.device.camera"
GTA = "com.apple.security.get-task-allow"
SANDBOX = "com.apple.security.app-sandbox"
NETC = "com.apple.security.network.client"
KAG = "keychain-access-groups"
WRITE_ALLOWLIST = "com.apple.security.cs.jit-write-allowlist"
SIGNED = {"signature_kind": "signed", "hardened_runtime": True, "has_timestamp": True}


def T(ents: dict[str, Any] | None = None, **kw: Any) -> Target:
    kw.setdefault("input_form", "entitlements")
    if "runtime" in kw:
        kw["runtimes"] = tuple(kw.pop("runtime").split(";"))
    return Target(name="t", entitlements=ents if ents is not None else {}, **kw)


def flags(*keys: str) -> dict[str, Any]:
    return dict.fromkeys(keys, True)


def fixtures() -> dict[str, tuple[Target, Target]]:
    """rule id -> (the target it must fire on, the one it must stay quiet on), from data/rule_examples.csv."""
    return {rule: (cases["fires"].target, cases["quiet"].target)
            for rule, cases in rule_examples().items() if set(cases) == set(CASES)}


FIXTURES = fixtures()


def test_every_rule_has_a_predicate_and_fixtures() -> None:
    # a pair per rule (a rule with one case only is left out of FIXTURES, and so fails here too)
    assert set(rules()) == set(PREDICATES) == set(FIXTURES) == set(rule_examples())


@pytest.mark.parametrize("rule_id", sorted(FIXTURES))
def test_rule_fires(rule_id: str) -> None:
    result = evaluate(FIXTURES[rule_id][0])
    assert rule_id in result.rule_ids, [f.message for f in result.findings]
    finding = next(f for f in result.findings if f.rule_id == rule_id)
    assert "{" not in finding.message and "{" not in finding.fix
    assert finding.reference.startswith("http")


@pytest.mark.parametrize("rule_id", sorted(FIXTURES))
def test_rule_stays_quiet(rule_id: str) -> None:
    result = evaluate(FIXTURES[rule_id][1])
    assert rule_id not in result.rule_ids, [f.message for f in result.findings if f.rule_id == rule_id]


def test_sysex_rule_is_keyed_on_entitlements_not_location() -> None:
    # an app (not a system extension by type) holding the ES key is refused like the extension itself
    result = evaluate(T({ES: True, UNS: True}, product_type="app"))
    finding = next(f for f in result.findings if f.rule_id == "MW101")
    assert finding.severity == "error" and UNS in finding.message and ES in finding.message
    assert "Hardened Runtime relaxation entitlements disallowed on System Extensions" in finding.message
    assert result.verdict == "fail"


def test_only_allow_jit_is_tolerated_on_network_and_es_extensions() -> None:
    result = evaluate(T({NE: NE_SYSEX, ES: True, JIT: True}, product_type="network-extension"))
    assert not {"MW101", "MW102"} & set(result.rule_ids)


def test_error_resting_on_unconfirmed_runtime_fact_is_a_marked_warning() -> None:
    # which W^X call Apple's JavaScriptCore uses on arm64 is not public (runtime_facts.csv: unconfirmed)
    result = evaluate(T(flags(JIT, WRITE_ALLOWLIST), runtime="javascriptcore", arch="arm64"))
    finding = next(f for f in result.findings if f.rule_id == "MW118")
    assert finding.severity == "warning"
    assert "UNCONFIRMED" in finding.message and finding.grade == "unconfirmed"


def test_findings_show_the_grade_of_the_facts_they_rest_on() -> None:
    result = evaluate(T(flags(JIT), runtime="v8"))  # V8's own allocator drops MAP_JIT on Intel (code)
    finding = next(f for f in result.findings if f.rule_id == "MW111")
    assert "x86_64" in finding.message and "arm64" not in finding.message and "evidence: code" in finding.message
    assert finding.grade == "apple" and finding.severity == "error"  # Apple's rule, a code fact: the weaker


def test_plain_app_plist_with_interpreter_passes() -> None:
    result = evaluate(T({NETC: True, SANDBOX: True}, product_type="app", runtime="interpreter"))
    assert result.verdict == "pass"
    assert {f.severity for f in result.findings} <= {"info"}


def test_false_booleans_count_as_absent() -> None:
    assert "MW120" not in evaluate(T({GTA: False})).rule_ids


def test_hardened_runtime_off_skips_jit_rules_but_fails_notarization() -> None:
    result = evaluate(T(runtime="wasmtime", signature_kind="signed", hardened_runtime=False, has_timestamp=True))
    assert "MW110" not in result.rule_ids and "MW121" in result.rule_ids


@pytest.fixture
def data_copy(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for table in data_dir.glob("*.csv"):
        shutil.copy(table, tmp_path / table.name)
    monkeypatch.setenv("MACWASM_DATA", str(tmp_path))
    return tmp_path


def test_facts_are_data_changing_a_row_changes_the_verdict(data_copy: Path) -> None:
    path = data_copy / "entitlements.csv"
    text = path.read_text()
    old = f"{UNS},,boolean,hardened-runtime-exception,yes,no,"
    assert old in text
    path.write_text(text.replace(old, f"{UNS},,boolean,hardened-runtime-exception,yes,yes,"))  # pretend it is tolerated
    assert "MW101" not in evaluate(T({ES: True, UNS: True})).rule_ids


def test_rule_wording_is_data(data_copy: Path) -> None:
    path = data_copy / "rules.csv"
    path.write_text(path.read_text().replace("Notarization does not catch this.", "Reviewer wording."))
    finding = next(f for f in evaluate(T({ES: True, UNS: True})).findings if f.rule_id == "MW101")
    assert finding.message.endswith("Reviewer wording.")


def test_a_bad_fact_value_is_refused_with_its_line(data_copy: Path) -> None:
    path = data_copy / "runtime_facts.csv"
    lines = path.read_text().splitlines(keepends=True)
    number, line = next((i, x) for i, x in enumerate(lines, start=1) if x.startswith("wasmtime,strategy,"))
    lines[number - 1] = line.replace(",unsigned-memory,", ",jit,", 1)
    path.write_text("".join(lines))
    with pytest.raises(TableFormatError, match=rf"line {number}: value of strategy 'jit'"):
        evaluate(T(runtime="wasmtime"))


def test_every_fact_row_has_a_source_and_a_grade(data_dir: Path) -> None:
    import csv

    for name in ("entitlements.csv", "product_types.csv", "rules.csv", "module_sources.csv"):
        with open(data_dir / name, newline="") as fh:
            for row in csv.DictReader(fh):
                assert row["source"].strip(), (name, row)
                assert row["grade"] in ("code", "apple", "observed", "inferred", "unconfirmed"), (name, row)


@pytest.mark.parametrize(("cell", "reason"), [
    ('{"entitlements": ', "target is not JSON"),
    ('["not", "an", "object"]', "target must be a JSON dict"),
    ('{"runtime": "wasmtime"}', r"unknown target field\(s\) runtime"),
    ('{"runtimes": "wasmtime"}', "runtimes must be a JSON list"),
    ('{"hardened_runtime": "yes"}', "hardened_runtime must be a JSON bool"),
    ('{"wasm_files": [{"path": "m.wasm", "kind": "core-module"}]}', "incomplete target"),
    ('{"wasm_files": [{"path": "m.wasm", "location": "given", "kind": "core-module", "size": 3}]}',
     r"wasm_files: unknown field\(s\) size"),
    ('{"build_notes": [{"kind": "x", "setting": "S", "detail": "D", "line": true}]}', "build_notes.line must be"),
])
def test_a_bad_example_row_is_refused_with_its_line(data_copy: Path, cell: str, reason: str) -> None:
    import csv
    import io

    from macwasm.policy.examples import rule_examples

    path = data_copy / "rule_examples.csv"
    rows = list(csv.reader(io.StringIO(path.read_text())))
    line = next(i for i, row in enumerate(rows, start=1) if row[:2] == ["MW120", "quiet"])
    rows[line - 1][2] = cell
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())
    with pytest.raises(TableFormatError, match=rf"rule_examples.csv: line {line}: .*{reason}"):
        rule_examples()


def test_a_second_example_of_one_case_is_refused(data_copy: Path) -> None:
    from macwasm.policy.examples import rule_examples

    path = data_copy / "rule_examples.csv"
    text = path.read_text()
    duplicate = next(line for line in text.splitlines() if line.startswith("MW121,fires,"))
    path.write_text(text + duplicate + "\n")
    with pytest.raises(TableFormatError, match=r"a second 'fires' example for MW121"):
        rule_examples()


def test_a_rule_with_one_example_fails_the_coverage(data_copy: Path) -> None:
    path = data_copy / "rule_examples.csv"
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True)
                            if not line.startswith("MW121,quiet,")))
    assert "MW121" not in fixtures() and set(rules()) != set(fixtures())
