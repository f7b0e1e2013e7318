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
WRITE_ALLOWLIST = "com.apple.security.cs.jit-write-allowlist"
SIGNED = {"signature_kind": "signed", "hardened_runtime": True, "has_timestamp": True}


def T(ents: dict[str, Any] | None = None, **kw: Any) -> Target:
    kw.setdefault("input_form", "entitlements")
    if "runtime" in kw:
        kw["runtimes"] = tuple(kw.pop("runtime").split(";"))
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
    "MW105": (T({NE: ["app-proxy-provider"], UNS: True}), T(flags(INSTALL, UNS))),
    "MW110": (T(runtime="wasmtime"), T(flags(UNS), runtime="wasmtime")),
    "MW111": (T(flags(JIT), runtime="wasmtime"), T(flags(JIT), runtime="wamr-aot", arch="arm64")),
    "MW112": (T(flags(UNS), runtime="electron", arch="x86_64"), T(flags(JIT), runtime="electron", arch="x86_64")),
    "MW113": (T(flags(JIT, UNS)), T(flags(JIT, UNS), runtime="v8")),
    "MW114": (T({NE: NE_SYSEX}, product_type="network-extension", runtime="wasmtime"),
              T({NE: NE_SYSEX, JIT: True}, product_type="network-extension", runtime="wamr-aot", arch="arm64")),
    "MW115": (T(runtime="wamr-jit", arch="arm64"), T(flags(UNS), runtime="wamr-jit", arch="x86_64")),
    "MW116": (T(flags(UNS), runtime="wasmtime-winch", arch="arm64"),
              T(flags(UNS), runtime="wasmtime-winch", arch="x86_64")),
    "MW117": (T(runtime="wasm2c", module_source="downloaded"), T(runtime="wasm2c", module_source="bundled")),
    "MW118": (T(flags(JIT, WRITE_ALLOWLIST), runtime="wamr-aot", arch="arm64"),
              T(flags(JIT), runtime="wamr-aot", arch="arm64")),
    "MW119": (T(runtime="wazero"), T(flags(UNS), runtime="wazero")),
    "MW120": (T(flags(GTA)), T(flags(GTA), distribution="development")),
    "MW121": (T(**{**SIGNED, "hardened_runtime": False}), T(**SIGNED)),
    "MW122": (T(signature_kind="unsigned", hardened_runtime=False), T(**SIGNED)),
    "MW123": (T(signature_kind="adhoc", hardened_runtime=True), T(**SIGNED)),
    "MW124": (T(**{**SIGNED, "has_timestamp": False}), T(**SIGNED)),
    "MW125": (T(), T(**SIGNED)),
    "MW126": (T(input_form="bundle", missing_executable="A.app: executable is missing", **SIGNED), T(**SIGNED)),
    "MW127": (T(slice_arches=("ppc",), **SIGNED), T(slice_arches=("x86_64",), **SIGNED)),
    "MW128": (T(slice_arches=("x86_64",), arch="x86_64", **SIGNED),
              T(slice_arches=("x86_64",), arch="x86_64", requested_arch="x86_64", **SIGNED)),
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
    "MW146": (T(runtime="wasm3", wasm_files=(WasmFile("m.wasm", "given", "core-module", ("threads",)),)),
              T(runtime="wasmtime-pulley", wasm_files=(WasmFile("m.wasm", "given", "core-module", ("gc",)),))),
    "MW147": (T(input_form="module", wasm_files=(WasmFile("m.wasm", "alone", "core-module"),)),
              T(runtime="wasm3", wasm_files=(WasmFile("m.wasm", "given", "core-module"),))),
    "MW148": (T(runtime="wasmkit", wasm_files=(WasmFile("m.wasm", "given", "core-module", ("memory64",)),)),
              T(runtime="wasmkit", wasm_files=(WasmFile("m.wasm", "given", "core-module", ("exceptions",)),))),
    "MW150": (T(platform="ios", runtime="wasmtime"), T(platform="ios", runtime="wasm3")),
    "MW151": (T(flags(NETC)), T(flags(NETC, SANDBOX))),
    "MW152": (T(distribution="app-store"), T(flags(SANDBOX), distribution="app-store")),
    "MW153": (T(flags(JIT), product_type="framework"), T(product_type="framework")),
    "MW160": (T(product_type_basis="inferred from the entitlement x"), T()),
    "MW161": (T(), T(runtime="wasm3")),
    "MW162": (T(flags(JIT), runtime="electron", detected=(("electron", "links Electron Framework"),)),
              T(flags(JIT), runtime="electron")),
    "MW170": (T({"CFBundleIdentifier": "com.example.app", "CFBundleExecutable": "App"}),
              T({"CFBundleIdentifier": "com.example.app", SANDBOX: True})),
    "MW171": (T(flags("com.apple.security.cs.allow-jti")),
              T(flags(JIT, "com.apple.security.files.downloads.read-only"))),
    "MW172": (T({JIT: "yes"}), T({JIT: "yes"}, input_form="options")),
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
    # which W^X call Apple's JavaScriptCore uses on arm64 is not public (runtime_facts.csv: unconfirmed)
    result = evaluate(T(flags(JIT, WRITE_ALLOWLIST), runtime="javascriptcore", arch="arm64"))
    finding = next(f for f in result.findings if f.rule_id == "MW118")
    assert finding.severity == "warning"
    assert "UNCONFIRMED" in finding.message and finding.confidence == "unconfirmed"


