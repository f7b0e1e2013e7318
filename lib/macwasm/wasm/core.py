"""Walk a core WebAssembly module: every section framed and ordered, the small ones decoded, the big ones skipped.

The binary format is the WebAssembly core specification's, "Binary Format"
(https://webassembly.github.io/spec/core/binary/index.html; sections:
https://webassembly.github.io/spec/core/binary/modules.html#sections), with the proposals a
shipping engine accepts (GC, function references, exceptions, multi-memory, memory64, custom page
sizes, extended constants, stack switching, custom descriptors). Sections are named by their id
(:data:`SECTION_NAMES`) and each is read by its own reader (:data:`SECTION_READERS`).

What is decoded and why: the type section (to see GC types and to check every proposal's type
encoding), imports and exports (the lists users ask for), memories (threads, memory64, custom page
sizes), tags (exceptions), start, data count, and the *counts* at the head of the code and data
sections (the spec requires them to agree with the function and data-count sections). Function
bodies and the bytes of data segments are skipped by their size: they hold the bulk of a large
module and nothing a release engineer asks about, and decoding them would make inspection grow with
the module instead of with its interface. Globals, tables, element and data segment *headers* are
decoded (constant expressions included) because that is where most of the spec's malformed-binary
cases hide, and they are small.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from macwasm.errors import LIMIT, WasmFormatError
from macwasm.limits import (
    WASM_MAX_DATA_SEGMENTS,
    WASM_MAX_ELEMENT_SEGMENTS,
    WASM_MAX_EXPORTS,
    WASM_MAX_FUNCTIONS,
    WASM_MAX_GLOBALS,
    WASM_MAX_IMPORTS,
    WASM_MAX_LOCALS,
    WASM_MAX_MEMORIES,
    WASM_MAX_STRING_SIZE,
    WASM_MAX_TABLES,
    WASM_MAX_TAGS,
    WASM_MAX_TYPES,
)
from macwasm.wasm import opcodes
from macwasm.wasm.custom import read_custom_section
from macwasm.wasm.model import Export, Import, Memory, Section, WasmInfo
from macwasm.wasm.reader import Data, Reader

# ------------------------------------------------------------------------------- section ids

SEC_CUSTOM = 0
SEC_TYPE = 1
SEC_IMPORT = 2
SEC_FUNCTION = 3
SEC_TABLE = 4
SEC_MEMORY = 5
SEC_GLOBAL = 6
SEC_EXPORT = 7
SEC_START = 8
SEC_ELEMENT = 9
SEC_CODE = 10
SEC_DATA = 11
SEC_DATA_COUNT = 12
SEC_TAG = 13  # exception handling
SECTION_NAMES = {
    SEC_CUSTOM: "custom", SEC_TYPE: "type", SEC_IMPORT: "import", SEC_FUNCTION: "function", SEC_TABLE: "table",
    SEC_MEMORY: "memory", SEC_GLOBAL: "global", SEC_EXPORT: "export", SEC_START: "start", SEC_ELEMENT: "element",
    SEC_CODE: "code", SEC_DATA: "data", SEC_DATA_COUNT: "datacount", SEC_TAG: "tag",
}
#: the order the spec requires of non-custom sections; the tag section sits between memory and global,
#: the data-count section between element and code
SECTION_RANK = {sec: rank for rank, sec in enumerate(
    (SEC_TYPE, SEC_IMPORT, SEC_FUNCTION, SEC_TABLE, SEC_MEMORY, SEC_TAG, SEC_GLOBAL, SEC_EXPORT, SEC_START,
     SEC_ELEMENT, SEC_DATA_COUNT, SEC_CODE, SEC_DATA), start=1)}
EXTERN_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
_EXTERN_KIND_NAMES = tuple(EXTERN_KINDS[k] for k in range(len(EXTERN_KINDS)))  # indexable by the kind byte

# ------------------------------------------------------------------- types (binary/types.html)

#: number and vector types (https://webassembly.github.io/spec/core/binary/types.html#value-types)
NUMERIC_TYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128"}
#: abstract heap types, usable as shorthand reference types (reference types, GC, exceptions, stack switching)
ABSTRACT_HEAP_TYPES = {
    0x70: "func", 0x6F: "extern", 0x6E: "any", 0x6D: "eq", 0x6C: "i31", 0x6B: "struct", 0x6A: "array",
    0x71: "none", 0x72: "noextern", 0x73: "nofunc", 0x69: "exn", 0x74: "noexn", 0x68: "cont", 0x75: "nocont",
}
#: packed storage types of GC struct and array fields
PACKED_TYPES = {0x78: "i8", 0x77: "i16"}
_NUMERIC = frozenset(NUMERIC_TYPES)
_V128 = 0x7B
_ABSTRACT_HEAP = frozenset(ABSTRACT_HEAP_TYPES)
_PACKED = frozenset(PACKED_TYPES)
_REF_NULL, _REF = 0x63, 0x64  # (ref null ht), (ref ht)
_EXACT = 0x62  # custom-descriptors: (exact $t)
_FUNC, _STRUCT, _ARRAY, _CONT = 0x60, 0x5F, 0x5E, 0x5D  # composite types (func; GC struct, array; continuation)
_SUB, _SUB_FINAL, _REC = 0x50, 0x4F, 0x4E  # GC subtypes and recursion groups
_DESCRIPTOR, _DESCRIBES = 0x4D, 0x4C
#: a table type that starts with this byte carries an initialiser expression (function references)
_TABLE_WITH_INIT = 0x40

#: environment variable that turns the optional C accelerator off (the pure-Python reader is the reference)
NO_SPEEDUPS_ENV = "MACWASM_NO_SPEEDUPS"


def _load_speedups() -> ModuleType | None:
    """The C export walk (``_speedups.c``) if it was built and is not turned off, else None."""
    if os.environ.get(NO_SPEEDUPS_ENV):
        return None
    try:
        return importlib.import_module("macwasm.wasm._speedups")
    except ImportError:  # no C compiler at install time: the pure-Python path does the same work
        return None


_speedups = _load_speedups()

#: maps every byte to 1 if it is a LEB128 continuation byte, else 0; four 1s in a row mean a 5-byte LEB
_CONTINUATION_MARKS = bytes(0 if b < 0x80 else 1 for b in range(256))
_FOUR_CONTINUATIONS = b"\x01" * 4


@dataclass
class CoreFacts:
    """What one core module (top level or nested in a component) contributes to the result."""

    label: str | None  # None at top level, "core module #N" when nested
    imports: list[Import] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    memories: list[Memory] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    tables: int = 0
    tags: int = 0
    types: int = 0
    gc_types: int = 0
    functions_defined: int = 0
    start_function: int | None = None
    #: a v128 value type in a function type or a function's locals: the module uses SIMD (a
    #: target_features "+simd128" only says the compiler was allowed to)
    v128: bool = False
    #: opcodes.py flag bits of the function bodies, read when the module uses exception handling (which
    #: proposal's instructions); None: not read, or not decodable
    instruction_bits: int | None = None
    #: atomic instructions (0xFE) in a module whose memories are not shared (_scan_atomics)
    atomic_instructions: bool = False
    #: the kinds among ``exports`` ("func", "tag", ...): traits ask whether a tag is exported, and
    #: answering that from 75,000 exports took longer than reading them
    export_kinds: set[str] = field(default_factory=set)


@dataclass
class _Walk:
    """What the section readers of one core module share: the result, and the counts checked across sections."""

    data: Data
    info: WasmInfo
    facts: CoreFacts
    label: str | None
    func_count: int | None = None
    code_count: int | None = None
    data_count: int | None = None
    data_seg_count: int | None = None
    code_span: tuple[int, int] | None = None  # where the function bodies are (after their count)
    has_target_features: bool = False  # this module has its own target_features section


def walk_core(data: Data, start: int, end: int, info: WasmInfo, label: str | None,
              facts: CoreFacts | None = None) -> CoreFacts:
    """Walk the sections of a core module whose 8-byte header sits at ``data[start:start+8]``.

    ``facts`` may be passed in so that a caller still holds what was read when an error is raised.
    """
    facts = facts if facts is not None else CoreFacts(label)
    walk = _Walk(data, info, facts, label)
    r = Reader(data, start + 8, end)
    last_rank = 0
    while not r.at_end():
        sec_id, sec_offset, size, s = r.section(SECTION_NAMES, "module", len(facts.sections))
        if sec_id == SEC_CUSTOM:
            _read_custom(s, sec_offset, size, walk)
            continue
        rank = SECTION_RANK[sec_id]
        if rank <= last_rank:
            what = "duplicate" if rank == last_rank else "out of order"
            raise WasmFormatError(f"unexpected content after last section: {SECTION_NAMES[sec_id]} section "
                                  f"is {what}", offset=sec_offset)
        last_rank = rank
        facts.sections.append(Section(sec_id, SECTION_NAMES[sec_id], sec_offset, size))
        SECTION_READERS[sec_id](s, walk)
        s.expect_end(f"the {SECTION_NAMES[sec_id]} section")
    _check_counts(walk, end)
    _scan_bodies(walk)
    return facts


def _check_counts(walk: _Walk, end: int) -> None:
    """The spec's cross-section rules: one body per function, and the data count, if any, matches the data."""
    funcs, bodies = walk.func_count or 0, walk.code_count or 0
    if funcs != bodies:
        raise WasmFormatError(f"function and code section have inconsistent lengths ({funcs} functions, "
                              f"{bodies} bodies)", offset=end)
    declared, segments = walk.data_count, walk.data_seg_count
    if declared is not None and segments is not None and declared != segments:
        raise WasmFormatError(f"data count and data section have inconsistent lengths ({declared} vs "
                              f"{segments})", offset=end)
    if declared is not None and segments is None and declared != 0:
        raise WasmFormatError(f"data count and data section have inconsistent lengths ({declared} vs no data "
                              "section)", offset=end)


