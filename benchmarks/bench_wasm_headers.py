#!/usr/bin/env python3
"""Header classification of 10,000 small files: ``macwasm inspect --format jsonl DIR`` vs ``file -b -f LIST``.

Why these two: ``file`` is what a release engineer reaches for first, and it is one C process over
the whole list; macwasm must be no slower at the same job (goal of issue 2), whole process as a user
runs it, interpreter start-up included. Both read the same deterministic corpus (core modules,
components, unknown wasm versions, files that are not wasm, all named ``*.wasm`` the way a bad
download would be), in alternating order, several times; we report medians and the ratio.
The same run checks that the two tools agree: macwasm's ``description`` must equal ``file -b``'s line
for every wasm file. When macwasm is slower, a cProfile of one run is written under the table so the
cause (start-up, imports, per-file work) is visible.

Run: ``.venv/bin/python benchmarks/bench_wasm_headers.py [--files N] [--reps N]`` (part of ``make bench``).
"""

from __future__ import annotations

import argparse
import io
import json
import pstats
import random
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from run_all import machine_info, macwasm_argv, replace_section, timed

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / ".work" / "headers"
SECTION = "WebAssembly headers"
MAGIC = b"\0asm"

# A valid core module: (func (result i32) i32.const 42) exported as "f".
_CORE_BODY = bytes.fromhex("0105016000017f" "03020100" "07050101660000" "0a06010400412a0b")
_UNKNOWN_VERSIONS = (2, 0x0C, 0x1000A, 0x1000C, 0x2000D, 0xFFFFFFFF)
_NOT_WASM = (
    lambda rng: b"",
    lambda rng: b"\0as",
    lambda rng: b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n" * rng.randint(1, 20),
    lambda rng: b"\x7fELF\x02\x01\x01" + bytes(rng.randint(64, 1500)),
    lambda rng: b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(rng.randint(16, 800))),
    lambda rng: b"\x1f\x8b\x08\x00" + bytes(rng.getrandbits(8) for _ in range(rng.randint(16, 800))),
    lambda rng: bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2000))),
    lambda rng: b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(rng.randint(32, 1000)),
)


def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _custom(rng: random.Random) -> bytes:
    name = rng.choice([b"name", b"producers", b"target_features", b"sourceMappingURL", b"x"])
    payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 1500)))
    body = _leb(len(name)) + name + payload
    return b"\x00" + _leb(len(body)) + body


def make_file(i: int, rng: random.Random) -> tuple[str, bytes]:
    """One deterministic small file: 50% core, 20% component, 10% unknown version, 20% not wasm."""
    roll = rng.random()
    if roll < 0.50:
        body = _CORE_BODY if rng.random() < 0.6 else b""
        extra = _custom(rng) if rng.random() < 0.5 else b""
        return "core", MAGIC + b"\x01\0\0\0" + body + extra
    if roll < 0.70:
        extra = _custom(rng) if rng.random() < 0.5 else b""
        return "component", MAGIC + b"\x0d\x00\x01\x00" + extra
    if roll < 0.80:
        version = _UNKNOWN_VERSIONS[i % len(_UNKNOWN_VERSIONS)]
        return "unknown-version", MAGIC + version.to_bytes(4, "little") + bytes(rng.randint(0, 64))
    return "not-wasm", _NOT_WASM[i % len(_NOT_WASM)](rng)


def build_corpus(root: Path, count: int, seed: int = 20) -> dict[str, int]:
    if root.exists():
        shutil.rmtree(root)
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    for i in range(count):
        sub = root / f"d{i // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        kind, data = make_file(i, rng)
        counts[kind] = counts.get(kind, 0) + 1
        (sub / f"{i:05d}.wasm").write_bytes(data)
    return counts



def compare_descriptions(mac_stdout: bytes, file_stdout: bytes, paths: list[Path]) -> dict[str, int]:
    """Per-file agreement between macwasm's description and file's line, for the files macwasm calls wasm."""
    by_path = {}
    for line in mac_stdout.decode("utf-8", "replace").splitlines():
        rec = json.loads(line)
        by_path[rec["path"]] = rec
    file_lines = file_stdout.decode("utf-8", "replace").splitlines()
    agree = differ = wasm = missing = 0
    examples: list[str] = []
    for path, expected in zip(paths, file_lines, strict=False):
        rec = by_path.get(str(path))
        if rec is None:
            missing += 1
            continue
        if rec.get("kind") == "not-wasm":
            continue
        wasm += 1
        if rec.get("description") == expected:
            agree += 1
        else:
            differ += 1
            if len(examples) < 3:
                examples.append(f"{path.name}: macwasm {rec.get('description')!r} vs file {expected!r}")
    return {"records": len(by_path), "wasm": wasm, "agree": agree, "differ": differ, "missing": missing,
            "examples": examples}


