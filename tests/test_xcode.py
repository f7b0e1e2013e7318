"""``check X.xcodeproj``: build settings resolved like Xcode, each target judged as the product it builds.

The sample projects of ``tests/fixtures/xcode`` are written by ``scripts/build_xcode_samples.py``
(checked here to be up to date); the smaller cases are built in a temporary folder with the same
writer, so each test shows the one project shape it is about.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from repo_scripts import load_script

from macwasm.errors import XcodeProjectError
from macwasm.policy import check
from macwasm.xcode import read_xcode_project
from macwasm.xcode.project import runtime_option_in
from macwasm.xcode.settings import BuildSettings
from macwasm.xcode.xcconfig import Assignment, read_xcconfig

REPO = Path(__file__).resolve().parents[1]
FIX = REPO / "tests" / "fixtures" / "xcode"
S = load_script("build_xcode_samples")
Phase, TargetSpec = S.Phase, S.TargetSpec


def project(tmp: Path, targets: list[Any], *, files: dict[str, Any] | None = None, name: str = "P",
            **kw: Any) -> Path:
    return S.write_project(tmp / name, name, targets, files=files or {}, **kw)


def pairs(path: Path) -> dict[tuple[str, str], Any]:
    return {(t.target, t.configuration): t for t in read_xcode_project(path).targets}


def results(path: Path | str, **kw: Any) -> dict[tuple[str, str], Any]:
    return {(dict(r.group)["xcode_target"], dict(r.group)["configuration"]): r for r in check(str(path), **kw)}


def settings(*layers: list[Assignment], config: str = "Debug", **context: str) -> BuildSettings:
    return BuildSettings(list(layers), context={"TARGET_NAME": "T", "PROJECT_DIR": "/src", **context},
                         configuration=config)


def a(key: str, value: str, *conds: tuple[str, str]) -> Assignment:
    return Assignment(key, tuple(conds), value, "x.xcconfig", 1)


# ------------------------------------------------------------------------------------ the samples


def test_samples_are_up_to_date(tmp_path: Path) -> None:
    S.build(tmp_path)
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(FIX) for p in FIX.rglob("*") if p.is_file())
    assert built == committed
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (FIX / rel).read_bytes(), rel


def test_pbxproj_writer_output_reads_back_with_openstep_parser() -> None:
    from openstep_parser import OpenStepDecoder

    text = (FIX / "NetFilter" / "NetFilter.xcodeproj" / "project.pbxproj").read_text()
    tree = OpenStepDecoder.ParseFromString(text)
    isas = {o["isa"] for o in tree["objects"].values()}
    assert {"PBXNativeTarget", "PBXCopyFilesBuildPhase", "XCSwiftPackageProductDependency"} <= isas


# ------------------------------------------------------------------------------------ resolution


def test_srcroot_and_target_name_resolve_the_entitlements_path() -> None:
    ext = pairs(FIX / "ESAgent" / "ESAgent.xcodeproj")[("com.example.esagent.extension", "Release")]
    assert ext.entitlements_path.endswith("ESAgent/Extension/com.example.esagent.extension.entitlements")
    assert ext.entitlements == {"com.apple.developer.endpoint-security.client": True}


def test_braces_and_parentheses_and_operators() -> None:
    s = settings([a("A", "${TARGET_NAME}-$(TARGET_NAME:lower)"), a("B", "$(UNSET_BUT_DEFAULTED:default=x)")],
                 [a("UNSET_BUT_DEFAULTED", "")])
    assert s.resolve("A").value == "T-t"
    assert s.resolve("B").value == "x"
    assert s.resolve("SRCROOT").value == "/src"  # a default of the build-settings table


def test_inherited_takes_the_value_below() -> None:
    s = settings([a("OTHER_CODE_SIGN_FLAGS", "-o runtime")], [a("OTHER_CODE_SIGN_FLAGS", "$(inherited) --timestamp")])
    assert s.resolve("OTHER_CODE_SIGN_FLAGS").value == "-o runtime --timestamp"
    s = settings([a("OTHER_CODE_SIGN_FLAGS", "-o runtime")], [a("OTHER_CODE_SIGN_FLAGS", "--timestamp")])
    assert s.resolve("OTHER_CODE_SIGN_FLAGS").value == "--timestamp"


def test_conditional_settings_match_sdk_and_configuration() -> None:
    layer = [a("DEVELOPMENT_TEAM", ""), a("DEVELOPMENT_TEAM", "MAC", ("sdk", "macosx*")),
             a("X", "plain"), a("X", "debug", ("config", "Debug")), a("Y", "ios", ("sdk", "iphoneos*")), a("Y", "p")]
    assert settings(layer).resolve("DEVELOPMENT_TEAM").value == "MAC"
    assert settings(layer).resolve("X").value == "debug"
    assert settings(layer, config="Release").resolve("X").value == "plain"
    assert settings(layer).resolve("Y").value == "p"


def test_undefined_variable_build_folder_and_self_reference_are_unresolved_not_guessed() -> None:
    s = settings([a("E", "$(SOMETHING_FROM_CI)/a.entitlements"), a("G", "$(DERIVED_FILE_DIR)/g"),
                  a("L", "$(L2)"), a("L2", "$(L)"), a("O", "$(TARGET_NAME:frobnicate)")])
    e = s.resolve("E")
    assert e.value is None and [(p.kind, p.variable) for p in e.problems] == [("undefined", "SOMETHING_FROM_CI")]
    assert [p.kind for p in s.resolve("G").problems] == ["build-location"]
    assert s.resolve("L").value is None and "refers to itself" in s.resolve("L").problems[0].variable
    assert s.resolve("O").value is None and s.resolve("O").problems[0].kind == "unsupported"


def test_target_settings_override_project_settings(tmp_path: Path) -> None:
    proj = project(tmp_path, [TargetSpec("Off", S.APP, S.both(ENABLE_HARDENED_RUNTIME="NO")),
                              TargetSpec("On", S.APP, S.both())], project_settings=S.PROJECT_HR)
    found = pairs(proj)
    assert found[("On", "Release")].hardened_runtime is True
    assert found[("Off", "Release")].hardened_runtime is False
    got = results(proj)
    assert "MW121" in got[("Off", "Release")].rule_ids and "MW121" not in got[("On", "Release")].rule_ids


@pytest.mark.parametrize("flags, on", [
    ("--options runtime", True), ("-o runtime", True), ("--timestamp --options=runtime,library", True),
    ("-o library,runtime", True), ("--timestamp", False), ("-o library", False), ("--options", False),
    ("'--options' 'runtime'", True),
])
def test_codesign_flags_runtime(flags: str, on: bool) -> None:
    assert runtime_option_in(flags) is on


def test_other_code_sign_flags_as_a_string_list(tmp_path: Path) -> None:
    proj = project(tmp_path, [TargetSpec("T", S.APP, S.both(OTHER_CODE_SIGN_FLAGS=["--timestamp", "-o", "runtime"]))])
    t = pairs(proj)[("T", "Debug")]
    assert t.hardened_runtime is True and "OTHER_CODE_SIGN_FLAGS" in t.hardened_runtime_basis


def test_xcconfig_include_chain_and_debug_release_differ() -> None:
    found = pairs(FIX / "XcconfigApp" / "XcconfigApp.xcodeproj")
    debug, release = found[("XcconfigApp", "Debug")], found[("XcconfigApp", "Release")]
    assert debug.entitlements_path.endswith("Config/XcconfigApp-Debug.entitlements")
    assert release.entitlements_path.endswith("Config/XcconfigApp.entitlements")
    assert debug.team == "ABCDE12345" and debug.sign_style == "Manual"  # from Shared.xcconfig, two includes down
    assert debug.hardened_runtime is True  # -o runtime in Shared.xcconfig, $(inherited) in the target
    got = results(FIX / "XcconfigApp" / "XcconfigApp.xcodeproj")
    assert "MW120" in got[("XcconfigApp", "Debug")].rule_ids
    assert "MW120" not in got[("XcconfigApp", "Release")].rule_ids


def test_optional_include_missing_is_fine_a_required_one_is_reported(tmp_path: Path) -> None:
    got = results(FIX / "XcconfigApp" / "XcconfigApp.xcodeproj")[("XcconfigApp", "Release")]
    mw184 = [f for f in got.findings if f.rule_id == "MW184"]
    assert got.verdict == "pass" and len(mw184) == 1 and "Local.xcconfig" in mw184[0].message
    assert mw184[0].subject.endswith("Config/Base.xcconfig")
    proj = project(tmp_path, [TargetSpec("T", S.APP, S.both(), xcconfig={"Debug": "c.xcconfig"})],
                   files={"c.xcconfig": '#include "gone.xcconfig"\n'})
    r = results(proj)[("T", "Debug")]
    assert any(f.rule_id == "MW181" and "gone.xcconfig" in f.message for f in r.findings)


def test_xcconfig_cycle_is_refused_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.xcconfig").write_text('X = 1\n#include "b.xcconfig"\n')
    (tmp_path / "b.xcconfig").write_text('\n\n#include "a.xcconfig"\n')
    with pytest.raises(XcodeProjectError) as info:
        read_xcconfig(str(tmp_path / "a.xcconfig"))
    err = info.value
    assert "cycle" in err.reason and err.path.endswith("b.xcconfig") and err.line == 3
    assert "line 3" in err.message


def test_xcconfig_syntax() -> None:
    chain = read_xcconfig(str(FIX / "XcconfigApp" / "Config" / "Debug.xcconfig"))
    keys = [x.key for x in chain.assignments]
    assert keys == ["OTHER_CODE_SIGN_FLAGS", "DEVELOPMENT_TEAM", "CODE_SIGN_STYLE", "PRODUCT_NAME",
                    "CODE_SIGN_ENTITLEMENTS"]
    assert [m.optional for m in chain.missing] == [True]


def test_bad_xcconfig_line_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "c.xcconfig").write_text("GOOD = 1\nthis is not a setting\n")
    with pytest.raises(XcodeProjectError) as info:
        read_xcconfig(str(tmp_path / "c.xcconfig"))
    assert info.value.line == 2 and info.value.offset == len("GOOD = 1\n")


# ------------------------------------------------------------------------------------ product types


def test_product_types_and_system_extension_refined_by_entitlements() -> None:
    kinds = {(t.target, t.product_type) for t in read_xcode_project(FIX / "NetFilter" / "NetFilter.xcodeproj").targets}
    assert kinds == {("NetFilter", "app"), ("com.example.netfilter.extension", "network-extension")}
    es = pairs(FIX / "ESAgent" / "ESAgent.xcodeproj")[("com.example.esagent.extension", "Debug")]
    assert es.product_type == "endpoint-security-extension"
    assert "inferred from the entitlement com.apple.developer.endpoint-security.client" in es.product_type_basis
    dk = pairs(FIX / "DriverHost" / "DriverHost.xcodeproj")[("com.example.driver", "Debug")]
    assert dk.product_type == "driverkit-driver"
    vpn = pairs(FIX / "AppStoreVPN" / "AppStoreVPN.xcodeproj")[("PacketTunnel", "Debug")]
    assert vpn.product_type == "app-extension"


def test_unknown_and_unjudged_product_types(tmp_path: Path) -> None:
    proj = project(tmp_path, [TargetSpec("Tests", "com.apple.product-type.bundle.unit-test", S.both()),
                              TargetSpec("Odd", "com.example.product-type.unheard-of", S.both())])
    facts = read_xcode_project(proj)
    assert facts.skipped == (("Tests", "com.apple.product-type.bundle.unit-test"),)
    r = results(proj)[("Odd", "Debug")]
    assert r.product_type == "app"
    assert any(f.rule_id == "MW160" and "assumed app" in f.message for f in r.findings)


# ------------------------------------------------------------------------------------ embedding graph


def test_embedding_graph() -> None:
    app = pairs(FIX / "NetFilter" / "NetFilter.xcodeproj")[("NetFilter", "Release")]
    ext = pairs(FIX / "NetFilter" / "NetFilter.xcodeproj")[("com.example.netfilter.extension", "Release")]
    assert [(e.embedded, e.bundle_path, e.phase) for e in app.embeds] == [
        ("com.example.netfilter.extension", "Contents/Library/SystemExtensions", "Embed System Extensions")]
    assert [e.host for e in ext.embedded_in] == ["NetFilter"]
    assert app.dependencies == ("com.example.netfilter.extension",)
    vpn = pairs(FIX / "AppStoreVPN" / "AppStoreVPN.xcodeproj")[("AppStoreVPN", "Debug")]
    assert [e.bundle_path for e in vpn.embeds] == ["Contents/PlugIns"]


def test_login_item_and_helper_take_their_role_from_where_the_host_puts_them(tmp_path: Path) -> None:
    proj = project(tmp_path, [
        TargetSpec("Host", S.APP, S.both(), phases=[
            Phase("PBXCopyFilesBuildPhase", ["@Login"], name="Copy Login Item", spec="1",
                  dst_path="Contents/Library/LoginItems"),
            Phase("PBXCopyFilesBuildPhase", ["@helperd"], name="Copy Daemon", spec="1",
                  dst_path="Contents/Library/LaunchServices"),
            Phase("PBXCopyFilesBuildPhase", ["@tool"], name="Copy Tool", spec="6"),
            Phase("PBXCopyFilesBuildPhase", ["@Svc"], name="Embed XPC Services", spec="16",
                  dst_path="$(CONTENTS_FOLDER_PATH)/XPCServices")]),
        TargetSpec("Login", S.APP, S.both()), TargetSpec("helperd", S.TOOL, S.both()),
        TargetSpec("tool", S.TOOL, S.both()), TargetSpec("Svc", "com.apple.product-type.xpc-service", S.both()),
        TargetSpec("standalone", S.TOOL, S.both())])
    kinds = {name: t.product_type for (name, conf), t in pairs(proj).items() if conf == "Debug"}
    assert kinds == {"Host": "app", "Login": "login-item", "helperd": "daemon", "tool": "helper-tool",
                     "Svc": "xpc-service", "standalone": "command-line-tool"}
    host = pairs(proj)[("Host", "Debug")]
    assert {e.embedded: e.bundle_path for e in host.embeds}["Svc"] == "Contents/XPCServices"


# ------------------------------------------------------------------------------------ wasm and engines


def test_wasm_in_resources_passes_wasm_in_frameworks_is_mw140() -> None:
    r = results(FIX / "WasmPlacement" / "WasmPlacement.xcodeproj")[("Placement", "Release")]
    mw140 = [f for f in r.findings if f.rule_id == "MW140"]
    assert [f.subject for f in mw140] == ["tests/fixtures/xcode/WasmPlacement/Modules/misplaced.wasm"]
    app = pairs(FIX / "WasmPlacement" / "WasmPlacement.xcodeproj")[("Placement", "Release")]
    assert {(w.bundle_path, w.location, w.kind) for w in app.wasm} == {
        ("Contents/Resources/good.wasm", "resources", "core-module"),
        ("Contents/Frameworks/misplaced.wasm", "code", "core-module")}


def test_wasm_folder_reference_and_missing_module(tmp_path: Path) -> None:
    proj = project(tmp_path, [TargetSpec("T", S.APP, S.both(), phases=[
        Phase("PBXResourcesBuildPhase", ["Modules"]),
        Phase("PBXCopyFilesBuildPhase", ["gen/late.wasm"], name="Copy Engine", spec="6")])],
        files={"Modules/a.wasm": S.WASM, "Modules/sub/b.wasm": b"not wasm"})
    t = pairs(proj)[("T", "Debug")]
    assert {(w.bundle_path, w.location, w.kind) for w in t.wasm} == {
        ("Contents/Resources/Modules/a.wasm", "resources", "core-module"),
        ("Contents/Resources/Modules/sub/b.wasm", "resources", "not-wasm"),
        ("Contents/MacOS/late.wasm", "code", "error")}
    assert {"MW140", "MW145"} <= set(results(proj)[("T", "Debug")].rule_ids)


def test_wasm_copied_to_an_absolute_path_is_mw187(tmp_path: Path) -> None:
    proj = project(tmp_path, [TargetSpec("T", S.APP, S.both(), phases=[
        Phase("PBXCopyFilesBuildPhase", ["m.wasm"], name="Install Modules", spec="0", dst_path="/Library/M")])],
        files={"m.wasm": S.WASM})
    r = results(proj)[("T", "Debug")]
    assert any(f.rule_id == "MW187" and "Install Modules" in f.message for f in r.findings)


def test_engines_from_packages_libraries_and_linked_framework_targets() -> None:
    net = pairs(FIX / "NetFilter" / "NetFilter.xcodeproj")[("com.example.netfilter.extension", "Debug")]
    assert [(e.engine, e.runtime, e.linked_as) for e in net.engines] == [
        ("WasmKit", "wasmkit", "Swift package product WasmKit")]
    es = pairs(FIX / "ESAgent" / "ESAgent.xcodeproj")[("com.example.esagent.extension", "Debug")]
    assert [(e.engine, e.runtime) for e in es.engines] == [("wasm3", "wasm3")]
    app = pairs(FIX / "WasmPlacement" / "WasmPlacement.xcodeproj")[("Placement", "Debug")]
    assert [(e.engine, e.via) for e in app.engines] == [("wasmtime", "EngineKit")]
    got = results(FIX / "WasmPlacement" / "WasmPlacement.xcodeproj")[("Placement", "Debug")]
    assert got.runtimes == ("wasmtime",) and "MW186" in got.rule_ids


def test_surest_engine_wins_and_runtime_option_overrides(tmp_path: Path) -> None:
    proj = project(tmp_path, [TargetSpec("T", S.APP, S.both(), phases=[
        Phase("PBXFrameworksBuildPhase", ["WebKit.framework", "JavaScriptCore.framework", "v/libiwasm.dylib"])])],
        files={"v/libiwasm.dylib": b""})
    r = results(proj)[("T", "Debug")]
    assert r.runtimes == ("wamr-interp",)
    note = next(f for f in r.findings if f.rule_id == "MW186")
    assert "WAMR" in note.message and "JavaScriptCore" in note.message and "WebKit" in note.message
    r = results(proj, runtime="wasm3")[("T", "Debug")]
    assert r.runtimes == ("wasm3",) and "MW186" not in r.rule_ids


# ------------------------------------------------------------------------------------ findings


def test_forum_case_and_its_fix() -> None:
    forum = results(FIX / "ForumCase" / "ForumCase.xcodeproj")
    ext = forum[("com.example.forumcase.extension", "Release")]
    assert ext.verdict == "fail" and {"MW101", "MW114"} <= set(ext.rule_ids)
    assert forum[("ForumCase", "Release")].verdict == "fail"
    fixed = results(FIX / "ForumCaseFixed" / "ForumCaseFixed.xcodeproj")
    assert {r.verdict for r in fixed.values()} == {"pass"}


@pytest.mark.parametrize("target, rule", [("CIApp", "MW180"), ("GeneratedApp", "MW182"), ("MissingApp", "MW181")])
def test_unresolvable_entitlements_get_an_info_finding_naming_the_setting(target: str, rule: str) -> None:
    r = results(FIX / "CIEntitlements" / "CIEntitlements.xcodeproj")[(target, "Debug")]
    found = [f for f in r.findings if f.rule_id == rule]
    assert len(found) == 1 and found[0].severity == "info" and "CODE_SIGN_ENTITLEMENTS" in found[0].message
    assert not any(f.rule_id.startswith("MW10") for f in r.findings)  # nothing judged from a guessed file


def test_unreadable_entitlements_file_is_mw185(tmp_path: Path) -> None:
    proj = project(tmp_path, [TargetSpec("T", S.APP, S.both(CODE_SIGN_ENTITLEMENTS="T.entitlements"))],
                   files={"T.entitlements": "<plist><dict><key>a</key>"})
    r = results(proj)[("T", "Debug")]
    f = next(f for f in r.findings if f.rule_id == "MW185")
    assert f.severity == "error" and "T.entitlements" in f.message and r.verdict == "fail"


def test_unknown_operator_is_mw183(tmp_path: Path) -> None:
    proj = project(tmp_path, [TargetSpec("T", S.APP, S.both(CODE_SIGN_ENTITLEMENTS="$(TARGET_NAME:nope).e"))])
    assert "MW183" in results(proj)[("T", "Debug")].rule_ids


def test_entitlement_findings_point_at_the_entitlements_file_the_rest_at_project_pbxproj() -> None:
    r = results(FIX / "ForumCase" / "ForumCase.xcodeproj")[("com.example.forumcase.extension", "Debug")]
    by_rule = {f.rule_id: f.subject for f in r.findings}
    assert by_rule["MW101"] == "tests/fixtures/xcode/ForumCase/Extension/Extension.entitlements"
    assert by_rule["MW160"] == "tests/fixtures/xcode/ForumCase/ForumCase.xcodeproj/project.pbxproj"


# ------------------------------------------------------------------------------------ CLI


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "macwasm", "check", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def test_cli_workspace_json_grouped_by_target_and_configuration() -> None:
    proc = _cli("tests/fixtures/xcode/TwoProjects.xcworkspace", "--format", "json")
    assert proc.returncode == 1, proc.stderr  # the forum project fails
    records = json.loads(proc.stdout)
    keys = [(r["project"], r["xcode_target"], r["configuration"]) for r in records]
    assert keys == [
        ("tests/fixtures/xcode/NetFilter/NetFilter.xcodeproj", "NetFilter", "Debug"),
        ("tests/fixtures/xcode/NetFilter/NetFilter.xcodeproj", "NetFilter", "Release"),
        ("tests/fixtures/xcode/NetFilter/NetFilter.xcodeproj", "com.example.netfilter.extension", "Debug"),
        ("tests/fixtures/xcode/NetFilter/NetFilter.xcodeproj", "com.example.netfilter.extension", "Release"),
        ("tests/fixtures/xcode/ForumCase/ForumCase.xcodeproj", "ForumCase", "Debug"),
        ("tests/fixtures/xcode/ForumCase/ForumCase.xcodeproj", "ForumCase", "Release"),
        ("tests/fixtures/xcode/ForumCase/ForumCase.xcodeproj", "com.example.forumcase.extension", "Debug"),
        ("tests/fixtures/xcode/ForumCase/ForumCase.xcodeproj", "com.example.forumcase.extension", "Release"),
    ]
    assert records[0]["target"] == "tests/fixtures/xcode/NetFilter/NetFilter.xcodeproj [NetFilter] (Debug)"
    subjects = {f["subject"] for r in records for f in r["findings"]}
    assert all(s.endswith((".entitlements", "project.pbxproj")) for s in subjects), subjects


def test_cli_workspace_with_a_missing_project(tmp_path: Path) -> None:
    S.net_filter(tmp_path)
    ws = tmp_path / "W.xcworkspace"
    ws.mkdir()
    (ws / "contents.xcworkspacedata").write_text(
        '<Workspace version="1.0"><FileRef location="group:NetFilter/NetFilter.xcodeproj"/>'
        '<Group location="group:Sub"><FileRef location="group:Gone.xcodeproj"/></Group>'
        f'<FileRef location="absolute:{tmp_path}/NetFilter/NetFilter.xcodeproj"/></Workspace>')
    proc = _cli(str(ws))
    assert proc.returncode == 1
    assert f"{tmp_path}/Sub/Gone.xcodeproj" in proc.stderr and "not found" in proc.stderr
    assert "4 target(s): 4 pass, 0 warn, 0 fail; 1 unreadable" in proc.stdout  # the project listed twice, once


def test_cli_folder_search_takes_each_project_once_and_never_descends() -> None:
    proc = _cli("tests/fixtures/xcode", "--format", "json")
    records = json.loads(proc.stdout)
    names = [r["target"] for r in records]
    assert len(names) == len(set(names))
    assert not any(".xcodeproj/" in n or ".xcworkspace/" in n for n in names)  # never searched inside
    assert any(n.endswith("Extension.entitlements") for n in names)  # the rest of the folder is searched as before
    projects = {r["project"] for r in records if "project" in r}
    assert len(projects) == 9
    counted = sum(1 for _ in FIX.glob("*/*.xcodeproj"))
    assert counted == 9


def test_cli_sarif_locations() -> None:
    proc = _cli("tests/fixtures/xcode/ForumCase/ForumCase.xcodeproj", "--format", "sarif")
    log = json.loads(proc.stdout)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {"tests/fixtures/xcode/ForumCase/App/App.entitlements",
                    "tests/fixtures/xcode/ForumCase/Extension/Extension.entitlements",
                    "tests/fixtures/xcode/ForumCase/ForumCase.xcodeproj/project.pbxproj"}


def test_a_project_is_read_only(tmp_path: Path) -> None:
    proj = project(tmp_path, [TargetSpec("T", S.APP, S.both())])
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_path.rglob("*") if p.is_file()}
    check(str(proj))
    assert before == {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_path.rglob("*") if p.is_file()}
    assert os.listdir(proj) == ["project.pbxproj"]


# ------------------------------------------------------------------------------------ the tables


XCODE_TABLES = ("xcode_product_types.csv", "xcode_copy_destinations.csv", "xcode_build_settings.csv",
                "xcode_engine_names.csv")


def test_every_xcode_fact_row_has_a_source_and_confidence(data_dir: Path) -> None:
    import csv

    for name in XCODE_TABLES:
        with open(data_dir / name, newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert rows, name
        for row in rows:
            assert row["source"].strip(), (name, row)
            assert row["grade"] in ("code", "apple", "observed", "inferred", "unconfirmed"), (name, row)


@pytest.fixture
def data_copy(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import shutil

    copy = tmp_path / "data"
    copy.mkdir()
    for path in data_dir.glob("*.csv"):
        shutil.copy(path, copy / path.name)
    monkeypatch.setenv("MACWASM_DATA", str(copy))
    return copy


def test_engine_names_are_data(data_copy: Path) -> None:
    path = data_copy / "xcode_engine_names.csv"
    path.write_text(path.read_text().replace("package-product,WasmKit,WasmKit,wasmkit,", "package-product,WasmKit,"
                                             "WasmKit,wasm3,"))
    r = results(FIX / "NetFilter" / "NetFilter.xcodeproj")[("com.example.netfilter.extension", "Debug")]
    assert r.runtimes == ("wasm3",)


def test_product_type_mapping_is_data_and_a_bad_row_is_refused(data_copy: Path) -> None:
    from macwasm.errors import TableFormatError

    path = data_copy / "xcode_product_types.csv"
    text = path.read_text()
    path.write_text(text.replace("com.apple.product-type.driver-extension,driverkit-driver,",
                                 "com.apple.product-type.driver-extension,gadget,"))
    with pytest.raises(TableFormatError, match=r"line \d+: product_type 'gadget'"):
        read_xcode_project(FIX / "DriverHost" / "DriverHost.xcodeproj")
