#!/usr/bin/env python3
"""Build the sample Xcode projects of ``tests/fixtures/xcode/`` (deterministic: same bytes every run).

Each project is written by the ``pbxproj`` package's writer (the OpenStep text Xcode writes, with its
section and name comments) from a tree built here, with the ``.entitlements``, ``.xcconfig`` and
``.wasm`` files it names. The shapes follow what open-source macOS projects with system extensions
use (a container app embedding its extension with an "Embed System Extensions" copy phase, a
DriverKit driver with its manager app, Network Extension app extensions in ``PlugIns``, xcconfig
chains); no project file is copied from anywhere.

    .venv/bin/python scripts/build_xcode_samples.py [--out DIR]

``project(...)`` and ``big_project(n)`` are reused by the tests and by ``benchmarks/bench_xcode.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import plistlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "fixtures" / "xcode"
WASM = b"\x00asm\x01\x00\x00\x00"  # an empty core module

ES = "com.apple.developer.endpoint-security.client"
NE = "com.apple.developer.networking.networkextension"
INSTALL = "com.apple.developer.system-extension.install"
UNSIGNED = "com.apple.security.cs.allow-unsigned-executable-memory"
JIT = "com.apple.security.cs.allow-jit"
SANDBOX = "com.apple.security.app-sandbox"
GROUPS = "com.apple.security.application-groups"
GET_TASK_ALLOW = "com.apple.security.get-task-allow"
DRIVERKIT = "com.apple.developer.driverkit"
DK_USB = "com.apple.developer.driverkit.transport.usb"

APP = "com.apple.product-type.application"
SYSEX = "com.apple.product-type.system-extension"
APPEX = "com.apple.product-type.app-extension"
DEXT = "com.apple.product-type.driver-extension"
FRAMEWORK = "com.apple.product-type.framework"
TOOL = "com.apple.product-type.tool"
EXTENSION_OF = {APP: "app", SYSEX: "systemextension", APPEX: "appex", DEXT: "dext", FRAMEWORK: "framework", TOOL: ""}


@dataclass
class Phase:
    isa: str
    files: list[str]  # file paths (relative to the project folder) or "@Target" for another target's product
    name: str | None = None
    spec: str | None = None
    dst_path: str = ""


@dataclass
class TargetSpec:
    name: str
    product_type: str
    settings: dict[str, dict[str, Any]]  # configuration -> build settings
    xcconfig: dict[str, str] = field(default_factory=dict)  # configuration -> .xcconfig path
    phases: list[Phase] = field(default_factory=list)
    depends: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)  # Swift package products
    product_name: str | None = None


class _Ids:
    def __init__(self, project: str) -> None:
        self.project = project

    def __call__(self, *key: str) -> str:
        return hashlib.sha256("/".join((self.project, *key)).encode()).hexdigest()[:24].upper()


def pbxproj_text(name: str, targets: list[TargetSpec], *, project_settings: dict[str, dict[str, Any]],
                 project_xcconfig: dict[str, str] | None = None, package_url: str | None = None) -> str:
    """The project.pbxproj text for these targets (written by pbxproj's XcodeProject printer)."""
    from pbxproj import XcodeProject

    ids = _Ids(name)
    objects: dict[str, Any] = {}
    main_children: list[str] = []
    products_children: list[str] = []
    files: dict[str, str] = {}

    def file_ref(path: str) -> str:
        if path not in files:
            fid = ids("file", path)
            kind = "folder" if not os.path.splitext(path)[1] else {
                ".a": "archive.ar", ".wasm": "file", ".entitlements": "text.plist.entitlements",
                ".xcconfig": "text.xcconfig", ".framework": "wrapper.framework"}.get(os.path.splitext(path)[1], "file")
            obj = {"isa": "PBXFileReference", "lastKnownFileType": kind, "path": path, "sourceTree": "<group>"}
            if path.endswith(".framework") and "/" not in path:
                obj.update(name=path, path=f"System/Library/Frameworks/{path}", sourceTree="SDKROOT")
            objects[fid] = obj
            main_children.append(fid)
            files[path] = fid
        return files[path]

    def config_list(owner: str, settings: dict[str, dict[str, Any]], xcconfig: dict[str, str]) -> str:
        lid = ids(owner, "configlist")
        confs = []
        for conf, values in settings.items():
            cid = ids(owner, "config", conf)
            obj: dict[str, Any] = {"isa": "XCBuildConfiguration", "name": conf, "buildSettings": dict(values)}
            if conf in xcconfig:
                obj["baseConfigurationReference"] = file_ref(xcconfig[conf])
            objects[cid] = obj
            confs.append(cid)
        objects[lid] = {"isa": "XCConfigurationList", "buildConfigurations": confs,
                        "defaultConfigurationIsVisible": "0", "defaultConfigurationName": list(settings)[-1]}
        return lid

    product_ref: dict[str, str] = {}
    for t in targets:
        ext = EXTENSION_OF.get(t.product_type, "")
        product = (t.product_name or t.name) + (f".{ext}" if ext else "")
        pid = ids(t.name, "product")
        objects[pid] = {"isa": "PBXFileReference", "explicitFileType": "wrapper." + (ext or "tool"),
                        "includeInIndex": "0", "path": product, "sourceTree": "BUILT_PRODUCTS_DIR"}
        products_children.append(pid)
        product_ref[t.name] = pid
    package_ids: dict[str, str] = {}
    if package_url:
        objects[ids("package")] = {"isa": "XCRemoteSwiftPackageReference", "repositoryURL": package_url,
                                   "requirement": {"kind": "upToNextMajorVersion", "minimumVersion": "0.1.0"}}
    target_ids = []
    for t in targets:
        tid = ids(t.name, "target")
        target_ids.append(tid)
        packages = []
        for p in t.packages:
            pid = ids("package-product", p)
            objects[pid] = {"isa": "XCSwiftPackageProductDependency", "package": ids("package"), "productName": p}
            package_ids[p] = pid
            packages.append(pid)
        phase_ids = []
        for n, ph in enumerate(t.phases):
            bfs = []
            for entry in ph.files:
                bid = ids(t.name, "phase", str(n), entry)
                if entry.startswith("@"):
                    ref = product_ref[entry[1:]]
                    obj: dict[str, Any] = {"isa": "PBXBuildFile", "fileRef": ref}
                    if ph.isa == "PBXCopyFilesBuildPhase":
                        obj["settings"] = {"ATTRIBUTES": ["RemoveHeadersOnCopy"]}
                elif entry.startswith("pkg:"):
                    obj = {"isa": "PBXBuildFile", "productRef": package_ids[entry[4:]]}
                else:
                    obj = {"isa": "PBXBuildFile", "fileRef": file_ref(entry)}
                objects[bid] = obj
                bfs.append(bid)
            phid = ids(t.name, "phase", str(n))
            pobj: dict[str, Any] = {"isa": ph.isa, "buildActionMask": "2147483647", "files": bfs,
                                    "runOnlyForDeploymentPostprocessing": "0"}
            if ph.isa == "PBXCopyFilesBuildPhase":
                pobj.update(dstPath=ph.dst_path, dstSubfolderSpec=ph.spec or "16")
            if ph.name:
                pobj["name"] = ph.name
            objects[phid] = pobj
            phase_ids.append(phid)
        deps = []
        for d in t.depends:
            did = ids(t.name, "dep", d)
            proxy = ids(t.name, "proxy", d)
            objects[proxy] = {"isa": "PBXContainerItemProxy", "containerPortal": ids("project"), "proxyType": "1",
                              "remoteGlobalIDString": ids(d, "target"), "remoteInfo": d}
            objects[did] = {"isa": "PBXTargetDependency", "target": ids(d, "target"), "targetProxy": proxy}
            deps.append(did)
        objects[tid] = {"isa": "PBXNativeTarget", "buildConfigurationList": config_list(t.name, t.settings, t.xcconfig),
                        "buildPhases": phase_ids, "buildRules": [], "dependencies": deps, "name": t.name,
                        "productName": t.product_name or t.name, "productReference": product_ref[t.name],
                        "productType": t.product_type}
        if packages:
            objects[tid]["packageProductDependencies"] = packages
    products = ids("group", "Products")
    objects[products] = {"isa": "PBXGroup", "children": products_children, "name": "Products",
                         "sourceTree": "<group>"}
    main = ids("group", "main")
    objects[main] = {"isa": "PBXGroup", "children": [*main_children, products], "sourceTree": "<group>"}
    root = {"isa": "PBXProject", "attributes": {"BuildIndependentTargetsInParallel": "1", "LastUpgradeCheck": "1540"},
            "buildConfigurationList": config_list("project", project_settings, project_xcconfig or {}),
            "compatibilityVersion": "Xcode 14.0", "developmentRegion": "en", "hasScannedForEncodings": "0",
            "knownRegions": ["en", "Base"], "mainGroup": main, "productRefGroup": products, "projectDirPath": "",
            "projectRoot": "", "targets": target_ids}
    if package_url:
        root["packageReferences"] = [ids("package")]
    objects[ids("project")] = root
    tree = {"archiveVersion": "1", "classes": {}, "objectVersion": "56", "objects": objects,
            "rootObject": ids("project")}
    # the writer is handed a path only to name the file; it reads and writes nothing here
    return repr(XcodeProject(tree, f"{name}.xcodeproj/project.pbxproj")) + "\n"


def write_project(folder: Path, name: str, targets: list[TargetSpec], *, files: dict[str, Any],
                  project_settings: dict[str, dict[str, Any]] | None = None,
                  project_xcconfig: dict[str, str] | None = None, package_url: str | None = None) -> Path:
    """``folder/name.xcodeproj`` plus the files it names (dict values: plist dicts, text or bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            path.write_bytes(plistlib.dumps(content, sort_keys=True))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    proj = folder / f"{name}.xcodeproj"
    proj.mkdir(exist_ok=True)
    settings = project_settings or {"Debug": {"SDKROOT": "macosx"}, "Release": {"SDKROOT": "macosx"}}
    (proj / "project.pbxproj").write_text(pbxproj_text(name, targets, project_settings=settings,
                                                       project_xcconfig=project_xcconfig, package_url=package_url),
                                          encoding="utf-8")
    return proj


def both(**values: Any) -> dict[str, dict[str, Any]]:
    return {"Debug": dict(values), "Release": dict(values)}


EMBED_SYSEX = {"name": "Embed System Extensions", "spec": "16", "dst_path": "$(SYSTEM_EXTENSIONS_FOLDER_PATH)"}
SIGNING = {"CODE_SIGN_STYLE": "Manual", "DEVELOPMENT_TEAM": "ABCDE12345",
           "CODE_SIGN_IDENTITY": "Developer ID Application"}
PROJECT_HR = both(SDKROOT="macosx", ENABLE_HARDENED_RUNTIME="YES", **SIGNING)

WASMKIT_URL = "https://github.com/swiftwasm/WasmKit.git"


# ------------------------------------------------------------------------------------------ samples


def net_filter(out: Path) -> None:
    """A container app embedding a network system extension (content filter) that runs WasmKit."""
    ext = "com.example.netfilter.extension"
    write_project(out / "NetFilter", "NetFilter", [
        TargetSpec("NetFilter", APP, both(CODE_SIGN_ENTITLEMENTS="NetFilter/NetFilter.entitlements",
                                          PRODUCT_BUNDLE_IDENTIFIER="com.example.netfilter"),
                   phases=[Phase("PBXResourcesBuildPhase", ["NetFilter/filter-rules.wasm"]),
                           Phase("PBXCopyFilesBuildPhase", [f"@{ext}"], **EMBED_SYSEX)],
                   depends=[ext]),
        TargetSpec(ext, SYSEX, both(CODE_SIGN_ENTITLEMENTS="Extension/Extension.entitlements",
                                    PRODUCT_BUNDLE_IDENTIFIER=ext),
                   phases=[Phase("PBXFrameworksBuildPhase", ["pkg:WasmKit"])], packages=["WasmKit"]),
    ], files={
        "NetFilter/NetFilter.entitlements": {INSTALL: True, NE: ["content-filter-provider-systemextension"]},
        "NetFilter/filter-rules.wasm": WASM,
        "Extension/Extension.entitlements": {NE: ["content-filter-provider-systemextension"],
                                             GROUPS: ["ABCDE12345.com.example.netfilter"]},
    }, project_settings=PROJECT_HR, package_url=WASMKIT_URL)


def es_agent(out: Path) -> None:
    """An Endpoint Security extension with its app; the Hardened Runtime comes from OTHER_CODE_SIGN_FLAGS."""
    ext = "com.example.esagent.extension"
    flags = both(SDKROOT="macosx", OTHER_CODE_SIGN_FLAGS="--timestamp --options=runtime", **SIGNING)
    write_project(out / "ESAgent", "ESAgent", [
        TargetSpec("ESAgent", APP, both(CODE_SIGN_ENTITLEMENTS="ESAgent/ESAgent.entitlements"),
                   phases=[Phase("PBXCopyFilesBuildPhase", [f"@{ext}"], **EMBED_SYSEX)], depends=[ext]),
        TargetSpec(ext, SYSEX, both(CODE_SIGN_ENTITLEMENTS="$(SRCROOT)/Extension/$(TARGET_NAME).entitlements"),
                   phases=[Phase("PBXFrameworksBuildPhase", ["Vendor/libwasm3.a"])]),
    ], files={
        "ESAgent/ESAgent.entitlements": {INSTALL: True},
        f"Extension/{ext}.entitlements": {ES: True},
        "Vendor/libwasm3.a": b"!<arch>\n",
    }, project_settings=flags)


def driver_host(out: Path) -> None:
    """A DriverKit driver and its manager app (the driver builds against the DriverKit SDK)."""
    dext = "com.example.driver"
    write_project(out / "DriverHost", "DriverHost", [
        TargetSpec("DriverManager", APP, both(CODE_SIGN_ENTITLEMENTS="Manager/Manager.entitlements"),
                   phases=[Phase("PBXCopyFilesBuildPhase", [f"@{dext}"], **EMBED_SYSEX)], depends=[dext]),
        TargetSpec(dext, DEXT, both(SDKROOT="driverkit", CODE_SIGN_ENTITLEMENTS="Driver/Driver.entitlements",
                                    DRIVERKIT_DEPLOYMENT_TARGET="21.0")),
    ], files={
        "Manager/Manager.entitlements": {INSTALL: True},
        "Driver/Driver.entitlements": {DRIVERKIT: True, DK_USB: [{"idVendor": 1452}]},
    }, project_settings=PROJECT_HR)


def app_store_vpn(out: Path) -> None:
    """Mac App Store VPN: a sandboxed app with a Network Extension app extension in PlugIns."""
    ext = "PacketTunnel"
    write_project(out / "AppStoreVPN", "AppStoreVPN", [
        TargetSpec("AppStoreVPN", APP, both(CODE_SIGN_ENTITLEMENTS="App/App.entitlements", CODE_SIGN_STYLE="Automatic"),
                   phases=[Phase("PBXCopyFilesBuildPhase", [f"@{ext}"], name="Embed Foundation Extensions",
                                 spec="13")], depends=[ext]),
        TargetSpec(ext, APPEX, both(CODE_SIGN_ENTITLEMENTS="PacketTunnel/PacketTunnel.entitlements",
                                    CODE_SIGN_STYLE="Automatic")),
    ], files={
        "App/App.entitlements": {SANDBOX: True, NE: ["packet-tunnel-provider"], GROUPS: ["group.example.vpn"]},
        "PacketTunnel/PacketTunnel.entitlements": {SANDBOX: True, NE: ["packet-tunnel-provider"],
                                                   GROUPS: ["group.example.vpn"]},
    }, project_settings=PROJECT_HR)


def xcconfig_configs(out: Path) -> None:
    """Entitlements chosen by .xcconfig files that differ between Debug (get-task-allow) and Release."""
    write_project(out / "XcconfigApp", "XcconfigApp", [
        TargetSpec("XcconfigApp", APP, {"Debug": {"OTHER_CODE_SIGN_FLAGS": "$(inherited) --timestamp"},
                                        "Release": {"OTHER_CODE_SIGN_FLAGS": "$(inherited) --timestamp"}},
                   xcconfig={"Debug": "Config/Debug.xcconfig", "Release": "Config/Release.xcconfig"}),
    ], files={
        "Config/Shared.xcconfig": "// settings every configuration shares\nOTHER_CODE_SIGN_FLAGS = -o runtime\n"
                                  "DEVELOPMENT_TEAM = ABCDE12345\nCODE_SIGN_STYLE = Manual\n",
        "Config/Base.xcconfig": '#include "Shared.xcconfig"\n#include? "Local.xcconfig"\n'
                                "PRODUCT_NAME = $(TARGET_NAME)\n",
        "Config/Debug.xcconfig": '#include "Base.xcconfig"\n'
                                 "CODE_SIGN_ENTITLEMENTS = $(SRCROOT)/Config/$(TARGET_NAME)-Debug.entitlements\n",
        "Config/Release.xcconfig": '#include "Base.xcconfig"\n'
                                   "CODE_SIGN_ENTITLEMENTS = Config/$(PRODUCT_NAME:default=App).entitlements\n",
        "Config/XcconfigApp-Debug.entitlements": {SANDBOX: True, GET_TASK_ALLOW: True},
        "Config/XcconfigApp.entitlements": {SANDBOX: True},
    }, project_settings=both(SDKROOT="macosx"))


def forum_case(out: Path, fixed: bool = False) -> None:
    """The forum thread's product as an Xcode project; ``fixed``: interpreter in the extension, no relaxation."""
    name = "ForumCaseFixed" if fixed else "ForumCase"
    ext = "com.example.forumcase.extension"
    sysex_ne = ["content-filter-provider-systemextension"]
    if fixed:
        app_ents: dict[str, Any] = {INSTALL: True, NE: sysex_ne}
        ext_ents: dict[str, Any] = {ES: True, NE: sysex_ne}
        ext_phases = [Phase("PBXFrameworksBuildPhase", ["pkg:WasmKit"])]
        packages, url = ["WasmKit"], WASMKIT_URL
        app_phases = [Phase("PBXCopyFilesBuildPhase", [f"@{ext}"], **EMBED_SYSEX)]
    else:
        app_ents = {ES: True, NE: sysex_ne, INSTALL: True, UNSIGNED: True}
        ext_ents = {ES: True, NE: sysex_ne, UNSIGNED: True}
        ext_phases = [Phase("PBXFrameworksBuildPhase", ["Vendor/libwasmtime.a"])]
        packages, url = [], None
        app_phases = [Phase("PBXFrameworksBuildPhase", ["Vendor/libwasmtime.a"]),
                      Phase("PBXCopyFilesBuildPhase", [f"@{ext}"], **EMBED_SYSEX)]
    files: dict[str, Any] = {"App/App.entitlements": app_ents, "Extension/Extension.entitlements": ext_ents}
    if not fixed:
        files["Vendor/libwasmtime.a"] = b"!<arch>\n"
    write_project(out / name, name, [
        TargetSpec(name, APP, both(CODE_SIGN_ENTITLEMENTS="App/App.entitlements"), phases=app_phases, depends=[ext]),
        TargetSpec(ext, SYSEX, both(CODE_SIGN_ENTITLEMENTS="Extension/Extension.entitlements"), phases=ext_phases,
                   packages=packages),
    ], files=files, project_settings=PROJECT_HR, package_url=url)


def ci_entitlements(out: Path) -> None:
    """Entitlements paths the project cannot resolve: a CI variable, a file generated into the build folder."""
    write_project(out / "CIEntitlements", "CIEntitlements", [
        TargetSpec("CIApp", APP, both(CODE_SIGN_ENTITLEMENTS="$(SOMETHING_FROM_CI)/CIApp.entitlements")),
        TargetSpec("GeneratedApp", APP, both(CODE_SIGN_ENTITLEMENTS="$(DERIVED_FILE_DIR)/Generated.entitlements")),
        TargetSpec("MissingApp", APP, both(CODE_SIGN_ENTITLEMENTS="Missing/MissingApp.entitlements")),
    ], files={}, project_settings=PROJECT_HR)


def wasm_placement(out: Path) -> None:
    """.wasm in Copy Bundle Resources (right) and in a Frameworks copy phase (wrong); an engine in a framework."""
    write_project(out / "WasmPlacement", "WasmPlacement", [
        TargetSpec("Placement", APP, both(CODE_SIGN_ENTITLEMENTS="App/App.entitlements"),
                   phases=[Phase("PBXResourcesBuildPhase", ["Modules/good.wasm"]),
                           Phase("PBXCopyFilesBuildPhase", ["Modules/misplaced.wasm", "@EngineKit"],
                                 name="Embed Frameworks", spec="10"),
                           Phase("PBXFrameworksBuildPhase", ["@EngineKit"])], depends=["EngineKit"]),
        TargetSpec("EngineKit", FRAMEWORK, both(), phases=[Phase("PBXFrameworksBuildPhase", ["Vendor/libwasmtime.a"])]),
    ], files={
        "App/App.entitlements": {JIT: True},
        "Modules/good.wasm": WASM,
        "Modules/misplaced.wasm": WASM,
        "Vendor/libwasmtime.a": b"!<arch>\n",
    }, project_settings=PROJECT_HR)


def workspace(out: Path) -> None:
    """A workspace listing two of the projects above (group: and container: locations)."""
    folder = out / "TwoProjects.xcworkspace"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "contents.xcworkspacedata").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Workspace\n   version = "1.0">\n'
        '   <Group\n      location = "container:"\n      name = "Products">\n'
        '      <FileRef\n         location = "group:NetFilter/NetFilter.xcodeproj">\n      </FileRef>\n'
        '   </Group>\n'
        '   <FileRef\n      location = "container:ForumCase/ForumCase.xcodeproj">\n   </FileRef>\n'
        '</Workspace>\n', encoding="utf-8")


