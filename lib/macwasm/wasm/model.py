"""Typed results of the inspector; ``to_dict()`` is the JSON contract of ``macwasm inspect``.

The field names are what other parts of macwasm (the entitlements reader, the benchmarks, the
real-module tests) code against: add fields, do not rename them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, NamedTuple

# what a .wasm file is (macwasm.vocabulary's module kinds)
from macwasm.vocabulary import COMPONENT as COMPONENT
from macwasm.vocabulary import CORE_MODULE as CORE_MODULE
from macwasm.vocabulary import MODULE_KINDS
from macwasm.vocabulary import NOT_WASM as NOT_WASM
from macwasm.vocabulary import UNKNOWN_VERSION as UNKNOWN_VERSION

KINDS = MODULE_KINDS


@dataclass(frozen=True)
class HeaderInfo:
    """What the first 8 bytes say, without reading further (cheap enough for 10,000 files)."""

    kind: str
    #: raw little-endian u32 after the magic (``file`` prints it as ``version 0x1000d``); None if < 8 bytes
    header_version: int | None
    #: component layer (upper 16 bits of the header u32) for components and for unknown versions whose
    #: upper half is not zero; None for core modules (their layer 0 is implicit) and non-wasm
    layer: int | None
    #: exactly what ``file -b`` 5.44 prints for these bytes (None where we do not imitate ``file``)
    description: str | None


@dataclass(slots=True)
class Section:
    id: int
    name: str  # "type", "import", ... or the custom section's own name
    offset: int  # absolute offset of the section id byte
    size: int  # payload size in bytes (the u32 after the id)


class Import(NamedTuple):
    """Named tuples, not dataclasses: the walk builds them with C-level ``tuple.__new__`` (75,000 exports)."""

    module: str | None  # None for component imports (a component import has one name)
    name: str
    kind: str  # func | table | memory | global | tag (core); func | value | type | component | instance | module


class Export(NamedTuple):
    name: str
    kind: str


@dataclass(slots=True)
class Memory:
    index: int  # in the module's memory index space (imports first)
    min: int  # pages
    max: int | None
    shared: bool  # threads proposal: flags bit 1
    memory64: bool  # memory64 proposal: flags bit 2
    page_size_log2: int | None  # custom-page-sizes proposal: flags bit 3, then the log2 of the page size
    imported: bool
    #: None for the module itself; "core module #N" for a core module nested in a component
    module: str | None = None


@dataclass(slots=True)
class Producer:
    name: str
    version: str


@dataclass(slots=True)
class Validation:
    ok: bool | None  # None: no validator for this kind
    message: str | None  # the engine's message verbatim (None when ok)
    engine: str


@dataclass
class WasmInfo:
    path: str | None
    kind: str
    header_version: int | None
    layer: int | None
    description: str | None
    size: int
    well_formed: bool = True
    error: str | None = None
    error_offset: int | None = None
    error_category: str | None = None
    sections: list[Section] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    memories: list[Memory] = field(default_factory=list)
    tables: int = 0
    tags: int = 0  # defined + imported exception tags
    globals_defined: int | None = None  # None when the global section is skipped
    functions_defined: int = 0
    types: int = 0
    gc_types: int = 0  # struct/array/sub/rec entries in the type section
    start_function: int | None = None
    module_name: str | None = None
    function_names: int = 0
    producers: dict[str, list[Producer]] = field(default_factory=dict)
    target_features: list[str] = field(default_factory=list)  # "+simd128", "-atomics", "=mutable-globals"
    nested_modules: int = 0  # components: core modules at any depth
    nested_components: int = 0  # components: components at any depth
    custom_notes: list[str] = field(default_factory=list)  # unreadable name/producers/... (not fatal)
    traits: list[str] = field(default_factory=list)
    #: lists cut short by a cap; always empty in a result (a cap hit raises a "limit" error instead)
    caps_hit: list[str] = field(default_factory=list)
    validation: Validation | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; written out by hand because ``dataclasses.asdict`` deep-copies 75,000 exports slowly."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["sections"] = [{"id": s.id, "name": s.name, "offset": s.offset, "size": s.size} for s in self.sections]
        d["imports"] = [{"module": m, "name": n, "kind": k} for m, n, k in self.imports]
        d["exports"] = [{"name": n, "kind": k} for n, k in self.exports]
        d["memories"] = [asdict(m) for m in self.memories]
        d["producers"] = {k: [{"name": p.name, "version": p.version} for p in v]
                          for k, v in sorted(self.producers.items())}
        d["target_features"] = list(self.target_features)
        d["custom_notes"] = list(self.custom_notes)
        d["traits"] = list(self.traits)
        d["caps_hit"] = list(self.caps_hit)
        d["truncated_lists"] = list(self.caps_hit)
        d["validation"] = asdict(self.validation) if self.validation is not None else None
        return d
