"""Each vocabulary is named once (macwasm.vocabulary), the product types are the rows of their table, and
a value outside a vocabulary is refused rather than taken for another."""

from __future__ import annotations

import ast
import csv
import shutil
from pathlib import Path

import pytest

from macwasm import vocabulary as v
from macwasm.datafiles import check_value, parse_rows, read_rows
from macwasm.errors import TableFormatError
from macwasm.policy.checker import TARGET_BUILDERS, CheckOptions, targets_from_facts
from macwasm.policy.tables import placements, product_types
from macwasm.signing.model import SigningFacts
from macwasm.signing.roles import role_rules

LIB = Path(__file__).resolve().parents[1] / "lib" / "macwasm"


def test_product_types_are_the_rows_of_their_table(data_dir: Path) -> None:
    with open(data_dir / "product_types.csv", newline="") as fh:
        rows = [r["product_type"] for r in csv.DictReader(fh)]
    assert v.product_types() == tuple(rows) == v.PRODUCT_TYPES
    from macwasm.policy.tables import PRODUCT_TYPES  # the name the notebooks import

    assert tuple(rows) == PRODUCT_TYPES and set(product_types()) == set(rows)
    assert {r.role for r in role_rules()} <= set(rows)  # every role of the bundle reader is a product type
    assert v.DEFAULT_PRODUCT_TYPE in rows and v.FRAMEWORK in rows and v.APP in rows


def test_a_product_type_added_to_a_copy_of_the_table_is_known(tables_copy: Path) -> None:
    text = (tables_copy / "product_types.csv").read_text()
    app_row = next(line for line in text.splitlines() if line.startswith("app,"))
    (tables_copy / "product_types.csv").write_text(text + app_row.replace("app,", "kiosk-app,", 1) + "\n")
    assert "kiosk-app" in v.product_types() and "kiosk-app" in product_types()
    from macwasm.policy import check

    (result,) = check(entitlements=["com.apple.security.app-sandbox"], product_type="kiosk-app", runtime="wasm3")
    assert result.product_type == "kiosk-app" and result.verdict == v.PASS


def test_a_repeated_product_type_is_refused_with_its_line(tmp_path: Path, data_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(data_dir / "product_types.csv", tmp_path / "product_types.csv")
    text = (tmp_path / "product_types.csv").read_text()
    lines = text.splitlines()
    (tmp_path / "product_types.csv").write_text(text + lines[1] + "\n")
    monkeypatch.setenv("MACWASM_DATA", str(tmp_path))
    with pytest.raises(TableFormatError, match=f"line {len(lines) + 1}: product_type 'app' is empty or repeated"):
        v.product_types()


def test_every_source_of_the_readers_has_a_target_builder_and_an_unknown_one_raises() -> None:
    assert set(TARGET_BUILDERS) == set(v.SOURCES)
    with pytest.raises(LookupError, match="no target builder for the source 'carrier-pigeon'"):
        targets_from_facts(SigningFacts(path="x", source="carrier-pigeon", entitlements={}), CheckOptions())


def test_placements_of_the_table_are_the_vocabulary() -> None:
    assert set(placements()) == set(v.PLACEMENTS)


def test_the_loader_names_the_line_and_the_column(data_dir: Path) -> None:
    rows = read_rows("rules.csv", ("id", "severity"))
    assert rows[0][0] == 2 and rows[0][1]["id"].startswith("MW")
    text = 'id,source\nA,s\nB,"two\nlines"\nC,\n'
    with pytest.raises(TableFormatError, match="line 5: every fact needs its source"):
        parse_rows(text, ("id",))  # the third row starts on line 5: the second one spans two lines
    with pytest.raises(TableFormatError, match="missing column"):
        parse_rows("id\nA\n", ("id", "source"))
    with pytest.raises(TableFormatError, match=r"line 7: kind 'x' is not one of a, b") as info:
        check_value("rules.csv", 7, "kind", "x", ("a", "b"))
    assert str(info.value.path).endswith("rules.csv")


def test_error_categories_used_in_the_library_are_declared() -> None:
    """``category=`` is only ever given a name of the vocabulary (never a literal that could drift)."""
    for path in LIB.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "category" and isinstance(node.value, ast.Constant):
                raise AssertionError(f"{path.relative_to(LIB)}:{node.lineno}: category={node.value.value!r} is a "
                                     "literal; use the name from macwasm.vocabulary")
    assert set(v.ERROR_CATEGORIES) >= {"malformed", "limit", "io", "unsupported", "usage", "internal"}


def test_the_vocabulary_module_imports_nothing_at_import_time() -> None:
    tree = ast.parse((LIB / "vocabulary.py").read_text())
    top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert all(isinstance(n, ast.ImportFrom) and n.module in ("__future__", "functools") for n in top)
