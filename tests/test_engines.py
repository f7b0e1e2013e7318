"""Engine detection: the signature table, one positive and one negative per signal kind, how signals
combine, and hostile symbol tables, export tries, chained fixups and Go build info.

Every image is built by ``macho_builders.image`` as ld64 lays it out; the real binaries from npm and
PyPI are in ``test_real_engines.py``.
"""

from __future__ import annotations

import csv
import shutil
import struct
from pathlib import Path

import macho_builders as mb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from macwasm.datafiles import data_path
from macwasm.errors import LIMIT, MachOFormatError, TableFormatError
from macwasm.policy.tables import runtimes
from macwasm.signing import engines as engines_mod
from macwasm.signing import linkedit
from macwasm.signing.engines import KINDS, signatures
from macwasm.signing.macho import read_macho
from macwasm.signing.model import ENGINE_CONFIDENCES, ENGINE_LOCATIONS

FIXTURES = Path(__file__).parent / "fixtures" / "macho-engines"
PANIC = mb.RUST_PANIC_PATH


def detect(data: bytes, index: int = 0):
    return read_macho(data, path="t.macho")[index].engines


def one(data: bytes):
    found = detect(data)
    assert len(found) == 1, found
    return found[0]


def engines_of(data: bytes) -> list[str]:
    return [d.engine for d in detect(data)]


def error(data: bytes, words: str, category: str = "malformed") -> MachOFormatError:
    with pytest.raises(MachOFormatError) as info:
        read_macho(data, path="bad.macho")
    err = info.value
    assert words in err.reason, err.reason
    assert err.category == category and err.offset is not None and 0 <= err.offset <= len(data)
    assert err.message.startswith("bad.macho: at offset 0x")
    return err


# ------------------------------------------------------------------------------------- the table


def test_the_committed_engine_fixtures_are_what_the_builders_make() -> None:
    made = mb.engine_fixtures()
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(made)
    for name, data in made.items():
        assert (FIXTURES / name).read_bytes() == data, f"{name}: run tests/macho_builders.py"



def test_every_row_names_known_engines_and_runtimes_and_every_kind_is_used() -> None:
    rows = signatures()
    known = runtimes()
    families = {r.family for r in known.values()}
    assert {r.kind for r in rows} == set(KINDS)
    for row in rows:
        assert set(row.engines) <= families and row.source and row.confidence in ENGINE_CONFIDENCES
        if row.runtime:
            assert known[row.runtime].family in row.engines
    assert len({r.id for r in rows}) == len(rows)


def _broken_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change) -> None:
    # the runtime tables name product types, which are the rows of product_types.csv
    for name in ("runtimes.csv", "runtime_facts.csv", "runtime_caveats.csv", "engine_signatures.csv",
                 "product_types.csv"):
        shutil.copy(data_path(name), tmp_path / name)
    path = tmp_path / "engine_signatures.csv"
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    change(rows)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("MACWASM_DATA", str(tmp_path))


@pytest.mark.parametrize(("change", "words"), [
    (lambda rows: rows[0].update(source=""), "every fact needs its source"),
    (lambda rows: rows[0].update(engine="quickjs"), "engine 'quickjs' is not one of"),
    (lambda rows: rows[0].update(kind="magic"), "kind 'magic' is not one of"),
    (lambda rows: rows[0].update(confidence="certain"), "confidence 'certain' is not one of"),
    (lambda rows: rows[0].update(runtime="wasmtime"), "runtime wasmtime is not of engine v8"),
    (lambda rows: rows[1].update(id=rows[0]["id"]), "used twice"),
    (lambda rows: rows[0].update(pattern=""), "pattern must be non-empty"),
])
def test_a_broken_table_is_refused_naming_the_line(tmp_path, monkeypatch, change, words) -> None:
    _broken_table(tmp_path, monkeypatch, change)
    with pytest.raises(TableFormatError) as info:
        signatures()
    assert words in info.value.reason and "engine_signatures.csv" in str(info.value.path)


# ------------------------------------------------------------------------- frameworks and dylibs


@pytest.mark.parametrize("cmd", [mb.LC_LOAD_DYLIB, mb.LC_LOAD_WEAK_DYLIB, mb.LC_REEXPORT_DYLIB,
                                 mb.LC_LAZY_LOAD_DYLIB, mb.LC_LOAD_UPWARD_DYLIB])
