"""Unit tests of the core-module walk on byte-built inputs: one rule of the binary format per test.

The builders come from ``scripts/build_sample_modules.py`` (one place that knows how to write LEB128,
names, vectors and sections). Offsets asserted are absolute file offsets, counted in comments.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_scripts import load_script

from macwasm.errors import LIMIT
from macwasm.limits import WASM_MAX_IMPORTS, WASM_MAX_MEMORIES, WASM_MAX_STRING_SIZE
from macwasm.wasm import WasmFormatError, inspect_bytes

REPO = Path(__file__).resolve().parents[1]


def _load_builders():
    return load_script("build_sample_modules")


B = _load_builders()
HEAD = b"\x00asm\x01\x00\x00\x00"  # 8 bytes: the first section id is at offset 8
FUNC_TYPE = B.section(1, B.vec([b"\x60\x00\x00"]))  # one type: (func)


def module(*sections: bytes) -> bytes:
    return HEAD + b"".join(sections)


def raises(data: bytes, fragment: str, offset: int | None = None, category: str = "malformed") -> WasmFormatError:
    with pytest.raises(WasmFormatError) as excinfo:
        inspect_bytes(data)
    err = excinfo.value
    assert fragment in err.reason, err.reason
    if offset is not None:
        assert err.offset == offset, (hex(err.offset), err.reason)
    assert err.category == category
    return err


# ------------------------------------------------------------------------------------- sections


def test_empty_module_is_well_formed():
    info = inspect_bytes(HEAD)
    assert info.kind == "core-module" and info.well_formed and info.sections == [] and info.traits == []


def test_sections_have_id_name_offset_and_size():
    data = module(FUNC_TYPE, B.custom_section("hello", b"xyz"))
    info = inspect_bytes(data)
    assert [(s.id, s.name, s.offset, s.size) for s in info.sections] == [
        (1, "type", 8, 4),  # id at 8, size byte at 9, 4 payload bytes
        (0, "hello", 14, 9),  # 8 + 2 + 4 = 14; payload = name (1 + 5) + 3 bytes
    ]


def test_section_order_tag_between_memory_and_global_datacount_before_code():
    data = module(
        FUNC_TYPE,
        B.section(3, B.vec([b"\x00"])),  # function
        B.section(5, B.vec([b"\x00\x01"])),  # memory min 1
        B.section(13, B.vec([b"\x00\x00"])),  # tag of type 0
        B.section(6, B.vec([b"\x7f\x00\x41\x00\x0b"])),  # global i32 = i32.const 0
        B.section(12, B.uleb(0)),  # data count 0
        B.section(10, B.vec([b"\x02\x00\x0b"])),  # one body: no locals, end
    )
    info = inspect_bytes(data)
    assert [s.name for s in info.sections] == ["type", "function", "memory", "tag", "global", "datacount", "code"]
    assert info.tags == 1 and "exceptions" in info.traits


def test_out_of_order_and_duplicate_sections_are_rejected():
    # tag after global is out of order: global section at 8 (id, size, 6 payload bytes), tag section at 16
    raises(module(B.section(6, B.vec([b"\x7f\x00\x41\x00\x0b"])), B.section(13, B.vec([]))), "out of order", 16)
    raises(module(FUNC_TYPE, FUNC_TYPE), "duplicate", 14)  # second type section at 8 + 6


def test_custom_sections_may_appear_anywhere_and_repeat():
    custom = B.custom_section("c", b"")
    info = inspect_bytes(module(custom, FUNC_TYPE, custom, custom))
    assert [s.id for s in info.sections] == [0, 1, 0, 0]


def test_unknown_section_id():
    raises(module(B.section(14, b"")), "malformed section id 14", 8)


def test_section_size_past_end_of_file():
    raises(HEAD + b"\x01\x10\x00", "length out of bounds", 10)  # claims 16 bytes, 1 left; offset of payload


def test_section_with_bytes_left_over():
    raises(module(B.section(1, B.vec([b"\x60\x00\x00"]) + b"\x00")), "section size mismatch", 14)


def test_custom_section_name_must_be_utf8():
    raises(module(B.section(0, b"\x02\xc3\x28")), "malformed UTF-8", 11)  # bad 2nd byte; name starts at 10


def test_function_and_code_counts_must_agree():
    raises(module(FUNC_TYPE, B.section(3, B.vec([b"\x00"]))), "function and code section have inconsistent")


def test_data_count_must_match_data_section():
    data_seg = b"\x01" + B.uleb(2) + b"hi"  # passive segment, 2 bytes
    raises(module(B.section(12, B.uleb(2)), B.section(11, B.vec([data_seg]))), "data count and data section")
    info = inspect_bytes(module(B.section(12, B.uleb(1)), B.section(11, B.vec([data_seg]))))
    assert [s.name for s in info.sections] == ["datacount", "data"]


# ---------------------------------------------------------------------------------------- LEB128


def test_leb128_five_bytes_is_the_maximum_for_u32():
    # type section whose count is 0 written in 5 bytes: allowed (over-long but within 5 bytes)
    assert inspect_bytes(module(B.section(1, b"\x80\x80\x80\x80\x00"))).types == 0
    # 6 bytes: too long; the 5th byte (offset 10 + 4) still has its continuation bit
    raises(module(B.section(1, b"\x80\x80\x80\x80\x80\x00")), "integer representation too long", 14)


def test_leb128_unused_bits_of_the_fifth_byte_must_be_zero():
    raises(module(B.section(1, b"\x80\x80\x80\x80\x10")), "integer too large", 14)


def test_truncated_leb128():
    raises(HEAD + b"\x01\x80", "unexpected end", 10)


# ---------------------------------------------------------------------------------- imports/exports


def _import(module_name: str, name: str, desc: bytes) -> bytes:
    return B.name(module_name) + B.name(name) + desc


def test_import_kinds_including_gc_reference_types():
    imports = B.section(2, B.vec([
        _import("env", "f", b"\x00\x00"),  # func type 0
        _import("env", "t", b"\x01\x70\x00\x01"),  # table funcref min 1
        _import("env", "m", b"\x02\x03\x01\x02"),  # memory, flags 3 = max + shared: min 1 max 2
        _import("env", "g", b"\x03\x63\x00\x01"),  # global (mut (ref null 0)): GC reference type
        _import("env", "g2", b"\x03\x64\x6e\x00"),  # global (ref any)
        _import("env", "e", b"\x04\x00\x00"),  # tag, attribute 0, type 0
    ]))
    info = inspect_bytes(module(FUNC_TYPE, imports))
    assert [(i.module, i.name, i.kind) for i in info.imports] == [
        ("env", "f", "func"), ("env", "t", "table"), ("env", "m", "memory"), ("env", "g", "global"),
        ("env", "g2", "global"), ("env", "e", "tag")]
    assert info.memories[0].shared and info.memories[0].imported and info.memories[0].max == 2
    assert info.traits == ["exceptions", "threads"]


def test_global_import_descriptor_kind_byte_is_the_type():
    # kind 3 (global) then valtype i32 (0x7f) then mutability 0
    info = inspect_bytes(module(B.section(2, B.vec([_import("env", "g", b"\x03\x7f\x00")]))))
    assert info.imports[0].kind == "global"


def test_malformed_import_kind_and_mutability():
    # count at 10, names at 11-14, kind at 15, value type at 16, mutability at 17
    raises(module(B.section(2, B.vec([_import("a", "b", b"\x05\x00")]))), "malformed import kind", 15)
    raises(module(B.section(2, B.vec([_import("a", "b", b"\x03\x7f\x02")]))), "malformed mutability", 17)


def test_import_names_must_be_utf8_and_fit():
    raises(module(B.section(2, b"\x01\x01\xff\x01a\x00\x00")), "malformed UTF-8", 12)
    raises(module(B.section(2, b"\x01\x09ab")), "length out of bounds")


def test_exports_names_and_kinds():
    exports = B.section(7, B.vec([B.name(n) + bytes([k]) + B.uleb(i) for i, (n, k) in
                                  enumerate([("f", 0), ("t", 1), ("m", 2), ("g", 3), ("e", 4)])]))
    info = inspect_bytes(module(exports))
    assert [(e.name, e.kind) for e in info.exports] == [
        ("f", "func"), ("t", "table"), ("m", "memory"), ("g", "global"), ("e", "tag")]


def test_exports_with_large_indices_and_long_names_take_the_exact_path():
    long_name = "x" * 300  # name length needs 2 LEB bytes: not the fast path
    exports = B.section(7, B.vec([B.name(long_name) + b"\x00" + B.uleb(2**28), B.name("ok") + b"\x00\x05"]))
    info = inspect_bytes(module(exports))
    assert [e.name for e in info.exports] == [long_name, "ok"]


def test_malformed_export_kind():
    raises(module(B.section(7, B.vec([B.name("f") + b"\x05\x00"]))), "malformed export kind", 13)


# ------------------------------------------------------------------------------------- memories


@pytest.mark.parametrize(("flags", "rest", "expected"), [
    (0x00, b"\x01", (1, None, False, False, None)),  # min only
    (0x01, b"\x01\x02", (1, 2, False, False, None)),  # min and max
    (0x03, b"\x01\x02", (1, 2, True, False, None)),  # shared (threads)
    (0x04, b"\x80\x80\x80\x80\x80\x01", (1 << 35, None, False, True, None)),  # memory64: u64 minimum
    (0x05, b"\x01\x02", (1, 2, False, True, None)),  # memory64 with max
    (0x08, b"\x01\x00", (1, None, False, False, 0)),  # custom page size: log2 = 0 (1-byte pages)
])
def test_memory_limits_flags(flags, rest, expected):
    info = inspect_bytes(module(B.section(5, B.vec([bytes([flags]) + rest]))))
    m = info.memories[0]
    assert (m.min, m.max, m.shared, m.memory64, m.page_size_log2) == expected
    assert not m.imported and m.index == 0


def test_memory_limits_flags_out_of_range():
    raises(module(B.section(5, B.vec([b"\x10\x01"]))), "malformed limits flags", 11)


def test_multi_memory_trait():
    info = inspect_bytes(module(B.section(5, B.vec([b"\x00\x01", b"\x00\x02"]))))
    assert [m.index for m in info.memories] == [0, 1] and info.traits == ["multi-memory"]


# ----------------------------------------------------------------------------------------- types


def test_gc_types_rec_sub_struct_array():
    types = B.section(1, B.vec([
        b"\x4e\x02"  # rec group of 2
        b"\x50\x00\x5f\x01\x7f\x01"  # sub (no supertypes) struct (field (mut i32))
        b"\x4f\x01\x00\x5f\x01\x7f\x01",  # sub final of type 0, same struct
        b"\x5e\x78\x01",  # array (mut i8)
        b"\x60\x01\x63\x00\x01\x64\x6c",  # func (param (ref null 0)) (result (ref i31))
    ]))
    info = inspect_bytes(module(types))
    assert info.types == 4 and info.gc_types > 0 and info.traits == ["gc"]


def test_plain_function_types_are_not_gc():
    types = B.section(1, B.vec([b"\x60\x02\x7f\x7e\x01\x7b", b"\x60\x00\x01\x70"]))  # i32 i64 -> v128; -> funcref
    info = inspect_bytes(module(types))
    assert info.gc_types == 0 and info.traits == ["simd"]  # not GC; the v128 result is SIMD


def test_malformed_value_type():
    raises(module(B.section(1, B.vec([b"\x60\x01\x40\x00"]))), "malformed value type 0x40", 13)


# ------------------------------------------------------------------------------- custom sections


def test_name_producers_target_features():
    names = B.custom_section("name", b"\x00" + B.uleb(5) + B.name("calc") + b"\x01" + B.uleb(3) + B.vec([
        b"\x00" + B.name("f")]))
    producers = B.producers_section({"language": [("C", "17")], "processed-by": [("clang", "18.1")]})
    features = B.target_features_section(["+simd128", "-atomics", "=mutable-globals"])
    info = inspect_bytes(module(names, producers, features))
    assert info.module_name == "calc" and info.function_names == 1
    assert {k: [(p.name, p.version) for p in v] for k, v in info.producers.items()} == {
        "language": [("C", "17")], "processed-by": [("clang", "18.1")]}
    assert info.target_features == ["+simd128", "-atomics", "=mutable-globals"]
    # +simd128 says the compiler was allowed SIMD, not that the module uses it (no v128 anywhere here)
    assert info.traits == ["name-section"]


def test_simd_is_a_v128_in_a_function_type_or_a_body_s_locals():
    """Stripped and AssemblyScript modules carry no target_features; their v128 locals still tell."""
    one_func = B.section(1, B.vec([b"\x60\x00\x00"])) + B.section(3, B.vec([b"\x00"]))
    body = B.vec([b"\x02\x7f", b"\x01\x7b"]) + b"\x0b"  # locals: 2 x i32, 1 x v128
    with_local = HEAD + one_func + B.section(10, B.vec([B.uleb(len(body)) + body]))
    assert "simd" in inspect_bytes(with_local).traits
    plain = B.vec([b"\x02\x7f"]) + b"\x0b"
    assert "simd" not in inspect_bytes(HEAD + one_func + B.section(10, B.vec([B.uleb(len(plain)) + plain]))).traits
    param = B.section(1, B.vec([b"\x60\x01\x7b\x00"]))
    assert "simd" in inspect_bytes(HEAD + param).traits
    past = HEAD + one_func + B.section(10, B.vec([b"\x05\x00\x0b"]))
    with pytest.raises(WasmFormatError, match="runs past the code section"):
        inspect_bytes(past)


def test_broken_custom_section_content_is_a_note_not_an_error():
    info = inspect_bytes(module(B.custom_section("producers", b"\x05\x01")))
    assert info.well_formed and info.producers == {}
    assert info.custom_notes and "producers" in info.custom_notes[0]


# -------------------------------------------------------------------------------- WASI, start


def test_wasi_traits():
    preview1 = inspect_bytes(module(FUNC_TYPE, B.section(2, B.vec([
        _import("wasi_snapshot_preview1", "fd_write", b"\x00\x00")]))))
    assert preview1.traits == ["wasi", "wasi-preview1"]
    unstable = inspect_bytes(module(FUNC_TYPE, B.section(2, B.vec([_import("wasi_unstable", "x", b"\x00\x00")]))))
    assert unstable.traits == ["wasi", "wasi-unstable"]
    env = inspect_bytes(module(FUNC_TYPE, B.section(2, B.vec([_import("env", "wasi_like", b"\x00\x00")]))))
    assert env.traits == []


def test_start_function_trait():
    data = module(FUNC_TYPE, B.section(3, B.vec([b"\x00"])), B.section(8, B.uleb(0)),
                  B.section(10, B.vec([b"\x02\x00\x0b"])))
    info = inspect_bytes(data)
    assert info.start_function == 0 and info.traits == ["start-function"]


# ---------------------------------------------------------------------------- constant expressions


def test_constant_expressions_of_extended_const_and_gc():
    glob = (b"\x7f\x00\x41\x01\x41\x02\x6a\x0b"  # i32 = (i32.add (i32.const 1) (i32.const 2))
            b"\x64\x6c\x00\x41\x05\xfb\x1c\x0b")  # (ref i31) = (ref.i31 (i32.const 5))
    info = inspect_bytes(module(B.section(6, B.uleb(2) + glob)))
    assert info.globals_defined == 2


def test_unknown_instruction_in_a_constant_expression():
    raises(module(B.section(6, B.vec([b"\x7f\x00\x01\x0b"]))), "illegal opcode 0x01", 13)  # count 10, type 11, mut 12


# ------------------------------------------------------------------------------------------ limits


def test_import_count_above_the_cap_is_a_limit_error_before_allocating():
    err = raises(module(B.section(2, B.uleb(WASM_MAX_IMPORTS + 1))), "exceeds the limit", 10, category=LIMIT)
    assert err.info.caps_hit == [] and err.info.kind == "core-module"


def test_huge_count_with_few_bytes_fails_fast():
    raises(module(B.section(7, B.uleb(900_000))), "does not fit")


def test_too_many_memories_is_a_limit():
    raises(module(B.section(5, B.uleb(WASM_MAX_MEMORIES + 1) + b"\x00\x01" * 101)), "memory count", category=LIMIT)


def test_name_longer_than_the_string_cap_is_a_limit():
    raises(module(B.section(0, B.uleb(WASM_MAX_STRING_SIZE + 1))), "above the limit", 10, category=LIMIT)


def test_partial_result_is_attached_to_the_error():
    data = module(FUNC_TYPE, B.section(7, B.vec([B.name("f") + b"\x09\x00"])))
    err = raises(data, "malformed export kind")
    assert err.info.well_formed is False and [s.name for s in err.info.sections] == ["type", "export"]
    assert err.info.error.startswith("at offset 0x")


def test_every_section_id_has_a_name_a_rank_and_a_reader() -> None:
    from macwasm.wasm import component, core

    assert set(core.SECTION_NAMES) - {core.SEC_CUSTOM} == set(core.SECTION_RANK) == set(core.SECTION_READERS)
    assert sorted(core.SECTION_RANK.values()) == list(range(1, len(core.SECTION_RANK) + 1))
    assert set(component.SECTION_READERS) <= set(component.SECTION_NAMES)


def test_a_target_features_section_without_simd128_spares_the_body_walk():
    """By the tool conventions a listed '+' feature is one the module uses: no +simd128, no SIMD to look for.
    A v128 in a function type is still read (the type section is read whole anyway)."""
    one_func = B.section(1, B.vec([b"\x60\x00\x00"])) + B.section(3, B.vec([b"\x00"]))
    body = B.vec([b"\x01\x7b"]) + b"\x0b"
    code = B.section(10, B.vec([B.uleb(len(body)) + body]))
    no_simd = B.target_features_section(["+mutable-globals"])
    with_simd = B.target_features_section(["+simd128"])
    assert "simd" in inspect_bytes(HEAD + one_func + code + with_simd).traits
    assert "simd" not in inspect_bytes(HEAD + one_func + code + no_simd).traits
    param = B.section(1, B.vec([b"\x60\x01\x7b\x00"]))
    assert "simd" in inspect_bytes(HEAD + param + no_simd).traits