def test_findings_show_the_grade_of_the_facts_they_rest_on() -> None:
    result = evaluate(T(flags(JIT), runtime="v8"))  # V8's own allocator drops MAP_JIT on Intel (code)
    finding = next(f for f in result.findings if f.rule_id == "MW111")
    assert "x86_64" in finding.message and "arm64" not in finding.message and "evidence: code" in finding.message
    assert finding.confidence == "apple" and finding.severity == "error"  # Apple's rule, a code fact: the weaker


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


def test_one_finding_per_fault_for_unsigned_and_ad_hoc_binaries() -> None:
    unsigned = evaluate(T(signature_kind="unsigned", hardened_runtime=False))
    assert "MW122" in unsigned.rule_ids and "MW121" not in unsigned.rule_ids
    adhoc = evaluate(T(signature_kind="adhoc", hardened_runtime=False))
    assert "MW123" in adhoc.rule_ids and "MW121" not in adhoc.rule_ids
    text = next(f.message for f in adhoc.findings if f.rule_id == "MW123")
    assert "signed ad hoc" in text and "-signed-signed" not in text
    linker = evaluate(T(signature_kind="linker-signed", hardened_runtime=False))
    assert "linker-signed-signed" not in next(f.message for f in linker.findings if f.rule_id == "MW123")


def test_library_code_gets_signature_findings_only() -> None:
    """No entitlements or Hardened Runtime finding of its own: it runs with its host's."""
    lib = evaluate(T(product_type="framework", signature_kind="signed", hardened_runtime=False,
                     has_timestamp=False, runtime="wasmtime"))
    assert "MW121" not in lib.rule_ids and "MW124" in lib.rule_ids
    assert not {"MW110", "MW111", "MW114", "MW161"} & set(lib.rule_ids)


def test_a_missing_executable_is_said_first_and_alone() -> None:
    result = evaluate(T(input_form="bundle", missing_executable="X.app: executable is missing"))
    assert result.findings[0].rule_id == "MW126"
    assert not {"MW121", "MW122", "MW161"} & set(result.rule_ids)


def test_an_intel_only_binary_is_judged_as_x86_64_and_told_about_rosetta() -> None:
    result = evaluate(T(flags(JIT), runtime="v8", arch="x86_64", slice_arches=("x86_64",), **SIGNED))
    rosetta = next(f for f in result.findings if f.rule_id == "MW128")
    assert "macOS 27" in rosetta.message and "v8 needs com.apple.security.cs.allow-unsigned" in rosetta.message
    assert "MW111" in result.rule_ids  # the x86_64 facts apply: standalone V8 needs the legacy key there
