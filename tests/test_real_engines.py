"""Engine detection on real binaries from npm and PyPI (pinned, downloaded once into ``.cache/``).

What each one carries is known from its publisher (Node.js is V8, Bun is JavaScriptCore, buf links
wazero, ...) and is checked two ways: the detections themselves, and the same signature table
applied to the names LIEF reads from the file (libraries, install name, sections, exports from
the trie, imports, every symbol), which must name the same engines. The Go build info and the
cargo registry paths, which LIEF does not decode, are checked against the raw bytes.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest
from repo_scripts import load_script
from test_real_signed_binaries import ours

from macwasm.signing.engines import signatures

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "engine-fixtures"

pytestmark = pytest.mark.network

#: name -> per slice: (engine, confidence, location, embedder, signature ids that must be among the matched ones)
EXPECTED = {
    "node-18.9.0-darwin-arm64": [[("v8", "high", "embedded", "Node.js",
                                   {"v8-turbofan-symbols", "v8-wasm-symbols", "node-platform-symbols"})]],
    "node-22.12.0-darwin-x64": [[("v8", "high", "embedded", "Node.js",
                                  {"v8-turbofan-symbols", "v8-wasm-symbols", "node-platform-symbols"})]],
    "bun-1.4.5-darwin-aarch64": [[("javascriptcore", "high", "embedded", "Bun",
                                   {"jsc-llint-section", "jsc-opcodes-section", "bun-section", "v8-api-symbols",
                                    "node-api-symbols"})]],
    "buf-1.75.0-darwin-arm64": [[("wazero", "high", "embedded", None, {"wazero-go-module"})]],
    "libwasmtime-50.0.1-macos-arm64.dylib": [[("wasmtime", "high", "embedded", None,
                                               {"libwasmtime-dylib", "wasmtime-c-api", "wasm-c-api"})]],
    "libextism_sys-1.41.0-macos-arm64.dylib": [[("wasmtime", "high", "embedded", None,
                                                 {"wasmtime-rust-symbols", "wasmtime-crate"})]],
    "wasmer-1.1.0-cp310-macos-x86_64.so": [[("wasmer", "high", "embedded", None, {"wasmer-c-api"})]],
    "esbuild-0.25.0-darwin-arm64": [[]],
    "markupsafe-3.0.2-speedups-universal2.so": [[], []],
    "cmake-4.4.4-universal2": [[], []],
}


@pytest.fixture(scope="session")
def binaries() -> dict[str, Path]:
    return load_script("fetch_engine_fixtures").fetch_all(CACHE)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_detections(binaries: dict[str, Path], name: str) -> None:
    slices = ours(binaries[name])
    assert len(slices) == len(EXPECTED[name])
    for s, expected in zip(slices, EXPECTED[name], strict=True):
        got = [(d.engine, d.confidence, d.location, d.embedder) for d in s.engines]
        assert got == [e[:4] for e in expected], [d.evidence for d in s.engines]
        for d, e in zip(s.engines, expected, strict=True):
            assert e[4] <= set(d.signatures), d.signatures
            assert len(d.evidence) == len(d.signatures)


def lief_engines(path: Path) -> list[set[str]]:
    """Per slice, the engines the identifying rows of the table name when matched against LIEF's view."""
    import lief

    lief.logging.disable()
    rows = [r for r in signatures() if not r.shared and r.kind in ("framework", "dylib", "section", "symbol-prefix")]
    fat = lief.MachO.parse(str(path))
    out = []
    for i in range(len(fat)):
        b = fat.at(i)
        libs = [c.name for c in b.commands if isinstance(c, lief.MachO.DylibCommand)]  # LC_ID_DYLIB included
        sections = [f"{s.segment_name},{s.name}" for s in b.sections]
        names = {s.name for s in b.symbols}
        if b.has_dyld_exports_trie:
            names |= {e.symbol.name for e in b.dyld_exports_trie.exports}
        if b.has_dyld_info:
            names |= {e.symbol.name for e in b.dyld_info.exports}
        if b.has_dyld_chained_fixups:
            names |= {bi.symbol.name for bi in b.dyld_chained_fixups.bindings if bi.has_symbol}
        found = set()
        for r in rows:
            if r.kind == "framework":
                hit = any(f"{r.pattern}.framework" in lib.split("/") for lib in libs)
            elif r.kind == "dylib":
                hit = any(fnmatch.fnmatchcase(lib.rsplit("/", 1)[-1], r.pattern) for lib in libs)
            elif r.kind == "section":
                hit = any(fnmatch.fnmatchcase(s, r.pattern) for s in sections)
            else:
                hit = any(n.startswith(r.pattern) for n in names)
            if hit:
                found.add(r.engine)
        out.append(found)
    return out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_table_applied_to_liefs_view_names_the_same_engines(binaries: dict[str, Path], name: str) -> None:
    mine = [{d.engine for d in s.engines} for s in ours(binaries[name])]
    theirs = lief_engines(binaries[name])
    if name.startswith("buf-"):  # a stripped Go binary: only its build info tells, which LIEF does not decode
        assert theirs == [set()] and mine == [{"wazero"}]
        return
    assert mine == theirs


def test_the_go_build_info_and_the_crate_paths_are_in_the_raw_bytes(binaries: dict[str, Path]) -> None:
    buf = binaries["buf-1.75.0-darwin-arm64"].read_bytes()
    assert b"\ndep\tgithub.com/tetratelabs/wazero\tv1.12.0\t" in buf
    (s,) = ours(binaries["buf-1.75.0-darwin-arm64"])
    assert "lists module github.com/tetratelabs/wazero v1.12.0" in s.engines[0].evidence[0]
    (s,) = ours(binaries["libextism_sys-1.41.0-macos-arm64.dylib"])
    crate = next(e for e in s.engines[0].evidence if "[wasmtime-crate," in e)
    version = crate.split("crate wasmtime ")[1].split(" ")[0]
    assert f"/wasmtime-{version}/src/".encode() in binaries["libextism_sys-1.41.0-macos-arm64.dylib"].read_bytes()


def test_cmake_ships_a_sha1_primary_and_a_sha256_alternate_code_directory(binaries: dict[str, Path]) -> None:
    import lief

    lief.logging.disable()
    path = binaries["cmake-4.4.4-universal2"]
    fat = lief.MachO.parse(str(path))
    for i, s in enumerate(ours(path)):
        cds = [(cd.slot, cd.hash_type) for cd in s.signature.code_directories]
        assert cds == [(0, "sha1"), (0x1000, "sha256")] and s.signature.hash_types == ("sha1", "sha256")
        blob = bytes(fat.at(i).code_signature.content)  # independent: the slots LIEF's bytes index
        count = int.from_bytes(blob[8:12], "big")
        index = {int.from_bytes(blob[12 + 8 * k:16 + 8 * k], "big"): int.from_bytes(blob[16 + 8 * k:20 + 8 * k], "big")
                 for k in range(count)}
        # CodeDirectory byte 37 is hashType: 1 = SHA-1, 2 = SHA-256 (cs_blobs.h)
        assert (blob[index[0] + 37], blob[index[0x1000] + 37]) == (1, 2)
