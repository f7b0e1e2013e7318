"""Components: the preamble, repeating sections, nested core modules and components, imports and exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_scripts import load_script

from macwasm.errors import LIMIT
from macwasm.limits import WASM_MAX_COMPONENT_NESTING
from macwasm.wasm import WasmFormatError, inspect_bytes

REPO = Path(__file__).resolve().parents[1]


def _load_builders():
    return load_script("build_sample_modules")


B = _load_builders()

PREAMBLE = b"\x00asm\x0d\x00\x01\x00"  # magic, version 0x0d, layer 1
CORE = b"\x00asm\x01\x00\x00\x00"


def component(*sections: bytes) -> bytes:
    return PREAMBLE + b"".join(sections)


def test_empty_component():
    info = inspect_bytes(component())
    assert (info.kind, info.header_version, info.layer) == ("component", 0x1000D, 1)
    assert info.description == "WebAssembly (wasm) binary module version 0x1000d"
    assert info.well_formed and info.traits == ["component"]


def test_sections_repeat_and_interleave():
    instance_type = B.section(7, B.vec([b"\x42\x00"]))  # (type (instance))
    imp = B.section(10, B.vec([b"\x00" + B.name("wasi:io/streams@0.2.0") + b"\x05\x00"]))  # (instance (type 0))
    info = inspect_bytes(component(instance_type, imp, instance_type, imp.replace(b"streams", b"poll\x00\x00\x00")))
    assert [s.id for s in info.sections] == [7, 10, 7, 10]
    assert [i.name for i in info.imports] == ["wasi:io/streams@0.2.0", "wasi:io/poll\x00\x00\x00@0.2.0"]
    assert info.imports[0].module is None and info.imports[0].kind == "instance"
    assert info.traits == ["component", "wasi", "wasi-p2"]


def test_nested_core_module_is_walked_and_its_traits_count():
    shared_memory = CORE + B.section(5, B.vec([b"\x03\x01\x02"]))  # memory 1 2 shared
    info = inspect_bytes(component(B.section(1, shared_memory)))
    assert info.nested_modules == 1
    assert info.memories[0].shared and info.memories[0].module == "core module #0"
    assert info.traits == ["component", "threads"]


def test_error_in_a_nested_module_has_an_absolute_offset():
    bad_inner = CORE + b"\x0e\x00"  # section id 14 does not exist; inner section id at 10 + 8 = 18
    with pytest.raises(WasmFormatError) as excinfo:
        inspect_bytes(component(B.section(1, bad_inner)))
    assert excinfo.value.offset == 18 and "malformed section id" in excinfo.value.reason


def test_nested_module_needs_a_module_header_and_nested_component_a_preamble():
    with pytest.raises(WasmFormatError, match="version header for a module"):
        inspect_bytes(component(B.section(1, PREAMBLE)))
    with pytest.raises(WasmFormatError, match="version header for a component"):
        inspect_bytes(component(B.section(4, CORE)))
    with pytest.raises(WasmFormatError, match="unknown binary version"):
        inspect_bytes(component(B.section(4, b"\x00asm\x0c\x00\x01\x00")))


def test_nesting_cap_is_a_limit_error():
    inner = PREAMBLE
    for _ in range(WASM_MAX_COMPONENT_NESTING + 1):
        inner = PREAMBLE + B.section(4, inner)
    with pytest.raises(WasmFormatError) as excinfo:
        inspect_bytes(inner)
    assert excinfo.value.category == LIMIT


def test_exports_with_sorts_and_optional_type():
    exports = B.section(11, B.vec([
        b"\x00" + B.name("run") + b"\x01\x00\x00",  # func 0, no type ascription
        b"\x00" + B.name("inner") + b"\x00\x11\x00\x00",  # core module 0
        b"\x00" + B.name("typed") + b"\x01\x01\x01\x01\x02",  # func 1, ascribed (func (type 2))
    ]))
    info = inspect_bytes(component(exports))
    assert [(e.name, e.kind) for e in info.exports] == [("run", "func"), ("inner", "core module"), ("typed", "func")]


def test_import_name_with_options_form():
    imp = b"\x02" + B.name("a") + B.vec([b"\x00" + B.name("a:b/x")]) + b"\x01\x00"  # implements option
    info = inspect_bytes(component(B.section(10, B.vec([imp]))))
    assert info.imports[0].name == "a" and info.imports[0].kind == "func"


@pytest.mark.parametrize(("payload", "fragment"), [
    (b"\x01\x03\x01a\x01\x00", "for component name"),  # name form 3 does not exist
    (b"\x01\x00\x01a\x09\x00", "component external kind"),  # extern kind 9 does not exist
    (b"\x01\x00\x01a\x03\x02", "type bound"),  # type bound 2 does not exist
])
def test_malformed_imports(payload, fragment):
    with pytest.raises(WasmFormatError, match=fragment):
        inspect_bytes(component(B.section(10, payload)))


def test_section_id_13_is_not_a_component_section():
    with pytest.raises(WasmFormatError, match="malformed section id 13"):
        inspect_bytes(component(B.section(13, b"")))