def big_project(folder: Path, n: int) -> Path:
    """``n`` app targets, each embedding its own network system extension (for the benchmark)."""
    targets: list[TargetSpec] = []
    files: dict[str, Any] = {}
    for i in range(n // 2):
        app, ext = f"App{i:03d}", f"com.example.app{i:03d}.extension"
        targets.append(TargetSpec(app, APP, both(CODE_SIGN_ENTITLEMENTS=f"{app}/{app}.entitlements"),
                                  phases=[Phase("PBXResourcesBuildPhase", [f"{app}/module.wasm"]),
                                          Phase("PBXCopyFilesBuildPhase", [f"@{ext}"], **EMBED_SYSEX)], depends=[ext]))
        targets.append(TargetSpec(ext, SYSEX, both(CODE_SIGN_ENTITLEMENTS=f"{app}/Extension.entitlements"),
                                  phases=[Phase("PBXFrameworksBuildPhase", ["Vendor/libwasmtime.a"])]))
        files[f"{app}/{app}.entitlements"] = {INSTALL: True}
        files[f"{app}/Extension.entitlements"] = {NE: ["content-filter-provider-systemextension"], JIT: True}
        files[f"{app}/module.wasm"] = WASM
    files["Vendor/libwasmtime.a"] = b"!<arch>\n"
    return write_project(folder, "Big", targets, files=files, project_settings=PROJECT_HR)


SAMPLES = (net_filter, es_agent, driver_host, app_store_vpn, xcconfig_configs, forum_case,
           lambda out: forum_case(out, fixed=True), ci_entitlements, wasm_placement, workspace)


def build(out: Path = OUT) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for sample in SAMPLES:
        sample(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
