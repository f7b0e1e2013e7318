"""``check --format sarif`` is valid SARIF 2.1.0 (vendored official schema) and fit for code scanning."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import jsonschema
import pytest
from github_sarif import PLACEHOLDER, upload_problems

from macwasm.policy import check
from macwasm.policy.tables import rules
from macwasm.report.links import rule_url
from macwasm.report.sarif import artifact_location, csv_row_lines, neutral_fix, relative_uri, to_sarif

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())
FORUM = ["com.apple.developer.endpoint-security.client", "com.apple.security.cs.allow-unsigned-executable-memory"]


def _validate(log: dict) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_sarif_of_a_failing_check_is_valid_and_complete() -> None:
    log = to_sarif(check(entitlements=FORUM, runtime="wasmtime"))
    _validate(log)
    run = log["runs"][0]
    driver_rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in driver_rules] == list(rules())
    for r in driver_rules:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["helpUri"].startswith("http")
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
    levels = {res["ruleId"]: res["level"] for res in run["results"]}
    assert levels["MW101"] == "error" and levels["MW125"] == "note"
    for res in run["results"]:
        assert driver_rules[res["ruleIndex"]]["id"] == res["ruleId"]


def test_cli_sarif_for_a_file_has_relative_locations(cli, tmp_path: Path, data_dir: Path) -> None:
    plist = data_dir / "samples" / "entitlements" / "forum-thread.entitlements"
    proc = cli("check", str(plist), "--format", "sarif")
    if "No module named 'macwasm.signing.macho'" in proc.stderr:
        pytest.skip("signing reader not complete yet (macho.py)")
    assert proc.returncode == 1, proc.stderr
    log = json.loads(proc.stdout)
    _validate(log)
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"]
            for res in log["runs"][0]["results"] for loc in res.get("locations", [])]
    assert uris and all(u == "data/samples/entitlements/forum-thread.entitlements" for u in uris)


@pytest.mark.parametrize("path, expected", [
    ("a/b c.plist", "a/b%20c.plist"), ("/abs/x.plist", None), ("../up.plist", None), ("C:/x", None),
    ("", None), ("-", None), ("./x/../y.wasm", "y.wasm"),
])
def test_relative_uri(path: str, expected: str | None) -> None:
    assert relative_uri(path) == expected


def test_unreadable_input_becomes_a_notification() -> None:
    log = to_sarif([], errors=[{"target": "missing.plist", "error": "missing.plist: no such file"}])
    _validate(log)
    inv = log["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert inv["toolExecutionNotifications"][0]["message"]["text"].endswith("no such file")


def test_audit_sarif_reports_every_finding_of_the_failing_and_warning_rows(cli, data_dir: Path,
                                                                          tmp_path: Path) -> None:
    import pandas as pd

    table = data_dir / "samples" / "apps.csv"
    verdicts = json.loads(cli("audit", str(table), "--format", "json").stdout)
    result = cli("audit", str(table), "--output", str(tmp_path / "fleet.sarif"))
    assert result.returncode == 1, result.stderr  # the sample has failing rows on purpose
    log = json.loads((tmp_path / "fleet.sarif").read_text())
    _validate(log)
    reported = {(r["properties"]["target"], r["ruleId"]) for r in log["runs"][0]["results"]}
    expected = {(v["name"], rule) for v in verdicts if v["verdict"] in ("fail", "warn")
                for rule in v["rule_ids"].split(";") if rule}
    assert reported == expected
    assert not {(v["name"]) for v in verdicts if v["verdict"] == "pass"} & {t for t, _ in reported}
    assert len(pd.read_csv(table)) == len(verdicts)


# ------------------------------------------------------------------ what code scanning accepts

FORUM_PLIST = "data/samples/entitlements/forum-thread.entitlements"


def _check_sarif(cli, *args: str, cwd: Path | None = None) -> dict:
    proc = cli("check", *args, "--format", "sarif", cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    log = json.loads(proc.stdout)
    _validate(log)
    return log


def _uris(log: dict) -> list[str]:
    return [loc["physicalLocation"]["artifactLocation"]["uri"]
            for res in log["runs"][0]["results"] for loc in res.get("locations", [])]


def test_every_rule_help_is_rendered_and_points_somewhere() -> None:
    log = to_sarif([])
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["informationUri"].startswith("https://")
    for rule in driver["rules"]:
        for text in (rule["help"]["text"], rule["help"]["markdown"]):
            assert not PLACEHOLDER.search(text), (rule["id"], text)
        assert rule["helpUri"] == rule_url(rule["id"])
    with_placeholders = [r for r in rules().values() if PLACEHOLDER.search(r.fix)]
    assert with_placeholders, "the rules table has templated fixes: the rendering is exercised"
    mw101 = neutral_fix(rules()["MW101"])
    assert mw101.startswith("Remove the keys named in the result from this binary.")


def test_every_placeholder_of_a_fix_has_its_own_neutral_words() -> None:
    """A rule's page and SARIF's help say what each finding fills in, in words written for it (not
    "the needed named in the result"): a placeholder added to a fix without its words fails here."""
    import string

    from macwasm.report.sarif import NEUTRAL_VALUES

    used = {name for r in rules().values() for _, name, _, _ in string.Formatter().parse(r.fix)
            if name and name != "log_message" and not name.endswith("_hint")}
    assert used <= set(NEUTRAL_VALUES), sorted(used - set(NEUTRAL_VALUES))
    assert neutral_fix(rules()["MW110"]).startswith("Add the entitlement named in the result, or")


@pytest.mark.parametrize("form", ["plist-inside", "plist-outside", "bundle", "folder", "sarif-root"])
def test_check_sarif_meets_code_scanning_rules_for_every_input_form(cli, repo: Path, tmp_path: Path,
                                                                     form: str) -> None:
    outside = tmp_path / "elsewhere" / "My App.entitlements"
    outside.parent.mkdir()
    shutil.copy(repo / FORUM_PLIST, outside)
    args = {
        "plist-inside": [FORUM_PLIST, "--runtime", "wasmtime"],
        "plist-outside": [str(outside), "--runtime", "wasmtime"],
        "bundle": ["data/bundles/ForumCase.app"],
        "folder": ["data/samples/entitlements"],
        "sarif-root": [str(outside), "--sarif-root", str(tmp_path)],
    }[form]
    log = _check_sarif(cli, *args)
    assert log["runs"][0]["results"]
    assert upload_problems(log) == []
    uris = set(_uris(log))
    if form == "plist-outside":
        assert uris == {outside.as_uri()}  # absolute, percent-encoded, never dropped
    elif form == "sarif-root":
        assert uris == {"elsewhere/My%20App.entitlements"}
    else:
        assert all(not u.startswith(("/", "file:")) for u in uris)
        for loc in (loc for res in log["runs"][0]["results"] for loc in res["locations"]):
            assert loc["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"


def test_an_entitlement_finding_on_a_plist_points_at_the_key_line(cli, repo: Path) -> None:
    log = _check_sarif(cli, FORUM_PLIST, "--runtime", "wasmtime")
    lines = (repo / FORUM_PLIST).read_text().splitlines()
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    region = results["MW101"]["locations"][0]["physicalLocation"]["region"]
    assert lines[region["startLine"] - 1].strip() == \
        "<key>com.apple.security.cs.allow-unsigned-executable-memory</key>"
    with_region = [r for r in results.values() if "region" in r["locations"][0]["physicalLocation"]]
    for res in with_region:  # every region given is the line of a key the message names
        line = lines[res["locations"][0]["physicalLocation"]["region"]["startLine"] - 1].strip()
        key = line.removeprefix("<key>").removesuffix("</key>")
        assert line.startswith("<key>") and key in res["message"]["text"], (res["ruleId"], line)


def test_a_binary_plist_gets_a_location_without_a_region(cli, tmp_path: Path) -> None:
    import plistlib

    path = tmp_path / "bin.entitlements"
    path.write_bytes(plistlib.dumps({"com.apple.security.get-task-allow": True}, fmt=plistlib.FMT_BINARY))
    log = _check_sarif(cli, str(path))
    assert upload_problems(log) == []
    assert all("region" not in loc["physicalLocation"] for r in log["runs"][0]["results"] for loc in r["locations"])


def test_check_without_a_file_says_its_results_cannot_be_located(cli) -> None:
    proc = cli("check", "--entitlement", "com.apple.security.cs.allow-jit", "--format", "sarif")
    assert "no file to point at" in proc.stderr
    assert all(not r.get("locations") for r in json.loads(proc.stdout)["runs"][0]["results"])


def test_fingerprints_tell_results_apart_and_stay_stable(cli) -> None:
    first = _check_sarif(cli, "data/samples/entitlements", "--runtime", "wasmtime")
    again = _check_sarif(cli, "data/samples/entitlements", "--runtime", "wasmtime")
    prints = [r["partialFingerprints"]["macwasmFinding/v1"] for r in first["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)
    assert prints == [r["partialFingerprints"]["macwasmFinding/v1"] for r in again["runs"][0]["results"]]


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_audit_sarif_locates_rows_at_the_table_and_its_lines(cli, repo: Path, tmp_path: Path, where: str) -> None:
    if where == "inside":
        table, expected_uri = "data/samples/apps.csv", "data/samples/apps.csv"
    else:
        shutil.copytree(repo / "data" / "samples", tmp_path / "samples")
        table = str(tmp_path / "samples" / "apps.csv")
        expected_uri = (tmp_path / "samples" / "apps.csv").as_uri()
    proc = cli("audit", table, "--format", "sarif")
    assert proc.returncode == 1, proc.stderr
    log = json.loads(proc.stdout)
    _validate(log)
    assert upload_problems(log) == []
    with open(repo / "data" / "samples" / "apps.csv", newline="") as fh:
        names = [row["name"] for row in csv.DictReader(fh)]
    text_lines = (repo / "data" / "samples" / "apps.csv").read_text().splitlines()
    for res in log["runs"][0]["results"]:
        (loc,) = res["locations"]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == expected_uri  # the file, not the row name
        line = loc["physicalLocation"]["region"]["startLine"]
        name = res["properties"]["target"]
        assert name in names
        assert text_lines[line - 1].startswith((name + ",", f'"{name}",')), (name, line)
        assert res["message"]["text"].startswith(name)


def test_csv_row_lines_follow_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('name,entitlements\na,x\n"b\nwith a newline",y\n\nc,z\n')
    assert csv_row_lines(str(path)) == [2, 3, 6]


def test_artifact_location_inside_and_outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert artifact_location("a/b.plist") == {"uri": "a/b.plist", "uriBaseId": "%SRCROOT%"}
    assert artifact_location(str(tmp_path / "a" / "b.plist")) == {"uri": "a/b.plist", "uriBaseId": "%SRCROOT%"}
    assert artifact_location("/etc/x y.plist") == {"uri": "file:///etc/x%20y.plist"}
    assert artifact_location("../up.plist")["uri"] == (tmp_path.parent / "up.plist").as_uri()
    assert artifact_location("-") is None


# ------------------------------------------------------ GitHub's rules, run by Microsoft's SARIF multitool

MULTITOOL = ("@microsoft/sarif-multitool-linux", "5.7.0",
             "sha512-NxUbpq6ISCWoTQ/NfOYEwEDKq1Heka/rMoJ5R5LMydcAZQX/X7g5mWHcgxDub+0M07LC96tZ5LZHvF1Qy3gjTA==")


def _multitool(repo: Path) -> Path:
    """The multitool's Linux build from npm (``npm pack`` of a pinned version, its sha512 checked)."""
    name, version, integrity = MULTITOOL
    dest = repo / ".cache" / "sarif-multitool" / version
    binary = dest / "package" / "Sarif.Multitool"
    if binary.is_file():
        return binary
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the multitool comes from the npm registry")
    dest.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=dest, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    tarball = dest / proc.stdout.strip().splitlines()[-1]
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    assert digest == integrity, f"{tarball.name}: sha512 differs from the pinned one"
    with tarfile.open(tarball) as tar:
        tar.extractall(dest, filter="data")
    tarball.unlink()
    binary.chmod(0o755)
    return binary