# ------------------------------------------------------------------------------ section readers

def _read_custom(s: Reader, sec_offset: int, size: int, walk: _Walk) -> None:
    name = s.name("custom section name")
    walk.facts.sections.append(Section(SEC_CUSTOM, name, sec_offset, size))
    walk.has_target_features = walk.has_target_features or name == "target_features"
    if walk.label is None:
        read_custom_section(name, walk.data, s.pos, s.end, walk.info)
    elif name == "target_features":  # nested modules still tell whether they use SIMD
        read_custom_section(name, walk.data, s.pos, s.end, walk.info, features_only=True)


def _type_section(s: Reader, walk: _Walk) -> None:
    _read_types(s, walk.facts)


def _import_section(s: Reader, walk: _Walk) -> None:
    _read_imports(s, walk.facts)


def _function_section(s: Reader, walk: _Walk) -> None:
    walk.func_count = s.count("function", WASM_MAX_FUNCTIONS)
    _skip_u32s(s, walk.func_count, "function type index")  # 100,000 of them in large modules
    walk.facts.functions_defined = walk.func_count


def _table_section(s: Reader, walk: _Walk) -> None:
    n = s.count("table", WASM_MAX_TABLES, 2)
    for _ in range(n):
        _read_table(s)
    walk.facts.tables += n


