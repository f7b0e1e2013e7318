"""The CLI conventions every command keeps (issue 12): help with exit codes, an example and every option's default;
``-o FILE``; ``-q``; no progress in machine formats; ``--fail-on``, ``--exit-zero``, ``--ignore`` and the project's
``[tool.macwasm]``; GitHub annotations at SARIF's places; ``audit -``."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from macwasm.cli import main as cli_main
from macwasm.cli.config import load
from macwasm.errors import UsageError
from macwasm.report import formats

COMMANDS = cli_main.COMMANDS
UNS = "com.apple.security.cs.allow-unsigned-executable-memory"
ES = "com.apple.developer.endpoint-security.client"
FORUM = "data/samples/entitlements/forum-thread.entitlements"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_has_exit_codes_an_example_and_every_options_default(command: str) -> None:
    sub = _subparsers(cli_main.build_parser())[command]
    text = sub.format_help()
    assert re.search(r"exit codes:\n  0  .+\n  1  .+\n  2  .+", text), text
    assert "\nexample:\n  macwasm " in text or "| macwasm " in text
    for action in sub._actions:
        if not action.option_strings or action.dest == "help":
            continue
        assert action.help, f"{command} {action.option_strings[0]} has no help"
        meaningful = action.default not in (None, False, [], ())
        if meaningful:
            assert "default" in sub._get_formatter()._get_help_string(action), action.option_strings
    assert {"--format", "-o", "--output", "-q", "--quiet"} <= {s for a in sub._actions for s in a.option_strings}


def test_version_is_dash_capital_v(cli) -> None:
    proc = cli("-V")
    assert proc.returncode == 0 and proc.stdout.startswith("macwasm ")


def test_a_format_registered_shows_up_in_the_choices_and_is_used(capsys) -> None:
    formats.register("inspect", "names", "tests.test_cli_conventions:_names_only", machine=True,
                     summary="the paths, one per line")
    try:
        parser = cli_main.build_parser()
        assert "names" in _subparsers(parser)["inspect"]._option_string_actions["--format"].choices
        code = cli_main.main(["inspect", "--format", "names", "data/modules/mvp.wasm"])
        assert code == 0 and capsys.readouterr().out == "data/modules/mvp.wasm\n"
    finally:
        formats.unregister("inspect", "names")
    assert "names" not in formats.formats("inspect")


def _names_only(records, out, options) -> None:  # the renderer the test above registers
    for record in records:
        out.write(record["path"] + "\n")


@pytest.mark.parametrize("args", [
    ["inspect", "data/modules/mvp.wasm"],
    ["entitlements", FORUM],
    ["check", FORUM],
    ["explain", "data/samples/logs/system-log-amfi.log"],
    ["advise", "--product-type", "app", "--runtime", "wasm3"],
    ["audit", "data/samples/apps.csv", "--format", "table"],  # without --format, -o's suffix chooses (csv)
])
def test_dash_o_writes_the_file_and_nothing_to_stdout(cli, tmp_path: Path, args: list[str]) -> None:
    target = tmp_path / "out.txt"
    with_o = cli(*args, "-o", str(target))
    plain = cli(*args)
    assert with_o.stdout == "" and with_o.returncode == plain.returncode
    assert target.read_text() == plain.stdout and plain.stdout


def test_dash_q_keeps_only_the_findings(cli) -> None:
    full = cli("check", FORUM, "--runtime", "wasmtime")
    quiet = cli("check", FORUM, "--runtime", "wasmtime", "-q")
    assert quiet.returncode == full.returncode == 1
    assert "target(s):" in full.stdout and "target(s):" not in quiet.stdout
    assert " info " in full.stdout and " info " not in quiet.stdout and "MW101" in quiet.stdout
    records = json.loads(cli("check", FORUM, "--runtime", "wasmtime", "-q", "--format", "json").stdout)
    assert all(f["severity"] != "info" for r in records for f in r["findings"])
    passing = cli("check", "--entitlement", "com.apple.security.app-sandbox", "--runtime", "wasm3", "-q")
    assert passing.returncode == 0 and passing.stdout == ""
    inspect = cli("inspect", "-q", "data/modules")
    assert "mvp.wasm" not in inspect.stdout and "truncated.wasm" in inspect.stdout


def test_no_progress_in_machine_formats(cli) -> None:
    from macwasm.cli.common import Progress, is_machine

    assert is_machine("check", "json") and is_machine("check", "github") and not is_machine("check", "table")
    assert not Progress(10, wanted=False).enabled


def test_fail_on_exit_zero_and_ignore(cli) -> None:
    args = ["check", "--entitlement", "com.apple.security.app-sandbox", "--runtime", "wasmedge", "--module-kind",
            "component"]
    assert cli(*args).returncode == 0  # it warns
    assert cli(*args, "--fail-on", "warning").returncode == 1
    failing = ["check", "--entitlement", ES, "--entitlement", UNS, "--runtime", "wasmtime"]
    assert cli(*failing).returncode == 1
    assert cli(*failing, "--exit-zero").returncode == 0
    records = json.loads(cli(*failing, "--ignore", "MW101,MW11", "--format", "json").stdout)
    rule_ids = {f["rule_id"] for f in records[0]["findings"]}
    assert "MW101" not in rule_ids and not any(r.startswith("MW11") for r in rule_ids) and "MW160" in rule_ids
    bad = cli(*failing, "--ignore", "MW999")
    assert bad.returncode == 2 and "MW999" in bad.stderr


def test_audit_ignore_and_fail_on(cli) -> None:
    full = json.loads(cli("audit", "data/samples/apps.csv", "--format", "json").stdout)
    ignored = json.loads(cli("audit", "data/samples/apps.csv", "--format", "json", "--ignore", "MW101").stdout)
    assert any("MW101" in r["rule_ids"] for r in full) and not any("MW101" in r["rule_ids"] for r in ignored)
    assert cli("audit", "data/samples/apps.csv", "--exit-zero").returncode == 0


def test_project_settings_from_pyproject_and_the_command_line_wins(cli, tmp_path: Path, repo: Path) -> None:
    project = tmp_path / "project"
    (project / "App").mkdir(parents=True)
    (project / "App" / "App.entitlements").write_bytes((repo / FORUM).read_bytes())
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.macwasm]\nproduct_type = '
                                            '"endpoint-security-extension"\nruntime = "wasm3"\nignore = ["MW101"]\n'
                                            'fail_on = "warning"\n')
    nested = project / "App"
    records = json.loads(cli("check", "App.entitlements", "--format", "json", cwd=nested).stdout)
    assert records[0]["product_type"] == "endpoint-security-extension"
    assert "MW101" not in {f["rule_id"] for f in records[0]["findings"]}
    overridden = json.loads(cli("check", "App.entitlements", "--format", "json", "--product-type", "app",
                                "--ignore", "MW171", cwd=nested).stdout)
    assert overridden[0]["product_type"] == "app" and "MW101" in {f["rule_id"] for f in overridden[0]["findings"]}
    assert load(nested).path == str(project / "pyproject.toml") and load(nested).runtime == ("wasm3",)


def test_a_wrong_project_setting_is_a_usage_error_naming_the_file(cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.macwasm]\nproduct_typ = "app"\n')
    with pytest.raises(UsageError, match="unknown key"):
        load(tmp_path)
    proc = cli("check", "--entitlement", "x", cwd=tmp_path)
    assert proc.returncode == 2 and "pyproject.toml" in proc.stderr and "product_typ" in proc.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.macwasm]\narch = "ppc"\n')
    with pytest.raises(UsageError, match="arch = 'ppc' is not one of"):
        load(tmp_path)


def test_github_annotations_are_at_the_places_sarif_gives(cli) -> None:
    annotations = cli("check", FORUM, "--runtime", "wasmtime", "--format", "github").stdout.splitlines()
    sarif = json.loads(cli("check", FORUM, "--runtime", "wasmtime", "--format", "sarif").stdout)
    places = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
               r["locations"][0]["physicalLocation"].get("region", {}).get("startLine"))
              for r in sarif["runs"][0]["results"]}
    found = set()
    for line in annotations:
        m = re.fullmatch(r"::(error|warning|notice) file=([^,]+)(?:,line=(\d+))?,title=(MW\d+)::(.+)", line)
        assert m, line
        found.add((m.group(4), m.group(2), int(m.group(3)) if m.group(3) else None))
    assert found == places and any(level == "error" for level in (a.split(" ")[0][2:] for a in annotations))
    audit = cli("audit", "data/samples/apps.csv", "--format", "github").stdout.splitlines()
    assert audit and all(re.match(r"::(error|warning|notice) file=data/samples/apps\.csv,line=\d+,title=", a)
                         for a in audit)


def test_github_escapes_what_would_break_the_command() -> None:
    from macwasm.report.github import annotation
    from macwasm.report.sarif import Where

    line = annotation("error", "100% broken\nnext", where=Where("a,b:c.plist", 3), title="MW1:01", root=None)
    assert line == "::error file=a%2Cb%3Ac.plist,line=3,title=MW1%3A01::100%25 broken%0Anext\n"


def test_audit_reads_standard_input(cli, repo: Path) -> None:
    table = (repo / "data" / "samples" / "apps.csv").read_bytes()
    piped = cli("audit", "-", "--format", "json", input_bytes=table, cwd=repo / "data" / "samples")
    named = cli("audit", "apps.csv", "--format", "json", cwd=repo / "data" / "samples")
    assert piped.returncode == named.returncode == 1 and json.loads(piped.stdout) == json.loads(named.stdout)
    sarif = json.loads(cli("audit", "-", "--format", "sarif", input_bytes=table, cwd=repo / "data" / "samples").stdout)
    assert sarif["runs"][0]["results"] and all("locations" not in r for r in sarif["runs"][0]["results"])
