"""Inspect one wasm file: header, structure, interface, traits; optionally a real engine's verdict.

The contract with callers: a well-formed core module or component gives a complete ``WasmInfo``;
a file that is not wasm or has a version we do not know gives a ``WasmInfo`` with
``well_formed=False`` and an ``error`` (it is a finding about the file, not a failure to read it);
anything malformed raises ``WasmFormatError`` with the absolute offset of the bad byte, and a
count or size above a cap in ``macwasm.limits`` raises it with ``category="limit"``. The raised
error carries the partial result as ``err.info`` (header, sections seen so far) so that a batch
can still show what kind of file it was.
"""

from __future__ import annotations

import os

from macwasm.errors import MALFORMED, WasmFormatError
from macwasm.inputs import open_readonly
from macwasm.limits import WASM_MAX_FILE_SIZE
from macwasm.wasm.component import walk_component
from macwasm.wasm.core import CoreFacts, walk_core
from macwasm.wasm.header import classify_header
from macwasm.wasm.model import COMPONENT, CORE_MODULE, NOT_WASM, Validation, WasmInfo
from macwasm.wasm.reader import Data
from macwasm.wasm.traits import derive_traits


def inspect_bytes(data: Data, *, path: str | None = None) -> WasmInfo:
    """Inspect a whole module held in memory (``bytes`` or a read-only ``mmap``)."""
    size = len(data)
    header = classify_header(bytes(data[:8]))
    info = WasmInfo(path, header.kind, header.header_version, header.layer, header.description, size)
    if header.kind not in (CORE_MODULE, COMPONENT):
        info.well_formed = False
        info.error_category = MALFORMED
        info.error_offset = 0 if header.kind == NOT_WASM else 4
        if header.kind == NOT_WASM:
            info.error = "not a WebAssembly file: magic header not detected (expected 00 61 73 6d)"
        elif header.header_version is None:
            info.error = f"unexpected end: the file is {size} bytes, the version after the wasm magic is missing"
        else:
            info.error = (f"unknown binary version 0x{header.header_version:x} (a core module has 0x1, a "
                          "component 0x1000d)")
        info.error = f"at offset 0x{info.error_offset:x}: {info.error}"
        return info
    modules: list[CoreFacts] = []
    try:
        if header.kind == CORE_MODULE:
            facts = CoreFacts(None, sections=info.sections, imports=info.imports, exports=info.exports,
                              memories=info.memories)
            modules.append(facts)
            walk_core(data, 0, size, info, None, facts)
            info.tables = facts.tables
            info.tags = facts.tags
            info.types = facts.types
            info.gc_types = facts.gc_types
            info.functions_defined = facts.functions_defined
            info.start_function = facts.start_function
        else:
            walk_component(data, 0, size, info, 0, modules, info.sections)
            for facts in modules:
                info.memories.extend(facts.memories)
                info.tags += facts.tags
                info.gc_types += facts.gc_types
    except WasmFormatError as err:
        if path is not None:
            err.with_path(path)
        info.well_formed = False
        info.error = err.message_without_path  # the record names the file
        info.error_offset = err.offset
        info.error_category = err.category
        info.traits = derive_traits(info, modules)
        err.info = info  # the partial result: header and whatever was read before the fault
        raise
    info.traits = derive_traits(info, modules)
    return info


def inspect_path(path: str | os.PathLike[str], *, validate: bool = False) -> WasmInfo:
    """Inspect a file (``-`` for stdin); with ``validate``, also ask wasmtime (compile only, never run).

    The validator runs even when our walk finds the file malformed, so the two verdicts can be shown
    side by side; the error raised then carries the validation in ``err.info.validation``.
    """
    name = os.fspath(path)
    with open_readonly(name, max_size=WASM_MAX_FILE_SIZE) as data:
        try:
            info = inspect_bytes(data, path=name)
        except WasmFormatError as err:
            if validate and err.info is not None:
                err.info.validation = _validate(data, err.info.kind)
            raise
        if validate:
            info.validation = _validate(data, info.kind)
        return info


def _validate(data: Data, kind: str) -> Validation:
    from macwasm.wasm.validate import validate_bytes  # wasmtime is imported only when asked for

    return validate_bytes(bytes(data), kind)