def _memory_section(s: Reader, walk: _Walk) -> None:
    n = s.count("memory", WASM_MAX_MEMORIES, 2)
    base = len(walk.facts.memories)
    for i in range(n):
        walk.facts.memories.append(_read_memtype(s, base + i, imported=False, label=walk.label))


def _tag_section(s: Reader, walk: _Walk) -> None:
    n = s.count("tag", WASM_MAX_TAGS, 2)
    for _ in range(n):
        _read_tagtype(s)
    walk.facts.tags += n


def _global_section(s: Reader, walk: _Walk) -> None:
    n = s.count("global", WASM_MAX_GLOBALS, 3)
    _skip_globals(s, n)
    if walk.label is None:
        walk.info.globals_defined = n


def _export_section(s: Reader, walk: _Walk) -> None:
    _read_exports(s, walk.facts)


def _start_section(s: Reader, walk: _Walk) -> None:
    walk.facts.start_function = s.u32("start function index")


def _element_section(s: Reader, walk: _Walk) -> None:
    for _ in range(s.count("element segment", WASM_MAX_ELEMENT_SEGMENTS)):
        _skip_element_segment(s)


def _data_count_section(s: Reader, walk: _Walk) -> None:
    walk.data_count = s.u32("data count")


def _code_section(s: Reader, walk: _Walk) -> None:
    walk.code_count = s.count("code entry", WASM_MAX_FUNCTIONS)
    walk.code_span = (s.pos, s.end)  # the bodies' locals are read after the last section (_scan_bodies)
    s.pos = s.end


def _scan_bodies(walk: _Walk) -> None:
    _scan_v128(walk)
    _scan_exception_instructions(walk)
    _scan_atomics(walk)


def _scan_atomics(walk: _Walk) -> None:
    """Atomic instructions on memory that is not shared (single-thread ffmpeg-core builds do this): the
    module still needs the threads proposal to validate. Looked for only where the module's own
    target_features says ``+atomics`` and no memory is shared, so other modules pay nothing."""
    facts = walk.facts
    if (walk.code_span is None or not walk.code_count or any(m.shared for m in facts.memories)
            or not walk.has_target_features or "+atomics" not in walk.info.target_features):
        return
    pos, end = walk.code_span
    scan = _speedups.scan_instructions if _speedups is not None else opcodes.scan_instructions
    bits = scan(walk.data, pos, end, walk.code_count, opcodes.ATOMICS)
    facts.atomic_instructions = bits is not None and bool(bits & opcodes.ATOMICS)


def uses_tags(facts: CoreFacts) -> bool:
    """The module defines, imports or exports an exception tag (the exception-handling proposals)."""
    return bool(facts.tags) or "tag" in facts.export_kinds