def test_a_linked_electron_framework_is_v8_under_chromiums_allocator(cmd) -> None:
    d = one(mb.image(dylibs=[(cmd, "@rpath/Electron Framework.framework/Electron Framework")]))
    assert (d.engine, d.confidence, d.location, d.runtimes, d.embedder) == ("v8", "high", "linked", ("electron",),
                                                                             "Electron")
    assert d.evidence[0].startswith("links @rpath/Electron Framework.framework/Electron Framework (LC_")
    assert d.signatures == ("electron-framework",)


def test_the_framework_binary_itself_is_found_by_its_install_name() -> None:
    d = one(mb.image(filetype=mb.MH_DYLIB,
                     id_dylib="@rpath/Electron Framework.framework/Versions/A/Electron Framework"))
    assert (d.engine, d.location) == ("v8", "embedded") and "(LC_ID_DYLIB)" in d.evidence[0]


@pytest.mark.parametrize(("path", "engine", "runtime"), [
    ("/System/Library/Frameworks/JavaScriptCore.framework/Versions/A/JavaScriptCore", "javascriptcore",
     "javascriptcore"),
    ("/System/Library/Frameworks/WebKit.framework/Versions/A/WebKit", "javascriptcore", "javascriptcore-wkwebview"),
    ("@rpath/Chromium Embedded Framework.framework/Chromium Embedded Framework", "v8", "electron"),
])
def test_system_and_embedded_frameworks(path, engine, runtime) -> None:
    d = one(mb.image(dylibs=[path]))
    assert (d.engine, d.runtimes) == (engine, (runtime,))


@pytest.mark.parametrize(("path", "engine"), [
    ("@rpath/libwasmtime.dylib", "wasmtime"), ("@executable_path/../Frameworks/libiwasm.dylib", "wamr"),
    ("/usr/local/lib/libwasmer.dylib", "wasmer"), ("@rpath/libwasmedge.0.dylib", "wasmedge"),
    ("@rpath/libnode.127.dylib", "v8"), ("@rpath/libv8.dylib", "v8"), ("/opt/lib/libmozjs-115.dylib", "spidermonkey"),
])
def test_engine_dylibs(path, engine) -> None:
    d = one(mb.image(dylibs=["/usr/lib/libSystem.B.dylib", path]))
    assert (d.engine, d.confidence, d.location) == (engine, "high", "linked")


@pytest.mark.parametrize("path", [
    "/System/Library/Frameworks/Foundation.framework/Versions/C/Foundation",
    "@rpath/Electron Frameworks.framework/Electron Frameworks",  # not the same framework name
    "@rpath/MyElectron Framework Helper.dylib",
    "/usr/lib/libwasm.dylib", "@rpath/libwasmtime.so", "@rpath/wasmtime.dylib",
    "/opt/WebKitten.framework/WebKitten",
])
def test_libraries_that_are_no_engine(path) -> None:
    assert detect(mb.image(dylibs=[path])) == ()


# ---------------------------------------------------------------------------------------- symbols


@pytest.mark.parametrize("in_dyld_info", [False, True])
def test_exports_in_the_trie(in_dyld_info) -> None:
    d = one(mb.image(exports=["_main", "_wasmtime_store_new", "_wasmtime_module_new"],
                     exports_in_dyld_info=in_dyld_info))
    assert (d.engine, d.location) == ("wasmtime", "embedded")
    assert d.evidence[0].startswith("exports _wasmtime_module_new (export trie)")


def test_exports_found_by_binary_search_of_the_symbol_table_without_a_trie() -> None:
    names = [(f"_f{i:04d}", "extdef", 0) for i in range(300)] + [("_wasm_runtime_init", "extdef", 0)]
    d = one(mb.image(symbols=names))
    assert d.engine == "wamr" and "exports _wasm_runtime_init (symbol table)" in d.evidence[0]


