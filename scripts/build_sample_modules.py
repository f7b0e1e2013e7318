"""Build the sample modules in ``data/modules/``: one small file per case the inspector must tell apart.

Core modules come from WAT text through the ``wasmtime`` package's ``wat2wasm``; what WAT cannot
say (components, custom sections with exact bytes, a wrong version, a truncated file) is made by
small byte builders below. Everything is deterministic: running the script again gives identical
bytes (a test rebuilds into a temporary folder and compares). ``data/modules.csv`` describes each
file and what the inspector must say about it.

Usage: .venv/bin/python scripts/build_sample_modules.py [--out DIR]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import wasmtime

from macwasm.wasm.encode import custom_section, name, section, uleb, vec

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "data" / "modules"

MAGIC = b"\x00asm"
CORE_VERSION = b"\x01\x00\x00\x00"
COMPONENT_PREAMBLE = b"\x0d\x00\x01\x00"  # version 0x0d, layer 1: `file` prints "version 0x1000d"


# ------------------------------------------------------------------------------------ byte builders
# uleb, name, vec, section and custom_section come from macwasm.wasm.encode (shared with the tests).


def producers_section(fields: dict[str, list[tuple[str, str]]]) -> bytes:
    """tool-conventions ``producers``: vec of (field name, vec of (name, version))."""
    return custom_section("producers", vec([
        name(field) + vec([name(n) + name(v) for n, v in values]) for field, values in fields.items()
    ]))


def target_features_section(features: list[str]) -> bytes:
    """tool-conventions ``target_features``: vec of (prefix byte '+', '-' or '=', feature name)."""
    return custom_section("target_features", vec([f[0].encode() + name(f[1:]) for f in features]))


def wat(text: str) -> bytes:
    return bytes(wasmtime.wat2wasm(text))


# ------------------------------------------------------------------------------------------ samples

MVP_WAT = """(module
  (func (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add))"""


def mvp() -> bytes:
    return wat(MVP_WAT)


def wasi_preview1_command() -> bytes:
    return wat("""(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "hello\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 8))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))
    (call $proc_exit (i32.const 0))))""")


def component_wasi_p2() -> bytes:
    """A component importing a WASI 0.2 interface (as an empty instance type) and embedding a core module."""
    instance_type = b"\x42" + vec([])  # instancetype: 0x42, no declarations
    types = section(7, vec([instance_type]))
    import_entry = b"\x00" + name("wasi:cli/environment@0.2.0") + b"\x05" + uleb(0)  # (instance (type 0))
    imports = section(10, vec([import_entry]))
    core_module = section(1, mvp())
    export_entry = b"\x00" + name("adder") + b"\x00\x11" + uleb(0) + b"\x00"  # core module 0, no ascription
    exports = section(11, vec([export_entry]))
    return MAGIC + COMPONENT_PREAMBLE + types + imports + core_module + exports


def threads() -> bytes:
    return wat("""(module
  (memory (export "memory") 1 16 shared)
  (func (export "add_atomic") (param i32 i32) (result i32)
    (i32.atomic.rmw.add (local.get 0) (local.get 1))))""")


def memory64() -> bytes:
    return wat("""(module
  (memory (export "memory") i64 1)
  (func (export "load") (param i64) (result i32)
    (i32.load (local.get 0))))""")


def multi_memory() -> bytes:
    return wat("""(module
  (memory $a (export "a") 1)
  (memory $b (export "b") 2 4)
  (func (export "copy") (param i32)
    (i32.store $b (local.get 0) (i32.load $a (local.get 0)))))""")


def exceptions() -> bytes:
    return wat("""(module
  (tag $oops (export "oops") (param i32))
  (func (export "raise") (param i32)
    (throw $oops (local.get 0))))""")


def gc_types() -> bytes:
    return wat("""(module
  (rec
    (type $node (sub (struct (field $value i32) (field $next (ref null $node)))))
    (type $leaf (sub final $node (struct (field $value i32) (field $next (ref null $node))))))
  (type $bytes (array (mut i8)))
  (func (export "make") (param i32) (result (ref $node))
    (struct.new $node (local.get 0) (ref.null $node))))""")


def simd_features() -> bytes:
    module = wat("""(module
  (func (export "splat_add") (param i32) (result v128)
    (i32x4.add (i32x4.splat (local.get 0)) (v128.const i32x4 1 2 3 4))))""")
    return module + target_features_section(["+simd128", "+mutable-globals", "-atomics"])


def producers_and_names() -> bytes:
    module = wat("""(module $calculator
  (func $double (export "double") (param i32) (result i32)
    (i32.mul (local.get 0) (i32.const 2)))
  (func $square (export "square") (param i32) (result i32)
    (i32.mul (local.get 0) (local.get 0))))""")
    return module + producers_section({
        "language": [("Rust", "1.80.0")],
        "processed-by": [("rustc", "1.80.0 (stable)"), ("wasm-opt", "116")],
        "sdk": [("macwasm-samples", "1")],
    })


def unknown_version() -> bytes:
    return MAGIC + b"\x02\x00\x00\x00" + section(1, vec([]))  # a future core version 2


def not_wasm() -> bytes:
    return b"This is a text file that only ends in .wasm.\n"


def truncated() -> bytes:
    """The MVP module cut inside its code section: the section says more bytes than the file has."""
    return mvp()[:-3]


#: file name -> builder; the order is the order of data/modules.csv
SAMPLES: dict[str, Callable[[], bytes]] = {
    "mvp.wasm": mvp,
    "wasi-preview1-command.wasm": wasi_preview1_command,
    "component-wasi-p2.wasm": component_wasi_p2,
    "threads-shared-memory.wasm": threads,
    "memory64.wasm": memory64,
    "multi-memory.wasm": multi_memory,
    "exceptions-tag.wasm": exceptions,
    "gc-types.wasm": gc_types,
    "simd-target-features.wasm": simd_features,
    "producers-and-names.wasm": producers_and_names,
    "unknown-version.wasm": unknown_version,
    "not-wasm.wasm": not_wasm,
    "truncated.wasm": truncated,
}


def build_all() -> dict[str, bytes]:
    return {file_name: builder() for file_name, builder in SAMPLES.items()}


def write_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, data in build_all().items():
        path = out / file_name
        path.write_bytes(data)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    args = parser.parse_args()
    for path in write_all(args.out):
        print(f"{path.stat().st_size:6d}  {path}")


if __name__ == "__main__":
    main()
