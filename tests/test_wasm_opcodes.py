"""The instruction scan (``macwasm.wasm.opcodes``) and its C twin: which exception-handling instructions a
module uses, read by decoding every instruction, and the trait and verdict that follow.

The reference is the Python decoder; the C one must give the same answer on the same bytes (random
bodies included). Real modules: Pyodide and duckdb-wasm's "eh" build use the legacy instructions,
which wasmtime refuses (its legacy switch is a hidden test-suite option).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from repo_scripts import load_script

from macwasm.policy import check
from macwasm.wasm import core, inspect_bytes
from macwasm.wasm.opcodes import ATOMICS, CURRENT_EH, LEGACY_EH, SIMD_OPS, scan_instructions

REPO = Path(__file__).resolve().parents[1]
FETCH = load_script("fetch_real_modules")
speedups = core._speedups
needs_speedups = pytest.mark.skipif(speedups is None, reason="the C accelerator is not built")


def wat(text: str) -> bytes:
    return bytes(wasmtime.wat2wasm(text))


def _leb(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, pos


def code_of(data: bytes) -> tuple[int, int, int]:
    """(first body, end, count) of a module's code section."""
    pos = 8
    while pos < len(data):
        sid = data[pos]
        size, pos = _leb(data, pos + 1)
        if sid == 10:
            count, first = _leb(data, pos)
            return first, pos + size, count
        pos += size
    raise AssertionError("no code section")


def bits_of(data: bytes) -> int | None:
    first, end, count = code_of(data)
    python = scan_instructions(data, first, end, count)
    if speedups is not None:
        assert speedups.scan_instructions(data, first, end, count) == python
    return python


CASES = {
    "legacy try/catch": ("(module (tag $e) (func try nop catch $e end))", LEGACY_EH),
    "legacy delegate": ("(module (tag $e) (func try try nop delegate 0 catch_all end))", LEGACY_EH),
    "try_table": ("(module (tag $e) (func (block $h (try_table (catch_all $h) (throw $e)))))", CURRENT_EH),
    "atomics": ("(module (memory 1 1 shared) (func (drop (i32.atomic.load (i32.const 0)))))", ATOMICS),
    "simd": ("(module (func (result v128) (i32x4.add (v128.const i32x4 1 2 3 4) (v128.const i32x4 0 0 0 0))))",
             SIMD_OPS),
    "gc br_on_cast": ("(module (type $t (struct)) (func (param anyref) (drop (block (result anyref) "
                      "(br_on_cast 0 anyref (ref $t) (local.get 0))))))", 0),
    "memory and calls": ("(module (memory 1) (table 1 funcref) (type $v (func)) (func $f (param i32) "
                         "(block (br_table 0 0 (local.get 0))) (i64.store offset=8 (i32.const 0) (i64.const -1)) "
                         "(call_indirect (type $v) (i32.const 0)) (memory.fill (i32.const 0) (i32.const 0) "
                         "(i32.const 0)) (drop (f64.const 1.5))))", 0),
}


@pytest.mark.parametrize("name", CASES)
def test_the_instruction_families_of_known_bodies(name: str) -> None:
    text, expected = CASES[name]
    assert bits_of(wat(text)) == expected


def test_an_unknown_opcode_or_a_cut_body_is_not_known_never_an_error() -> None:
    data = wat("(module (func nop))")
    first, end, count = code_of(data)
    body = bytes([3, 0, 0xE7, 0x0B])  # 0xE7: an opcode no proposal here defines
    assert scan_instructions(body, 0, len(body), 1) is None
    assert scan_instructions(data, first, end - 1, count) is None  # the last body runs past the end
    if speedups is not None:
        assert speedups.scan_instructions(body, 0, len(body), 1) is None


@needs_speedups
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(min_size=0, max_size=24), max_size=6), st.integers(0, 3))
def test_random_bodies_give_the_same_answer_in_c_and_python(bodies: list[bytes], stop: int) -> None:
    section = b"".join(bytes([len(b)]) + b for b in bodies)
    assert speedups.scan_instructions(section, 0, len(section), len(bodies), stop) == \
        scan_instructions(section, 0, len(section), len(bodies), stop)


def test_a_legacy_module_gets_its_own_trait_and_wasmtime_refuses_it() -> None:
    legacy = wat("(module (tag $e) (func (export \"f\") try nop catch $e end))")
    current = wat("(module (tag $e) (func (export \"f\") (block $h (try_table (catch_all $h) (throw $e)))))")
    assert "legacy-exceptions" in inspect_bytes(legacy).traits and "exceptions" not in inspect_bytes(legacy).traits
    assert "exceptions" in inspect_bytes(current).traits and "legacy-exceptions" not in inspect_bytes(current).traits
    with_tag_only = wat("(module (tag $e) (func (throw $e)))")  # throw is in both proposals
    assert "exceptions" in inspect_bytes(with_tag_only).traits


@pytest.fixture(scope="session")
def real_modules() -> dict[str, Path]:
    """The pinned real modules (scripts/fetch_real_modules.py; fetched once, kept in .cache/)."""
    return FETCH.fetch(FETCH.MANIFEST, FETCH.DEFAULT_DEST)


@pytest.mark.network
@pytest.mark.parametrize("name", ["pyodide", "duckdb-eh"])
def test_real_legacy_exception_modules(name: str, real_modules: dict[str, Path]) -> None:
    path = real_modules[name]
    assert "legacy-exceptions" in inspect_bytes(path.read_bytes()).traits
    keys = {"com.apple.security.cs.allow-unsigned-executable-memory": True}
    [wasmtime_app] = check(entitlements=keys, product_type="app", runtime="wasmtime", modules=[str(path)])
    assert any(f.rule_id == "MW146" and "legacy-exceptions" in f.message for f in wasmtime_app.findings)
    [v8_app] = check(entitlements={"com.apple.security.cs.allow-jit": True}, product_type="app", runtime="electron",
                     modules=[str(path)])
    assert not any(f.rule_id == "MW146" for f in v8_app.findings)


def test_atomics_on_an_unshared_memory_need_the_threads_proposal() -> None:
    """Single-thread ffmpeg-core uses atomic instructions on a memory that is not shared: it validates only
    with the threads proposal. Looked for where target_features says +atomics (composed components carry
    the feature without the instructions)."""
    samples = load_script("build_sample_modules")
    atomics = wat("(module (memory 1) (func (drop (i32.atomic.load (i32.const 0)))))")
    plain = wat("(module (memory 1) (func (drop (i32.load (i32.const 0)))))")
    features = samples.target_features_section(["+atomics", "+bulk-memory"])
    assert "threads" in inspect_bytes(atomics + features).traits
    assert "threads" not in inspect_bytes(plain + features).traits
    assert "threads" not in inspect_bytes(atomics).traits  # no target_features: the bodies are not read
