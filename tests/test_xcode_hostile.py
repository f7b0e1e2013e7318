"""Hostile Xcode projects, workspaces and xcconfig files: one XcodeProjectError with file and place, never a crash.

In the style of ``test_guarantees.py``: every truncation of a real-shaped project, nesting far past
the cap, unterminated strings and comments, wrong value types, reference cycles, include cycles and
chains past the caps, setting expansions that would grow without bound, entity declarations in a
workspace, and files larger than the caps.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from macwasm.errors import LIMIT, XcodeProjectError
from macwasm.policy import check
from macwasm.xcode import pbxproj as pbx
from macwasm.xcode import read_xcode_project, xcconfig
from macwasm.xcode.pbxproj import parse_pbxproj
from macwasm.xcode.settings import BuildSettings
from macwasm.xcode.workspace import parse_workspace
from macwasm.xcode.xcconfig import Assignment, read_xcconfig

FIX = Path(__file__).resolve().parent / "fixtures" / "xcode"
REAL = (FIX / "NetFilter" / "NetFilter.xcodeproj" / "project.pbxproj").read_bytes()


def parse(data: bytes):
    return parse_pbxproj(data, path="p.pbxproj", xcodeproj="/none/P.xcodeproj")


def refused(data: bytes) -> XcodeProjectError:
    with pytest.raises(XcodeProjectError) as info:
        parse(data)
    err = info.value
    assert err.path == "p.pbxproj" and err.reason
    assert err.offset is None or 0 <= err.offset <= len(data)
    return err


def test_every_truncation_is_one_error_or_a_project() -> None:
    step = max(1, len(REAL) // 400)
    for cut in range(0, len(REAL), step):
        try:
            parse(REAL[:cut])
        except XcodeProjectError as err:
            assert err.offset is None or 0 <= err.offset <= cut
            assert err.line is None or 1 <= err.line <= REAL[:cut].count(b"\n") + 1


def test_nesting_past_the_cap_is_a_limit_error_not_a_recursion_error() -> None:
    err = refused(b"{ a = " + b"(" * 100_000 + b")" * 100_000 + b"; }")
    assert err.category == LIMIT and err.line == 1 and "nested" in err.reason


@pytest.mark.parametrize("data, words", [
    (b'{ objects = { a = "never closed; }; }', "quoted string"),
    (b"{ objects = { /* never closed }; }", "comment"),
    (b"{ objects = { a = b; }; ", "ends inside"),
    (b"{ objects = { a = b; }; }; }", "closes nothing"),
    (b"{ a b }", "not an OpenStep property list"),
    (b"", "empty"),
    (b"\xff\xfe{ }", "UTF-8"),
    (b"{ objects = { A = { isa = PBXProject; }; }; rootObject = B; }", "rootObject"),
    (b"{ objects = ( a ); }", "no objects dictionary"),
])
def test_malformed_text(data: bytes, words: str) -> None:
    assert words in refused(data).message


def test_error_position_is_byte_offset_and_line() -> None:
    data = "// !$*UTF8*$!\n{\n\tname = \"é\";\n\tbad bad;\n}\n".encode()
    err = refused(data)
    # the parser stops at the second word; the offset counts bytes (the "é" before it is two)
    assert err.line == 4 and err.offset == data.index(b"bad bad") + len(b"bad ")
    assert "line 4" in err.message


def test_wrong_value_types_are_errors_naming_the_object() -> None:
    data = REAL.replace(b"buildSettings = {", b"buildSettings = ( x ); foo = {", 1)
    err = refused(data)
    assert "buildSettings is not a dictionary" in err.reason and err.line is not None


def test_object_count_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pbx, "XCODE_MAX_OBJECTS", 10)
    assert refused(REAL).category == LIMIT


def test_oversized_project_is_refused_before_it_is_read(tmp_path: Path) -> None:
    proj = tmp_path / "Big.xcodeproj"
    proj.mkdir()
    with open(proj / "project.pbxproj", "wb") as fh:
        fh.truncate(pbx.XCODE_MAX_PBXPROJ_SIZE + 1)  # sparse: costs no disk
    with pytest.raises(XcodeProjectError) as info:
        read_xcode_project(proj)
    assert info.value.category == LIMIT and info.value.path.endswith("project.pbxproj")


def test_group_cycle_and_dangling_references_do_not_loop(tmp_path: Path) -> None:
    text = REAL.decode()
    main = text.split("mainGroup = ")[1].split(" ")[0].split(";")[0]
    # make the main group a child of itself: a parent cycle
    text = text.replace(f"{main} = {{\n\t\t\tisa = PBXGroup;\n\t\t\tchildren = (",
                        f"{main} = {{\n\t\t\tisa = PBXGroup;\n\t\t\tchildren = (\n\t\t\t\t{main},", 1)
    text = text.replace("fileRef = ", "fileRef = 000000000000000000000000; x = ", 1)
    project = parse(text.encode())
    assert [t.name for t in project.targets] == ["NetFilter", "com.example.netfilter.extension"]


def test_fuzzed_project_is_judged_or_refused_never_crashes(tmp_path: Path) -> None:
    proj = tmp_path / "F.xcodeproj"
    proj.mkdir()
    for junk in (b"", b"{}", b"{ objects = {}; rootObject = X; }", REAL.replace(b"isa = PBXNativeTarget", b"isa = 1")):
        (proj / "project.pbxproj").write_bytes(junk)
        try:
            check(str(proj))
        except XcodeProjectError as err:
            assert err.reason


# ------------------------------------------------------------------------------------ xcconfig


def test_include_depth_cap(tmp_path: Path) -> None:
    for i in range(40):
        (tmp_path / f"c{i}.xcconfig").write_text(f'#include "c{i + 1}.xcconfig"\n')
    (tmp_path / "c40.xcconfig").write_text("A = 1\n")
    with pytest.raises(XcodeProjectError) as info:
        read_xcconfig(str(tmp_path / "c0.xcconfig"))
    assert info.value.category == LIMIT and info.value.line == 1


def test_file_count_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xcconfig, "XCODE_MAX_XCCONFIG_FILES", 5)
    (tmp_path / "leaf.xcconfig").write_text("A = 1\n")
    (tmp_path / "root.xcconfig").write_text('#include "leaf.xcconfig"\n' * 10)
    with pytest.raises(XcodeProjectError) as info:
        read_xcconfig(str(tmp_path / "root.xcconfig"))
    assert info.value.category == LIMIT and info.value.line == 5


def test_self_include_is_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "s.xcconfig").write_text('#include "s.xcconfig"\n')
    with pytest.raises(XcodeProjectError, match="cycle"):
        read_xcconfig(str(tmp_path / "s.xcconfig"))


def test_symlinked_include_cycle(tmp_path: Path) -> None:
    (tmp_path / "real.xcconfig").write_text('#include "link.xcconfig"\n')
    os.symlink(tmp_path / "real.xcconfig", tmp_path / "link.xcconfig")
    with pytest.raises(XcodeProjectError, match="cycle"):
        read_xcconfig(str(tmp_path / "real.xcconfig"))


def test_oversized_and_binary_xcconfig(tmp_path: Path) -> None:
    with open(tmp_path / "big.xcconfig", "wb") as fh:
        fh.truncate(xcconfig.XCODE_MAX_XCCONFIG_SIZE + 1)
    with pytest.raises(XcodeProjectError) as info:
        read_xcconfig(str(tmp_path / "big.xcconfig"))
    assert info.value.category == LIMIT
    (tmp_path / "bin.xcconfig").write_bytes(b"A = 1\n\xff\xfe\n")
    with pytest.raises(XcodeProjectError) as info:
        read_xcconfig(str(tmp_path / "bin.xcconfig"))
    assert info.value.line == 2 and info.value.offset == 6


# ------------------------------------------------------------------------------------ settings


def _settings(values: dict[str, str]) -> BuildSettings:
    return BuildSettings([[Assignment(k, (), v, "x.xcconfig", 1) for k, v in values.items()]],
                         context={"TARGET_NAME": "T"}, configuration="Debug")


def test_expansion_bomb_is_a_limit_error() -> None:
    values = {f"A{i}": f"$(A{i + 1})$(A{i + 1})" for i in range(40)}
    values["A40"] = "x" * 10
    with pytest.raises(XcodeProjectError) as info:
        _settings(values).resolve("A0")
    assert info.value.category == LIMIT and info.value.path == "x.xcconfig"


def test_deep_reference_chain_is_a_limit_error() -> None:
    values = {f"A{i}": f"$(A{i + 1})" for i in range(200)}
    with pytest.raises(XcodeProjectError) as info:
        _settings(values).resolve("A0")
    assert info.value.category == LIMIT


def test_unclosed_reference_is_unresolved() -> None:
    r = _settings({"A": "$(TARGET_NAME"}).resolve("A")
    assert r.value is None and r.problems[0].kind == "unsupported"


# ------------------------------------------------------------------------------------ workspace


def ws(data: bytes) -> list[str]:
    return parse_workspace(data, path="w/contents.xcworkspacedata", container="/c")


def test_workspace_entities_and_dtds_are_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<Workspace><FileRef location="group:&b;.xcodeproj"/></Workspace>')
    with pytest.raises(XcodeProjectError, match="DTD or entity"):
        ws(bomb)


def test_workspace_malformed_and_too_many_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(XcodeProjectError) as info:
        ws(b"<Workspace>\n<FileRef location='group:A.xcodeproj'>\n</Workspace>")
    assert info.value.line == 3
    from macwasm.xcode import workspace

    monkeypatch.setattr(workspace, "XCODE_MAX_WORKSPACE_PROJECTS", 3)
    with pytest.raises(XcodeProjectError) as info:
        ws(b"<Workspace>" + b'<FileRef location="group:a.xcodeproj"/>' * 5 + b"</Workspace>")
    assert info.value.category == LIMIT


def test_workspace_locations_resolve_and_traversal_is_only_resolved() -> None:
    data = (b'<Workspace><Group location="group:Apps"><FileRef location="group:A/A.xcodeproj"/>'
            b'<Group location="group:../Shared"><FileRef location="group:S.xcodeproj"/></Group></Group>'
            b'<FileRef location="container:../../up.xcodeproj"/><FileRef location="absolute:/abs/X.xcodeproj"/>'
            b'<FileRef location="group:README.md"/><FileRef location="developer:Foo.xcodeproj"/></Workspace>')
    assert ws(data) == ["/c/Apps/A/A.xcodeproj", "/c/Shared/S.xcodeproj", "/up.xcodeproj", "/abs/X.xcodeproj"]
