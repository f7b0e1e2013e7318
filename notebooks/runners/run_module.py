"""Compile, instantiate and call one export of a module with a Python-hosted engine (notebook 04).

Usage: ``python run_module.py ENGINE MODULE.wasm EXPORT [INT ...]`` with ENGINE one of
``wasmtime`` (Cranelift, the default compiler), ``wasmtime-pulley`` (wasmtime's Pulley interpreter,
target ``pulley64``) or ``pywasm`` (a pure-Python interpreter). Prints the result. The part that
``macwasm.memtrace`` counts lies between the two marks: opening paths that do not exist.
"""

from __future__ import annotations

import io
import os
import sys

BEGIN, END = "/macwasm-trace/begin", "/macwasm-trace/end"


def mark(path: str) -> None:
    try:
        os.close(os.open(path, os.O_RDONLY))
    except OSError:
        pass  # the path never exists: the failed openat is the mark


def main(engine: str, path: str, export: str, *args: str) -> None:
    data = open(path, "rb").read()
    numbers = [int(a) for a in args]
    if engine in ("wasmtime", "wasmtime-pulley"):
        import wasmtime

        config = wasmtime.Config()
        if engine == "wasmtime-pulley":
            config.target = "pulley64"
        store = wasmtime.Store(wasmtime.Engine(config))
        mark(BEGIN)
        module = wasmtime.Module(store.engine, data)
        result = wasmtime.Instance(store, module, []).exports(store)[export](store, *numbers)
    elif engine == "pywasm":
        import pywasm

        runtime = pywasm.core.Runtime()
        mark(BEGIN)
        instance = runtime.instance(pywasm.core.ModuleDesc.from_reader(io.BytesIO(data)))
        result = runtime.invocate(instance, export, numbers)[0]
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    mark(END)
    print(result)


if __name__ == "__main__":
    main(*sys.argv[1:])
