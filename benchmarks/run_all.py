#!/usr/bin/env python3
"""Run every ``benchmarks/bench_*.py`` in turn (``make bench``).

Why discovery by glob: benchmarks are added by different people at different times; a hard-coded list
would silently skip new ones. Each benchmark runs in its own process (so one's imports, caches and
peak memory never colour another's figures) and rewrites its own section of ``benchmarks/README.md``.
A failing benchmark does not stop the others; the exit code says whether all of them succeeded.

Usage: ``python benchmarks/run_all.py [-k SUBSTRING]...`` (``-k`` keeps only matching file names).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"


def machine_info(tools: dict[str, list[str]] | None = None) -> str:
    """One line naming the machine and tool versions, so figures are never quoted without them.

    Shared by the bench scripts (they run with this folder first on ``sys.path``).
    """
    cpu = "unknown CPU"
    ram = "unknown RAM"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    parts = [f"{os.cpu_count()} cores (nproc), {cpu}, {ram}, load average at the end {load} (cores shared)",
             f"Python {platform.python_version()}"]
    for name, argv in (tools or {}).items():
        if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
            parts.append(f"{name}: not installed")
            continue
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        first = (proc.stdout or proc.stderr).strip().splitlines()
        parts.append(f"{name} {first[0] if first else '?'}")
    parts.append(time.strftime("%Y-%m-%d"))
    return "; ".join(parts)


def macwasm_argv() -> list[str]:
    """The installed console script when there is one (what users run), else ``python -m macwasm``."""
    script = Path(sys.executable).parent / "macwasm"
    return [str(script)] if script.exists() else [sys.executable, "-m", "macwasm"]


def timed(argv: list[str]) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    """Wall time of one whole process, output captured (never checked here: exit codes are figures too)."""
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, check=False)
    return time.perf_counter() - start, proc


def replace_section(title: str, body: str, path: Path = README) -> None:
    """Rewrite only the ``## title`` section of the README; others' sections stay as they are.

    Read-modify-write right before writing keeps the window for clashing with another bench small.
    """
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    head = f"## {title}\n"
    start = text.find(head)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + body.rstrip("\n") + "\n"
    else:
        end = text.find("\n## ", start + len(head))
        rest = text[end + 1:] if end >= 0 else ""
        text = text[:start] + body.rstrip("\n") + "\n" + ("\n" + rest if rest else "")
    path.write_text(text)


def publish(title: str, text: str, *, print_only: bool = False) -> None:
    """Print a bench's section, and write it into the README unless ``--no-readme`` asked to print only."""
    if not print_only:
        replace_section(title, text)
    print(text)


def discover(filters: list[str] | None = None) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if filters:
        found = [p for p in found if any(f in p.name for f in filters)]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", action="append", metavar="SUBSTRING", help="run only benchmarks whose file name has this")
    args = parser.parse_args(argv)
    benches = discover(args.k)
    if not benches:
        print("run_all: no benchmark matched", file=sys.stderr)
        return 2
    results: list[tuple[str, int, float]] = []
    for bench in benches:
        print(f"=== {bench.name}", flush=True)
        start = time.perf_counter()
        rc = subprocess.run([sys.executable, str(bench)], cwd=HERE.parent, check=False).returncode
        results.append((bench.name, rc, time.perf_counter() - start))
    print("\n| benchmark | exit | seconds |\n|---|---:|---:|")
    for name, rc, seconds in results:
        print(f"| {name} | {rc} | {seconds:.1f} |")
    failed = [name for name, rc, _ in results if rc != 0]
    if failed:
        print(f"run_all: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