def _scan_exception_instructions(walk: _Walk) -> None:
    """Which exception-handling instructions a module with tags uses: the legacy ones (try, catch,
    rethrow, delegate, catch_all) or the current ones (try_table, throw_ref). Runtimes load one, the
    other or both (runtime_facts.csv exceptions and legacy_exceptions). The walk stops at the first
    body that tells; a module that mixes both is reported by its first flavour."""
    if walk.code_span is None or not walk.code_count or not uses_tags(walk.facts):
        return
    pos, end = walk.code_span
    wanted = opcodes.LEGACY_EH | opcodes.CURRENT_EH
    if _speedups is not None:
        walk.facts.instruction_bits = _speedups.scan_instructions(walk.data, pos, end, walk.code_count, wanted)
    else:
        walk.facts.instruction_bits = opcodes.scan_instructions(walk.data, pos, end, walk.code_count, wanted)


def _scan_v128(walk: _Walk) -> None:
    """Whether any function declares a v128 local (SIMD): only the bodies' local declarations are read.

    Skipped when SIMD is known already (a v128 in a type), and when the module's own
    ``target_features`` section lists no ``+simd128``: by the tool conventions a ``+`` feature is one
    the module uses, so a producer that writes the section and leaves SIMD out did not emit it (this
    spares a walk through 75,000 bodies of a 39 MB module that has none).
    """
    if walk.code_span is None or walk.facts.v128 or walk.code_count is None:
        return
    if walk.has_target_features and "+simd128" not in walk.info.target_features:
        return
    pos, end = walk.code_span
    s = Reader(walk.data, pos, end)
    left = walk.code_count
    if _speedups is not None:  # the usual bodies in C; the exact loop below takes any other from there
        s.pos, done, found = _speedups.scan_body_locals(s.data, s.pos, s.end, left)
        left -= done
        if found:
            walk.facts.v128 = True
            return
    for _ in range(left):
        size_at = s.pos
        size = s.u32("function body size")
        body_end = s.pos + size
        if body_end > s.end:
            raise WasmFormatError(f"function body of {size} bytes runs past the code section", offset=size_at)
        for _ in range(s.count("local declaration", WASM_MAX_LOCALS, 2)):
            s.u32("local count")
            if _read_valtype(s) == _V128:
                walk.facts.v128 = True
        if s.pos > body_end:
            raise WasmFormatError("local declarations run past the function body", offset=size_at)
        s.pos = body_end
        if walk.facts.v128:
            return


def _data_section(s: Reader, walk: _Walk) -> None:
    walk.data_seg_count = s.count("data segment", WASM_MAX_DATA_SEGMENTS)
    _skip_data_segments(s, walk.data_seg_count)


#: section id -> its reader (the custom section, which may appear anywhere, is read apart)
SECTION_READERS: dict[int, Callable[[Reader, _Walk], None]] = {
    SEC_TYPE: _type_section, SEC_IMPORT: _import_section, SEC_FUNCTION: _function_section,
    SEC_TABLE: _table_section, SEC_MEMORY: _memory_section, SEC_TAG: _tag_section, SEC_GLOBAL: _global_section,
    SEC_EXPORT: _export_section, SEC_START: _start_section, SEC_ELEMENT: _element_section,
    SEC_DATA_COUNT: _data_count_section, SEC_CODE: _code_section, SEC_DATA: _data_section,
}


# ---------------------------------------------------------------------------------------- types


def _read_types(s: Reader, facts: CoreFacts) -> None:
    n = s.count("type", WASM_MAX_TYPES)
    for _ in range(n):
        form_at = s.pos
        form = s.byte("type form")
        if form == _REC:
            m = s.count("rec group member", WASM_MAX_TYPES)
            facts.gc_types += 1
            for _ in range(m):
                _read_subtype(s, s.byte("type form"), s.pos - 1, facts)
            facts.types += m
        else:
            _read_subtype(s, form, form_at, facts)
            facts.types += 1


def _read_subtype(s: Reader, form: int, form_at: int, facts: CoreFacts) -> None:
    if form in (_SUB, _SUB_FINAL):
        facts.gc_types += 1
        for _ in range(s.count("supertype", WASM_MAX_TYPES)):
            s.u32("supertype index")
        form_at = s.pos
        form = s.byte("type form")
    if form in (_DESCRIPTOR, _DESCRIBES):  # custom-descriptors proposal
        facts.gc_types += 1
        s.u32("descriptor type index")
        form_at = s.pos
        form = s.byte("type form")
    if form == _FUNC:
        for what in ("parameter", "result"):
            for _ in range(s.count(what, WASM_MAX_TYPES)):
                if _read_valtype(s) == _V128:
                    facts.v128 = True
    elif form == _STRUCT:
        facts.gc_types += 1
        for _ in range(s.count("struct field", WASM_MAX_TYPES)):
            _read_fieldtype(s)
    elif form == _ARRAY:
        facts.gc_types += 1
        _read_fieldtype(s)
    elif form == _CONT:  # stack-switching proposal
        s.u32("continuation function type index")
    else:
        raise WasmFormatError(f"malformed type form 0x{form:02x} (integer representation too long or "
                              "unknown composite type)", offset=form_at)


