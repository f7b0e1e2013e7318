"""The WebAssembly inspector: header, sections, imports/exports, memories, custom sections, traits.

Public API (other parts of macwasm and its tests code against it; keep it stable):

- ``inspect_bytes(data, *, path=None) -> WasmInfo``
- ``inspect_path(path, *, validate=False) -> WasmInfo`` (reads through ``macwasm.inputs.open_readonly``)
- ``classify_header(first8) -> HeaderInfo`` (header only, for cheap classification)
- ``WasmFormatError`` for malformed input (the only exception these raise on bad bytes)

Trait meanings: ``data/wasm_traits.csv``. Caps: the WASM block of ``macwasm.limits``. A count or size
above a cap raises ``WasmFormatError`` with ``category="limit"`` (the partial result in ``err.info``);
a returned result is therefore always complete (``caps_hit``/``truncated_lists`` stay empty). The caps
are the JS API's implementation limits, so a module a browser accepts is never capped.
"""

from macwasm.errors import WasmFormatError
from macwasm.wasm.header import classify_header, file_description
from macwasm.wasm.inspect import inspect_bytes, inspect_path
from macwasm.wasm.model import (
    COMPONENT,
    CORE_MODULE,
    KINDS,
    NOT_WASM,
    UNKNOWN_VERSION,
    Export,
    HeaderInfo,
    Import,
    Memory,
    Producer,
    Section,
    Validation,
    WasmInfo,
)

__all__ = [
    "COMPONENT", "CORE_MODULE", "KINDS", "NOT_WASM", "UNKNOWN_VERSION", "Export", "HeaderInfo", "Import",
    "Memory", "Producer", "Section", "Validation", "WasmFormatError", "WasmInfo", "classify_header",
    "file_description", "inspect_bytes", "inspect_path",
]
