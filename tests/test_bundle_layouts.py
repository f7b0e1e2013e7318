"""Bundles as they ship: frameworks from wheels (no Versions/Current), helper apps in frameworks, missing
executables told apart, and lone library code told by its Mach-O file type."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from artifact_builders import B, write_tree

from macwasm.signing.bundle import EXECUTABLE_MISSING, executable_missing, read_bundle
from macwasm.signing.reader import LIBRARY_ROLE, iter_signing_items, macho_filetype, read_signing_facts

MH_BUNDLE = 8


def dylib(identifier: str, **kw) -> bytes:
    return B.macho(identifier=identifier, team=B.TEAM, filetype=B.MH_DYLIB, **kw)


def wheel_framework(root: Path, name: str = "QtCore", versions: tuple[str, ...] = ("A",), *,
                    top_resources: bool = True, helper: bool = False) -> Path:
    """A framework as a wheel installs it: real folders where a framework has links, no Versions/Current."""
    fw = root / f"{name}.framework"
    tree = {}
    for v in versions:
        tree[f"Versions/{v}/{name}"] = dylib(f"org.qt-project.{name}.{v}")
        tree[f"Versions/{v}/Resources/Info.plist"] = B.info_plist(name, f"org.qt-project.{name}", "FMWK")
    if top_resources:
        tree["Resources/Info.plist"] = B.info_plist(name, f"org.qt-project.{name}", "FMWK")
    if helper:
        tree.update(B.app("Helpers/QtWebEngineProcess.app", "QtWebEngineProcess",
                          "org.qt-project.Qt.QtWebEngineProcess", {"com.apple.security.cs.allow-jit": True}))
    write_tree(fw, tree)
    return fw


def test_wheel_framework_reads_versions_a_and_notes_the_missing_link(tmp_path: Path) -> None:
    facts = read_bundle(wheel_framework(tmp_path))
    assert facts.error is None and facts.role == "framework" and facts.bundle_id == "org.qt-project.QtCore"
    assert facts.signature.identifier == "org.qt-project.QtCore.A"
    assert "Versions/Current: missing (a framework installed from a wheel, which cannot hold symlinks); the " \
           "executable is read from Versions/A" in facts.notes


def test_wheel_framework_without_top_resources_uses_the_version_info_plist(tmp_path: Path) -> None:
    facts = read_bundle(wheel_framework(tmp_path, top_resources=False))
    assert facts.error is None and facts.bundle_id == "org.qt-project.QtCore"


def test_several_versions_and_no_current_picks_one_and_says_which(tmp_path: Path) -> None:
    fw = wheel_framework(tmp_path, versions=("A", "B"))
    (fw / "Versions" / "B" / "QtCore").unlink()  # B names an executable that is not there
    facts = read_bundle(fw)
    assert facts.signature.identifier == "org.qt-project.QtCore.A"
    [note] = [n for n in facts.notes if "Versions/Current" in n]
    assert "2 versions present (A, B); read Versions/A" in note


def test_framework_helper_app_in_wheel_layout_is_nested_code(tmp_path: Path) -> None:
    host = tmp_path / "Host.app"
    write_tree(tmp_path, B.app("Host.app", "Host", "com.example.host", {}))
    wheel_framework(host / "Contents" / "Frameworks", "QtWebEngineCore", helper=True)
    facts = read_bundle(host)
    paths = [(n.path, n.role, n.error) for n in facts.nested]
    assert paths == [
        ("Contents/Frameworks/QtWebEngineCore.framework", "framework", None),
        ("Contents/Frameworks/QtWebEngineCore.framework/Helpers/QtWebEngineProcess.app", "helper-tool", None)]
    assert facts.nested[1].entitlements == {"com.apple.security.cs.allow-jit": True}
    assert any(n.startswith("Contents/Frameworks/QtWebEngineCore.framework/Versions/Current: missing")
               for n in facts.notes)


def test_framework_helper_under_versions_with_links_is_found_once(tmp_path: Path) -> None:
    fw = tmp_path / "Engine.framework"
    write_tree(fw, {"Versions/A/Engine": dylib("com.example.engine"),
                    "Versions/A/Resources/Info.plist": B.info_plist("Engine", "com.example.engine", "FMWK"),
                    **{f"Versions/A/{k}": v for k, v in B.app("Helpers/H.app", "H", "com.example.h", {}).items()}})
    for link, target in (("Versions/Current", "A"), ("Engine", "Versions/Current/Engine"),
                         ("Resources", "Versions/Current/Resources"), ("Helpers", "Versions/Current/Helpers")):
        os.symlink(target, fw / link)
    facts = read_bundle(fw)
    assert [(n.path, n.role) for n in facts.nested] == [("Versions/A/Helpers/H.app", "helper-tool")]
    assert facts.notes == []


def test_missing_executable_is_one_fault_with_no_signature(tmp_path: Path) -> None:
    host = tmp_path / "Host.app"
    write_tree(tmp_path, B.app("Host.app", "Host", "com.example.host", {}))
    fw = wheel_framework(host / "Contents" / "Frameworks")
    (fw / "Versions" / "A" / "QtCore").unlink()
    facts = read_bundle(host)
    [nested] = facts.nested
    assert nested.signature is None and nested.entitlements is None
    assert nested.error.endswith(EXECUTABLE_MISSING) and executable_missing(nested.error)
    (host / "Contents" / "MacOS" / "Host").unlink()
    main = read_bundle(host)
    assert executable_missing(main.error) and main.signature is None and main.slices == []
    assert not executable_missing("x: executable is not a Mach-O file (starts with 2321)")
    assert not executable_missing(None)


@pytest.mark.parametrize(("name", "filetype", "role"), [
    ("libengine.dylib", B.MH_DYLIB, LIBRARY_ROLE), ("addon.node", MH_BUNDLE, LIBRARY_ROLE),
    ("_speedups.cpython-311-darwin.so", MH_BUNDLE, LIBRARY_ROLE), ("Plugin", MH_BUNDLE, LIBRARY_ROLE),
    ("tool", B.MH_EXECUTE, None)])
def test_lone_library_code_is_told_by_its_file_type(tmp_path: Path, name: str, filetype: int, role) -> None:
    path = tmp_path / name
    path.write_bytes(B.macho(identifier="com.example.x", team=B.TEAM, filetype=filetype))
    facts = read_signing_facts(path)
    assert facts.source == "mach-o" and facts.role == role
    universal = tmp_path / f"fat-{name}"
    universal.write_bytes(B.fat(B.macho("x86_64", identifier="x", filetype=filetype),
                                B.macho(identifier="x", filetype=filetype)))
    assert read_signing_facts(universal).role == role
    assert macho_filetype(universal.read_bytes()) == filetype


def test_macho_filetype_of_junk_is_none() -> None:
    assert macho_filetype(b"") is None and macho_filetype(b"\xca\xfe\xba\xbe\0\0\0\1") is None
    assert macho_filetype(b"\xcf\xfa\xed\xfe" + bytes(4)) is None


def test_a_wheel_tree_yields_every_framework(tmp_path: Path) -> None:
    lib = tmp_path / "site-packages" / "PySide6" / "Qt" / "lib"
    for name in ("QtCore", "QtGui", "QtWidgets"):
        wheel_framework(lib, name)
    items = [i.path for i in iter_signing_items([str(tmp_path / "site-packages")])]
    assert [Path(p).name for p in items] == ["QtCore.framework", "QtGui.framework", "QtWidgets.framework"]
    assert all(read_signing_facts(p).signature is not None for p in items)
