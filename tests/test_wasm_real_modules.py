"""Real modules from npm and PyPI packages come out of the inspector complete and right.

Why: hand-made samples cannot show that the walk survives what real toolchains emit (emscripten's
dylink.0 and 75,000 exports, Rust's 7 MB name sections, Go's gojs imports, WASI preview 2 names,
shared memories, tags). The modules are pinned in ``scripts/fetch_real_modules.py`` (package,
version, file, sha256) and fetched once per session into ``.cache/real-modules/``; this test needs
the registries (marker ``network``) and is not skipped: CI reaches them.

Every fact is checked against an INDEPENDENT reader, never against numbers typed into this file:
wabt's ``wasm-objdump`` (C++, Debian's ``wabt``) for sections, import/export names and kinds,
memories, tags and target features; the ``wasmtime`` engine (compile only, never instantiated) for
the exact (module, name) split of imports where objdump prints them joined, and for the module
objdump 1.0.32 cannot decode (exnref in the JSPI build).
"""

from __future__ import annotations

import functools
import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from repo_scripts import load_script

from macwasm.wasm import inspect_path

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.network


def _load_fetch_script():
    return load_script("fetch_real_modules")


FETCH = _load_fetch_script()
MANIFEST = {m.key: m for m in FETCH.MANIFEST}
KEYS = list(MANIFEST)
# wasmtime compiles (slowly: ~0.5 s/MB here) only where it adds something: small modules, for the
# exact (module, name) split, and modules objdump cannot decode.
WASMTIME_MAX_BYTES = 2_000_000
SECTION_IDS = {"Custom": 0, "Type": 1, "Import": 2, "Function": 3, "Table": 4, "Memory": 5, "Global": 6,
               "Export": 7, "Start": 8, "Elem": 9, "Code": 10, "Data": 11, "DataCount": 12, "Tag": 13}
WASI_IMPORT = re.compile(r"^(wasi_snapshot_preview1|wasi_unstable|wasi:)")


@pytest.fixture(scope="session")
def real_modules() -> dict[str, Path]:
    """Fetch once per session (idempotent: files already there with the pinned sha256 are kept)."""
    return FETCH.fetch(FETCH.MANIFEST, FETCH.DEFAULT_DEST)


@pytest.fixture(scope="session")
def objdump() -> str:
    tool = shutil.which("wasm-objdump")
    if tool is None:
        pytest.fail("wasm-objdump is missing: run `make sysdeps` (installs Debian's wabt)")
    return tool


# ---------------------------------------------------------------- independent readers


@dataclass
class Memory:
    initial: int
    maximum: int | None
    shared: bool
    imported: bool


@dataclass
class ObjdumpView:
    """What wabt's wasm-objdump says about one module; ``details_ok`` is False when ``-x`` failed."""

    sections: list[tuple[int, str, int, int]] = field(default_factory=list)  # id, custom name, content start, size
    details_ok: bool = True
    imports: list[tuple[str, str]] = field(default_factory=list)  # kind, "module.name" (wabt joins them)
    exports: list[tuple[str, str]] = field(default_factory=list)  # kind, name
    memories: list[Memory] = field(default_factory=list)
    defined_tags: int = 0
    target_features: list[str] = field(default_factory=list)


_HEADER = re.compile(r"^\s*(\w+) start=0x([0-9a-f]+) end=0x([0-9a-f]+) \(size=0x([0-9a-f]+)\)(?: count: \d+)?"
                     r"(?: \"(.*)\")?")
_ITEM = re.compile(r"^ - (\w+)\[\d+\]")
_MEMORY = re.compile(r"pages: initial=(\d+)(?: max=(\d+))?( shared)?")


@functools.cache
def objdump_view(tool: str, path: Path) -> ObjdumpView:
    view = ObjdumpView()
    # wabt 1.0.32 exits 1 on types it does not know (exnref) yet still lists every section header; such
    # a listing is used only when it reaches the end of the file.
    heads = subprocess.run([tool, "-h", str(path)], capture_output=True, text=True, check=False)
    last_end = 0
    for line in heads.stdout.splitlines():
        m = _HEADER.match(line)
        if m:
            name, start, end, size, custom = m.groups()
            view.sections.append((SECTION_IDS[name], custom if name == "Custom" else "", int(start, 16), int(size, 16)))
            last_end = int(end, 16)
    if heads.returncode != 0:
        assert last_end == path.stat().st_size, f"wasm-objdump -h stopped early on {path}: {heads.stderr[-300:]}"
    proc = subprocess.run([tool, "-x", str(path)], capture_output=True, text=True, errors="replace", check=False)
    if proc.returncode != 0:
        view.details_ok = False
        return view
    current = None
    custom_name = None
    for line in proc.stdout.splitlines():
        head = re.match(r"^(\w+)(?:\[\d+\])?:$", line)
        if head:
            current = head.group(1)
            custom_name = None
            continue
        if current == "Custom":
            m = re.match(r'^ - name: "(.*)"$', line)
            if m:
                custom_name = m.group(1)
            else:
                feature = re.match(r"^  - \[([+=-])\] (\S+)$", line)
                if custom_name == "target_features" and feature:
                    view.target_features.append(feature.group(1) + feature.group(2))
            continue
        item = _ITEM.match(line)
        if not item:
            continue
        kind = item.group(1)
        if current == "Import":
            view.imports.append((kind, line.split(" <- ", 1)[1]))
            if kind == "memory":
                view.memories.append(_memory(line, imported=True))
        elif current == "Export":
            view.exports.append((kind, re.search(r' -> "(.*)"$', line).group(1)))
        elif current == "Memory":
            view.memories.append(_memory(line, imported=False))
        elif current == "Tag":
            view.defined_tags += 1
    return view