def _read_fieldtype(s: Reader) -> None:
    at = s.pos
    t = s.byte("storage type")
    if t not in _PACKED:
        s.pos = at
        _read_valtype(s)
    mut_at = s.pos
    if s.byte("mutability") > 1:
        raise WasmFormatError("malformed mutability", offset=mut_at)


def _read_valtype(s: Reader) -> int:
    """Read one value type; its first byte (``_V128`` tells SIMD)."""
    at = s.pos
    t = s.byte("value type")
    if t in _NUMERIC or t in _ABSTRACT_HEAP:
        return t
    if t in (_REF, _REF_NULL):
        _read_heaptype(s)
        return t
    raise WasmFormatError(f"malformed value type 0x{t:02x}", offset=at)


def _read_heaptype(s: Reader) -> None:
    at = s.pos
    t = s.byte("heap type")
    if t in _ABSTRACT_HEAP:
        return
    if t == _EXACT:
        at = s.pos
        t = s.byte("heap type")
    if t & 0x40 and t < 0x80:  # a negative one-byte s33 that is not an abstract heap type
        raise WasmFormatError(f"malformed heap type 0x{t:02x}", offset=at)
    s.pos = at
    if s.sleb(33, "type index") < 0:
        raise WasmFormatError("malformed heap type (negative type index)", offset=at)


def _read_reftype(s: Reader) -> None:
    at = s.pos
    t = s.byte("reference type")
    if t in _ABSTRACT_HEAP:
        return
    if t in (_REF, _REF_NULL):
        _read_heaptype(s)
        return
    raise WasmFormatError(f"malformed reference type 0x{t:02x}", offset=at)


# --------------------------------------------------------------------------- imports and exports


def _read_imports(s: Reader, facts: CoreFacts) -> int:
    n = s.count("import", WASM_MAX_IMPORTS, 3)
    data, end = s.data, s.end
    append = facts.imports.append
    funcs = 0
    for _ in range(n):
        # fast path for the usual entry: two short names and a function import with a small type index
        pos = s.pos
        ln1 = data[pos] if pos < end else 0x80
        mid = pos + 1 + ln1
        if ln1 < 0x80 and mid < end:
            ln2 = data[mid]
            stop = mid + 1 + ln2
            if ln2 < 0x80 and stop + 2 <= end and data[stop] == 0 and data[stop + 1] < 0x80:
                try:
                    module = data[pos + 1:mid].decode("utf-8")
                    name = data[mid + 1:stop].decode("utf-8")
                except UnicodeDecodeError:
                    pass
                else:
                    append(Import(module, name, "func"))
                    funcs += 1
                    s.pos = stop + 2
                    continue
        module = s.name("import module name")
        name = s.name("import name")
        kind_at = s.pos
        kind = s.byte("import kind")
        if kind == 0:
            s.u32("function type index")
            funcs += 1
        elif kind == 1:
            _read_tabletype(s)
            facts.tables += 1
        elif kind == 2:
            if len(facts.memories) >= WASM_MAX_MEMORIES:
                raise WasmFormatError(f"more than {WASM_MAX_MEMORIES} memories", offset=kind_at, category=LIMIT)
            facts.memories.append(_read_memtype(s, len(facts.memories), imported=True, label=facts.label))
        elif kind == 3:
            _read_valtype(s)
            _read_mutability(s)
        elif kind == 4:
            _read_tagtype(s)
            facts.tags += 1
        else:
            raise WasmFormatError(f"malformed import kind 0x{kind:02x}", offset=kind_at)
        append(Import(module, name, EXTERN_KINDS[kind]))
    return funcs


