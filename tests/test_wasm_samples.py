"""``data/modules/``: every row of ``data/modules.csv`` against the inspector, reproducible bytes, ``file`` wording."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from repo_scripts import load_script

from macwasm.wasm import WasmFormatError, inspect_path
from macwasm.wasm.traits import TRAITS_TABLE

REPO = Path(__file__).resolve().parents[1]
MODULES = REPO / "data" / "modules"


def _load_builder():
    return load_script("build_sample_modules")


BUILDER = _load_builder()


def _rows() -> list[dict[str, str]]:
    with (REPO / "data" / "modules.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _inspect(path: Path):
    try:
        return inspect_path(path)
    except WasmFormatError as err:
        return err.info


def test_csv_lists_exactly_the_files_in_the_folder():
    assert sorted(r["file"] for r in _rows()) == sorted(p.name for p in MODULES.iterdir())
    assert len(_rows()) >= 12


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["file"])
def test_every_row_matches_the_inspector(row):
    info = _inspect(MODULES / row["file"])
    assert info.kind == row["expected_kind"]
    assert info.well_formed is (row["expected_well_formed"] == "true")
    expected_traits = [t for t in row["expected_traits"].split(";") if t]
    assert info.traits == expected_traits
    assert (info.error is None) is info.well_formed


def test_rebuilding_gives_identical_bytes(tmp_path):
    BUILDER.write_all(tmp_path)
    for path in sorted(tmp_path.iterdir()):
        assert path.read_bytes() == (MODULES / path.name).read_bytes(), path.name
    BUILDER.write_all(tmp_path / "again")  # and twice in a row
    assert all((tmp_path / "again" / p.name).read_bytes() == p.read_bytes() for p in tmp_path.glob("*.wasm"))


def test_samples_show_their_interface():
    wasi = inspect_path(MODULES / "wasi-preview1-command.wasm")
    assert [(i.module, i.name, i.kind) for i in wasi.imports] == [
        ("wasi_snapshot_preview1", "fd_write", "func"), ("wasi_snapshot_preview1", "proc_exit", "func")]
    assert sorted(e.name for e in wasi.exports) == ["_start", "memory"]
    component = inspect_path(MODULES / "component-wasi-p2.wasm")
    assert (component.header_version, component.layer) == (0x1000D, 1)
    assert [i.name for i in component.imports] == ["wasi:cli/environment@0.2.0"]
    assert component.nested_modules == 1
    names = inspect_path(MODULES / "producers-and-names.wasm")
    assert names.module_name == "calculator" and names.function_names == 2
    assert [p.name for p in names.producers["processed-by"]] == ["rustc", "wasm-opt"]
    simd = inspect_path(MODULES / "simd-target-features.wasm")
    assert simd.target_features == ["+simd128", "+mutable-globals", "-atomics"]
    mem64 = inspect_path(MODULES / "memory64.wasm")
    assert mem64.memories[0].memory64 and mem64.memories[0].min == 1


@pytest.mark.skipif(shutil.which("file") is None, reason="`file` is not installed (Debian package `file`)")
def test_description_equals_file_for_every_sample_with_the_wasm_magic():
    paths = sorted(MODULES.iterdir())
    out = subprocess.run(["file", "-b", *map(str, paths)], capture_output=True, text=True, check=True).stdout
    for path, expected in zip(paths, out.splitlines(), strict=True):
        info = _inspect(path)
        if path.read_bytes()[:4] == b"\x00asm":
            assert info.description == expected, path.name
        else:
            assert info.description is None  # not imitated for non-wasm (documented in macwasm.wasm.header)


def test_every_trait_is_documented_once_in_the_traits_table():
    with (REPO / "data" / TRAITS_TABLE).open(newline="") as f:
        rows = list(csv.DictReader(f))
    documented = [r["trait"] for r in rows]
    assert len(documented) == len(set(documented))
    assert all(r["meaning"] and r["derived_from"] and r["source"] for r in rows)
    source = (REPO / "lib" / "macwasm" / "wasm" / "traits.py").read_text()
    emitted = {t for t in documented if f'"{t}"' in source}
    assert emitted == set(documented), set(documented) - emitted