@pytest.mark.network
@pytest.mark.slow
def test_github_rules_of_the_sarif_multitool_find_no_error(cli, repo: Path, tmp_path: Path) -> None:
    if sys.platform != "linux":
        pytest.skip("the pinned multitool build is the Linux one")
    tool = _multitool(repo)
    outside = tmp_path / "outside.entitlements"
    shutil.copy(repo / FORUM_PLIST, outside)
    logs = {
        "check-inside": cli("check", FORUM_PLIST, "data/bundles", "--runtime", "wasmtime", "--format", "sarif"),
        "check-outside": cli("check", str(outside), "--format", "sarif"),
        "audit": cli("audit", "data/samples/apps.csv", "--format", "sarif"),
    }
    for label, proc in logs.items():
        src = tmp_path / f"{label}.sarif"
        src.write_text(proc.stdout)
        out = tmp_path / f"{label}.validation.sarif"
        run = subprocess.run([str(tool), "validate", "--rule-kind", "Gh;Sarif", "--output", str(out), str(src)],
                             capture_output=True, text=True, timeout=300,
                             env={**os.environ, "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1"})
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        found = json.loads(out.read_text())["runs"][0]["results"]
        errors = [(r["ruleId"], r["message"].get("arguments")) for r in found if r.get("level") == "error"]
        assert errors == [], (label, errors)