def _read_exports(s: Reader, facts: CoreFacts) -> None:
    """Exports: emscripten C++ builds export 75,000 names (7 MB), and this loop is the cost of inspecting them.

    Three paths, tried in order: the optional C accelerator (``_speedups.read_exports``) decodes
    usual entries and answers None for anything else; an inlined Python fast path handles the usual
    entry (a name shorter than 16,384 bytes, an index below 2**21) with local variables only and
    builds each ``Export`` with ``tuple.__new__``; any other entry, and any error, goes through the
    exact ``Reader`` path, which applies every rule and reports the offset. All three give the same
    result (tests/test_wasm_speedups.py).
    """
    n = s.count("export", WASM_MAX_EXPORTS, 3)
    if _speedups is not None:
        decoded = _speedups.read_exports(s.data, s.pos, s.end, n, WASM_MAX_STRING_SIZE, Export, _EXTERN_KIND_NAMES)
        if decoded is not None:
            exports, s.pos, kinds_seen = decoded
            facts.exports.extend(exports)
            facts.export_kinds.update(k for bit, k in enumerate(_EXTERN_KIND_NAMES) if kinds_seen >> bit & 1)
            return
    already = len(facts.exports)
    data, end = s.data, s.end
    kinds = _EXTERN_KIND_NAMES
    make = tuple.__new__
    append = facts.exports.append
    pos = s.pos
    for _ in range(n):
        ln = data[pos] if pos < end else 0x80
        first = pos + 1
        if ln >= 0x80:
            if first < end and data[first] < 0x80:
                ln = (ln & 0x7F) | data[first] << 7
                first += 1
            else:
                ln = 0x4000  # three bytes or more, or the end: the exact path decides
        stop = first + ln
        if ln < 0x4000 and stop + 2 <= end:
            kind = data[stop]
            if kind < 5:
                if data[stop + 1] < 0x80:
                    nxt = stop + 2
                elif stop + 2 < end and data[stop + 2] < 0x80:
                    nxt = stop + 3
                elif stop + 3 < end and data[stop + 2] >= 0x80 and data[stop + 3] < 0x80:
                    nxt = stop + 4
                else:
                    nxt = -1
                if nxt >= 0:
                    try:
                        append(make(Export, (data[first:stop].decode("utf-8"), kinds[kind])))
                    except UnicodeDecodeError:
                        pass
                    else:
                        pos = nxt
                        continue
        s.pos = pos  # the exact path: decodes the entry with every check, or raises with the offset
        name = s.name("export name")
        kind_at = s.pos
        kind = s.byte("export kind")
        if kind not in EXTERN_KINDS:
            raise WasmFormatError(f"malformed export kind 0x{kind:02x}", offset=kind_at)
        s.u32("export index")
        append(Export(name, EXTERN_KINDS[kind]))
        pos = s.pos
    s.pos = pos
    facts.export_kinds.update(e.kind for e in facts.exports[already:])


def _read_tagtype(s: Reader) -> None:
    at = s.pos
    if s.byte("tag attribute") != 0:
        raise WasmFormatError("malformed tag attribute (only 0, exception, is defined)", offset=at)
    s.u32("tag type index")


def _read_tabletype(s: Reader) -> None:
    _read_reftype(s)
    at = s.pos
    flags = s.byte("table limits flags")
    if flags & ~0x07:  # bit 0: has max, bit 1: shared (shared-everything), bit 2: table64
        raise WasmFormatError(f"malformed limits flags 0x{flags:02x}", offset=at)
    read = s.u64 if flags & 4 else s.u32
    read("table minimum")
    if flags & 1:
        read("table maximum")


def _read_memtype(s: Reader, index: int, *, imported: bool, label: str | None) -> Memory:
    at = s.pos
    flags = s.byte("memory limits flags")
    if flags & ~0x0F:  # bit 0: has max, bit 1: shared (threads), bit 2: memory64, bit 3: custom page size
        raise WasmFormatError(f"malformed limits flags 0x{flags:02x}", offset=at)
    read = s.u64 if flags & 4 else s.u32
    minimum = read("memory minimum")
    maximum = read("memory maximum") if flags & 1 else None
    page_log2 = s.u32("memory page size (log2)") if flags & 8 else None
    return Memory(index, minimum, maximum, bool(flags & 2), bool(flags & 4), page_log2, imported, label)


# --------------------------------------------------------------------------------------- helpers


def _read_mutability(s: Reader) -> None:
    at = s.pos
    if s.byte("mutability") > 1:
        raise WasmFormatError("malformed mutability", offset=at)


def _read_table(s: Reader) -> None:
    at = s.pos
    if s.data[at] == _TABLE_WITH_INIT if at < s.end else False:  # function-references: a table with an initialiser
        s.pos += 1
        if s.byte("reserved byte") != 0:
            raise WasmFormatError("malformed table: byte 0x00 expected after 0x40", offset=s.pos - 1)
        _read_tabletype(s)
        _skip_const_expr(s)
    else:
        _read_tabletype(s)


# ------------------------------------------------------------------------------------ segments


#: how many usual globals one regular-expression match skips (see ``_skip_globals``)
_GLOBALS_RUN = 256
#: ``_GLOBALS_RUN`` usual globals in a row: numeric type, mutability 0 or 1, ``i32.const`` or
#: ``i64.const`` with a LEB128 of at most 4 bytes (always in range), ``end``
_USUAL_GLOBALS = re.compile(rb"(?:[\x7b-\x7f][\x00\x01][\x41\x42][\x80-\xff]{0,3}+[\x00-\x7f]\x0b){%d}"
                            % _GLOBALS_RUN)


