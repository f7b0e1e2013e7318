#!/usr/bin/env python3
"""What engine detection costs ``macwasm entitlements`` on large real binaries, before and after.

Why: detection reads more of a binary than the signature does (load commands, export trie,
imports, sometimes the string table and string sections), and ``entitlements`` must stay quick on
a 114 MB Node.js or an 89 MB Bun. "Before" is the same code with ``detect_engines`` replaced by a
function that finds nothing (a wrapper process patches it; the product has no switch for it), so
the difference is exactly what detection adds. Side by side, the peer a Python user would reach
for: LIEF parsing the file and listing the names the detector looks at (libraries, sections,
exports, symbols), the way ``tests/test_real_engines.py`` checks our findings.

Corpus: the pinned real binaries of ``scripts/fetch_engine_fixtures.py`` (fetched when missing).
Whole processes, alternating order, several repetitions, medians; then in process, medians of
``read_macho`` with and without detection on the same mapped file.

Run: ``.venv/bin/python benchmarks/bench_engines.py [--reps N]`` (part of ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECTION = "Engine detection"
#: (fixture name, what it carries), the first two are the brief's Bun and Node
CORPUS = (
    ("bun-1.4.5-darwin-aarch64", "JavaScriptCore (Bun)"),
    ("node-22.12.0-darwin-x64", "V8 (Node.js 22)"),
    ("node-18.9.0-darwin-arm64", "V8 (Node.js 18)"),
    ("buf-1.75.0-darwin-arm64", "wazero (Go)"),
    ("libwasmtime-50.0.1-macos-arm64.dylib", "wasmtime (C API)"),
    ("libextism_sys-1.41.0-macos-arm64.dylib", "wasmtime (Rust crate, found by the byte searches)"),
    ("cmake-4.4.4-universal2", "none (2 slices, byte searches run on both)"),
)
#: both sides start the same way (``python -c``), so that only detection differs: the console script's
#: entry-point lookup alone costs more than detection does
ON = "import sys; from macwasm.cli.main import main; sys.exit(main(sys.argv[1:]))"
OFF = ("import sys, macwasm.signing.macho as m; m.detect_engines = lambda *a, **k: (); "
       "from macwasm.cli.main import main; sys.exit(main(sys.argv[1:]))")


def lief_worker(path: str) -> int:
    """The peer: LIEF parses the file; list the names the detector matches (one JSON line of counts)."""
    import lief

    lief.logging.disable()
    fat = lief.MachO.parse(path)
    counts = []
    for i in range(len(fat)):
        b = fat.at(i)
        names = {s.name for s in b.symbols}
        if b.has_dyld_exports_trie:
            names |= {e.symbol.name for e in b.dyld_exports_trie.exports}
        if b.has_dyld_info:
            names |= {e.symbol.name for e in b.dyld_info.exports}
        counts.append({"libraries": len(b.libraries), "sections": len(b.sections), "names": len(names)})
    print(json.dumps(counts))
    return 0


def in_process(path: Path, reps: int) -> tuple[float, float, list[str]]:
    """Median ms of read_macho with and without detection, and the engines found."""
    from macwasm.inputs import open_readonly
    from macwasm.signing import macho

    real = macho.detect_engines
    with_, without = [], []
    with open_readonly(path, max_size=1 << 32) as buf:
        found = [f"{d.engine}:{d.confidence}" for s in macho.read_macho(buf, path=str(path)) for d in s.engines]
        for _ in range(reps):
            macho.detect_engines = real
            start = time.perf_counter()
            macho.read_macho(buf, path=str(path))
            with_.append(time.perf_counter() - start)
            macho.detect_engines = lambda *a, **k: ()
            start = time.perf_counter()
            macho.read_macho(buf, path=str(path))
            without.append(time.perf_counter() - start)
    macho.detect_engines = real
    return statistics.median(with_) * 1000, statistics.median(without) * 1000, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--lief-worker", metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--no-readme", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args(argv)
    if args.lief_worker:
        return lief_worker(args.lief_worker)

    from run_all import machine_info, publish, timed  # this folder is on sys.path

    sys.path.insert(0, str(REPO / "scripts"))
    import fetch_engine_fixtures

    paths = fetch_engine_fixtures.fetch_all()
    import lief

    rows = []
    for name, carries in CORPUS:
        path = paths[name]
        runs = {"after": [sys.executable, "-c", ON, "entitlements", "--format", "json", str(path)],
                "before": [sys.executable, "-c", OFF, "entitlements", "--format", "json", str(path)],
                "lief": [sys.executable, str(Path(__file__).resolve()), "--lief-worker", str(path)]}
        times: dict[str, list[float]] = {k: [] for k in runs}
        exits: dict[str, int] = {}
        for rep in range(args.reps):
            order = list(runs.items())
            for which, cmd in order if rep % 2 == 0 else reversed(order):
                elapsed, proc = timed(cmd)
                times[which].append(elapsed)
                exits[which] = proc.returncode
        med = {k: statistics.median(v) for k, v in times.items()}
        med.update({f"{k} min": min(v) for k, v in times.items()})
        ip_with, ip_without, found = in_process(path, max(args.reps, 7))
        rows.append((name, carries, path.stat().st_size / 1e6, med, exits, ip_with, ip_without, found))

    lines = [
        f"## {SECTION}",
        "",
        "What detecting engines adds to `macwasm entitlements --format json FILE` on large real binaries. "
        "\"Before\" is the same code with `detect_engines` patched out, \"after\" the code as it is, "
        "both started as `python -c` so that only detection differs. The peer is LIEF parsing the file and "
        "listing the names the detector matches (libraries, sections, exports, symbols). Written by "
        "`.venv/bin/python benchmarks/bench_engines.py`.",
        "",
        f"Corpus: pinned binaries of `scripts/fetch_engine_fixtures.py`. Machine: {machine_info()}; "
        f"LIEF {lief.__version__.split('-')[0]}. Whole process: median of {args.reps} runs each, alternating; "
        f"in process: median of {max(args.reps, 7)} `read_macho` calls on the mapped file.",
        "",
        "| binary | carries | MB | before s (median / min) | after s (median / min) | added (min) | LIEF names s | "
        "in process before ms | after ms | added ms | found |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, carries, mb, med, exits, ip_with, ip_without, found in rows:
        bad = "" if set(exits.values()) <= {0} else f" (exits {exits})"
        added = (med["after min"] - med["before min"]) / med["before min"] * 100
        lines.append(f"| {name} | {carries} | {mb:.1f} | {med['before']:.3f} / {med['before min']:.3f} | "
                     f"{med['after']:.3f} / {med['after min']:.3f} | {added:+.0f}% | "
                     f"{med['lief']:.3f} | {ip_without:.1f} | {ip_with:.1f} | {ip_with - ip_without:+.1f} | "
                     f"{', '.join(found) or 'none'}{bad} |")
    worst = max(rows, key=lambda r: r[5] - r[6])
    lines += ["", "On this shared machine whole-process times vary by tens of milliseconds from run to run (other jobs "
              "use the cores), more than detection costs; the in-process columns measure it alone.",
              "", f"Largest cost in process: {worst[0]}, {worst[5] - worst[6]:.1f} ms. The byte searches (string "
              "table, `__TEXT,__cstring`/`__TEXT,__const`) run only when the load commands, sections, exports, "
              "imports and Go build info found no engine with high confidence, so Node and Bun pay for the "
              "cheap reads only."]
    publish(SECTION, "\n".join(lines) + "\n", print_only=args.no_readme)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
