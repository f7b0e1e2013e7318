"""Header classification and the ``file`` 5.44 wording, checked against the real ``file`` binary.

Why: users compare our ``description`` with what ``file`` printed in their CI logs; the component
preamble (``0d 00 01 00``) is exactly where a home-made reading goes wrong (``version 0x1000d``).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from macwasm.wasm import (
    COMPONENT,
    CORE_MODULE,
    NOT_WASM,
    UNKNOWN_VERSION,
    classify_header,
    file_description,
    inspect_bytes,
)

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "tests" / "spec-binary"
FILE = shutil.which("file")
needs_file = pytest.mark.skipif(FILE is None, reason="`file` is not installed (Debian package `file`)")

HEADERS = {
    # bytes after the magic: (kind, header_version, layer)
    b"\x01\x00\x00\x00": (CORE_MODULE, 1, None),  # WebAssembly 1.0 and later core modules
    b"\x0d\x00\x01\x00": (COMPONENT, 0x1000D, 1),  # component-model preamble: version 0x0d, layer 1
    b"\x0e\x00\x01\x00": (UNKNOWN_VERSION, 0x1000E, 1),  # a component version we do not know
    b"\x02\x00\x00\x00": (UNKNOWN_VERSION, 2, None),
    b"\x00\x00\x00\x00": (UNKNOWN_VERSION, 0, None),
    b"\x00\x00\x00\x01": (UNKNOWN_VERSION, 0x1000000, 0x100),
    b"\xff\xff\xff\xff": (UNKNOWN_VERSION, 0xFFFFFFFF, 0xFFFF),  # file: signed -1, prints no version
    b"\x00\x00\x00\x80": (UNKNOWN_VERSION, 0x80000000, 0x8000),
    b"\xff\xff\xff\x7f": (UNKNOWN_VERSION, 0x7FFFFFFF, 0x7FFF),
}


@pytest.mark.parametrize("version_bytes", list(HEADERS), ids=lambda b: b.hex())
def test_classify_header_kinds_versions_layers(version_bytes):
    kind, version, layer = HEADERS[version_bytes]
    header = classify_header(b"\x00asm" + version_bytes)
    assert (header.kind, header.header_version, header.layer) == (kind, version, layer)


def test_not_wasm_and_short_headers():
    assert classify_header(b"").kind == NOT_WASM
    assert classify_header(b"\x7fELF\x02\x01\x01\x00").kind == NOT_WASM
    assert classify_header(b"asm\x00\x0d\x00\x01\x00").kind == NOT_WASM  # magic shifted by one byte
    short = classify_header(b"\x00asm\x01\x00")  # magic present, version cut
    assert (short.kind, short.header_version, short.layer) == (UNKNOWN_VERSION, None, None)


def test_unknown_version_is_a_result_not_an_exception():
    info = inspect_bytes(b"\x00asm\x02\x00\x00\x00", path="x.wasm")
    assert info.kind == UNKNOWN_VERSION and info.header_version == 2
    assert info.well_formed is False
    assert "unknown binary version 0x2" in info.error and "offset 0x4" in info.error


def test_not_wasm_is_a_result_not_an_exception():
    info = inspect_bytes(b"#!/bin/sh\necho hi\n")
    assert info.kind == NOT_WASM and info.well_formed is False and info.header_version is None
    assert "magic header not detected" in info.error


def _file_b(paths: list[Path]) -> list[str]:
    proc = subprocess.run([FILE, "-b", *map(str, paths)], capture_output=True, text=True, check=True)
    return proc.stdout.splitlines()


@needs_file
def test_description_matches_file_for_crafted_headers(tmp_path):
    cases = [b"", b"\x00", b"\x00asm", b"\x00asm\x01", b"\x00asm\x01\x00\x00"]
    cases += [b"\x00asm" + v for v in HEADERS]
    cases += [b"\x00asm" + v + b"\x00" * 40 for v in HEADERS]  # longer files: same wording
    paths = []
    for i, data in enumerate(cases):
        path = tmp_path / f"case{i}.wasm"
        path.write_bytes(data)
        paths.append(path)
    for data, path, expected in zip(cases, paths, _file_b(paths), strict=True):
        assert file_description(data[:8]) == expected, (data, path)
        assert classify_header(data[:8]).description == expected


@needs_file
def test_description_matches_file_for_a_spread_of_spec_cases():
    """Every 7th spec case that starts with the wasm magic (the cases `description` guarantees)."""
    with (SPEC / "index.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    paths = [SPEC / r["file"] for r in rows[::7]]
    paths = [p for p in paths if p.read_bytes()[:4] == b"\x00asm"]
    assert len(paths) > 200
    for path, expected in zip(paths, _file_b(paths), strict=True):
        assert file_description(path.read_bytes()[:8]) == expected, path


def test_description_is_none_where_file_is_not_imitated():
    assert file_description(b"hello world") is None
    assert file_description(b"") == "empty"
    assert file_description(b"x") == "very short file (no magic)"