def _skip_globals(s: Reader, n: int) -> None:
    """Skip ``n`` globals: runs of usual ones by one regular-expression match each, the rest one by one.

    Emscripten's C++ builds define 30,000 globals (duckdb); even with the per-global fast path below
    (local variables only), the Python loop cost 30-60 ms there. A run of ``_GLOBALS_RUN`` usual
    globals is skipped by ``_USUAL_GLOBALS`` at C speed; where a run holds anything else, globals go
    one at a time until a run matches again. Anything unusual goes through the exact readers.
    """
    data, end = s.data, s.end
    pos = s.pos
    numeric = _NUMERIC
    run = _USUAL_GLOBALS.match
    left = n
    while left:
        if left >= _GLOBALS_RUN:
            m = run(data, pos, end)
            if m is not None:
                pos = m.end()
                left -= _GLOBALS_RUN
                continue
        left -= 1
        if pos + 4 < end and data[pos] in numeric and data[pos + 1] <= 1 and data[pos + 2] in (_I32_CONST, _I64_CONST):
            q = pos + 3
            last = q + 3
            while q < last and q < end and data[q] >= 0x80:
                q += 1
            if q < end and data[q] < 0x80 and q + 1 < end and data[q + 1] == _END:
                pos = q + 2
                continue
        s.pos = pos
        _read_valtype(s)
        _read_mutability(s)
        _skip_const_expr(s)
        pos = s.pos
    s.pos = pos


def _skip_data_segments(s: Reader, n: int) -> None:
    """Skip ``n`` data segments, with an inlined fast path for the usual active segment.

    Go and emscripten builds have 30,000 to 100,000 segments, and a call per segment and per LEB128
    made this the slowest part of the walk. The usual segment is flags 0, ``i32.const`` with an offset
    of at most 4 LEB128 bytes (always a valid s32), ``end``, and a length of at most 4 bytes; it is
    skipped with local variables only. Any other segment, and any error, goes through
    ``_skip_data_segment``, which applies every rule and reports the offset. With the C accelerator,
    runs of usual segments (active for memory 0, or passive) are skipped in C first.
    """
    data, end = s.data, s.end
    pos = s.pos
    left = n
    while left:
        if _speedups is not None:
            pos, skipped = _speedups.skip_data_segments(data, pos, end, left)
            left -= skipped
            if not left:
                break
        left -= 1
        if pos + 4 < end and data[pos] == 0 and data[pos + 1] == _I32_CONST:
            q = pos + 2
            limit = q + 4
            while q < limit and q < end and data[q] >= 0x80:  # the offset's continuation bytes
                q += 1
            q += 1  # the offset's last byte
            if q < limit + 1 and q < end and data[q - 1] < 0x80 and data[q] == _END:
                q += 1
                length = 0
                shift = 0
                while q < end and shift < 28:
                    b = data[q]
                    q += 1
                    length |= (b & 0x7F) << shift
                    shift += 7
                    if b < 0x80:
                        break
                else:
                    length = -1  # five bytes or the end: the exact path decides
                if 0 <= length <= end - q:
                    pos = q + length
                    continue
        s.pos = pos
        _skip_data_segment(s)
        pos = s.pos
    s.pos = pos


def _skip_data_segment(s: Reader) -> None:
    at = s.pos
    flags = s.u32("data segment flags")
    if flags == 0:
        _skip_const_expr(s)
    elif flags == 2:
        s.u32("memory index")
        _skip_const_expr(s)
    elif flags != 1:
        raise WasmFormatError(f"malformed data segment flags {flags}", offset=at)
    length_at = s.pos
    n = s.u32("data segment length")
    if n > s.end - s.pos:
        raise WasmFormatError(f"unexpected end of section or function: data segment of {n} bytes runs past "
                              "the data section", offset=length_at)
    s.pos += n


def _skip_element_segment(s: Reader) -> None:
    at = s.pos
    flags = s.u32("element segment flags")
    if flags > 7:
        raise WasmFormatError(f"malformed elements segment kind {flags}", offset=at)
    if flags & 3 == 2:  # active with an explicit table index
        s.u32("table index")
    if not flags & 1:  # active: offset expression
        _skip_const_expr(s)
    if flags & 3:  # element kind (function indices) or reference type (expressions)
        if flags & 4:
            _read_reftype(s)
        else:
            kind_at = s.pos
            if s.byte("element kind") != 0:
                raise WasmFormatError("malformed element kind", offset=kind_at)
    n = s.count("element", WASM_MAX_FUNCTIONS)
    if flags & 4:
        for _ in range(n):
            _skip_const_expr(s)
    else:
        _skip_u32s(s, n, "element function index")


