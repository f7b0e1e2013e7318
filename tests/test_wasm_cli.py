"""``macwasm inspect`` as a user runs it: formats, exit codes, stdin, a batch that goes on past bad files."""

from __future__ import annotations

import json
import subprocess
import sys

from macwasm.cli.cmd_inspect import RECORD_KEYS

MODULES = "data/modules"
GOOD = ["data/modules/mvp.wasm", "data/modules/component-wasi-p2.wasm"]


def test_json_is_one_array_with_the_contract_fields(cli):
    proc = cli("inspect", "--format", "json", *GOOD)
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert [r["path"] for r in records] == GOOD
    for r in records:
        assert set(RECORD_KEYS) <= set(r)
        assert isinstance(r["header_version"], int) and r["well_formed"] is True and r["error"] is None
        assert all(set(s) == {"id", "name", "offset", "size"} for s in r["sections"])
        assert all(set(i) == {"module", "name", "kind"} for i in r["imports"])
        assert all(set(e) == {"name", "kind"} for e in r["exports"])
        assert r["validation"] is None
    assert records[1]["layer"] == 1 and records[1]["header_version"] == 0x1000D


def test_directory_is_searched_and_bad_files_make_exit_1_without_stopping(cli):
    proc = cli("inspect", "--format", "jsonl", MODULES)
    assert proc.returncode == 1, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    by_name = {r["path"].rsplit("/", 1)[1]: r for r in records}
    assert len(records) == 13  # every sample, the bad ones included
    assert by_name["truncated.wasm"]["well_formed"] is False and "offset 0x" in by_name["truncated.wasm"]["error"]
    assert by_name["truncated.wasm"]["kind"] == "core-module"  # the partial result is kept
    assert by_name["not-wasm.wasm"]["kind"] == "not-wasm"
    assert by_name["unknown-version.wasm"]["header_version"] == 2
    assert by_name["mvp.wasm"]["well_formed"] is True
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal


def test_missing_file_is_exit_2_and_the_others_are_still_reported(cli):
    proc = cli("inspect", "--format", "jsonl", "does-not-exist.wasm", GOOD[0])
    assert proc.returncode == 2
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert records[0]["error_category"] == "io" and records[1]["well_formed"] is True


def test_usage_error_is_exit_2(cli):
    assert cli("inspect").returncode == 2
    assert cli("inspect", "--format", "xml", GOOD[0]).returncode == 2


def test_stdin(cli, repo):
    data = (repo / GOOD[0]).read_bytes()
    proc = cli("inspect", "--format", "json", "-", input_bytes=data)
    assert proc.returncode == 0
    [record] = json.loads(proc.stdout)
    assert record["path"] == "-" and record["kind"] == "core-module"


def test_table_is_readable(cli):
    proc = cli("inspect", MODULES)
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["path", "kind", "version", "sections", "imports", "exports", "traits", "error"]
    row = next(line for line in lines if "component-wasi-p2" in line)
    assert "0x1000d" in row and "component,wasi,wasi-p2" in row


def test_validate_reports_wasmtime_verbatim_and_invalid_is_exit_1(cli, tmp_path):
    proc = cli("inspect", "--validate", "--format", "json", *GOOD)
    assert proc.returncode == 0, proc.stdout
    assert [r["validation"]["ok"] for r in json.loads(proc.stdout)] == [True, True]
    # well-formed for the walk (code is skipped), but an illegal opcode inside the body
    bad = tmp_path / "illegal-opcode.wasm"
    bad.write_bytes(bytes.fromhex("0061736d01000000010401600000030201000a05010300ff0b"))
    proc = cli("inspect", "--validate", "--format", "json", str(bad))
    assert proc.returncode == 1
    [record] = json.loads(proc.stdout)
    assert record["well_formed"] is True
    assert record["validation"]["ok"] is False and "illegal opcode" in record["validation"]["message"]


def test_validate_runs_next_to_a_structural_error(cli):
    proc = cli("inspect", "--validate", "--format", "json", "data/modules/truncated.wasm")
    [record] = json.loads(proc.stdout)
    assert record["well_formed"] is False and record["validation"]["ok"] is False
    assert record["validation"]["message"]  # wasmtime's own words, next to ours


def test_inspect_does_not_import_wasmtime_or_pandas_without_validate(repo):
    code = ("import sys, runpy; sys.argv=['macwasm','inspect','--format','jsonl','data/modules/mvp.wasm'];"
            "from macwasm.cli.main import main; main();"
            "print('HEAVY', sorted(m for m in ('wasmtime','pandas','numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo).stdout
    assert "HEAVY []" in out