def profile_macwasm(root: Path, out: Path) -> str:
    """cProfile one whole macwasm run in a child (so the bench's own imports do not hide import cost)."""
    prof = out / "macwasm.prof"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "macwasm", "inspect", "--format",
                    "jsonl", str(root)], capture_output=True, check=False)
    buf = io.StringIO()
    stats = pstats.Stats(str(prof), stream=buf)
    stats.sort_stats("tottime").print_stats(12)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
    return "\n".join(lines[max(start - 2, 0):])


def import_time() -> tuple[float, float]:
    """(import cost of the CLI, bare interpreter start-up), medians of fresh ``python -c`` runs, seconds."""
    bare = [timed([sys.executable, "-c", "pass"])[0] for _ in range(5)]
    imp = [timed([sys.executable, "-c", "import macwasm.cli.main"])[0] for _ in range(5)]
    return statistics.median(imp) - statistics.median(bare), statistics.median(bare)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-readme", action="store_true", help="print only; leave README.md alone")
    args = parser.parse_args(argv)
    if shutil.which("file") is None:
        print("bench_wasm_headers: file(1) is missing (make sysdeps)", file=sys.stderr)
        return 2

    root = WORK / "corpus"
    counts = build_corpus(root, args.files)
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    listing = WORK / "list.txt"
    listing.write_text("".join(f"{p}\n" for p in paths))
    one = paths[0]

    commands = {
        "macwasm": [*macwasm_argv(), "inspect", "--format", "jsonl", str(root)],
        "file": ["file", "-b", "-f", str(listing)],
    }
    single = {
        "macwasm": [*macwasm_argv(), "inspect", "--format", "jsonl", str(one)],
        "file": ["file", "-b", str(one)],
    }
    for argv_ in (*commands.values(), *single.values()):  # warm the page cache and .pyc files
        timed(argv_)
    times: dict[str, list[float]] = {name: [] for name in commands}
    one_times: dict[str, list[float]] = {name: [] for name in commands}
    outputs: dict[str, subprocess.CompletedProcess[bytes]] = {}
    for rep in range(args.reps):
        order = list(commands) if rep % 2 == 0 else list(reversed(commands))
        for name in order:
            seconds, proc = timed(commands[name])
            times[name].append(seconds)
            outputs[name] = proc
            one_times[name].append(timed(single[name])[0])
    med = {name: statistics.median(v) for name, v in times.items()}
    med_one = {name: statistics.median(v) for name, v in one_times.items()}
    agreement = compare_descriptions(outputs["macwasm"].stdout, outputs["file"].stdout, paths)
    imp, bare = import_time()
    ratio = med["macwasm"] / med["file"]
    per_file = {name: (med[name] - med_one[name]) / max(len(paths) - 1, 1) * 1e6 for name in commands}
    profile = profile_macwasm(root, WORK) if ratio > 1 else ""

    rows = [
        "| tool | command | median s | min s | 1 file s | per extra file µs |",
        "|---|---|---:|---:|---:|---:|",
        f"| macwasm | `macwasm inspect --format jsonl DIR` | {med['macwasm']:.3f} | {min(times['macwasm']):.3f} | "
        f"{med_one['macwasm']:.3f} | {per_file['macwasm']:.1f} |",
        f"| file | `file -b -f LIST` | {med['file']:.3f} | {min(times['file']):.3f} | {med_one['file']:.3f} | "
        f"{per_file['file']:.1f} |",
    ]
    verdict = "met" if ratio <= 1.0 else "NOT met"
    body = [
        f"## {SECTION}",
        "",
        f"Machine: {machine_info({'file': ['file', '--version']})}.",
        "",
        f"Corpus: {len(paths):,} small files (deterministic, seed 20), all named `*.wasm`: "
        + ", ".join(f"{n:,} {k}" for k, n in sorted(counts.items()))
        + f". Whole process per run, {args.reps} runs each in alternating order after one warm-up, page cache warm.",
        "",
        *rows,
        "",
        f"Ratio macwasm / file = **{ratio:.2f}** (goal: no slower than `file`, i.e. ≤ 1.00: **{verdict}**). "
        f"Interpreter start-up alone (`python -c pass`): {bare * 1000:.0f} ms; importing the CLI on top of it: "
        f"{imp * 1000:.0f} ms.",
        "",
        f"Agreement in the same run: macwasm wrote {agreement['records']:,} records (exit "
        f"{outputs['macwasm'].returncode}); of the {agreement['wasm']:,} files it classified as wasm, its "
        f"`description` equals `file -b`'s line for {agreement['agree']:,} and differs for {agreement['differ']:,}.",
    ]
    if agreement["examples"]:
        body += ["", "Differences (first few):", "", *[f"- {e}" for e in agreement["examples"]]]
    if profile:
        body += ["", "cProfile of one macwasm run (top by own time):", "", "```", profile, "```"]
    text = "\n".join(body) + "\n"
    print(text)
    if not args.no_readme:
        replace_section(SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
