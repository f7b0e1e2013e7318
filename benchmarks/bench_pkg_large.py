#!/usr/bin/env python3
"""A flat ``.pkg`` of 500 MB or more read in place: time, peak memory, and bytes written to disk.

Why: a release engineer checks the ``.pkg`` that goes to notarization, and those reach hundreds of
MB. Its payloads are compressed cpio streams, so the reader must decompress them front to back
without unpacking (issue 13's goal: peak memory under 200 MB, nothing written to disk).

The package (built once into ``.cache/bench/``, seeded, by this script): a product archive whose
first component installs ``ContainerFilter.app`` (the sample container app with its network system
extension, a 96 MB framework executable whose signature sits at its end, and wasm modules), and
whose second component installs 2,000 incompressible files of 256 KiB (500 MB); both payloads are
pbzx as ``pkgbuild`` writes them (16 MiB chunks, xz where it helps, stored where it does not).

Each command runs in its own child process, output to /dev/null; the child reports its own peak
RSS (``VmHWM``) and the bytes it caused to be written to storage (``/proc/self/io``
``write_bytes``). Run: ``.venv/bin/python benchmarks/bench_pkg_large.py`` (part of ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import random
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
WORK = REPO / ".cache" / "bench"
SECTION = "Large .pkg read in place"
FILES, FILE_SIZE = 2000, 256 * 1024
BIG_EXE = 96 * 1024 * 1024
SEED = 13

CHILD = r"""
import json, sys, time, os
from macwasm.cli.main import main
sys.stdout = open(os.devnull, "w")
start = time.perf_counter()
code = main(sys.argv[1:])
elapsed = time.perf_counter() - start
io = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"exit": code, "seconds": elapsed, "rss_mb": hwm / 1024,
                  "write_bytes": int(io["write_bytes"]), "read_bytes": int(io["read_bytes"])}), file=sys.stderr)
"""


def _cpio_pieces(entries: Iterator[tuple[str, int, bytes]]) -> Iterator[bytes]:
    from artifact_builders import odc_header

    for ino, (name, mode, data) in enumerate(entries, start=1):
        yield odc_header(name, mode, len(data), ino=ino)
        if data:
            yield data
    yield odc_header("TRAILER!!!", 0, 0, ino=0)


def _write_pbzx(pieces: Iterator[bytes], out: Path) -> Path:
    from artifact_builders import pbzx_chunks

    with open(out, "wb") as fh:
        for frame in pbzx_chunks(pieces):
            fh.write(frame)
    return out


def _app_entries(tmp: Path) -> Iterator[tuple[str, int, bytes]]:
    from artifact_builders import B, big_macho, entries_of

    B.build(tmp)
    app = tmp / "ContainerFilter.app"
    yield from entries_of(app, "./ContainerFilter.app")
    fw = "./ContainerFilter.app/Contents/Frameworks/Engine.framework"
    small = B.macho(identifier="com.example.engine", team=B.TEAM, filetype=B.MH_DYLIB)
    yield (fw, stat.S_IFDIR | 0o755, b"")
    yield (f"{fw}/Versions", stat.S_IFDIR | 0o755, b"")
    yield (f"{fw}/Versions/A", stat.S_IFDIR | 0o755, b"")
    yield (f"{fw}/Versions/A/Engine", stat.S_IFREG | 0o755,
           big_macho(small, BIG_EXE, random.Random(SEED).randbytes(1 << 20)))
    yield (f"{fw}/Versions/A/Resources", stat.S_IFDIR | 0o755, b"")
    yield (f"{fw}/Versions/A/Resources/Info.plist", stat.S_IFREG | 0o644,
           B.info_plist("Engine", "com.example.engine", "FMWK"))
    yield (f"{fw}/Versions/Current", stat.S_IFLNK | 0o755, b"A")
    yield (f"{fw}/Engine", stat.S_IFLNK | 0o755, b"Versions/Current/Engine")
    yield (f"{fw}/Resources", stat.S_IFLNK | 0o755, b"Versions/Current/Resources")


def _data_entries() -> Iterator[tuple[str, int, bytes]]:
    rng = random.Random(SEED)
    yield (".", stat.S_IFDIR | 0o755, b"")
    yield ("./Library", stat.S_IFDIR | 0o755, b"")
    yield ("./Library/Application Support", stat.S_IFDIR | 0o755, b"")
    yield ("./Library/Application Support/Data", stat.S_IFDIR | 0o755, b"")
    for i in range(FILES):
        yield (f"./Library/Application Support/Data/blob-{i:05d}.bin", stat.S_IFREG | 0o644, rng.randbytes(FILE_SIZE))


def build(out: Path) -> Path:
    """The benchmark package (kept: built once, 30-60 s)."""
    import tempfile

    from artifact_builders import XarMember, component_members, distribution, write_xar

    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        t = Path(tmp)
        app_payload = _write_pbzx(_cpio_pieces(_app_entries(t / "bundles")), t / "app.pbzx")
        data_payload = _write_pbzx(_cpio_pieces(_data_entries()), t / "data.pbzx")
        members = [XarMember("Distribution", distribution("Filter", ["com.example.app", "com.example.data"]))]
        members += component_members(app_payload, "com.example.app", "/Applications", prefix="app.pkg",
                                     bundles=[("./ContainerFilter.app", "com.example.filter.app")])
        members += component_members(data_payload, "com.example.data", "/", prefix="data.pkg")
        write_xar(members, t / "large.pkg").replace(out)
    return out


def measure(argv: list[str]) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    report["wall"] = wall
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-readme", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args(argv)
    from run_all import machine_info, replace_section  # this folder is on sys.path

    started = time.perf_counter()
    pkg = build(WORK / "large-pkg-600mb.pkg")
    built = time.perf_counter() - started
    size_mb = pkg.stat().st_size / 1e6
    runs = [("entitlements --format jsonl", ["entitlements", "--format", "jsonl", str(pkg)]),
            ("check --format json", ["check", "--format", "json", str(pkg)]),
            ("inspect --format jsonl", ["inspect", "--format", "jsonl", str(pkg)])]
    rows = []
    ok = True
    for label, cmd in runs:
        r = measure(cmd)
        rows.append((label, r))
        ok &= r["rss_mb"] < 200 and r["write_bytes"] == 0
    lines = [
        f"## {SECTION}",
        "",
        f"A product archive of {size_mb:.0f} MB (`.cache/bench/`, built by the script in {built:.0f} s when missing): "
        f"component 1 installs `ContainerFilter.app` (network system extension, a {BIG_EXE // 2**20} MB framework "
        f"executable whose signature sits at its end, a wasm module), component 2 installs {FILES:,} incompressible "
        f"files of {FILE_SIZE // 1024} KiB; both payloads pbzx. One child process per command, output to "
        "/dev/null; the child reports its own peak RSS and `/proc/self/io` `write_bytes`. Written by "
        "`.venv/bin/python benchmarks/bench_pkg_large.py`.",
        "",
        f"Machine: {machine_info()}.",
        "",
        "| command | exit | wall s | in process s | peak RSS MB | bytes written to disk |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, r in rows:
        lines.append(f"| `macwasm {label} large.pkg` | {r['exit']} | {r['wall']:.2f} | {r['seconds']:.2f} | "
                     f"{r['rss_mb']:.0f} | {r['write_bytes']:,} |")
    lines += ["", f"Goal: peak memory under 200 MB and nothing written to disk: **{'met' if ok else 'NOT met'}**."]
    text = "\n".join(lines) + "\n"
    if not args.no_readme:
        replace_section(SECTION, text)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
