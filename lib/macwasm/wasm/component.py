"""Walk a component: sections framed, nested modules and components walked.

The binary format is the component model's ``design/mvp/Binary.md``
(https://github.com/WebAssembly/component-model/blob/main/design/mvp/Binary.md). Unlike a core
module, a component's sections may repeat and interleave (each definition may only refer to
earlier ones), so there is no order to check. What is decoded: the top level's imports and exports
(names and their sort), the framing of every section, and every nested core module (section 1) and
component (section 4), recursively up to ``WASM_MAX_COMPONENT_NESTING`` levels. Instances,
aliases, canonical definitions and type definitions are skipped by size; their mistakes are the
validator's job (``--validate``). Each section that is decoded has its reader in
:data:`SECTION_READERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from macwasm.errors import LIMIT, WasmFormatError
from macwasm.limits import WASM_MAX_COMPONENT_NESTING, WASM_MAX_EXPORTS, WASM_MAX_IMPORTS
from macwasm.wasm.core import CoreFacts, walk_core
from macwasm.wasm.custom import read_custom_section
from macwasm.wasm.header import COMPONENT_LAYER, COMPONENT_VERSION, CORE_VERSION, MAGIC
from macwasm.wasm.model import Export, Import, Section, WasmInfo
from macwasm.wasm.reader import Data, Reader

SEC_CUSTOM = 0
SEC_CORE_MODULE = 1
SEC_CORE_INSTANCE = 2
SEC_CORE_TYPE = 3
SEC_COMPONENT = 4
SEC_INSTANCE = 5
SEC_ALIAS = 6
SEC_TYPE = 7
SEC_CANON = 8
SEC_START = 9
SEC_IMPORT = 10
SEC_EXPORT = 11
SEC_VALUE = 12
SECTION_NAMES = {
    SEC_CUSTOM: "custom", SEC_CORE_MODULE: "core module", SEC_CORE_INSTANCE: "core instance",
    SEC_CORE_TYPE: "core type", SEC_COMPONENT: "component", SEC_INSTANCE: "instance", SEC_ALIAS: "alias",
    SEC_TYPE: "type", SEC_CANON: "canon", SEC_START: "start", SEC_IMPORT: "import", SEC_EXPORT: "export",
    SEC_VALUE: "value",
}
CORE_SORTS = {0x00: "core func", 0x01: "core table", 0x02: "core memory", 0x03: "core global",
              0x04: "core tag", 0x10: "core type", 0x11: "core module", 0x12: "core instance"}
SORTS = {0x01: "func", 0x02: "value", 0x03: "type", 0x04: "component", 0x05: "instance"}
EXTERN_DESC = {0x00: "module", 0x01: "func", 0x02: "value", 0x03: "type", 0x04: "component", 0x05: "instance"}
_CORE_SORT_MODULE = 0x11


@dataclass
class _Walk:
    """What the section readers of one component share."""

    data: Data
    info: WasmInfo
    depth: int
    nested_cores: list[CoreFacts]

    @property
    def top(self) -> bool:
        return self.depth == 0


def walk_component(data: Data, start: int, end: int, info: WasmInfo, depth: int,
                   nested_cores: list[CoreFacts], sections: list[Section] | None = None) -> list[Section]:
    """Walk one component whose preamble sits at ``data[start:start+8]``; return its own sections.

    ``sections`` may be passed in so that a caller still holds what was read when an error is raised.
    """
    if depth > WASM_MAX_COMPONENT_NESTING:
        raise WasmFormatError(f"components nested more than {WASM_MAX_COMPONENT_NESTING} levels deep",
                              offset=start, category=LIMIT)
    r = Reader(data, start + 8, end)
    sections = sections if sections is not None else []
    walk = _Walk(data, info, depth, nested_cores)
    while not r.at_end():
        sec_id, sec_offset, size, s = r.section(SECTION_NAMES, "component", len(sections))
        if sec_id == SEC_CUSTOM:
            name = s.name("custom section name")
            sections.append(Section(SEC_CUSTOM, name, sec_offset, size))
            if walk.top:
                read_custom_section(name, data, s.pos, s.end, info)
            elif name == "target_features":
                read_custom_section(name, data, s.pos, s.end, info, features_only=True)
            continue
        sections.append(Section(sec_id, SECTION_NAMES[sec_id], sec_offset, size))
        reader = SECTION_READERS.get(sec_id)
        if reader is not None:  # the others are skipped by their size
            reader(s, walk)
    return sections


def _core_module_section(s: Reader, walk: _Walk) -> None:
    _expect_header(s, module=True)
    label = f"core module #{walk.info.nested_modules}"
    walk.info.nested_modules += 1
    walk.nested_cores.append(walk_core(walk.data, s.pos, s.end, walk.info, label))


def _component_section(s: Reader, walk: _Walk) -> None:
    _expect_header(s, module=False)
    walk.info.nested_components += 1
    walk_component(walk.data, s.pos, s.end, walk.info, walk.depth + 1, walk.nested_cores)


def _import_section(s: Reader, walk: _Walk) -> None:
    for _ in range(s.count("import", WASM_MAX_IMPORTS, 3)):
        name = _extern_name(s, "import name")
        kind = _extern_desc(s)
        if walk.top:
            walk.info.imports.append(Import(None, name, kind))
    s.expect_end("the import section")


def _export_section(s: Reader, walk: _Walk) -> None:
    for _ in range(s.count("export", WASM_MAX_EXPORTS, 3)):
        name = _extern_name(s, "export name")
        kind = _sort(s)
        s.u32("export index")
        if _optional(s, "export type ascription"):
            _extern_desc(s)
        if walk.top:
            walk.info.exports.append(Export(name, kind))
    s.expect_end("the export section")


#: section id -> its reader, for the sections that are decoded (the rest are framed and skipped)
SECTION_READERS: dict[int, Callable[[Reader, _Walk], None]] = {
    SEC_CORE_MODULE: _core_module_section, SEC_COMPONENT: _component_section, SEC_IMPORT: _import_section,
    SEC_EXPORT: _export_section,
}


def _expect_header(s: Reader, *, module: bool) -> None:
    """A nested core module must carry a module header, a nested component a component preamble."""
    at = s.pos
    if s.end - at < 8 or bytes(s.data[at:at + 4]) != MAGIC:
        raise WasmFormatError("nested " + ("core module" if module else "component") + " does not start with the "
                              "wasm magic (unexpected end or magic header not detected)", offset=at)
    version = int.from_bytes(bytes(s.data[at + 4:at + 8]), "little")
    if module and version != CORE_VERSION:
        raise WasmFormatError(f"expected a version header for a module, found 0x{version:x}", offset=at + 4)
    if not module:
        if version == CORE_VERSION:
            raise WasmFormatError("expected a version header for a component, found a core module's", offset=at + 4)
        if version != (COMPONENT_LAYER << 16 | COMPONENT_VERSION):
            raise WasmFormatError(f"unknown binary version 0x{version:x} for a nested component", offset=at + 4)


def _extern_name(s: Reader, what: str) -> str:
    """``importname'``/``exportname'``: a discriminant byte, the name, and (0x02) a list of name options."""
    at = s.pos
    form = s.byte(f"{what} form")
    if form > 0x02:
        raise WasmFormatError(f"invalid leading byte (0x{form:x}) for component name", offset=at)
    name = s.name(what)
    if form == 0x02:
        for _ in range(s.count("name option", WASM_MAX_IMPORTS, 2)):
            opt_at = s.pos
            opt = s.byte("name option")
            if opt > 0x02:
                raise WasmFormatError(f"invalid leading byte (0x{opt:x}) for name option", offset=opt_at)
            s.name("name option value")
    return name


def _extern_desc(s: Reader) -> str:
    at = s.pos
    tag = s.byte("extern kind")
    if tag == 0x00:
        sub_at = s.pos
        if s.byte("core sort") != _CORE_SORT_MODULE:
            raise WasmFormatError("invalid leading byte for core module extern description", offset=sub_at)
        s.u32("core type index")
    elif tag in (0x01, 0x04, 0x05):
        s.u32("type index")
    elif tag == 0x02:  # valuebound: (eq valueidx) | valtype
        bound = s.byte("value bound")
        if bound == 0x00:
            s.u32("value index")
        elif bound == 0x01:
            s.sleb(33, "value type")
        else:
            raise WasmFormatError(f"invalid leading byte (0x{bound:x}) for value bound", offset=s.pos - 1)
    elif tag == 0x03:  # typebound: (eq typeidx) | (sub resource)
        bound = s.byte("type bound")
        if bound == 0x00:
            s.u32("type index")
        elif bound != 0x01:
            raise WasmFormatError(f"invalid leading byte (0x{bound:x}) for type bound", offset=s.pos - 1)
    else:
        raise WasmFormatError(f"invalid leading byte (0x{tag:x}) for component external kind", offset=at)
    return EXTERN_DESC[tag]


def _sort(s: Reader) -> str:
    at = s.pos
    sort = s.byte("sort")
    if sort == 0x00:
        core_at = s.pos
        core = s.byte("core sort")
        if core not in CORE_SORTS:
            raise WasmFormatError(f"invalid leading byte (0x{core:x}) for core sort", offset=core_at)
        return CORE_SORTS[core]
    if sort not in SORTS:
        raise WasmFormatError(f"invalid leading byte (0x{sort:x}) for sort", offset=at)
    return SORTS[sort]


def _optional(s: Reader, what: str) -> bool:
    at = s.pos
    flag = s.byte(what)
    if flag > 1:
        raise WasmFormatError(f"invalid leading byte (0x{flag:x}) for optional {what}", offset=at)
    return flag == 1
