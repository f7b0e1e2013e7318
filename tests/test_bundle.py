"""Bundle walker: roles from the table, wasm locations, profiles, symlinks, caps, sample bundles."""

from __future__ import annotations

import os
import plistlib
import time
from pathlib import Path

import pytest
from repo_scripts import load_script

from macwasm.errors import LIMIT, BundleError, MacwasmError
from macwasm.signing.bundle import BundleLimits, read_bundle, wasm_location
from macwasm.signing.roles import resolve_role, role_rules

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "bundles"
WASM_CORE = (REPO / "data" / "modules" / "mvp.wasm").read_bytes()
WASM_COMPONENT = (REPO / "data" / "modules" / "component-wasi-p2.wasm").read_bytes()


def _load_builder():
    return load_script("build_sample_bundles")


B = _load_builder()


def write(root: Path, tree: dict[str, bytes]) -> None:
    for rel, data in tree.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def exe(identifier: str, entitlements: dict | None = None, **kw) -> bytes:
    return B.macho(identifier=identifier, team=B.TEAM, entitlements=entitlements, **kw)


def make_app(root: Path, name: str = "Host.app", entitlements: dict | None = None, **info) -> Path:
    write(root, B.app(name, "Host", "com.example.host", entitlements or {"com.apple.security.app-sandbox": True},
                      **info))
    return root / name


def by_path(facts) -> dict:
    return {n.path: n for n in facts.nested}


# ------------------------------------------------------------------------------- sample bundles


def test_build_script_is_deterministic_and_matches_data(tmp_path: Path) -> None:
    B.build(tmp_path)
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(SAMPLES) for p in SAMPLES.rglob("*") if p.is_file() and p.name != "README.md")
    assert built == shipped
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (SAMPLES / rel).read_bytes(), rel
    B.build(tmp_path)  # again, over the first copy
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (SAMPLES / rel).read_bytes(), rel


def test_container_app_with_network_system_extension() -> None:
    facts = read_bundle(SAMPLES / "ContainerFilter.app")
    assert facts.source == "bundle" and facts.role == "app" and facts.error is None
    assert facts.bundle_id == "com.example.filter.app"
    assert facts.entitlements["com.apple.developer.system-extension.install"] is True
    assert facts.signature.kind == "signed" and facts.signature.team_id == "ABCDE12345"
    assert facts.signature.hardened_runtime is True
    assert facts.profile is not None and facts.profile.team_ids == ("ABCDE12345",)
    [sysex] = facts.nested
    assert sysex.path == "Contents/Library/SystemExtensions/com.example.filter.systemextension"
    assert sysex.role == "network-extension" and sysex.bundle_id == "com.example.filter"
    assert sysex.has_profile is True and sysex.error is None
    relaxations = sorted(k for k in sysex.entitlements if k.startswith("com.apple.security.cs."))
    assert relaxations == ["com.apple.security.cs.allow-jit"]
    assert sysex.entitlements["com.apple.developer.networking.networkextension"] == [
        "content-filter-provider-systemextension"]
    assert [(w.path, w.location, w.kind) for w in facts.wasm_files] == [
        ("Contents/Resources/filter-rules.wasm", "resources", "core-module")]


def test_misplaced_module_found_in_code_location() -> None:
    facts = read_bundle(SAMPLES / "MisplacedModule.app")
    assert [(w.path, w.location, w.kind) for w in facts.wasm_files] == [
        ("Contents/MacOS/plugin.wasm", "code", "component"),
        ("Contents/Resources/ok.wasm", "resources", "core-module"),
    ]
    assert facts.nested == []  # a .wasm in Contents/MacOS is not Mach-O, so not nested code
    assert facts.profile is None


