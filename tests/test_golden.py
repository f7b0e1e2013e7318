"""Golden outputs: what every command writes, in every format, on the sample data (``tests/golden/``).

A change in what users see shows up in review as a change of these files (as wasm-tools' ``tests/cli``
outputs do). After a deliberate change, refresh them with ``MACWASM_BLESS=1 pytest tests/test_golden.py``
and read the diff. Machine-specific paths (the checkout's location) are replaced by ``<repo>``; text
is wrapped at 100 columns. Every JSON golden is validated against the command's published schema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from macwasm.report import formats
from macwasm.report.schema import SCHEMA_VERSION, schema

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
BLESS = os.environ.get("MACWASM_BLESS") == "1"
FORUM = "data/samples/entitlements/forum-thread.entitlements"
XCODE = "tests/fixtures/xcode/ForumCase/ForumCase.xcodeproj"

#: (command, case, arguments, exit code): each case is run in every format of its command
CASES: list[tuple[str, str, list[str], int]] = [
    ("inspect", "modules", ["data/modules"], 1),
    ("entitlements", "samples-and-missing", ["data/bundles", "data/samples/entitlements", "missing.entitlements"],
     2),
    ("check", "forum-app", ["data/bundles/ForumCase.app", "--runtime", "wasmtime"], 1),
    ("check", "entitlements-and-missing", [FORUM, "data/samples/entitlements/missing.entitlements"], 2),
    ("check", "xcode-project", [XCODE], 1),
    ("audit", "apps", ["data/samples/apps.csv"], 1),
    ("advise", "network-extension", ["--product-type", "network-extension", "--runtime", "wasmtime"], 0),
    ("explain", "amfi-log", ["data/samples/logs/system-log-amfi.log"], 0),
    ("rule", "MW110", ["MW110"], 0),
    ("runtime", "wasmtime", ["wasmtime"], 0),
]
EXTENSIONS = {"table": "txt", "text": "txt", "markdown": "md", "json": "json", "jsonl": "jsonl", "csv": "csv",
              "sarif": "sarif", "github": "txt"}
RUNS = [(command, case, args, code, fmt) for command, case, args, code in CASES for fmt in formats.formats(command)]


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MACWASM_DATA"}
    env.update(COLUMNS="100", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "macwasm", *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=300)


def _normal(text: str) -> str:
    return text.replace(str(REPO), "<repo>").replace(REPO.as_uri(), "file://<repo>")


def _golden(command: str, case: str, fmt: str) -> Path:
    suffix = "github.txt" if fmt == "github" else EXTENSIONS[fmt]
    return GOLDEN / command / f"{case}.{suffix}"


def _records(command: str, fmt: str, text: str) -> list[object]:
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


@pytest.mark.parametrize(("command", "case", "args", "code", "fmt"), RUNS,
                         ids=[f"{c}-{case}-{f}" for c, case, _, _, f in RUNS])
def test_golden_output(command: str, case: str, args: list[str], code: int, fmt: str) -> None:
    proc = _run([command, *args, "--format", fmt])
    assert proc.returncode == code, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    out = _normal(proc.stdout)
    path = _golden(command, case, fmt)
    if BLESS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(out, encoding="utf-8")
    assert path.is_file(), f"{path.relative_to(REPO)} is missing: run MACWASM_BLESS=1 pytest {__file__}"
    assert out == path.read_text(encoding="utf-8"), (
        f"{command} --format {fmt} changed: if that is meant, MACWASM_BLESS=1 pytest tests/test_golden.py and review "
        "the diff")


def test_every_command_and_every_format_has_a_golden_output() -> None:
    from macwasm.cli.main import COMMANDS

    covered = {(c, f) for c, _, _, _, f in RUNS}
    assert {c for c, _ in covered} == set(COMMANDS)
    assert covered == {(c, f) for c in COMMANDS for f in formats.formats(c)}
    expected = {_golden(c, case, f) for c, case, _, _, f in RUNS}
    assert {p for p in GOLDEN.rglob("*") if p.is_file()} == expected  # no golden left behind by a removed case


JSON_GOLDENS = [(c, case, f) for c, case, _, _, f in RUNS if f in ("json", "jsonl")]


@pytest.mark.parametrize(("command", "case", "fmt"), JSON_GOLDENS,
                         ids=[f"{c}-{case}-{f}" for c, case, f in JSON_GOLDENS])
def test_every_json_golden_validates_against_its_published_schema(command: str, case: str, fmt: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(schema(command))
    records = _records(command, fmt, _golden(command, case, fmt).read_text(encoding="utf-8"))
    assert records
    for record in records:
        errors = sorted(validator.iter_errors(record), key=str)
        assert not errors, f"{command} {case}: {errors[0].message} at {list(errors[0].path)}"
        assert isinstance(record, dict) and record["schema_version"] == SCHEMA_VERSION


def test_the_schemas_are_valid_and_list_every_key_of_the_records() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from macwasm.cli.cmd_entitlements import RECORD_KEYS as ENTITLEMENT_KEYS
    from macwasm.cli.cmd_inspect import RECORD_KEYS as INSPECT_KEYS
    from macwasm.policy.audit_table import OUTPUT_COLUMNS
    from macwasm.report.schema import COMMANDS

    for command in COMMANDS:
        jsonschema.Draft202012Validator.check_schema(schema(command))
    assert set(schema("inspect")["required"]) == {"schema_version", *INSPECT_KEYS}
    assert set(schema("entitlements")["required"]) == {"schema_version", *ENTITLEMENT_KEYS}
    assert set(schema("audit")["required"]) == {"schema_version", *OUTPUT_COLUMNS}
