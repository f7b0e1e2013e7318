"""``macwasm entitlements``: formats, JSON fields, exit codes, batches past bad inputs."""

from __future__ import annotations

import json
import plistlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLES = REPO / "data" / "bundles"
PLISTS = REPO / "tests" / "fixtures" / "plists"
PROFILE = REPO / "tests" / "fixtures" / "profiles" / "devid-network-sysext.provisionprofile"
FIELDS = {"path", "source", "entitlements", "signature", "slices", "nested", "wasm_files", "profile", "error"}


def test_json_over_sample_bundles(cli) -> None:
    proc = cli("entitlements", "--format", "json", str(BUNDLES))
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    by_name = {Path(r["path"]).name: r for r in records}
    assert sorted(by_name) == ["ContainerFilter.app", "DriverHost.app", "ForumCase.app", "JitService.app",
                               "MisplacedModule.app"]
    for record in records:
        assert set(record) >= FIELDS and record["source"] == "bundle" and record["error"] is None
        sig = record["signature"]
        assert {"kind", "team_id", "identifier", "hardened_runtime", "flags"} <= set(sig)
        assert isinstance(sig["flags"], list)
        for s in record["slices"]:
            assert {"arch", "signature", "entitlements", "der_matches_xml"} <= set(s)
    forum = by_name["ForumCase.app"]
    assert forum["entitlements"]["com.apple.security.cs.allow-unsigned-executable-memory"] is True
    assert [s["arch"] for s in forum["slices"]] == ["x86_64", "arm64"]
    [sysex] = by_name["ContainerFilter.app"]["nested"]
    assert {"path", "role", "entitlements", "signature"} <= set(sysex)
    assert sysex["role"] == "network-extension" and sysex["signature"]["team_id"] == "ABCDE12345"
    assert by_name["MisplacedModule.app"]["wasm_files"][0] == {
        "path": "Contents/MacOS/plugin.wasm", "location": "code", "kind": "component", "error": None}


def test_jsonl_every_form_one_line_each(cli) -> None:
    inputs = [PLISTS / "forum-thread-sysext.entitlements", PLISTS / "binary.entitlements",
              PLISTS / "codesign-brackets-forum.txt", PROFILE, BUNDLES / "ForumCase.app" / "Contents" / "MacOS" /
              "ForumCase", BUNDLES / "JitService.app"]
    proc = cli("entitlements", "--format", "jsonl", *map(str, inputs))
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["source"] for r in lines] == ["xml-plist", "binary-plist", "codesign-output", "provisioning-profile",
                                            "mach-o", "bundle"]
    assert lines[3]["profile"]["signature_verified"] is False and lines[3]["signature"] is None


def table_rows(text: str) -> list[str]:
    """The rows of a table, each with its wrapped continuation lines joined (they start with spaces)."""
    rows: list[str] = []
    for line in text.splitlines():
        if line.startswith(" ") and rows:
            rows[-1] += " " + line.strip()
        else:
            rows.append(line)
    return rows


def test_table_one_row_per_input_wrapped_never_cut(cli) -> None:
    proc = cli("entitlements", str(BUNDLES / "ForumCase.app"), str(BUNDLES / "ContainerFilter.app"))
    assert proc.returncode == 0, proc.stderr
    assert "…" not in proc.stdout  # a cell is wrapped onto more lines, never cut
    header, _rule, *rows = table_rows(proc.stdout)
    assert header.split() == ["path", "source", "signature", "team", "runtime", "hashes", "entitlements", "slices",
                              "engines", "notes", "nested", "wasm", "error"]
    assert len(rows) == 2
    assert "signed" in rows[0] and "ABCDE12345" in rows[0] and "7: com.apple" in rows[0]


def test_table_says_when_the_slices_of_a_universal_file_differ(cli, repo) -> None:
    """The table's signature columns show the first slice; a disagreement must not stay hidden."""
    fixtures = repo / "tests" / "fixtures" / "macho"
    proc = cli("entitlements", str(fixtures / "universal64-signed-and-unsigned"), str(fixtures / "unsigned-x86_64"))
    _header, _rule, universal, thin = table_rows(proc.stdout)
    assert " 2 differ " in universal
    assert "differ" not in thin


def test_json_records_say_whether_slices_differ(cli, repo) -> None:
    """The same fact the table and the checker use, for JSON consumers: one property, ``slices_differ``."""
    fixtures = repo / "tests" / "fixtures" / "macho"
    proc = cli("entitlements", "--format", "json", str(fixtures / "universal64-signed-and-unsigned"),
               str(fixtures / "unsigned-x86_64"))
    differ = {Path(r["path"]).name: r["slices_differ"] for r in json.loads(proc.stdout)}
    assert differ == {"universal64-signed-and-unsigned": True, "unsigned-x86_64": False}


def test_exit_1_for_malformed_input_and_batch_goes_on(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.entitlements"
    bad.write_bytes(b"<?xml version='1.0'?><plist><dict><key>k</key></plist>")
    odd = tmp_path / "odd.bin"
    odd.write_bytes(b"neither plist nor binary")
    good = tmp_path / "good.entitlements"
    good.write_bytes(plistlib.dumps({"com.apple.security.cs.allow-jit": True}))
    proc = cli("entitlements", "--format", "jsonl", str(bad), str(odd), str(good))
    assert proc.returncode == 1, proc.stderr
    recs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["path"] for r in recs] == [str(bad), str(odd), str(good)]
    assert recs[0]["error"].startswith("at offset 0x") and recs[0]["error_category"] == "malformed"
    assert recs[1]["error_category"] == "unsupported"
    assert recs[2]["error"] is None and recs[2]["entitlements"] == {"com.apple.security.cs.allow-jit": True}


def test_exit_1_for_bundle_without_info_plist(cli, tmp_path: Path) -> None:
    (tmp_path / "Broken.app" / "Contents").mkdir(parents=True)
    proc = cli("entitlements", "--format", "json", str(tmp_path / "Broken.app"))
    assert proc.returncode == 1
    [rec] = json.loads(proc.stdout)
    assert "Info.plist" in rec["error"] and rec["source"] is None


def test_exit_1_for_broken_nested_executable(cli, tmp_path: Path) -> None:
    import shutil

    app = tmp_path / "JitService.app"
    shutil.copytree(BUNDLES / "JitService.app", app)
    exe = app / "Contents/XPCServices/com.example.jit.xpc/Contents/MacOS/com.example.jit"
    exe.write_bytes(exe.read_bytes()[:100])
    proc = cli("entitlements", "--format", "json", str(app))
    assert proc.returncode == 1
    [rec] = json.loads(proc.stdout)
    assert rec["error"] is None and rec["nested"][0]["error"]


def test_exit_2_for_missing_path_and_usage(cli, tmp_path: Path) -> None:
    proc = cli("entitlements", "--format", "jsonl", str(tmp_path / "missing"), str(BUNDLES / "ForumCase.app"))
    assert proc.returncode == 2
    recs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert recs[0]["error_category"] == "io" and recs[1]["error"] is None
    assert cli("entitlements").returncode == 2
    assert cli("entitlements", "--format", "xml", str(BUNDLES)).returncode == 2


def test_stdin(cli) -> None:
    pasted = (PLISTS / "codesign-brackets-forum.txt").read_bytes()
    proc = cli("entitlements", "--format", "jsonl", "-", input_bytes=pasted)
    assert proc.returncode == 0, proc.stderr
    rec = json.loads(proc.stdout)
    assert rec["source"] == "codesign-output" and rec["path"] == "-"
    assert rec["entitlements"]["com.apple.developer.endpoint-security.client"] is True
