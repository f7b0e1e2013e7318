#!/usr/bin/env python3
"""Whole-tree ``macwasm entitlements`` and ``check`` over a real PySide6 install vs a LIEF script, with memory.

Why this corpus: issue 13's user ran macwasm on a PySide6 install (pip's wheel layout: 78 Qt
frameworks without ``Versions/Current``, 235 Mach-O files, 2,879 files) and it read 0 of 78
framework executables. The tree is the PySide6-Essentials 6.12.0 macOS universal2 wheel unpacked
by ``scripts/fetch_signed_fixtures.py`` (pinned, SHA-256 checked) into ``.cache/signed-fixtures/``.

The LIEF side (``bench_entitlements.py --lief-worker``, reused) reads the same facts per slice
(architecture, signature kind, team, identifier, Hardened Runtime, entitlement keys) from every
Mach-O file of the tree, found by its magic. macwasm runs as a user would, on the folder (bundles
whole, loose Mach-O files one by one), and also on the same file list as LIEF, which is the run
whose facts are compared with LIEF's. Whole processes, alternating order, medians; peak memory
(``VmHWM`` of the child) is taken for the whole tree and for one framework alone, to show that it
stays flat as the tree grows. Run: ``.venv/bin/python benchmarks/bench_wheel_tree.py [--reps N]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FETCH = REPO / "scripts" / "fetch_signed_fixtures.py"
TREE = REPO / ".cache" / "signed-fixtures" / "pyside6-essentials-6.12.0-macos-universal2"
#: the QtWebEngine part of a full Qt install (a 227 MB framework executable and its helper app)
WEBENGINE = REPO / ".cache" / "signed-fixtures" / "pyqt6-webengine-qt6-6.11.2-macos-arm64"
SECTION = "Whole-tree entitlements and check (PySide6 wheel)"
#: runs a command and prints the child's peak RSS (VmHWM is per process image; ru_maxrss is inherited over exec)
HWM = ("import subprocess, sys\n"
       "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
       "peak = 0\n"
       "import time\n"
       "while p.poll() is None:\n"
       "    try:\n"
       "        status = open(f'/proc/{p.pid}/status').read().splitlines()\n"
       "        peak = max(peak, next(int(l.split()[1]) for l in status if l.startswith('VmHWM:')))\n"
       "    except (OSError, StopIteration):\n"
       "        pass\n"
       "    time.sleep(0.005)\n"
       "print(peak)\n")


def peak_rss_mb(argv: list[str]) -> float:
    """The child's VmHWM, sampled every 5 ms until it exits (a lower bound; fine for a flat-memory check)."""
    out = subprocess.run([sys.executable, "-c", HWM, *argv], capture_output=True, text=True, check=False)
    return int(out.stdout.strip() or 0) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-readme", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args(argv)
    from bench_entitlements import agreement, macho_files  # this folder is on sys.path
    from run_all import machine_info, macwasm_argv, replace_section, timed

    if not (TREE.is_dir() and WEBENGINE.is_dir()):
        subprocess.run([sys.executable, str(FETCH)], check=False)
    if not (TREE.is_dir() and WEBENGINE.is_dir()):
        print(f"{TREE} is missing (scripts/fetch_signed_fixtures.py could not fetch it)", file=sys.stderr)
        return 1
    files = macho_files(sorted(TREE.rglob("*")))
    names = [str(f) for f in files]
    both = files + macho_files(sorted(WEBENGINE.rglob("*")))
    frameworks = sorted(TREE.rglob("*.framework"))
    mac = macwasm_argv()
    commands = {
        "tree-entitlements": [*mac, "entitlements", "--format", "jsonl", str(TREE)],
        "tree-check": [*mac, "check", "--format", "json", str(TREE)],
        "files-entitlements": [*mac, "entitlements", "--format", "jsonl", *names],
        "lief": [sys.executable, str(Path(__file__).with_name("bench_entitlements.py")), "--lief-worker", *names],
        "both-entitlements": [*mac, "entitlements", "--format", "jsonl", str(TREE), str(WEBENGINE)],
        "both-check": [*mac, "check", "--format", "json", str(TREE), str(WEBENGINE)],
        "both-lief": [sys.executable, str(Path(__file__).with_name("bench_entitlements.py")), "--lief-worker",
                      *map(str, both)],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    procs: dict[str, subprocess.CompletedProcess[bytes]] = {}
    for rep in range(args.reps):
        order = list(commands.items())
        for name, cmd in order if rep % 2 == 0 else reversed(order):
            elapsed, proc = timed(cmd)
            times[name].append(elapsed)
            procs[name] = proc
    med = {k: statistics.median(v) for k, v in times.items()}
    same, total, differ = agreement(procs["files-entitlements"].stdout, procs["lief"].stdout)
    both_mb = sum(f.stat().st_size for f in both) / 1e6
    records = len(procs["tree-entitlements"].stdout.splitlines())
    rss = {name: peak_rss_mb(cmd) for name, cmd in commands.items()}
    rss_one = peak_rss_mb([*mac, "entitlements", "--format", "jsonl", str(frameworks[0])])
    import lief

    ratio_tree = med["lief"] / med["tree-entitlements"]
    ratio_files = med["lief"] / med["files-entitlements"]
    ratio_check = med["lief"] / med["tree-check"]
    lines = [
        f"## {SECTION}",
        "",
        f"Corpus: the PySide6-Essentials 6.12.0 macOS universal2 wheel unpacked as pip installs it "
        f"(`.cache/signed-fixtures/`): {sum(1 for p in TREE.rglob('*') if p.is_file()):,} files, "
        f"{len(frameworks)} frameworks in wheel layout (no `Versions/Current`), {len(files)} Mach-O files "
        f"({sum(f.stat().st_size for f in files) / 1e6:.0f} MB, universal: every file has an x86_64 and an arm64 "
        "slice). Whole processes, alternating order, median of "
        f"{args.reps}; peak RSS is the child's `VmHWM`. Written by `.venv/bin/python benchmarks/bench_wheel_tree.py`.",
        "",
        f"Machine: {machine_info()}; LIEF {lief.__version__.split('-')[0]}.",
        "",
        "| command | records | median wall s | peak RSS MB | exit | LIEF / this |",
        "|---|---:|---:|---:|---:|---:|",
        f"| `macwasm entitlements --format jsonl TREE` | {records} | {med['tree-entitlements']:.3f} | "
        f"{rss['tree-entitlements']:.0f} | {procs['tree-entitlements'].returncode} | **{ratio_tree:.1f}x** |",
        f"| `macwasm check --format json TREE` | | {med['tree-check']:.3f} | {rss['tree-check']:.0f} | "
        f"{procs['tree-check'].returncode} | {ratio_check:.1f}x |",
        f"| `macwasm entitlements --format jsonl FILES...` ({len(files)} files) | {len(files)} | "
        f"{med['files-entitlements']:.3f} | {rss['files-entitlements']:.0f} | "
        f"{procs['files-entitlements'].returncode} | {ratio_files:.1f}x |",
        f"| LIEF {lief.__version__.split('-')[0]} + SuperBlob decoder, FILES... | {len(files)} | {med['lief']:.3f} | "
        f"{rss['lief']:.0f} | {procs['lief'].returncode} | 1.0x |",
        f"| with the WebEngine wheel too: `macwasm entitlements --format jsonl TREE WEBENGINE` | "
        f"{len(procs['both-entitlements'].stdout.splitlines())} | {med['both-entitlements']:.3f} | "
        f"{rss['both-entitlements']:.0f} | {procs['both-entitlements'].returncode} | "
        f"**{med['both-lief'] / med['both-entitlements']:.1f}x** |",
        f"| `macwasm check --format json TREE WEBENGINE` | | {med['both-check']:.3f} | {rss['both-check']:.0f} | "
        f"{procs['both-check'].returncode} | {med['both-lief'] / med['both-check']:.1f}x |",
        f"| LIEF, the {len(both)} Mach-O files of both ({both_mb:.0f} MB) | {len(both)} | {med['both-lief']:.3f} | "
        f"{rss['both-lief']:.0f} | {procs['both-lief'].returncode} | 1.0x |",
        "",
        "WEBENGINE is the PyQt6-WebEngine-Qt6 6.11.2 arm64 wheel unpacked (the QtWebEngine part of a full Qt "
        "install: a 227 MB framework executable and its helper app). LIEF parses every file whole, so its time grows "
        "with the bytes; macwasm reads headers, load commands and signatures only, so its time grows with the count.",
        "",
        f"Goal: at least 10x faster than the LIEF script with memory flat: whole tree **{ratio_tree:.1f}x**, "
        f"`check` {ratio_check:.1f}x; macwasm's peak RSS is {rss['tree-entitlements']:.0f} MB for the whole tree and "
        f"{rss_one:.0f} MB for one framework alone ({frameworks[0].name}). Facts agree with LIEF on {same} of {total} "
        "slices.",
    ]
    if differ:
        lines += ["", "Slices where the two disagree:", ""] + [f"- {d}" for d in differ[:20]]
    text = "\n".join(lines) + "\n"
    if not args.no_readme:
        replace_section(SECTION, text)
    print(text)
    return 0 if same == total else 1


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    raise SystemExit(code)
