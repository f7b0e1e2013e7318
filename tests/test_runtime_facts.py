"""The runtime and entitlement facts as evidence: each verdict-driving cell cites where it was read, graded.

One test per fact issue 10 names, each written so that it fails when the old, wrong fact comes back.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest

from macwasm.errors import TableFormatError
from macwasm.policy import check
from macwasm.policy.engine import evaluate
from macwasm.policy.evidence import parse_cell
from macwasm.policy.tables import (
    ARCHES,
    GRADES,
    RUNTIME_FACTS,
    VERDICT_FACTS,
    entitlement_facts,
    lookup_entitlement,
    rules,
    runtimes,
)
from macwasm.policy.target import Target

DATA = Path(__file__).resolve().parents[1] / "data"
JIT = "com.apple.security.cs.allow-jit"
UNS = "com.apple.security.cs.allow-unsigned-executable-memory"
ES = "com.apple.developer.endpoint-security.client"
NE = "com.apple.developer.networking.networkextension"
DK = "com.apple.developer.driverkit"
INSTALL = "com.apple.developer.system-extension.install"
SINGLE = "com.apple.security.cs.single-jit"
ALLOWLIST = "com.apple.security.cs.jit-write-allowlist"
GTA = "com.apple.security.get-task-allow"


def rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def T(ents: dict[str, Any] | None = None, **kw: Any) -> Target:
    kw.setdefault("input_form", "entitlements")
    if "runtime" in kw:
        kw["runtimes"] = tuple(kw.pop("runtime").split(";"))
    return Target(name="t", entitlements=ents or {}, **kw)


def flags(*keys: str) -> dict[str, bool]:
    return dict.fromkeys(keys, True)


# ------------------------------------------------------------------ evidence

def _grade_matches(grade: str, items: list[Any], note: str) -> bool:
    if grade == "code":
        return any(i.repo and i.path for i in items)
    if grade == "apple":
        return any("apple.com" in i.text or "apple-oss-distributions/" in i.text for i in items)
    if grade == "observed":
        return any(i.repo or i.text.startswith("http") for i in items)
    return bool(note.strip())  # inferred and unconfirmed say why


@pytest.mark.parametrize("name", ["runtime_facts.csv", "runtime_caveats.csv", "platform_facts.csv"])
def test_every_fact_cites_evidence_in_an_accepted_form_matching_its_grade(name: str) -> None:
    for line, row in enumerate(rows(name), start=2):
        items, bad = parse_cell(row["evidence"])
        assert items and not bad, (name, line, bad)
        assert row["grade"] in GRADES, (name, line)
        note = row.get("note") or row.get("text") or ""
        assert _grade_matches(row["grade"], items, note), (name, line, row["grade"], row["evidence"])
        quote = row["quote"].strip()
        assert quote, (name, line)
        if quote.startswith("("):  # no sentence to quote: only for what is inferred or unconfirmed
            assert row["grade"] in ("inferred", "unconfirmed") or "runtime_facts:" in row["evidence"], (name, line)


def test_every_runtime_states_every_verdict_fact_and_the_rest_of_its_profile() -> None:
    for rt in runtimes().values():
        for fact in VERDICT_FACTS:
            assert all(rt.fact(fact, a) is not None for a in ARCHES), (rt.runtime, fact)
        if not rt.is_strategy_only:
            for fact in ("map_jit_regions", "on_jit_denied", "maintained", "threads", "gc", "memory64", "exceptions",
                         "legacy_exceptions", "simd"):
                assert rt.fact(fact) is not None or all(rt.fact(fact, a) for a in ARCHES), (rt.runtime, fact)
            assert rt.fact("jit_write_api", "arm64") is not None, rt.runtime  # W^X toggling is an arm64 matter


def test_a_runtime_row_without_a_strategy_fact_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for table in DATA.glob("*.csv"):
        shutil.copy(table, tmp_path / table.name)
    path = tmp_path / "runtime_facts.csv"
    kept = [r for r in rows("runtime_facts.csv") if not (r["runtime"] == "wasm3" and r["fact"] == "strategy")]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(kept[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    monkeypatch.setenv("MACWASM_DATA", str(tmp_path))
    with pytest.raises(TableFormatError, match="wasm3 has no strategy fact"):
        runtimes()


def test_a_fact_without_evidence_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for table in DATA.glob("*.csv"):
        shutil.copy(table, tmp_path / table.name)
    path = tmp_path / "runtime_facts.csv"
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    parts = next(csv.reader([text[1]]))
    parts[5] = ""  # the evidence cell of the first fact
    text[1] = ",".join(f'"{p}"' for p in parts) + "\n"
    path.write_text("".join(text), encoding="utf-8")
    monkeypatch.setenv("MACWASM_DATA", str(tmp_path))
    with pytest.raises(TableFormatError, match="line 2: every fact needs its evidence"):
        runtimes()


def test_entitlement_and_rule_rows_are_graded_with_sources() -> None:
    for fact in entitlement_facts():
        assert fact.grade in GRADES and fact.source
        assert fact.value_type in ("boolean", "array", "string", "dictionary", "any")
    for rule in rules().values():
        assert rule.grade in GRADES and rule.source and rule.predicts


def test_the_fact_vocabulary_is_named_once() -> None:
    assert set(VERDICT_FACTS) <= set(RUNTIME_FACTS)
    for row in rows("runtime_facts.csv"):
        assert row["fact"] in RUNTIME_FACTS


# ------------------------------------------------------------------ the facts issue 10 names

def test_electron_takes_allow_jit_alone_on_both_architectures() -> None:
    result = evaluate(T(flags(JIT), runtime="electron"))
    assert result.verdict == "pass", result.rule_ids
    standalone = evaluate(T(flags(JIT), runtime="v8"))
    assert "MW111" in standalone.rule_ids  # standalone V8 on Intel drops MAP_JIT: allow-unsigned there


def test_spidermonkey_current_and_esr115_differ() -> None:
    assert evaluate(T(flags(JIT), runtime="spidermonkey")).verdict == "pass"
    esr = evaluate(T(flags(JIT), runtime="spidermonkey-esr115"))
    assert "MW111" in esr.rule_ids
    assert not [c for c in runtimes()["spidermonkey"].caveats if "115" in c.text]


def test_wamr_maps_everything_with_map_jit_on_apple_silicon() -> None:
    interp = runtimes()["wamr-interp"]
    assert interp.strategies("arm64") == ("map-jit",) and interp.strategies("x86_64") == ("interpreter",)
    assert "MW110" in evaluate(T(runtime="wamr-interp", arch="arm64")).rule_ids
    for mode in ("wamr-interp", "wamr-aot", "wamr-llvm-jit"):  # no WAMR mode fits a DriverKit driver
        assert evaluate(T(flags(DK), product_type="driverkit-driver", runtime=mode)).verdict == "fail"
    llvm = runtimes()["wamr-llvm-jit"]
    assert llvm.strategies("arm64") == ("map-jit", "unsigned-memory")
    assert runtimes()["wasmedge-jit"].strategies("arm64") == ("unsigned-memory",)


def test_several_map_jit_regions_are_allowed_unless_single_jit() -> None:
    assert lookup_entitlement(SINGLE, True) is not None
    assert evaluate(T(flags(JIT), runtime="wamr-aot", arch="arm64")).verdict == "pass"
    assert not runtimes()["wamr-aot"].caveats  # the caveat resting on "one region per process" is gone
    single = evaluate(T(flags(JIT, SINGLE), runtime="wamr-aot", arch="arm64"))
    assert "MW118" in single.rule_ids and "more than one MAP_JIT region" in single.findings[0].message


def test_jit_write_allowlist_breaks_engines_that_toggle_with_pthread_jit_write_protect_np() -> None:
    for runtime in ("wamr-aot", "v8", "spidermonkey"):
        result = evaluate(T(flags(JIT, ALLOWLIST), runtime=runtime, arch="arm64"))
        assert "MW118" in result.rule_ids, runtime
    assert "MW118" not in evaluate(T(flags(UNS, ALLOWLIST), runtime="wasmtime", arch="arm64")).rule_ids


def test_wazero_is_w_x_everywhere_and_falls_back_to_its_interpreter() -> None:
    wazero = runtimes()["wazero"]
    assert wazero.strategies("arm64") == wazero.strategies("x86_64") == ("unsigned-memory",)
    assert wazero.value("on_jit_denied") == "falls-back-to-interpreter"
    result = evaluate(T(flags(JIT), runtime="wazero"))
    assert "MW119" in result.rule_ids and "MW111" not in result.rule_ids
    assert "wazero/wazero" in wazero.source


def test_winch_on_aarch64_is_experimental_not_unsupported() -> None:
    winch = runtimes()["wasmtime-winch"]
    assert winch.strategies("arm64") == ("unsigned-memory",)
    result = evaluate(T(flags(UNS), runtime="wasmtime-winch", arch="arm64"))
    assert "MW115" not in result.rule_ids and "MW116" in result.rule_ids


def test_system_extension_install_is_not_a_system_extension_key() -> None:
    obs_like = evaluate(T(flags(INSTALL, UNS, "com.apple.security.cs.disable-library-validation")))
    assert not {"MW101", "MW105"} & set(obs_like.rule_ids)


def test_get_task_allow_on_an_endpoint_security_extension_is_no_launch_warning() -> None:
    result = evaluate(T(flags(ES, GTA), product_type="endpoint-security-extension", distribution="development"))
    assert not {"MW101", "MW104"} & set(result.rule_ids)
    assert "MW120" in evaluate(T(flags(ES, GTA), product_type="endpoint-security-extension")).rule_ids


def test_the_jit_ladder_is_not_a_superset_for_map_jit_engines() -> None:
    assert "MW111" in evaluate(T(flags(UNS), runtime="wamr-aot", arch="arm64")).rule_ids
    assert "MW111" in evaluate(T(flags(JIT), runtime="wasmtime")).rule_ids
    both = evaluate(T(flags(JIT, UNS), runtime="electron;wasmtime"))
    assert "MW113" not in both.rule_ids and both.verdict == "pass"


def test_failure_messages_name_both_ways_macos_refuses() -> None:
    finding = next(f for f in evaluate(T(runtime="wasmtime")).findings if f.rule_id == "MW110")
    assert "Code Signature Invalid" in finding.message and "returning an error" in finding.message
    assert "killed at the first compile" not in finding.message
    wamr = next(f for f in evaluate(T(runtime="wamr-interp", arch="arm64")).findings if f.rule_id == "MW110")
    assert "mmap(MAP_JIT) returns an error" in wamr.message and "JIT code" not in wamr.message
    jsc = next(f for f in evaluate(T(runtime="javascriptcore")).findings if f.rule_id == "MW119")
    assert "no crash" in jsc.message and "kills the process" not in jsc.message and jsc.severity == "warning"
    wazero = next(f for f in evaluate(T(runtime="wazero")).findings if f.rule_id == "MW119")
    assert "kills the process" in wazero.message and "UNCONFIRMED" in wazero.message


def test_wasmkit_is_an_interpreter_a_system_extension_may_run() -> None:
    assert runtimes()["wasmkit"].strategies("arm64") == ("interpreter",)
    driver = evaluate(T(flags(DK), product_type="driverkit-driver", runtime="wasmkit"))
    # nothing it maps needs a key; what is not known is whether Swift builds for DriverKit at all
    assert [(f.rule_id, f.grade) for f in driver.findings if f.severity != "info"] == [("MW116", "unconfirmed")]
    assert "DriverKit" in driver.findings[0].message and "UNCONFIRMED" in driver.findings[0].message
    ne = {NE: ["packet-tunnel-provider-systemextension"]}
    assert evaluate(T(ne, product_type="network-extension", runtime="wasmkit")).verdict == "pass"


def test_a_driverkit_driver_is_not_told_a_go_rust_swift_or_cxx_runtime_is_fine() -> None:
    """DriverKit drivers are C++ against a reduced SDK: only C runtimes pass without an UNCONFIRMED caveat."""
    from macwasm.policy.advisor import advise

    plan = advise(product_type="driverkit-driver", module_source="downloaded")
    assert plan.recommended is not None and plan.recommended.runtime == "wasm3"
    passing = {o.runtime for o in plan.options if o.verdict == "pass"}
    assert passing == {"wasm3"}
    bundled = advise(product_type="driverkit-driver", module_source="bundled")
    assert {o.runtime for o in bundled.options if o.verdict == "pass"} == {"wasm3", "w2c2", "wasm2c"}


def test_every_engine_says_whether_it_is_maintained() -> None:
    for rt in runtimes().values():
        if not rt.is_strategy_only:
            assert rt.value("maintained") in ("yes", "no", "maintenance-only"), rt.runtime
    assert runtimes()["wasm3"].value("maintained") == "maintenance-only"


# ------------------------------------------------------------------ several engines, caveats, fix texts

def test_several_engines_need_the_union_and_mw113_names_who_needs_what() -> None:
    result = evaluate(T(flags(JIT), runtime="electron;wasmtime"))
    assert "MW111" in result.rule_ids and "wasmtime" in next(f.message for f in result.findings
                                                             if f.rule_id == "MW111")
    extra = evaluate(T(flags(JIT, UNS, "com.apple.security.cs.disable-executable-page-protection"),
                       runtime="electron;wasmtime"))
    finding = next(f for f in extra.findings if f.rule_id == "MW113")
    assert "electron needs com.apple.security.cs.allow-jit" in finding.message
    assert "wasmtime needs com.apple.security.cs.allow-unsigned-executable-memory" in finding.message
    assert "none needs com.apple.security.cs.disable-executable-page-protection" in finding.message


def test_the_cli_takes_several_runtimes() -> None:
    (result,) = check(entitlements=[JIT, UNS], runtime=["electron", "wasmtime"])
    assert result.runtimes == ("electron", "wasmtime") and result.verdict == "pass"


def test_caveats_fire_only_where_their_condition_holds() -> None:
    sysex_only = evaluate(T(flags(NE, JIT), runtime="javascriptcore", product_type="app"))
    assert "MW116" not in sysex_only.rule_ids  # the system-extension caveat is not an app's
    in_sysex = evaluate(T({NE: ["content-filter-provider-systemextension"], JIT: True},
                          product_type="network-extension", runtime="javascriptcore"))
    caveat = next(f for f in in_sysex.findings if f.rule_id == "MW116")
    assert caveat.reference.startswith("https://developer.apple.com/forums/thread/805941")
    silenced = evaluate(T(flags(JIT), runtime="electron", arch="arm64"))
    assert "MW116" not in silenced.rule_ids  # the key it asks for is there
    hr_off = evaluate(T(flags(UNS), runtime="electron", arch="arm64", hardened_runtime=False))
    assert "MW116" not in hr_off.rule_ids


def test_fix_texts_agree_with_the_accepted_answer() -> None:
    table = rules()
    assert "not possible in a system extension" not in table["MW111"].fix
    for rule_id in ("MW101", "MW114"):
        fix = table[rule_id].fix
        assert "allow-jit" in fix and "launchd daemon" in fix and "cannot launch an XPC service" in fix
    assert "XPC service" not in table["MW102"].fix  # a DriverKit driver has no XPC route


# ------------------------------------------------------------------ wrong input must not pass quietly

def test_an_info_plist_given_by_mistake_is_not_a_pass(tmp_path: Path) -> None:
    import plistlib

    info = tmp_path / "Info.plist"
    info.write_bytes(plistlib.dumps({"CFBundleIdentifier": "com.example", "CFBundleExecutable": "X",
                                     "LSMinimumSystemVersion": "12.0"}))
    (result,) = check(str(info), runtime="wasm3")
    assert result.verdict != "pass" and "MW170" in result.rule_ids
    assert "an Info.plist" in next(f.message for f in result.findings if f.rule_id == "MW170")


@pytest.mark.parametrize("typo,meant", [("com.apple.security.cs.allow-jti", JIT),
                                        ("com.apple.security.cs.allow-unsigned-executable-memroy", UNS)])
def test_a_misspelt_key_names_the_closest_known_one(typo: str, meant: str) -> None:
    result = evaluate(T(flags(typo)))
    finding = next(f for f in result.findings if f.rule_id == "MW171")
    assert meant in finding.message


def test_a_misspelt_relaxation_on_a_system_extension_never_goes_quiet() -> None:
    result = evaluate(T(flags(ES, "com.apple.security.cs.allow-unsigned-executable-memroy")))
    finding = next(f for f in result.findings if f.rule_id == "MW171")
    assert "MW101" in finding.message and result.verdict != "pass"


def test_a_value_of_the_wrong_type_is_said() -> None:
    result = evaluate(T({JIT: "yes", NE: "content-filter-provider"}))
    found = {f.message.split()[0] for f in result.findings if f.rule_id == "MW172"}
    assert found == {JIT, NE}


def test_an_app_store_build_whose_hardened_runtime_is_not_known_gets_a_question_not_a_crash() -> None:
    """Electron's MAS builds run with no JIT key and no Hardened Runtime (wireapp/wire-desktop's parent.plist)."""
    sandboxed = {"com.apple.security.app-sandbox": True}
    unknown = evaluate(T(sandboxed, runtime="electron", distribution="app-store"))
    ids = [f.rule_id for f in unknown.findings if f.severity != "info"]
    assert ids == ["MW129"] and unknown.verdict == "warn"
    assert "MW110" in unknown.findings[0].message and "electron" in unknown.findings[0].message
    on = evaluate(T(sandboxed, runtime="electron", distribution="app-store", hardened_runtime=True))
    assert "MW110" in on.rule_ids and "MW129" not in on.rule_ids and on.verdict == "fail"
    off = evaluate(T(sandboxed, runtime="electron", distribution="app-store", hardened_runtime=False))
    assert off.verdict == "pass", off.rule_ids
    # Developer ID builds are notarized, so the Hardened Runtime is on: the crash is reported as before
    notarized = evaluate(T(sandboxed, runtime="electron"))
    assert "MW110" in notarized.rule_ids and "MW129" not in notarized.rule_ids
    # with the key the JIT needs, nothing depends on the question
    held = evaluate(T({**sandboxed, "com.apple.security.cs.allow-jit": True}, runtime="electron",
                      distribution="app-store"))
    assert held.verdict == "pass", held.rule_ids


def test_every_distribution_says_whether_it_requires_the_hardened_runtime() -> None:
    from macwasm.policy.tables import DISTRIBUTIONS, distributions

    rows = distributions()
    assert set(rows) == set(DISTRIBUTIONS)
    assert rows["developer-id"].hardened_runtime == "required" and rows["app-store"].hardened_runtime == "optional"
    assert all(r.source and r.quote for r in rows.values())