def test_an_import_shows_use_one_step_weaker_with_the_library_that_provides_it() -> None:
    d = one(mb.image(dylibs=["/usr/lib/libSystem.B.dylib", "/opt/homebrew/lib/libvmshim.dylib"],
                     symbols=[("_main", "extdef", 0), ("_WasmEdge_VMCreate", "undef", 2)]))
    assert (d.engine, d.location, d.confidence) == ("wasmedge", "imported", "medium")
    assert d.evidence[0] == ("imports _WasmEdge_VMCreate from /opt/homebrew/lib/libvmshim.dylib (symbol table) "
                             "[wasmedge-c-api, medium]")


@pytest.mark.parametrize("imports_format", [1, 2, 3])
def test_chained_fixup_imports_in_every_format(imports_format) -> None:
    d = one(mb.image(dylibs=["/usr/lib/libSystem.B.dylib"], imports=[("_malloc", 1), ("_m3Err_trapExit", -2)],
                     imports_format=imports_format))
    assert (d.engine, d.location) == ("wasm3", "imported")
    assert "imports _m3Err_trapExit from any image in the process (flat lookup) (chained fixups)" in d.evidence[0]


def test_local_symbols_are_searched_only_when_nothing_obvious_was_found() -> None:
    hidden = [("_main", "extdef", 0), ("_m3Err_mallocFailed", "local", 0)]
    d = one(mb.image(symbols=hidden))
    assert d.engine == "wasm3" and d.evidence[0].startswith("names _m3Err_mallocFailed in its symbol table")
    # With a linked framework (a high-confidence signal) the byte searches are skipped, by design.
    assert engines_of(mb.image(dylibs=["@rpath/Electron Framework.framework/Electron Framework"],
                               symbols=hidden)) == ["v8"]


@pytest.mark.parametrize("names", [
    ["_wasmtimex_store", "_wasm_runtimeinit", "__ZN2v88internal9compiler", "_m3x_", "__ZN7wasmtime"],
    ["_main", "_wasm_store_new", "_wasm_module_new"],  # wasm-c-api names other than the one in the table
])
def test_symbols_that_are_no_engine(names) -> None:
    assert detect(mb.image(exports=names, symbols=[(n, "local", 0) for n in names])) == ()


def test_shared_signals_alone_make_no_detection_but_join_an_engine_found_otherwise() -> None:
    assert detect(mb.image(exports=["_wasm_engine_new", "_napi_create_function", "__ZN2v87Isolate3NewEv"])) == ()
    d = one(mb.image(exports=["_wasm_engine_new", "_wasmer_last_error_message"]))
    assert d.engine == "wasmer" and d.signatures == ("wasmer-c-api", "wasm-c-api")
    assert d.evidence[1].endswith("[wasm-c-api, medium, shared with wasmtime/wamr/v8]")


def test_a_bun_like_binary_is_javascriptcore_not_v8_despite_its_v8_api_shims() -> None:
    d = one((FIXTURES / "engines-bun-like-arm64").read_bytes())
    assert (d.engine, d.embedder, d.runtimes) == ("javascriptcore", "Bun", ("javascriptcore",))
    assert {"jsc-llint-section", "jsc-opcodes-section", "wtf-config-section", "bun-section", "jsc-symbols",
            "v8-api-symbols", "node-api-symbols"} == set(d.signatures)
    assert any("has section __DATA,__jsc_opcodes (64 bytes)" in e for e in d.evidence)  # a zerofill section


def test_node_like_exports_are_v8_with_node_as_embedder() -> None:
    d = one(mb.image(exports=["__ZN2v88internal8compiler8Pipeline3RunEv", "__ZN4node12NodePlatformC2Ev",
                              "_napi_create_function", "__ZN2v87Isolate3NewEv"]))
    assert (d.engine, d.confidence, d.embedder) == ("v8", "high", "Node.js")
    assert d.signatures == ("v8-turbofan-symbols", "node-platform-symbols", "v8-api-symbols", "node-api-symbols")


@pytest.mark.parametrize(("names", "runtimes_shown"), [
    (["_wasm_runtime_init"], ()),
    (["_wasm_runtime_init", "_aot_load_from_aot_file"], ("wamr-aot",)),
    (["_wasm_runtime_init", "_wasm_interp_call_wasm", "_aot_load_from_aot_file"], ("wamr-interp", "wamr-aot")),
])
def test_wamr_modes_are_told_only_by_what_is_compiled_in(names, runtimes_shown) -> None:
    d = one(mb.image(exports=names))
    assert d.engine == "wamr" and set(d.runtimes) == set(runtimes_shown)