def test_forum_case_main_executable_carries_sysex_keys_and_relaxation() -> None:
    facts = read_bundle(SAMPLES / "ForumCase.app")
    assert [s.arch for s in facts.slices] == ["x86_64", "arm64"]
    ents = facts.entitlements
    assert ents["com.apple.developer.endpoint-security.client"] is True
    assert ents["com.apple.security.cs.allow-unsigned-executable-memory"] is True
    assert "dns-proxy-systemextension" in ents["com.apple.developer.networking.networkextension"]
    assert facts.role == "app" and facts.nested == [] and facts.wasm_files == []
    assert all(s.der_matches_xml is True for s in facts.slices)


def test_driverkit_dext_shallow_bundle_and_xpc_service() -> None:
    dext = read_bundle(SAMPLES / "DriverHost.app").nested
    assert [(n.path, n.role) for n in dext] == [
        ("Contents/Library/SystemExtensions/com.example.driver.dext", "driverkit-driver")]
    assert dext[0].entitlements["com.apple.security.cs.allow-jit"] is True
    xpc = read_bundle(SAMPLES / "JitService.app")
    assert [(n.path, n.role) for n in xpc.nested] == [("Contents/XPCServices/com.example.jit.xpc", "xpc-service")]
    assert xpc.nested[0].entitlements == {"com.apple.security.cs.allow-jit": True}
    assert "com.apple.security.cs.allow-jit" not in xpc.entitlements


# -------------------------------------------------------------------------------------- roles

SYSEX = "Contents/Library/SystemExtensions/x.systemextension"


@pytest.mark.parametrize(("info", "entitlements", "role"), [
    ({"NetworkExtension": {"NEMachServiceName": "T.x"}}, {}, "network-extension"),
    ({"NSEndpointSecurityEarlyBoot": True}, {}, "endpoint-security-extension"),
    ({"NSEndpointSecurityMachServiceName": "T.es"}, {}, "endpoint-security-extension"),
    ({}, {"com.apple.developer.endpoint-security.client": True}, "endpoint-security-extension"),
    ({}, {"com.apple.developer.networking.networkextension": ["dns-proxy-systemextension"]}, "network-extension"),
    ({"CMIOExtension": {"CMIOExtensionMachServiceName": "T.cam"}}, {}, "system-extension"),
    ({}, {}, "system-extension"),
])
def test_system_extension_kind_from_info_plist_and_entitlements(tmp_path: Path, info, entitlements, role) -> None:
    host = make_app(tmp_path)
    write(host, B.app(SYSEX, "x", "com.example.x", entitlements or None,
                      package_type="SYSX", **info))
    assert [(n.path, n.role) for n in read_bundle(host).nested] == [(SYSEX, role)]


@pytest.mark.parametrize(("rel", "tree_kind", "info", "role"), [
    ("Contents/PlugIns/Share.appex", "bundle", {"NSExtension": {"NSExtensionPointIdentifier": "com.apple.share"}},
     "app-extension"),
    ("Contents/Extensions/Kit.appex", "bundle", {"EXAppExtensionAttributes": {"EXExtensionPointIdentifier": "x"}},
     "app-extension"),
    ("Contents/XPCServices/Worker.xpc", "bundle", {"XPCService": {"ServiceType": "Application"}}, "xpc-service"),
    ("Contents/Library/LoginItems/Agent.app", "bundle", {}, "login-item"),
    ("Contents/Helpers/Helper.app", "bundle", {}, "helper-tool"),
    ("Contents/Library/LaunchServices/com.example.privileged", "file", {}, "daemon"),
    ("Contents/Helpers/tool", "file", {}, "helper-tool"),
    ("Contents/MacOS/extra-tool", "file", {}, "helper-tool"),
    ("Contents/Frameworks/libengine.dylib", "file", {}, "framework"),
    ("Contents/PlugIns/Inproc.bundle", "bundle", {}, "framework"),
    ("Contents/Library/SystemExtensions/com.example.d.dext", "shallow", {}, "driverkit-driver"),
])
def test_nested_roles_by_location_extension_and_keys(tmp_path: Path, rel, tree_kind, info, role) -> None:
    host = make_app(tmp_path)
    name = rel.rsplit("/", 1)[1]
    if tree_kind == "bundle":
        write(host, B.app(rel, "inner", "com.example.inner", {"com.apple.security.cs.allow-jit": True}, **info))
    elif tree_kind == "shallow":
        write(host, {f"{rel}/Info.plist": B.info_plist("drv", "com.example.d", "DEXT"),
                     f"{rel}/drv": exe("com.example.d", {"com.apple.developer.driverkit": True})})
    else:
        write(host, {rel: exe(name, {"com.apple.security.cs.allow-jit": True})})
    nested = read_bundle(host).nested
    assert [(n.path, n.role) for n in nested] == [(rel, role)]
    assert nested[0].error is None and nested[0].signature.kind == "signed"


