"""The optional C accelerator (``_speedups.c``) and the regex runs of globals against the pure-Python reader.

The pure-Python reader is the reference. Every test here inspects the same bytes twice, once with
the fast paths and once without, and requires the same result: the same ``to_dict()`` for a
well-formed file, the same error (reason, offset, category) for a malformed one. Inputs: the 1,832
spec cases, the sample modules, the fuzz corpus, and hypothesis-built export, data and global
sections full of the edge cases each fast path must hand back (non-ASCII and invalid UTF-8 names,
over-long and 5-byte LEB128s, unknown kinds, names above the string limit, truncation).
"""

from __future__ import annotations

import gc
import mmap
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from repo_scripts import load_script

from macwasm.limits import WASM_MAX_STRING_SIZE
from macwasm.wasm import WasmFormatError, core, inspect_bytes
from macwasm.wasm.model import Export

REPO = Path(__file__).resolve().parents[1]
B = load_script("build_sample_modules")
HEAD = b"\x00asm\x01\x00\x00\x00"
NEVER = re.compile(rb"(?!)")  # a globals-run pattern that never matches: every global one by one

speedups = core._speedups


@contextmanager
def reference_reader() -> Iterator[None]:
    """The pure-Python reader: no C accelerator, no regex runs of globals."""
    saved = core._speedups, core._USUAL_GLOBALS
    core._speedups, core._USUAL_GLOBALS = None, NEVER
    try:
        yield
    finally:
        core._speedups, core._USUAL_GLOBALS = saved


def outcome(data: bytes) -> tuple:
    try:
        info = inspect_bytes(data)
    except WasmFormatError as err:
        return ("error", err.reason, err.offset, err.category)
    return ("ok", info.to_dict())


def assert_same(data: bytes) -> tuple:
    fast = outcome(data)
    with reference_reader():
        reference = outcome(data)
    assert fast == reference
    return fast


# ------------------------------------------------------------------------------- the build itself