# ----------------------------------------------------------------------------------------- sections


def test_a_section_of_an_engine() -> None:
    d = one(mb.image(sections=[("__TEXT", "__text", b"\0" * 16), ("__TEXT", "__jsc_int", b"\0" * 16)]))
    assert (d.engine, d.confidence, d.runtimes) == ("javascriptcore", "high", ("javascriptcore",))


@pytest.mark.parametrize("section", [("__TEXT", "__jsc_in"), ("__TEXT", "__jsc_intx"), ("__DATA", "__bun"),
                                     ("__TEXT", "__jsc_int_")])
def test_sections_that_are_no_engine(section) -> None:
    assert detect(mb.image(sections=[(*section, b"\0" * 16)])) == ()


def test_a_lone_medium_section_stays_medium_and_a_second_kind_makes_it_high() -> None:
    wtf = ("__DATA", "__wtf_config", 64)
    assert one(mb.image(sections=[wtf])).confidence == "medium"
    d = one(mb.image(sections=[wtf], exports=["__ZN3JSC2VM6createEv"]))
    assert (d.engine, d.confidence) == ("javascriptcore", "high")  # two independent medium signals


# -------------------------------------------------------------------------------------- Go build info


def test_go_build_info_inline_and_pointer_layouts() -> None:
    d = one((FIXTURES / "engines-go-wazero-arm64").read_bytes())
    assert d.engine == "wazero" and d.evidence[0].startswith(
        "Go build info (go1.22.1) lists module github.com/tetratelabs/wazero v1.12.0")
    d = one((FIXTURES / "engines-go-old-layout-x86_64").read_bytes())
    assert d.engine == "wasmtime" and "github.com/bytecodealliance/wasmtime-go/v25 v25.0.0" in d.evidence[0]
    for bits, arch, big in ((32, "i386", False), (32, "ppc", True)):
        section = mb.go_buildinfo_pointers(deps=[("github.com/tetratelabs/wazero", "v1.0.0")], ptr_size=4,
                                           big_endian=big)
        assert engines_of(mb.image(arch, bits=bits, big_endian=big, sections=[("__DATA", "__go_buildinfo",
                                                                                  section)])) == ["wazero"]


@pytest.mark.parametrize("deps", [
    [("golang.org/x/sys", "v0.30.0")],
    [("github.com/tetratelabs/wazero-otel", "v0.1.0"), ("github.com/tetratelabs/wazerox", "v1.0.0")],
    [],
])
def test_go_binaries_without_an_engine_module(deps) -> None:
    assert detect(mb.image(sections=[("__DATA", "__go_buildinfo", mb.go_buildinfo(deps=deps))])) == ()


def test_the_main_module_and_replacements_count_too() -> None:
    wazero_itself = mb.go_buildinfo(path="github.com/tetratelabs/wazero/cmd/wazero",
                                    main=("github.com/tetratelabs/wazero", "v1.12.0"))
    assert engines_of(mb.image(sections=[("__DATA", "__go_buildinfo", wazero_itself)])) == ["wazero"]
    fork = mb.go_buildinfo(deps=[("github.com/tetratelabs/wazero", "v1.12.0")],
                           replaced={"github.com/tetratelabs/wazero": ("../wazero-fork", "")})
    assert engines_of(mb.image(sections=[("__DATA", "__go_buildinfo", fork)])) == ["wazero"]


# --------------------------------------------------------------------- Rust crates and strings


def test_rust_crate_paths_in_panic_locations() -> None:
    d = one((FIXTURES / "engines-rust-wasmtime-arm64").read_bytes())
    assert d.engine == "wasmtime" and d.confidence == "high"
    assert "panic paths name the crate wasmtime 25.0.1 (cargo registry) [wasmtime-crate, high]" in d.evidence
    assert any("cranelift-codegen 0.112.1" in e and "shared with wasmer" in e for e in d.evidence)


@pytest.mark.parametrize("crate", ["wasmtime-jit-icache-coherence-2.0.0", "wasmparser-0.217.0", "wasmtimes-1.0.0",
                                   "cranelift-codegen-0.112.1", "wasm-encoder-0.217.0"])
