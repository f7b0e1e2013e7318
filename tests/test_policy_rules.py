"""Every rule of data/rules.csv, both ways: a target it must fire on and one it must stay quiet on.

The fixtures are named by rule id; a rule row without a pair here (or a predicate without a row)
fails the coverage test, so a new rule cannot land untested.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from macwasm.errors import TableFormatError
from macwasm.policy.engine import PREDICATES, evaluate
from macwasm.policy.tables import rules
from macwasm.policy.target import Target, WasmFile
from macwasm.xcode import model as xn
from macwasm.xcode.model import Note

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
SIGNED = {"signature_kind": "signed", "hardened_runtime": True, "has_timestamp": True}


def T(ents: dict[str, Any] | None = None, **kw: Any) -> Target:
    kw.setdefault("input_form", "entitlements")
    return Target(name="t", entitlements=ents if ents is not None else {}, **kw)


def flags(*keys: str) -> dict[str, Any]:
    return dict.fromkeys(keys, True)


FIXTURES: dict[str, tuple[Target, Target]] = {
    "MW101": (T({ES: True, UNS: True}), T({ES: True, JIT: True})),
    "MW102": (T({DK: True, JIT: True}, product_type="driverkit-driver"),
              T({NE: NE_SYSEX, JIT: True}, product_type="network-extension")),
    "MW103": (T(flags(JIT), product_type="system-extension"),
              T({NE: NE_SYSEX, JIT: True}, product_type="network-extension")),
    "MW104": (T(flags(ES, CAM)), T(flags(ES, NETC))),
    "MW105": (T(flags(INSTALL, UNS)), T(flags(INSTALL))),
    "MW110": (T(runtime="wasmtime"), T(flags(UNS), runtime="wasmtime")),
    "MW111": (T(flags(JIT), runtime="wasmtime"), T(flags(JIT), runtime="wamr-aot", arch="arm64")),
    "MW112": (T(flags(UNS), runtime="wamr-aot", arch="arm64"), T(flags(JIT), runtime="wamr-aot", arch="arm64")),
    "MW113": (T(flags(JIT, UNS)), T(flags(JIT, UNS), runtime="v8", arch="x86_64")),
    "MW114": (T({NE: NE_SYSEX}, product_type="network-extension", runtime="wasmtime"),
              T({NE: NE_SYSEX, JIT: True}, product_type="network-extension", runtime="wamr-aot", arch="arm64")),
    "MW115": (T(runtime="wasmtime-winch", arch="arm64"), T(flags(UNS), runtime="wasmtime-winch", arch="x86_64")),
    "MW116": (T(flags(JIT), runtime="wamr-aot", arch="arm64"), T(runtime="wasm3")),
    "MW117": (T(runtime="wasm2c", module_source="downloaded"), T(runtime="wasm2c", module_source="bundled")),
    "MW120": (T(flags(GTA)), T(flags(GTA), distribution="development")),
    "MW121": (T(**{**SIGNED, "hardened_runtime": False}), T(**SIGNED)),
    "MW122": (T(signature_kind="unsigned", hardened_runtime=False), T(**SIGNED)),
    "MW123": (T(signature_kind="adhoc", hardened_runtime=True), T(**SIGNED)),
    "MW124": (T(**{**SIGNED, "has_timestamp": False}), T(**SIGNED)),
    "MW125": (T(), T(**SIGNED)),
    "MW130": (T(flags(ES), product_type="endpoint-security-extension", input_form="bundle", has_profile=False,
                **SIGNED),
              T(flags(ES), product_type="endpoint-security-extension", input_form="bundle", has_profile=True,
                **SIGNED)),
    "MW131": (T(flags(ES)), T(flags(JIT))),
    "MW132": (T(flags(KAG), product_type="command-line-tool"), T(flags(KAG), product_type="app")),
    "MW133": (T(flags(KAG), has_profile=True, profile_keys=frozenset()),
              T(flags(KAG), has_profile=True, profile_keys=frozenset({KAG}))),
    "MW140": (T(wasm_files=(WasmFile("A.app/Contents/MacOS/p.wasm", "code", "core-module"),)),
              T(wasm_files=(WasmFile("A.app/Contents/Resources/p.wasm", "resources", "core-module"),))),
    "MW141": (T(runtime="wasm3", module_kind="component"), T(flags(UNS), runtime="wasmtime", module_kind="component")),
    "MW142": (T(runtime="wasmedge", module_kind="component"), T(runtime="wasmedge", module_kind="core-module")),
    "MW143": (T(module_source="downloaded"), T(module_source="bundled")),
    "MW144": (T(flags(SANDBOX), module_source="downloaded", distribution="app-store"),
              T(module_source="downloaded", distribution="developer-id")),
    "MW145": (T(module_kind="not-wasm"), T(module_kind="core-module")),
    "MW150": (T(platform="ios", runtime="wasmtime"), T(platform="ios", runtime="wasm3")),
    "MW151": (T(flags(NETC)), T(flags(NETC, SANDBOX))),
    "MW152": (T(distribution="app-store"), T(flags(SANDBOX), distribution="app-store")),
    "MW153": (T(flags(JIT), product_type="framework"), T(product_type="framework")),
    "MW160": (T(product_type_basis="inferred from the entitlement x"), T()),
    "MW161": (T(), T(runtime="wasm3")),
    **{rule: (T(build_notes=(Note(kind, "CODE_SIGN_ENTITLEMENTS", "X", "p/project.pbxproj"),), runtime="wasm3"),
              T(build_notes=(Note("other", "CODE_SIGN_ENTITLEMENTS", "X"),), runtime="wasm3"))
       for rule, kind in (("MW180", xn.UNRESOLVED_VARIABLE), ("MW181", xn.MISSING_FILE),
                          ("MW182", xn.BUILD_LOCATION), ("MW183", xn.UNSUPPORTED_SETTING),
                          ("MW184", xn.OPTIONAL_INCLUDE_MISSING), ("MW185", xn.BAD_ENTITLEMENTS),
                          ("MW186", xn.ENGINE), ("MW187", xn.WASM_DESTINATION_UNKNOWN))},
}


def test_every_rule_has_a_predicate_and_fixtures() -> None:
    assert set(rules()) == set(PREDICATES) == set(FIXTURES)


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
    result = evaluate(T(flags(JIT), runtime="wamr-llvm-jit"))
    finding = next(f for f in result.findings if f.rule_id == "MW111")
    assert finding.severity == "warning"
    assert "UNCONFIRMED" in finding.message and finding.confidence == "unconfirmed"


def test_findings_show_the_runtime_confidence() -> None:
    result = evaluate(T(flags(JIT), runtime="v8"))  # inferred: allow-jit alone is not enough on Intel
    finding = next(f for f in result.findings if f.rule_id == "MW111")
    assert "x86_64" in finding.message and "confidence: inferred" in finding.message
    assert finding.confidence == "inferred" and finding.severity == "error"


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
    for name in ("entitlements.csv", "product_types.csv", "runtimes.csv", "rules.csv", "module_sources.csv"):
        shutil.copy(data_dir / name, tmp_path / name)
    monkeypatch.setenv("MACWASM_DATA", str(tmp_path))
    return tmp_path


def test_facts_are_data_changing_a_row_changes_the_verdict(data_copy: Path) -> None:
    path = data_copy / "entitlements.csv"
    text = path.read_text()
    old = f"{UNS},,hardened-runtime-exception,yes,no,"
    assert old in text
    path.write_text(text.replace(old, f"{UNS},,hardened-runtime-exception,yes,yes,"))  # pretend it is tolerated
    assert "MW101" not in evaluate(T({ES: True, UNS: True})).rule_ids


def test_rule_wording_is_data(data_copy: Path) -> None:
    path = data_copy / "rules.csv"
    path.write_text(path.read_text().replace("Notarization does not catch this.", "Reviewer wording."))
    finding = next(f for f in evaluate(T({ES: True, UNS: True})).findings if f.rule_id == "MW101")
    assert finding.message.endswith("Reviewer wording.")


def test_a_bad_fact_value_is_refused_with_its_line(data_copy: Path) -> None:
    path = data_copy / "runtimes.csv"
    text = path.read_text().replace(",unsigned-memory,unsigned-memory,yes,yes,", ",unsigned-memory,jit,yes,yes,", 1)
    path.write_text(text)
    with pytest.raises(TableFormatError, match=r"line \d+: strategy_x86_64 'jit'"):
        evaluate(T(runtime="wasmtime"))


def test_every_fact_row_has_a_source_and_confidence(data_dir: Path) -> None:
    import csv

    for name in ("entitlements.csv", "product_types.csv", "runtimes.csv", "rules.csv", "module_sources.csv"):
        with open(data_dir / name, newline="") as fh:
            for row in csv.DictReader(fh):
                assert row["source"].strip(), (name, row)
                assert row["confidence"] in ("verified", "inferred", "unconfirmed"), (name, row)