def test_framework_with_versions_symlinks(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    fw = host / "Contents" / "Frameworks" / "Engine.framework"
    write(fw, {"Versions/A/Engine": exe("com.example.engine", None, filetype=B.MH_DYLIB),
               "Versions/A/Resources/Info.plist": B.info_plist("Engine", "com.example.engine", "FMWK"),
               "Versions/A/Resources/tables.wasm": WASM_CORE,
               "Versions/A/jit.wasm": WASM_CORE})
    os.symlink("A", fw / "Versions" / "Current")
    os.symlink("Versions/Current/Engine", fw / "Engine")
    os.symlink("Versions/Current/Resources", fw / "Resources")
    facts = read_bundle(host)
    [item] = facts.nested
    assert (item.path, item.role, item.bundle_id, item.error) == (
        "Contents/Frameworks/Engine.framework", "framework", "com.example.engine", None)
    assert item.signature.identifier == "com.example.engine"
    assert {w.path: w.location for w in facts.wasm_files} == {
        "Contents/Frameworks/Engine.framework/Versions/A/Resources/tables.wasm": "resources",
        "Contents/Frameworks/Engine.framework/Versions/A/jit.wasm": "code",
    }
    assert facts.notes == []  # links inside the bundle are normal and not reported


def test_nested_bundles_recurse_and_keep_paths(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    login = "Contents/Library/LoginItems/Agent.app"
    write(host, B.app(login, "Agent", "com.example.agent", {}))
    write(host, B.app(f"{login}/Contents/XPCServices/Deep.xpc", "Deep", "com.example.deep", {}))
    assert [(n.path, n.role) for n in read_bundle(host).nested] == [
        (login, "login-item"), (f"{login}/Contents/XPCServices/Deep.xpc", "xpc-service")]


@pytest.mark.parametrize(("name", "info", "role"), [
    ("Bare", {}, "app"),
    ("Share.appex", {"NSExtension": {"NSExtensionPointIdentifier": "com.apple.share-services"}}, "app-extension"),
    ("f.systemextension", {"NetworkExtension": {}}, "network-extension"),
    ("w.xpc", {}, "xpc-service"),
])
def test_top_level_role(tmp_path: Path, name, info, role) -> None:
    write(tmp_path, B.app(name, "m", "com.example.m", {}, **info))
    assert read_bundle(tmp_path / name).role == role


def test_every_rule_names_a_source_and_the_last_matches_anything() -> None:
    rules = role_rules()
    assert [r.rule for r in rules] == sorted({r.rule for r in rules})
    assert all(r.source.startswith("https://") for r in rules)
    last = rules[-1]
    assert (last.extension, last.location, last.info_plist_key, last.entitlement) == ("", "", "", "")
    assert resolve_role("blob", "Resources")[0] == last.role


# ------------------------------------------------------------------------------ wasm locations


@pytest.mark.parametrize(("rel", "location"), [
    ("Contents/Resources/a.wasm", "resources"),
    ("Contents/Resources/sub/dir/a.wasm", "resources"),
    ("Contents/MacOS/a.wasm", "code"),
    ("Contents/Frameworks/a.wasm", "code"),
    ("Contents/PlugIns/a.wasm", "code"),
    ("Contents/XPCServices/a.wasm", "code"),
    ("Contents/Helpers/a.wasm", "code"),
    ("Contents/Library/LoginItems/a.wasm", "code"),
    ("Contents/Library/Anything/a.wasm", "code"),
    ("Contents/a.wasm", "other"),
    ("Contents/SharedSupport/a.wasm", "other"),
    ("a.wasm", "other"),
    ("Contents/PlugIns/X.appex/Contents/Resources/a.wasm", "resources"),
    ("Contents/PlugIns/X.appex/Contents/MacOS/a.wasm", "code"),
])
def test_wasm_location(rel: str, location: str) -> None:
    assert wasm_location(rel) == location


def test_wasm_kinds_and_unreadable_are_reported(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    write(host, {"Contents/Resources/core.wasm": WASM_CORE, "Contents/Resources/comp.wasm": WASM_COMPONENT,
                 "Contents/Resources/text.wasm": b"hello", "Contents/Resources/empty.wasm": b""})
    kinds = {w.path.rsplit("/", 1)[1]: w.kind for w in read_bundle(host).wasm_files}
    assert kinds == {"core.wasm": "core-module", "comp.wasm": "component", "text.wasm": "not-wasm",
                     "empty.wasm": "not-wasm"}


# ------------------------------------------------------------------------------ hostile trees


def test_symlink_to_root_and_loop_are_reported_not_followed(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    res = host / "Contents" / "Resources"
    res.mkdir(parents=True, exist_ok=True)
    os.symlink("/", res / "root")
    os.symlink("loop", res / "loop")
    os.symlink("b", res / "a")
    os.symlink("a", res / "b")
    os.symlink("missing-target", res / "dangling")
    os.symlink("../../..", host / "Contents" / "PlugIns")  # a code location that leaves the bundle
    start = time.monotonic()
    facts = read_bundle(host)
    assert time.monotonic() - start < 30  # would never end if / were walked
    notes = "\n".join(facts.notes)
    assert "Contents/Resources/root: symlink points outside the bundle (-> /); not followed" in notes
    assert "Contents/Resources/loop: symlink loop" in notes
    assert "Contents/Resources/a: symlink loop" in notes and "Contents/Resources/b: symlink loop" in notes
    assert "Contents/Resources/dangling: dangling symlink" in notes
    assert "Contents/PlugIns: symlink points outside the bundle" in notes
    assert facts.nested == [] and facts.wasm_files == []


def test_main_executable_symlinked_out_of_the_bundle_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.write_bytes(exe("com.example.outside", {"com.apple.security.cs.allow-jit": True}))
    host = make_app(tmp_path / "b")
    main = host / "Contents" / "MacOS" / "Host"
    main.unlink()
    os.symlink(outside, main)
    facts = read_bundle(host)
    assert facts.slices == [] and facts.entitlements is None
    assert "outside the bundle; not followed" in facts.error


def test_missing_info_plist_is_a_bundle_error(tmp_path: Path) -> None:
    (tmp_path / "Empty.app" / "Contents" / "MacOS").mkdir(parents=True)
    with pytest.raises(BundleError) as info:
        read_bundle(tmp_path / "Empty.app")
    assert info.value.path == str(tmp_path / "Empty.app")
    assert "Info.plist" in info.value.message


def test_binary_info_plist(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    info = host / "Contents" / "Info.plist"
    info.write_bytes(plistlib.dumps(plistlib.loads(info.read_bytes()), fmt=plistlib.FMT_BINARY))
    facts = read_bundle(host)
    assert facts.bundle_id == "com.example.host" and facts.signature.identifier == "com.example.host"


def test_malformed_info_plist_names_file_and_offset(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    (host / "Contents" / "Info.plist").write_bytes(b"<?xml version='1.0'?><plist><dict><key>x</key></plist>")
    with pytest.raises(MacwasmError) as info:
        read_bundle(host)
    assert info.value.path.endswith("Host.app/Contents/Info.plist") and info.value.offset is not None


def test_missing_and_non_macho_executables_are_reported(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    main = host / "Contents" / "MacOS" / "Host"
    main.unlink()
    facts = read_bundle(host)
    assert "executable is missing" in facts.error and facts.error.startswith(str(host))
    main.write_bytes(b"#!/bin/sh\necho hi\n")
    assert "not a Mach-O file" in read_bundle(host).error
    # nested: a truncated Mach-O
    main.write_bytes(exe("com.example.host"))
    write(host, B.app("Contents/XPCServices/Bad.xpc", "bad", "com.example.bad", {}))
    bad = host / "Contents/XPCServices/Bad.xpc/Contents/MacOS/bad"
    bad.write_bytes(bad.read_bytes()[:40])
    [nested] = read_bundle(host).nested
    assert nested.role == "xpc-service" and nested.signature is None and nested.error


def test_file_count_cap(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    for i in range(30):
        (host / "Contents" / "Resources").mkdir(exist_ok=True)
        (host / "Contents" / "Resources" / f"f{i}").write_bytes(b"")
    with pytest.raises(BundleError) as info:
        read_bundle(host, limits=BundleLimits(max_files=20))
    assert info.value.category == LIMIT and "more than 20" in info.value.reason
    assert read_bundle(host, limits=BundleLimits(max_files=100)).error is None


def test_folder_depth_cap(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    deep = host / "Contents" / "Resources"
    for i in range(10):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    with pytest.raises(BundleError) as info:
        read_bundle(host, limits=BundleLimits(max_dir_depth=6))
    assert info.value.category == LIMIT and "6 levels" in info.value.reason


def test_nesting_cap(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    rel = "Contents/XPCServices/A.xpc"
    for name in ("A", "B", "C"):
        write(host, B.app(rel, name, f"com.example.{name}", {}))
        rel = f"{rel}/Contents/XPCServices/{chr(ord(name) + 1)}.xpc"
    assert len(read_bundle(host).nested) == 3
    with pytest.raises(BundleError) as info:
        read_bundle(host, limits=BundleLimits(max_nesting=2))
    assert info.value.category == LIMIT and "nest more than 2" in info.value.reason


def test_nested_item_cap(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    binary = exe("com.example.tool")
    write(host, {f"Contents/Helpers/tool{i}": binary for i in range(5)})
    assert len(read_bundle(host).nested) == 5
    with pytest.raises(BundleError) as info:
        read_bundle(host, limits=BundleLimits(max_nested_items=3))
    assert info.value.category == LIMIT


def test_notes_are_capped_and_counted(tmp_path: Path) -> None:
    host = make_app(tmp_path)
    res = host / "Contents" / "Resources"
    res.mkdir()
    for i in range(8):
        os.symlink("/", res / f"root{i}")
    notes = read_bundle(host, limits=BundleLimits(max_notes=3)).notes
    assert len(notes) == 4 and notes[-1] == "5 more notes not shown (limit 3)"


def _snapshot(root: Path) -> dict[str, tuple[int, int, bytes | str]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            body = os.readlink(p) if p.is_symlink() else (p.read_bytes() if p.is_file() else "")
            out[str(p)] = (st.st_mtime_ns, st.st_mode, body)
    return out


def test_reading_never_writes(tmp_path: Path) -> None:
    B.build(tmp_path)
    os.symlink("/", tmp_path / "ContainerFilter.app" / "Contents" / "Resources" / "root")
    before = _snapshot(tmp_path)
    for app in sorted(tmp_path.iterdir()):
        read_bundle(app)
    assert _snapshot(tmp_path) == before


def test_roles_are_product_types_of_the_policy_tables(data_dir: Path) -> None:
    import csv

    roles = {r.role for r in role_rules()}
    types_csv = data_dir / "product_types.csv"
    if not types_csv.exists():
        pytest.skip("data/product_types.csv not in this checkout yet")
    with open(types_csv, newline="", encoding="utf-8") as fh:
        product_types = {row["product_type"] for row in csv.DictReader(fh)}
    assert roles <= product_types, roles - product_types
