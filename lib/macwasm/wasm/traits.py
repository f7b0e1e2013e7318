"""Derived traits: the facts a user wants at a glance, computed from what the walk collected.

Each trait's meaning, the bytes it comes from and its source are in ``data/wasm_traits.csv``
(``TRAITS_TABLE``); a test checks that every trait this module can emit has a row there and vice
versa. Traits of core modules nested in a component count for the component (a component whose
inner module uses shared memory needs threads), except WASI, which is read from the component's
own imports only (inner modules import the adapter's names, not the host's).
"""

from __future__ import annotations

from collections.abc import Iterable

from macwasm.wasm.core import CoreFacts, uses_tags
from macwasm.wasm.model import COMPONENT, Import, WasmInfo
from macwasm.wasm.opcodes import CURRENT_EH, LEGACY_EH

TRAITS_TABLE = "wasm_traits.csv"
WASI_PREVIEW1 = "wasi_snapshot_preview1"
WASI_UNSTABLE = "wasi_unstable"
WASI_INTERFACE_PREFIX = "wasi:"


def wasi_traits(imports: Iterable[Import]) -> set[str]:
    traits: set[str] = set()
    for imp in imports:
        source = imp.module if imp.module is not None else imp.name
        if source == WASI_PREVIEW1:
            traits.update(("wasi", "wasi-preview1"))
        elif source == WASI_UNSTABLE:
            traits.update(("wasi", "wasi-unstable"))
        elif source.startswith(WASI_INTERFACE_PREFIX):
            traits.add("wasi")
            traits.add("wasi-p3" if "@0.3" in source else "wasi-p2")
    return traits


def derive_traits(info: WasmInfo, modules: list[CoreFacts]) -> list[str]:
    traits = wasi_traits(info.imports)
    if info.kind == COMPONENT:
        traits.add("component")
    for facts in modules:
        if any(m.shared for m in facts.memories) or facts.atomic_instructions:
            traits.add("threads")
        if any(m.memory64 for m in facts.memories):
            traits.add("memory64")
        if any(m.page_size_log2 is not None for m in facts.memories):
            traits.add("custom-page-sizes")
        if len(facts.memories) > 1:
            traits.add("multi-memory")
        if uses_tags(facts):
            bits = facts.instruction_bits
            if bits is not None and bits & LEGACY_EH:
                traits.add("legacy-exceptions")  # try/catch: what wasmtime, wazero and WasmEdge refuse
            if bits is None or not bits & LEGACY_EH or bits & CURRENT_EH:
                traits.add("exceptions")
        if facts.gc_types:
            traits.add("gc")
        if facts.start_function is not None:
            traits.add("start-function")
        if facts.v128:
            traits.add("simd")
    if any(s.id == 0 and s.name == "name" for s in info.sections):
        traits.add("name-section")
    return sorted(traits)