def test_the_accelerator_is_built_where_a_compiler_exists():
    """``optional=True`` hides a failed build; this makes it visible, so benchmarks measure what they say."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler on this machine: macwasm runs the pure-Python reader")
    assert speedups is not None, "lib/macwasm/wasm/_speedups.c was not built by `pip install -e .`"


def test_the_environment_variable_turns_it_off():
    code = "from macwasm.wasm import core; print(core._speedups is None)"
    env = {**os.environ, core.NO_SPEEDUPS_ENV: "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


needs_speedups = pytest.mark.skipif(speedups is None, reason="the C accelerator is not built here")


# ------------------------------------------------------------------------------- whole corpora


def _corpus() -> list[Path]:
    files = sorted((REPO / "tests" / "spec-binary").rglob("*.wasm"))
    files += sorted((REPO / "data" / "modules").glob("*.wasm"))
    files += sorted((REPO / "tests" / "fuzz" / "corpus" / "wasm").iterdir())
    return files


def test_every_corpus_file_gives_the_same_result_both_ways():
    files = _corpus()
    assert len(files) > 1_800
    kinds = {"ok": 0, "error": 0}
    for path in files:
        kinds[assert_same(path.read_bytes())[0]] += 1
    assert kinds["ok"] > 1_000 and kinds["error"] > 400  # both outcomes are exercised


# ------------------------------------------------------------------------------------- exports


def _export_entry(name: bytes, kind: int, index: bytes) -> bytes:
    return B.uleb(len(name)) + name + bytes([kind]) + index


def _module_with_exports(entries: list[bytes], count: int | None = None, tail: bytes = b"") -> bytes:
    payload = B.uleb(len(entries) if count is None else count) + b"".join(entries) + tail
    return HEAD + B.section(7, payload)


names = st.one_of(
    st.text(max_size=40).map(lambda t: t.encode("utf-8")),  # any Unicode, non-ASCII included
    st.binary(max_size=12),  # often invalid UTF-8
    st.sampled_from([b"", b"a" * 127, b"b" * 128, b"c" * 16_383, b"d" * 16_384]),  # LEB128 length edges
)
indices = st.one_of(
    st.integers(0, 2**32 - 1).map(B.uleb),
    st.sampled_from([b"\x80\x00", b"\x80\x80\x80\x80\x00", b"\xff\xff\xff\xff\x0f",  # over-long, max u32
                     b"\xff\xff\xff\xff\x1f", b"\x80\x80\x80\x80\x80\x00", b"\x80"]),  # too large, too long, cut
)
kinds = st.one_of(st.integers(0, 4), st.integers(5, 255))


@needs_speedups
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(names, kinds, indices), max_size=8), st.integers(-2, 2), st.binary(max_size=3))
def test_random_export_sections(entries, count_delta, tail):
    built = [_export_entry(n, k, i) for n, k, i in entries]
    assert_same(_module_with_exports(built, max(0, len(built) + count_delta), tail))


@needs_speedups
@given(st.binary(min_size=1, max_size=64), st.data())
@settings(max_examples=200, deadline=None)
def test_truncated_export_sections(body, data):
    whole = _module_with_exports([_export_entry(b"name", 0, b"\x01"), body])
    cut = data.draw(st.integers(len(HEAD), len(whole)))
    assert_same(whole[:cut])


def test_a_name_above_the_string_limit_is_the_exact_reader_s_limit_error():
    long_name = b"x" * (WASM_MAX_STRING_SIZE + 1)
    result = assert_same(_module_with_exports([_export_entry(long_name, 0, b"\x00")]))
    assert result[0] == "error" and result[3] == "limit"


def test_invalid_utf8_is_reported_at_its_byte_by_both():
    entries = [_export_entry(b"ok", 0, b"\x00"), _export_entry(b"ab\xffcd", 0, b"\x01")]
    result = assert_same(_module_with_exports(entries))
    # HEAD 8, section id and size 2, count 1, "ok" entry 5, length byte 1, "ab" 2: the 0xff is at 19
    assert result[:3] == ("error", "malformed UTF-8 encoding in export name", 19)


@needs_speedups
def test_exports_are_untracked_by_the_garbage_collector_and_still_equal():
    entries = [_export_entry(f"f{i}".encode(), i % 5, B.uleb(i)) for i in range(1_000)]
    info = inspect_bytes(_module_with_exports(entries))
    assert not any(gc.is_tracked(e) for e in info.exports)
    kinds_by_byte = ("func", "table", "memory", "global", "tag")
    assert info.exports == [Export(f"f{i}", kinds_by_byte[i % 5]) for i in range(1_000)]
    assert all(type(e) is Export for e in info.exports)


# ------------------------------------------------------------------------------- data segments


def _active(offset: bytes, body: bytes) -> bytes:
    return b"\x00\x41" + offset + b"\x0b" + B.uleb(len(body)) + body


def _passive(body: bytes) -> bytes:
    return b"\x01" + B.uleb(len(body)) + body


def _with_memory_index(body: bytes) -> bytes:
    return b"\x02\x00\x41\x00\x0b" + B.uleb(len(body)) + body


segments = st.one_of(
    st.tuples(st.sampled_from([b"\x00", b"\x7f", b"\x80\x01", b"\xff\xff\xff\x03", b"\x80\x80\x80\x80\x00",
                               b"\xff\xff\xff\xff\x07"]), st.binary(max_size=20)).map(lambda t: _active(*t)),
    st.binary(max_size=20).map(_passive),
    st.binary(max_size=20).map(_with_memory_index),
    st.binary(min_size=1, max_size=6),  # garbage
)


@needs_speedups
@settings(max_examples=300, deadline=None)
@given(st.lists(segments, max_size=8), st.integers(-2, 2), st.booleans())
def test_random_data_sections(segs, count_delta, with_datacount):
    memory = B.section(5, B.vec([b"\x00\x01"]))
    count = max(0, len(segs) + count_delta)
    datacount = B.section(12, B.uleb(count)) if with_datacount else b""
    assert_same(HEAD + memory + datacount + B.section(11, B.uleb(count) + b"".join(segs)))


# a local declaration's type: numeric (v128 among them), the one-byte reference types the C walk
# takes, reference types with a heap type and a bad byte (both for the exact reader)
local_types = st.sampled_from([b"\x7f", b"\x7e", b"\x7d", b"\x7c", b"\x7b", b"\x70", b"\x6f", b"\x63\x70",
                               b"\x64\x00", b"\x40"])
bodies = st.one_of(
    st.tuples(st.lists(st.tuples(st.integers(0, 300), local_types), max_size=4), st.binary(max_size=6)).map(
        lambda t: (lambda content: B.uleb(len(content)) + content)(
            B.uleb(len(t[0])) + b"".join(B.uleb(n) + ty for n, ty in t[0]) + t[1] + b"\x0b")),
    st.binary(min_size=1, max_size=6),  # garbage: a size past the end, truncated declarations
)


@needs_speedups
@settings(max_examples=300, deadline=None)
@given(st.lists(bodies, max_size=8), st.integers(-1, 1), st.booleans())
def test_random_code_sections(funcs, count_delta, v128_param):
    """The C walk of body locals (SIMD or not) agrees with the exact reader, errors and offsets included."""
    types = B.section(1, B.vec([b"\x60" + (b"\x01\x7b" if v128_param else b"\x00") + b"\x00"]))
    count = max(0, len(funcs) + count_delta)
    functions = B.section(3, B.vec([b"\x00"] * count))
    result = assert_same(HEAD + types + functions + B.section(10, B.uleb(count) + b"".join(funcs)))
    if result[0] == "ok" and v128_param:
        assert "simd" in result[1]["traits"]


@needs_speedups
@pytest.mark.parametrize(("pos", "end", "count"), [(-1, 5, 1), (6, 5, 1), (0, 10**9, 1), (0, 5, -1), (0, 0, 3)])
def test_body_locals_walk_refuses_impossible_ranges(pos, end, count):
    assert speedups.scan_body_locals(b"\x02\x00\x0b\x00", pos, end, count)[1] == 0


@needs_speedups
@pytest.mark.parametrize(("pos", "end", "count"), [(-1, 5, 1), (6, 5, 1), (0, 10**9, 1), (0, 5, -1), (0, 0, 3)])
def test_data_segment_skipper_refuses_impossible_ranges(pos, end, count):
    assert speedups.skip_data_segments(b"\x01\x00\x01\x00\x00", pos, end, count)[1] == 0


@needs_speedups
@pytest.mark.parametrize(("pos", "end", "count"), [(-1, 5, 1), (6, 5, 1), (0, 10**9, 1), (0, 5, -1), (0, 5, 6)])
def test_export_reader_refuses_impossible_ranges(pos, end, count):
    got = speedups.read_exports(b"\x01a\x00\x00\x00", pos, end, count, 100, Export, ("func",))
    assert got is None


@needs_speedups
def test_the_c_functions_read_a_read_only_mmap(tmp_path):
    data = _module_with_exports([_export_entry(b"run", 0, b"\x00")])
    path = tmp_path / "m.wasm"
    path.write_bytes(data)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        got = speedups.read_exports(mm, 11, len(data), 1, 100, Export, ("func",))
    assert got == ([Export("run", "func")], len(data), 1)  # kinds: bit 0 (func)
    assert path.read_bytes() == data


@needs_speedups
def test_wrong_argument_types_are_type_errors():
    with pytest.raises(TypeError):
        speedups.read_exports(b"", 0, 0, 0, 10, dict, ("func",))

    class WithDict(tuple):  # instances carry a __dict__: the garbage collector must keep seeing them
        pass

    with pytest.raises(TypeError, match="without __dict__"):
        speedups.read_exports(b"", 0, 0, 0, 10, WithDict, ("func",))
    with pytest.raises(TypeError):
        speedups.read_exports(b"", 0, 0, 0, 10, Export, (1,))
    with pytest.raises(TypeError):
        speedups.skip_data_segments("text", 0, 0, 0)
    with pytest.raises(ValueError, match="at most 32 kind names"):  # the kinds bit set has 32 bits
        speedups.read_exports(b"\x01a\x46\x00", 0, 4, 1, 10, Export, ("k",) * 100)


# ------------------------------------------------------------------------------------- globals


usual_globals = st.tuples(st.integers(0x7B, 0x7F), st.integers(0, 1), st.sampled_from([0x41, 0x42]),
                          st.integers(0, 2**20)).map(lambda t: bytes(t[:3]) + B.uleb(t[3]) + b"\x0b")
other_globals = st.sampled_from([
    b"\x7f\x00\x23\x00\x0b",  # global.get
    b"\x7c\x00\x44" + b"\x00" * 8 + b"\x0b",  # f64.const
    b"\x7f\x00\x41\x80\x80\x80\x80\x00\x0b",  # a 5-byte (over-long) s32
    b"\x7f\x02\x41\x00\x0b",  # bad mutability
    b"\x7f\x00\x41\x00\x00",  # no end
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.one_of(usual_globals, other_globals), min_size=250, max_size=700), st.integers(-1, 1))
def test_runs_of_globals(globals_, count_delta):
    """Runs of 256 usual globals are skipped by one regex match; mixed and malformed runs must agree too."""
    count = max(0, len(globals_) + count_delta)
    assert_same(HEAD + B.section(6, B.uleb(count) + b"".join(globals_)))


def test_a_run_broken_by_one_bad_global_reports_its_offset():
    good = b"\x7f\x01\x41\x00\x0b"
    globals_ = [good] * 300 + [b"\x7f\x02\x41\x00\x0b"] + [good] * 300
    payload = B.uleb(len(globals_)) + b"".join(globals_)
    result = assert_same(HEAD + B.section(6, payload))
    section_body = len(HEAD) + 1 + len(B.uleb(len(payload)))
    assert result[0] == "error" and result[2] == section_body + 2 + 300 * 5 + 1  # the mutability byte


# ------------------------------------------------------------------------------- u32 vectors


u32s = st.one_of(st.integers(0, 2**28 - 1).map(B.uleb),
                 st.sampled_from([b"\x80\x80\x80\x80\x00", b"\xff\xff\xff\xff\x0f", b"\xff\xff\xff\xff\x1f",
                                  b"\x80\x80\x80\x80\x80\x00", b"\x80"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(u32s, max_size=20), st.integers(-2, 2), st.binary(max_size=4))
def test_u32_vectors_skipped_by_bisection_match_one_by_one_decoding(items, count_delta, tail):
    """``_skip_u32s`` (continuation marks and bisection) against the exact reader, on its own."""
    from macwasm.wasm.reader import Reader

    data = b"".join(items) + tail
    n = max(0, len(items) + count_delta)

    def run(skip) -> tuple:
        r = Reader(data, 0, len(data))
        try:
            skip(r)
        except WasmFormatError as err:
            return ("error", err.reason, err.offset)
        return ("ok", r.pos)

    def exact(r) -> None:
        for _ in range(n):
            r.u32("element function index")

    assert run(lambda r: core._skip_u32s(r, n, "element function index")) == run(exact)
