"""Deep validation with a real engine: the ``wasmtime`` package, validate or compile only, never instantiate.

Core modules go through ``Module.validate`` (decode + validate, no code generation). Components
have no validate-only entry point in the Python package, so they are compiled with
``wasmtime.component.Component(engine, bytes)``: that validates and generates code but creates no
store and no instance, so nothing in the component runs. The engine enables every proposal the
spec test suites use that wasmtime's ``Config`` offers, so that a valid GC, exceptions, memory64,
threads, multi-memory or SIMD module is not reported as invalid merely for using its proposal.

Known gaps (wasmtime-py 50.0.1): its ``Config`` has no switch for the component model's async,
threading and fixed-length-list features, so 10 of the 135 valid components of the spec suite are
reported invalid by wasmtime ("... requires the component model threading feature"); the message
says which feature. Our structural walk accepts them.

Imported lazily (only for ``--validate``): importing wasmtime costs more than inspecting a file.
"""

from __future__ import annotations

import functools
from importlib.metadata import version

import wasmtime
import wasmtime.component

from macwasm.wasm.model import COMPONENT, Validation

ENGINE_NAME = f"wasmtime {version('wasmtime')}"
#: the Config switches turned on (the proposals in the spec suites that wasmtime can validate)
PROPOSALS = (
    "wasm_bulk_memory", "wasm_multi_value", "wasm_reference_types", "wasm_simd", "wasm_relaxed_simd",
    "wasm_threads", "wasm_memory64", "wasm_multi_memory", "wasm_function_references", "wasm_gc",
    "wasm_exceptions", "wasm_tail_call", "wasm_custom_page_sizes", "wasm_wide_arithmetic",
    "wasm_component_model", "wasm_component_model_map", "wasm_component_model_implements", "shared_memory",
    "gc_support",
)


@functools.cache
def _engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    for switch in PROPOSALS:
        setattr(config, switch, True)
    return wasmtime.Engine(config)


def validate_bytes(data: bytes, kind: str) -> Validation:
    """The engine's verdict on ``data``; its message is kept verbatim."""
    engine = _engine()
    try:
        if kind == COMPONENT:
            wasmtime.component.Component(engine, data)
        else:
            wasmtime.Module.validate(engine, data)
    except wasmtime.WasmtimeError as exc:
        return Validation(False, str(exc), ENGINE_NAME)
    return Validation(True, None, ENGINE_NAME)
