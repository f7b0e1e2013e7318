"""Readers to engine to CLI: one typed contract. The record of an input that could not be read has the same
keys as the record of one that was, and those keys are the models' own (never a list kept by hand)."""

from __future__ import annotations

import json

from macwasm.cli.cmd_entitlements import RECORD_KEYS as ENTITLEMENT_KEYS
from macwasm.cli.cmd_inspect import RECORD_KEYS as INSPECT_KEYS
from macwasm.signing.model import SigningFacts, SliceFacts
from macwasm.wasm import inspect_path


def test_inspect_records_of_read_malformed_and_unreadable_files_have_the_same_keys(cli, data_dir) -> None:
    proc = cli("inspect", "--format", "jsonl", str(data_dir / "modules" / "mvp.wasm"),
               str(data_dir / "modules" / "truncated.wasm"), "no-such-file.wasm")
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(records) == 3 and proc.returncode == 2
    keys = [list(r) for r in records]
    assert keys[0] == keys[1] == keys[2], keys
    assert set(INSPECT_KEYS) <= set(records[0])
    assert set(inspect_path(data_dir / "modules" / "mvp.wasm").to_dict()) <= set(records[2])
    assert records[2]["error_category"] == "io" and records[2]["sections"] == [] and records[2]["producers"] == {}


def test_entitlements_records_of_read_and_unreadable_inputs_have_the_same_keys(cli, data_dir) -> None:
    proc = cli("entitlements", "--format", "jsonl", str(data_dir / "bundles" / "ForumCase.app"), "no-such-file")
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert list(records[0]) == list(records[1])
    assert set(ENTITLEMENT_KEYS) <= set(records[1]) and "slices_differ" in records[1]
    assert set(SigningFacts(path="x", source="bundle").to_dict()) <= set(records[1])


def test_the_checker_reads_a_slices_der_entitlements_from_the_contract_type() -> None:
    """What the checker needs beyond the JSON lives on SliceFacts: no reader subclass, no getattr."""
    s = SliceFacts("arm64", None, {"a": True}, der_entitlements={"b": True}, der_layout="wrapped", notes=("n",))
    assert s == SliceFacts("arm64", None, {"a": True})  # equality and the JSON ignore them
    assert "der_entitlements" not in s.to_dict() and "notes" not in s.to_dict()


def test_check_records_of_a_target_and_an_unreadable_input_have_the_same_keys(cli, data_dir) -> None:
    proc = cli("check", "--format", "jsonl", str(data_dir / "samples" / "entitlements" / "forum-thread.entitlements"),
               "no-such-file.entitlements")
    target, unreadable = (json.loads(line) for line in proc.stdout.splitlines())
    assert list(target) == list(unreadable) and proc.returncode == 2
    assert unreadable["verdict"] == "error" and unreadable["error_category"] == "io" and unreadable["findings"] == []
    assert target["error"] is None and target["schema_version"] == unreadable["schema_version"] == 1
