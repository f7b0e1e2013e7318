"""``audit``: the vectorised verdict table equals the plain per-row loop, and the CLI writes it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from repo_scripts import load_script

from macwasm.errors import TableFormatError
from macwasm.policy import audit, audit_rowwise
from macwasm.policy.audit_table import OUTPUT_COLUMNS

REPO = Path(__file__).resolve().parents[1]


def _generated(rows: int) -> pd.DataFrame:
    gen = load_script("generate_apps_table")
    return pd.DataFrame(gen.generate(rows, seed=7), columns=gen.COLUMNS)


def test_vectorised_equals_row_loop_on_a_generated_mix() -> None:
    frame = _generated(4000)
    fast = audit(frame)
    assert list(fast.columns) == list(OUTPUT_COLUMNS)
    pd.testing.assert_frame_equal(fast.astype(str), audit_rowwise(frame).astype(str))
    assert set(fast["verdict"]) <= {"pass", "warn", "fail", "error"}
    assert {"pass", "warn", "fail"} <= set(fast["verdict"])


def test_bad_cells_give_an_error_row_not_a_crash() -> None:
    frame = pd.DataFrame({"name": ["ok", "bad-runtime", "bad-flag"], "runtime": ["wasm3", "nope", "wasm3"],
                          "entitlements": ["", "", ""], "hardened_runtime": ["", "", "maybe"]})
    out = audit(frame)
    assert list(out["verdict"]) == ["pass", "error", "error"]
    assert "runtime 'nope'" in out["top_finding"][1] and "hardened_runtime" in out["top_finding"][2]
    pd.testing.assert_frame_equal(out.astype(str), audit_rowwise(frame).astype(str))


def test_a_bad_row_does_not_turn_the_rows_that_share_its_other_columns_into_errors() -> None:
    """Found while adding SARIF to audit: a bad product type stood for its rule groups, so every
    row sharing (say) its runtime came out as an error too."""
    frame = _generated(600)
    for i, (column, value) in enumerate([("product_type", "toaster"), ("runtime", "nope"),
                                         ("distribution", "sideload"), ("arch", "ppc")]):
        frame.loc[i * 97, column] = value
    fast = audit(frame)
    pd.testing.assert_frame_equal(fast.astype(str), audit_rowwise(frame).astype(str))
    assert (fast["verdict"] == "error").sum() == 4


def test_missing_name_column_is_refused() -> None:
    with pytest.raises(TableFormatError, match="name"):
        audit(pd.DataFrame({"entitlements": [""]}))


def test_cli_audit_csv_and_json(cli, tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("name,product_type,runtime,entitlements\n"
                     "a,app,wasmtime,com.apple.security.cs.allow-unsigned-executable-memory\n"
                     "b,endpoint-security-extension,wasmtime,"
                     "com.apple.developer.endpoint-security.client;com.apple.security.cs.allow-unsigned-executable-memory\n")
    out_csv = tmp_path / "v.csv"
    proc = cli("audit", str(table), "--output", str(out_csv))
    assert proc.returncode == 1, proc.stderr
    verdicts = pd.read_csv(out_csv, keep_default_na=False)
    assert list(verdicts["verdict"]) == ["pass", "fail"] and "MW101" in verdicts["rule_ids"][1]
    proc = cli("audit", str(table), "--format", "json")
    assert [r["verdict"] for r in json.loads(proc.stdout)] == ["pass", "fail"]
    assert cli("audit", str(tmp_path / "missing.csv")).returncode == 2
