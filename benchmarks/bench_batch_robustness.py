"""Batch robustness: 10,000 mixed files, 10% of them hostile, through every reading command.

What it shows (issue "Hostile input"): each command finishes, reports every bad file with its
reason, exits 1, and its peak memory stays flat when the batch grows tenfold. Peak RSS comes from
``resource.getrusage(RUSAGE_CHILDREN)`` of a fresh child process per run, so one run never
inherits another's high-water mark.

Run: ``.venv/bin/python benchmarks/bench_batch_robustness.py`` (part of ``make bench``).
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import subprocess
import sys
from pathlib import Path

from run_all import machine_info, replace_section  # this folder is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / ".work" / "batch"
SECTION = "Batch robustness"

#: hostile inputs, each a (file name suffix, bytes) maker; they stand for the classes of bad input
HOSTILE = {
    "leb128-10-continuation.wasm": lambda: b"\0asm\1\0\0\0\x01" + b"\x80" * 10 + b"\x00",
    "section-past-eof.wasm": lambda: b"\0asm\1\0\0\0\x01\x05\x01\x60\x00\x00",
    "truncated-header.wasm": lambda: b"\0as",
    "billion-laughs.plist": lambda: (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n'
        b"<plist><dict><key>a</key><string>&lol2;</string></dict></plist>"
    ),
    "deep-array.plist": lambda: b"<plist>" + b"<array>" * 10_000 + b"</array>" * 10_000 + b"</plist>",
    "fat-2pow31.macho": lambda: bytes.fromhex("cafebabe80000000") + bytes(64),
    "garbage.entitlements": lambda: random.Random(512).randbytes(512),
}


def _valid_inputs() -> list[tuple[str, bytes]]:
    found = []
    for folder, pattern in (("data/modules", "*.wasm"), ("tests/fixtures/plists", "*"), ("tests/fixtures/macho", "*")):
        for p in sorted((REPO / folder).glob(pattern)):
            if p.is_file() and p.stat().st_size < 256 * 1024:
                found.append((p.name, p.read_bytes()))
    return found


def build_corpus(root: Path, count: int, hostile_share: float = 0.10, seed: int = 7) -> int:
    """Write ``count`` files (deterministic mix); return how many are hostile."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    rng = random.Random(seed)
    valid = _valid_inputs()
    hostile = sorted(HOSTILE.items())
    n_hostile = 0
    for i in range(count):
        sub = root / f"d{i // 1000:02d}"
        sub.mkdir(exist_ok=True)
        if rng.random() < hostile_share or not valid:
            name, make = hostile[i % len(hostile)]
            (sub / f"{i:05d}-{name}").write_bytes(make())
            n_hostile += 1
        else:
            name, data = valid[i % len(valid)]
            (sub / f"{i:05d}-{name}").write_bytes(data)
    return n_hostile


def run(argv: list[str]) -> dict[str, object]:
    """One fresh child process; wall time, exit code, peak RSS, count of error records."""
    code = (
        "import resource, subprocess, sys, json, time\n"
        "t=time.perf_counter(); p=subprocess.run(sys.argv[1:], capture_output=True)\n"
        "dt=time.perf_counter()-t\n"
        "rss=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "out=p.stdout.decode('utf-8','replace').strip()\n"
        "recs=json.loads(out) if out.startswith('[') else [json.loads(l) for l in out.splitlines() if l]\n"
        "errs=sum(1 for r in recs if r.get('error'))\n"
        "print(json.dumps({'seconds':dt,'exit':p.returncode,'peak_rss_kib':rss,'error_records':errs,"
        "'records':len(recs),'stderr':p.stderr.decode()[-500:]}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def main() -> int:
    macwasm = [sys.executable, "-m", "macwasm"]
    commands = {
        "inspect": ["inspect", "--format", "jsonl"],
        "entitlements": ["entitlements", "--format", "jsonl"],
        "check": ["check", "--format", "json"],
    }
    rows = []
    for size in (1_000, 10_000):
        root = WORK / f"n{size}"
        n_hostile = build_corpus(root, size)
        for name, args in commands.items():
            result = run([*macwasm, *args, str(root)])
            rows.append({"command": name, "files": size, "hostile": n_hostile, **result})
            print(json.dumps(rows[-1]))
    _write_section(rows)
    return 0


def _write_section(rows: list[dict[str, object]]) -> None:
    lines = [
        f"## {SECTION}",
        "",
        f"Machine: {machine_info()}.",
        "",
        "Mixed corpus: valid modules, plists and Mach-O fixtures, 10% hostile (LEB128 with 10 continuation "
        "bytes, sections past EOF, truncated headers, billion-laughs and 10,000-deep plists, a fat header "
        "claiming 2^31 slices, random bytes). Each command in a fresh process; peak RSS of that process.",
        "",
        "| command | files | hostile | exit | records | error records | wall s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['command']} | {r['files']} | {r['hostile']} | {r['exit']} | {r['records']} | "
            f"{r['error_records']} | {r['seconds']:.2f} | {int(r['peak_rss_kib']) / 1024:.0f} |"
        )
    lines.append("")
    lines.append("Memory is flat when peak RSS at 10,000 files is close to that at 1,000 files. A command takes "
                 "from a folder the files of its kind (inspect: `*.wasm`; entitlements: signing suffixes, "
                 "Mach-O by magic; check: both), hence fewer records than files; error records also count "
                 "the valid corpus's deliberately malformed fixtures (e.g. `tests/fixtures/plists`).")
    replace_section(SECTION, "\n".join(lines) + "\n")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    raise SystemExit(main())