def test_crate_paths_that_are_no_engine(crate) -> None:
    data = PANIC.format(crate).encode()
    assert detect(mb.image(sections=[("__TEXT", "__const", data)])) == ()


@pytest.mark.parametrize(("text", "engine", "confidence"), [
    (b"AOT module load failed: invalid section\0", "wamr", "medium"),
    (b"WASM module load failed: %s\0", "wamr", "low"),
    (b"--experimental-wasm-stringref\0", "v8", "low"),
    (b"\n---- Bun! ----\n", "javascriptcore", "medium"),
])
def test_strings(text, engine, confidence) -> None:
    d = one(mb.image(sections=[("__TEXT", "__cstring", text)]))
    assert (d.engine, d.confidence) == (engine, confidence)


def test_strings_are_searched_only_in_the_string_sections() -> None:
    text = b"AOT module load failed\0"
    assert detect(mb.image(sections=[("__DATA", "__data", text)])) == ()
    assert detect(mb.image(sections=[("__TEXT", "__cstring", b"AOT module load faile\0")])) == ()
    assert engines_of(mb.image(sections=[("__TEXT", "__const", text)])) == ["wamr"]


def test_two_string_signals_are_one_kind_and_a_library_makes_it_high() -> None:
    both = b"AOT module load failed\0WASM module load failed\0"
    d = one(mb.image(sections=[("__TEXT", "__cstring", both)]))
    assert (d.confidence, set(d.runtimes)) == ("medium", {"wamr-aot", "wamr-interp"})
    d = one(mb.image(dylibs=["@rpath/libiwasm.dylib"], sections=[("__TEXT", "__cstring", both)],
                     exports=["_main"]))
    assert d.confidence == "high" and d.location == "linked"


def test_each_slice_of_a_universal_file_has_its_own_engines() -> None:
    data = mb.fat(mb.image("x86_64"), mb.image(dylibs=["@rpath/libwasmtime.dylib"]),
                  mb.image("i386", bits=32, symbols=[("_m3Err_x", "extdef", 0)]))
    slices = read_macho(data, path="u")
    assert [(s.arch, [e.engine for e in s.engines]) for s in slices] == [
        ("x86_64", []), ("arm64", ["wasmtime"]), ("i386", ["wasm3"])]


def test_detections_are_sorted_strongest_first_and_json_ready() -> None:
    data = mb.image(dylibs=["@rpath/libwasmtime.dylib"], sections=[("__DATA", "__wtf_config", 64)])
    found = detect(data)
    assert [(d.engine, d.confidence) for d in found] == [("wasmtime", "high"), ("javascriptcore", "medium")]
    as_json = read_macho(data)[0].to_dict()["engines"]
    assert as_json[0] == {"engine": "wasmtime", "confidence": "high", "location": "linked", "runtimes": [],
                          "embedder": None, "evidence": [found[0].evidence[0]], "signatures": ["libwasmtime-dylib"]}
    assert all(d.location in ENGINE_LOCATIONS for d in found)


# ------------------------------------------------------------------------------------ hostile input


def _patch(data: bytes, at: int, fmt: str, *values: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, at, *values)
    return bytes(out)


SYMBOLS = mb.image(symbols=[("_main", "extdef", 0), ("_wasm_runtime_init", "extdef", 0), ("_puts", "undef", 1)],
                   dylibs=["/usr/lib/libSystem.B.dylib"])


def test_huge_nsyms_is_refused_at_the_symtab_command() -> None:
    at = mb.command_offset(SYMBOLS, mb.LC_SYMTAB)
    err = error(_patch(SYMBOLS, at + 12, "<I", 0xFFFFFFFF), "symbols")
    assert err.offset == at + 12


def test_a_symbol_count_over_the_limit_is_noted_not_searched(monkeypatch) -> None:
    monkeypatch.setattr(linkedit, "MACHO_MAX_SYMBOLS", 2)
    (s,) = read_macho(SYMBOLS)
    assert s.engines == () and any("more than the limit of 2; it was not searched" in n for n in s.notes)