# ------------------------------------------------------------------------- constant expressions

# Instructions (https://webassembly.github.io/spec/core/binary/instructions.html) that constant expressions
# may hold, with the extended-const, GC, function-references and SIMD proposals.
_I32_CONST, _I64_CONST, _F32_CONST, _F64_CONST = 0x41, 0x42, 0x43, 0x44
_GLOBAL_GET, _REF_NULL_OP, _REF_FUNC = 0x23, 0xD0, 0xD2
_I32_ADD, _I32_SUB, _I32_MUL, _I64_ADD, _I64_SUB, _I64_MUL = 0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E  # extended-const
_REF_IS_NULL, _REF_EQ, _REF_AS_NON_NULL = 0xD1, 0xD3, 0xD4
_GC_PREFIX, _SIMD_PREFIX = 0xFB, 0xFD
_V128_CONST = 12  # 0xfd 12: v128.const
_END = 0x0B
_ONE_U32 = frozenset((_GLOBAL_GET, _REF_FUNC))
_NO_IMMEDIATE = frozenset((_I32_ADD, _I32_SUB, _I32_MUL, _I64_ADD, _I64_SUB, _I64_MUL, _REF_IS_NULL, _REF_EQ,
                           _REF_AS_NON_NULL))
#: GC prefix 0xfb sub-opcodes allowed in constant expressions, and how many u32 immediates follow (struct.new,
#: struct.new_default, array.new, array.new_default, array.new_fixed, array.new_data, array.new_elem,
#: any.convert_extern, extern.convert_any, ref.i31)
_GC_CONST_OPS = {0: 1, 1: 1, 6: 1, 7: 1, 8: 2, 9: 2, 10: 2, 0x1A: 0, 0x1B: 0, 0x1C: 0}


def _skip_const_expr(s: Reader) -> None:
    """Decode a constant expression up to its ``end`` (globals, offsets, table and element initialisers).

    Only the instructions the spec (with the extended-const, GC and SIMD proposals) allows in
    constant expressions are known; anything else cannot be skipped safely and is reported.
    """
    while True:
        at = s.pos
        op = s.byte("constant expression")
        if op == _END:
            return
        if op == _I32_CONST:
            s.sleb(32, "i32 constant")
        elif op == _I64_CONST:
            s.sleb(64, "i64 constant")
        elif op == _F32_CONST:
            s.skip(4, "f32 constant")
        elif op == _F64_CONST:
            s.skip(8, "f64 constant")
        elif op in _ONE_U32:
            s.u32("index")
        elif op == _REF_NULL_OP:  # ref.null heaptype
            _read_heaptype(s)
        elif op in _NO_IMMEDIATE:
            continue
        elif op == _GC_PREFIX:
            sub = s.u32("GC opcode")
            if sub not in _GC_CONST_OPS:
                raise WasmFormatError(f"illegal opcode 0xfb {sub} in a constant expression", offset=at)
            for _ in range(_GC_CONST_OPS[sub]):
                s.u32("GC immediate")
        elif op == _SIMD_PREFIX:
            sub = s.u32("SIMD opcode")
            if sub != _V128_CONST:
                raise WasmFormatError(f"illegal opcode 0xfd {sub} in a constant expression", offset=at)
            s.skip(16, "v128 constant")
        else:
            raise WasmFormatError(f"illegal opcode 0x{op:02x} in a constant expression", offset=at)


def _skip_u32s(s: Reader, n: int, what: str) -> None:
    """Skip ``n`` LEB128 u32s at C speed, decoding exactly only when one may be 5 bytes long.

    Function sections and element segments hold up to 100,000 indices; decoding them one by one in
    Python would cost more than the rest of the walk. ``n`` LEB128s of at most 4 bytes end at the
    ``n``-th byte below 0x80 and hold no 4 continuation bytes in a row; that byte is found by
    bisection on ``bytes.count`` over the continuation marks. Anything else (a 5-byte LEB128, which
    may be over-long or too large; too few bytes) is decoded exactly, with the spec's checks.
    """
    if n == 0:
        return
    start = s.pos
    span = min(s.end - start, 4 * n)
    marks = bytes(s.data[start:start + span]).translate(_CONTINUATION_MARKS)  # 0 marks a last byte
    if marks.count(0) >= n:
        lo, hi = n, span  # the smallest length holding n last bytes
        while lo < hi:
            mid = (lo + hi) // 2
            if marks.count(0, 0, mid) >= n:
                hi = mid
            else:
                lo = mid + 1
        if marks.find(_FOUR_CONTINUATIONS, 0, lo) == -1:
            s.pos = start + lo
            return
    for _ in range(n):
        s.u32(what)