def _memory(line: str, *, imported: bool) -> Memory:
    m = _MEMORY.search(line)
    assert m, line
    return Memory(int(m.group(1)), int(m.group(2)) if m.group(2) else None, bool(m.group(3)), imported)


def _wasmtime_engine():
    import wasmtime

    config = wasmtime.Config()
    for feature in ("wasm_threads", "shared_memory", "wasm_exceptions", "wasm_simd", "wasm_relaxed_simd",
                    "wasm_multi_memory", "wasm_memory64", "wasm_tail_call", "wasm_function_references", "wasm_gc",
                    "wasm_bulk_memory", "wasm_reference_types", "wasm_multi_value"):
        setattr(config, feature, True)
    config.cranelift_opt_level = "none"
    return wasmtime.Engine(config)


_WASMTIME_KINDS = {"FuncType": "func", "TableType": "table", "MemoryType": "memory", "GlobalType": "global",
                   "TagType": "tag"}


@functools.cache
def wasmtime_view(path: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]], list[Memory]]:
    """(imports as (module, name, kind), exports as (name, kind), memories) from a compile-only Module."""
    import wasmtime

    module = wasmtime.Module(_wasmtime_engine(), path.read_bytes())  # compiled, never instantiated
    imports = [(i.module, i.name, _WASMTIME_KINDS[type(i.type).__name__]) for i in module.imports]
    exports = [(e.name, _WASMTIME_KINDS[type(e.type).__name__]) for e in module.exports]
    memories = [Memory(i.type.limits.min, i.type.limits.max, i.type.is_shared, True)
                for i in module.imports if isinstance(i.type, wasmtime.MemoryType)]
    return imports, exports, memories


@functools.cache
def inspected(path: Path) -> dict:
    return inspect_path(path).to_dict()


# ---------------------------------------------------------------- tests