def test_string_table_past_the_end() -> None:
    at = mb.command_offset(SYMBOLS, mb.LC_SYMTAB)
    error(_patch(SYMBOLS, at + 20, "<I", 0x7FFFFFFF), "string table")


def test_a_string_offset_past_the_string_table_names_the_symbol_entry() -> None:
    at = mb.command_offset(SYMBOLS, mb.LC_SYMTAB)
    symoff, nsyms, _stroff, strsize = struct.unpack_from("<4I", SYMBOLS, at + 8)
    bad = _patch(SYMBOLS, symoff + 16, "<I", strsize + 5)  # the second symbol (an extdef)
    err = error(bad, "past the")
    assert err.offset == symoff + 16 and nsyms == 3


def test_dysymtab_ranges_past_the_symbols() -> None:
    at = mb.command_offset(SYMBOLS, mb.LC_DYSYMTAB)
    error(_patch(SYMBOLS, at + 28, "<I", 1000), "LC_DYSYMTAB's undef symbols")


def test_export_trie_cycle_is_an_error() -> None:
    cyclic = b"\x00\x01_\x00\x00"  # root: no terminal, one child "_" pointing back at the root
    err = error(mb.image(exports=cyclic), "loops back to node 0")
    assert err.category == "malformed"


@pytest.mark.parametrize(("trie", "words"), [
    (b"\x00\x01_w\x00\x7f", "child offset 127 lies past"),
    (b"\x00\x01_w", "edge label has no terminating NUL"),
    (b"\x00\x01_\x00\x80", "export trie edge: ULEB128 runs past the end"),
    (b"\x05\x00", "terminal info of 5 bytes runs past the trie"),
    (b"\x00", "no child count"),
])
def test_malformed_export_tries(trie, words) -> None:
    error(mb.image(exports=trie), words)


def test_a_long_trie_walk_is_a_limit(monkeypatch) -> None:
    monkeypatch.setattr(linkedit, "ENGINE_MAX_TRIE_STEPS", 2)
    error(mb.image(exports=["_wasmtime_a", "_wasmtime_b", "_wasmtime_c_d", "_wasmtime_c_e"]), "more than 2 nodes",
          LIMIT)


@pytest.mark.parametrize(("at", "value", "words"), [
    (20, 9, "imports_format 9"),
    (16, 1000, "imports (4000 bytes"),
    (12, 10_000, "symbol names at 10000 lie past"),
])
def test_malformed_chained_fixups(at, value, words) -> None:
    data = mb.image(imports=[("_m3_NewRuntime", 1)], dylibs=["/usr/lib/libm3.dylib"])
    cmd = mb.command_offset(data, mb.LC_DYLD_CHAINED_FIXUPS)
    base = struct.unpack_from("<I", data, cmd + 8)[0]
    error(_patch(data, base + at, "<I", value), words)


def test_a_chained_import_name_past_the_pool() -> None:
    data = mb.image(imports=[("_m3_NewRuntime", 1)], dylibs=["/usr/lib/libm3.dylib"])
    cmd = mb.command_offset(data, mb.LC_DYLD_CHAINED_FIXUPS)
    base = struct.unpack_from("<I", data, cmd + 8)[0]
    error(_patch(data, base + 32, "<I", 1 | (5000 << 9)), "names offset 5000, past the symbol names")


def test_compressed_chained_import_names_are_noted() -> None:
    data = mb.image(imports=[("_m3_NewRuntime", 1)], dylibs=["/usr/lib/libm3.dylib"])
    cmd = mb.command_offset(data, mb.LC_DYLD_CHAINED_FIXUPS)
    base = struct.unpack_from("<I", data, cmd + 8)[0]
    (s,) = read_macho(_patch(data, base + 24, "<I", 1))
    assert s.engines == () and any("compressed (symbols_format 1)" in n for n in s.notes)


def _go(section) -> bytes:
    return mb.image(sections=[("__DATA", "__go_buildinfo", section)])


GO = mb.go_buildinfo(deps=[("github.com/tetratelabs/wazero", "v1.12.0")])


@pytest.mark.parametrize(("section", "words"), [
    (GO[:60], "module information"),  # truncated inside the module information
    (GO[:32], "Go version"),  # header only
    (GO[:20], "does not start with the Go build-info header"),
    (b"\xfe" + GO[1:], "does not start with the Go build-info header"),
    (GO[:32] + b"\xff" * 3, "ULEB128 runs past the end"),
    (GO[:32] + b"\xff" * 10 + b"\x7f", "does not fit 64 bits"),
    (GO[:14] + bytes([3, 0]) + GO[16:], "pointer size 3"),
    (GO[:14] + bytes([8, 0]) + struct.pack("<QQ", 0xDEAD0000, 0) + GO[32:], "which no segment's file bytes hold"),
])
def test_truncated_and_broken_go_build_info(section, words) -> None:
    error(_go(section), words)


def test_an_oversized_go_string_is_noted(monkeypatch) -> None:
    from macwasm.signing import gobuild

    monkeypatch.setattr(gobuild, "GO_MAX_BUILDINFO_SIZE", 100)
    (s,) = read_macho(_go(GO))
    assert s.engines == () and any("more than the limit of 100; not read" in n for n in s.notes)


def test_malformed_load_commands_the_detector_reads() -> None:
    data = mb.image(dylibs=["@rpath/libwasmtime.dylib"])
    at = mb.command_offset(data, mb.LC_LOAD_DYLIB)
    error(_patch(data, at + 8, "<I", 4000), "name offset 4000 lies outside")
    size = struct.unpack_from("<I", data, at + 4)[0]
    no_nul = bytearray(data)
    no_nul[at + 24:at + size] = b"x" * (size - 24)
    error(bytes(no_nul), "name has no terminating NUL")
    seg = mb.image(sections=[("__TEXT", "__cstring", b"x\0")])
    at = mb.command_offset(seg, mb.LC_SEGMENT_64)
    error(_patch(seg, at + 64, "<I", 50), "claims 50 sections")
    sect = at + 72  # the first section header: offset of its file bytes at +48
    assert error(_patch(seg, sect + 48, "<I", 0x7FFFFFF0), "runs past the end").offset == sect + 48
    trie = mb.image(exports=["_main"])
    at = mb.command_offset(trie, mb.LC_DYLD_EXPORTS_TRIE)
    error(_patch(trie, at + 12, "<I", 0x7FFFFFF0), "LC_DYLD_EXPORTS_TRIE")


def test_the_scan_budget_and_the_crate_path_cap_are_notes(monkeypatch) -> None:
    monkeypatch.setattr(engines_mod, "ENGINE_MAX_SCAN_BYTES", 64)
    data = mb.image(sections=[("__TEXT", "__cstring", b"\0" * 100 + b"AOT module load failed\0")])
    (s,) = read_macho(data)
    assert s.engines == () and any("only 64 of the 123 bytes of __TEXT,__cstring" in n for n in s.notes)
    monkeypatch.undo()
    monkeypatch.setattr(engines_mod, "ENGINE_MAX_CRATE_PATHS", 1)
    data = mb.image(sections=[("__TEXT", "__const", (PANIC.format("serde-1.0.0") + PANIC.format("wasmi-0.38.0"))
                               .encode())])
    (s,) = read_macho(data)
    assert s.engines == () and any("first 1 cargo registry paths" in n for n in s.notes)


def test_a_huge_string_table_is_searched_up_to_its_cap(monkeypatch) -> None:
    monkeypatch.setattr(linkedit, "ENGINE_MAX_STRTAB_SCAN", 8)
    data = mb.image(symbols=[("_aaaaaaaaaaaaaaaa", "local", 0), ("_m3Err_x", "local", 0)])
    (s,) = read_macho(data)
    assert s.engines == () and any("first 8 of" in n for n in s.notes)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(p.name for p in FIXTURES.iterdir())), st.data())
def test_corrupted_engine_fixtures_only_raise_the_readers_errors(name, data) -> None:
    raw = bytearray((FIXTURES / name).read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(raw) // 2, len(raw)))
    try:
        slices = read_macho(bytes(raw[:cut]), path=name)
    except MachOFormatError as err:  # the one error of the Mach-O reader (DER and plist faults wrapped)
        assert err.offset is None or 0 <= err.offset <= cut + 16
        return
    for s in slices:
        for d in s.engines:
            assert d.confidence in ENGINE_CONFIDENCES and d.location in ENGINE_LOCATIONS and d.evidence