def test_manifest_covers_the_cases_the_issue_asks_for():
    """The pinned set itself: both registries, four toolchain families, and files of 10 MB and up."""
    assert {m.registry for m in MANIFEST.values()} == {"npm", "pypi"}
    toolchains = " ".join(m.toolchain for m in MANIFEST.values())
    for family in ("emscripten", "Rust", "Go", "C++"):
        assert family in toolchains
    assert sum(m.size >= 10_000_000 for m in MANIFEST.values()) >= 8
    assert len(set(KEYS)) == len(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_bytes_are_the_pinned_ones(real_modules, key):
    data = real_modules[key].read_bytes()
    assert len(data) == MANIFEST[key].size
    assert hashlib.sha256(data).hexdigest() == MANIFEST[key].sha256


@pytest.mark.parametrize("key", KEYS)
def test_header_and_verdict(real_modules, key):
    info = inspected(real_modules[key])
    assert info["kind"] == "core-module"
    assert info["header_version"] == 1
    assert info["layer"] is None
    assert info["well_formed"] is True, info["error"]
    assert info["error"] is None
    if shutil.which("file"):
        expected = subprocess.run(["file", "-b", str(real_modules[key])], capture_output=True, text=True,
                                  check=True).stdout.strip()
        assert info["description"] == expected


@pytest.mark.parametrize("key", KEYS)
def test_sections_match_wasm_objdump(real_modules, objdump, key):
    """Same sections, same order, same ids, same content sizes, same custom names, same places."""
    view = objdump_view(objdump, real_modules[key])
    ours = inspected(real_modules[key])["sections"]
    assert [s["id"] for s in ours] == [sid for sid, _, _, _ in view.sections]
    assert [s["size"] for s in ours] == [size for _, _, _, size in view.sections]
    assert [s["name"] for s in ours if s["id"] == 0] == [name for sid, name, _, _ in view.sections if sid == 0]
    # ``offset`` is the section's id byte; objdump gives where the content starts, after the size LEB128
    # (which toolchains often pad to 5 bytes, so its length is read from the file, not recomputed).
    raw = real_modules[key].read_bytes()
    assert [raw[s["offset"]] for s in ours] == [s["id"] for s in ours]
    starts = [start for _, _, start, _ in view.sections]
    assert [s["offset"] + 1 + _leb_length(raw, s["offset"] + 1) for s in ours] == starts


def _leb_length(raw: bytes, at: int) -> int:
    length = 1
    while raw[at + length - 1] & 0x80:
        length += 1
    return length


@pytest.mark.parametrize("key", KEYS)
def test_imports_and_exports_match_an_independent_reader(real_modules, objdump, key):
    """Every import and export, in order, with its kind: counts up to 75,111 must come out complete.

    wasm-objdump where it can decode the module (it prints "module.name" joined), wasmtime otherwise.
    """
    view = objdump_view(objdump, real_modules[key])
    info = inspected(real_modules[key])
    if view.details_ok:
        assert [(i["kind"], f"{i['module']}.{i['name']}") for i in info["imports"]] == view.imports
        assert [(e["kind"], e["name"]) for e in info["exports"]] == view.exports
    else:
        imports, exports, _ = wasmtime_view(real_modules[key])
        assert [(i["module"], i["name"], i["kind"]) for i in info["imports"]] == imports
        assert [(e["name"], e["kind"]) for e in info["exports"]] == exports


@pytest.mark.parametrize("key", [k for k in KEYS if MANIFEST[k].size <= WASMTIME_MAX_BYTES])
def test_imports_and_exports_match_wasmtime(real_modules, key):
    """The exact (module, name) split of imports, from an engine that compiles the module (never runs it)."""
    imports, exports, _ = wasmtime_view(real_modules[key])
    info = inspected(real_modules[key])
    assert [(i["module"], i["name"], i["kind"]) for i in info["imports"]] == imports
    assert [(e["name"], e["kind"]) for e in info["exports"]] == exports


def test_75000_exports_come_out_complete(real_modules, objdump):
    """DuckDB's emscripten builds export over 75,000 symbols: all of them, nothing capped."""
    for key in ("duckdb-eh", "duckdb-mvp"):
        view = objdump_view(objdump, real_modules[key])
        info = inspected(real_modules[key])
        assert len(view.exports) > 75_000
        assert len(info["exports"]) == len(view.exports)
        assert info["caps_hit"] == []


@pytest.mark.parametrize("key", KEYS)
def test_memories_match(real_modules, objdump, key):
    view = objdump_view(objdump, real_modules[key])
    if view.details_ok:
        memories = view.memories
    elif any(sid == 5 for sid, _, _, _ in view.sections):
        pytest.skip("objdump cannot decode it and wasmtime shows only imported memories")
    else:
        memories = wasmtime_view(real_modules[key])[2]
    ours = inspected(real_modules[key])["memories"]
    assert [(m["min"], m["max"], m["shared"]) for m in ours] == [(m.initial, m.maximum, m.shared) for m in memories]


@pytest.mark.parametrize("key", KEYS)
def test_traits_follow_from_what_the_module_declares(real_modules, objdump, key):
    """threads = a shared memory; (legacy-)exceptions = a tag; simd needs simd128 enabled; wasi = WASI imports."""
    view = objdump_view(objdump, real_modules[key])
    info = inspected(real_modules[key])
    traits = set(info["traits"])
    if view.details_ok:
        shared = any(m.shared for m in view.memories)
        tags = view.defined_tags > 0 or any(kind == "tag" for kind, _ in view.imports)
        wasi = any(WASI_IMPORT.match(name) for _, name in view.imports)
    else:
        imports, _, memories = wasmtime_view(real_modules[key])
        shared = any(m.shared for m in memories)
        tags = any(sid == 13 for sid, _, _, _ in view.sections) or any(k == "tag" for _, _, k in imports)
        wasi = any(WASI_IMPORT.match(module) for module, _, _ in imports)
    assert ("threads" in traits) == shared
    assert bool({"exceptions", "legacy-exceptions"} & traits) == tags  # which one: test_wasm_opcodes.py
    assert ("wasi" in traits) == wasi
    if view.target_features and "simd" in traits:  # SIMD used (a v128 declared) needs the compiler's feature
        assert "+simd128" in view.target_features


@pytest.mark.parametrize("key", KEYS)
def test_producers_and_target_features_are_read_from_their_sections(real_modules, objdump, key):
    """producers equals a direct decode of the section's bytes; target_features equals objdump's list."""
    view = objdump_view(objdump, real_modules[key])
    info = inspected(real_modules[key])
    custom = {name: (start, size) for sid, name, start, size in view.sections if sid == 0}
    if "producers" not in custom:
        assert info["producers"] == {}
    else:
        start, size = custom["producers"]
        expected = _decode_producers(real_modules[key].read_bytes()[start:start + size])
        assert expected, "the producers section is empty"
        assert info["producers"] == expected
    if view.details_ok:
        assert info["target_features"] == view.target_features


def _decode_producers(content: bytes) -> dict[str, list[dict[str, str]]]:
    """The tool-conventions layout, decoded here on purpose (not through macwasm) to have a second reader."""
    pos = 0

    def uleb() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = content[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    def name() -> str:
        nonlocal pos
        length = uleb()
        pos += length
        return content[pos - length:pos].decode("utf-8")

    assert name() == "producers"
    fields: dict[str, list[dict[str, str]]] = {}
    for _ in range(uleb()):
        field_name = name()
        fields[field_name] = [{"name": name(), "version": name()} for _ in range(uleb())]
    assert pos == len(content)
    return dict(sorted(fields.items()))
