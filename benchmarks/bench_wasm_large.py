#!/usr/bin/env python3
"""Full inspection of the largest real modules (10 MB and up): macwasm vs ``wasm-objdump -h -x`` vs ``wasm-tools -x``.

Why: the inspector promises to be lazy (skip function bodies and data by size) so that a 30 MB module
reads in well under 50 ms in process, and a whole ``macwasm inspect`` run beats both wabt's C++
``wasm-objdump`` (which decodes every section it prints) and the pure-Python ``wasm-tools`` package
(which decodes every function body). The modules are the pinned npm/PyPI ones from
``scripts/fetch_real_modules.py``; the run fetches what is missing first.

Whole process per tool per file, output to /dev/null, median of ``--reps`` runs after one warm-up
(``wasm-tools`` is run ``--slow-reps`` times, default once: it takes tens of seconds per file).
macwasm's in-process times, each the median of 10 in this process: ``inspect_path(path)`` (the
complete typed result, every import and export decoded into Python objects; the goal's measure),
then ``to_dict()`` on that result (the JSON-ready form, an output step), and ``inspect_path`` again
with the optional C accelerator turned off (the pure-Python reader, which a machine without a C
compiler runs).

Run: ``.venv/bin/python benchmarks/bench_wasm_large.py`` (part of ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from run_all import machine_info, replace_section

REPO = Path(__file__).resolve().parents[1]
SECTION = "WebAssembly large modules"
MIN_SIZE = 10 * 1000 * 1000
GOAL_IN_PROCESS_S = 0.050
#: the smallest sample module: inspecting it measures start-up
TINY_MODULE = REPO / "data" / "modules" / "mvp.wasm"
SLOW_TIMEOUT_S = 900


def fetch_modules() -> list[dict[str, object]]:
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "fetch_real_modules.py"), "--json"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench_wasm_large: fetching the real modules failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def tool_argvs(path: str) -> dict[str, list[str]]:
    bindir = Path(sys.executable).parent
    macwasm = [str(bindir / "macwasm")] if (bindir / "macwasm").exists() else [sys.executable, "-m", "macwasm"]
    return {
        "macwasm": [*macwasm, "inspect", "--format", "json", path],
        "wasm-objdump": ["wasm-objdump", "-h", "-x", path],
        "wasm-tools": [str(bindir / "wasm-tools"), path, "-x"],
    }


def run_once(argv: list[str], timeout: float) -> tuple[float, int]:
    """Wall time of one whole process; a watchdog kills it after ``timeout`` seconds.

    ``subprocess.run(..., timeout=...)`` waits by polling with sleeps of up to 50 ms, which rounded
    every time here up to a step of 50 ms; a blocking ``wait()`` returns when the process ends.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        rc = proc.wait()
    finally:
        watchdog.cancel()
    elapsed = time.perf_counter() - start
    if rc == -signal.SIGKILL and elapsed >= timeout:
        return float("inf"), -1
    return elapsed, rc


def _median_s(fn, reps: int) -> float:
    """Median seconds of ``fn()``; its result is freed after the clock stops (freeing is not inspecting)."""
    fn()  # warm-up: page cache, lazily built tables
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        del result  # freed after the clock stopped
    return statistics.median(times)


def in_process(path: Path, reps: int = 10) -> dict[str, object]:
    """Seconds for the inspection, for ``to_dict`` on its result, and for the pure-Python inspection."""
    from macwasm.wasm import core, inspect_path  # imported here: the whole-process runs must not pay for it

    info = inspect_path(path)
    times: dict[str, object] = {
        "in_process": _median_s(lambda: inspect_path(path), reps),
        "to_dict": _median_s(info.to_dict, reps),
        "accelerated": core._speedups is not None,
    }
    saved, core._speedups = core._speedups, None
    try:
        times["pure_python"] = _median_s(lambda: inspect_path(path), reps)
    finally:
        core._speedups = saved
    times["info"] = info.to_dict()
    return times


def startup() -> dict[str, float]:
    def med(argv: list[str]) -> float:
        return statistics.median(run_once(argv, 60)[0] for _ in range(7))

    return {
        "python": med([sys.executable, "-c", "pass"]),
        "import": med([sys.executable, "-c", "import macwasm.cli.main"]),
        "help": med([*tool_argvs("x")["macwasm"][:-3], "--help"]),
        # what a whole `macwasm inspect` run costs when the module is nearly empty: its start-up
        "tiny": med(tool_argvs(str(TINY_MODULE))["macwasm"]),
    }


def fmt_s(seconds: float) -> str:
    if seconds == float("inf"):
        return f"> {SLOW_TIMEOUT_S} (timeout)"
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--slow-reps", type=int, default=1, help="runs of the pure-Python wasm-tools per file")
    parser.add_argument("--only", action="append", metavar="KEY", help="only these module keys")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave README.md alone")
    args = parser.parse_args(argv)
    if shutil.which("wasm-objdump") is None:
        print("bench_wasm_large: wasm-objdump is missing (make sysdeps installs Debian's wabt)", file=sys.stderr)
        return 2

    modules = [m for m in fetch_modules() if int(m["size"]) >= MIN_SIZE and (not args.only or m["key"] in args.only)]
    modules.sort(key=lambda m: -int(m["size"]))
    rows = []
    for module in modules:
        path = str(module["path"])
        argvs = tool_argvs(path)
        row: dict[str, object] = {"key": module["key"], "package": f"{module['package']} {module['version']}",
                                  "size": int(module["size"])}
        for tool in ("macwasm", "wasm-objdump"):
            run_once(argvs[tool], 120)  # warm-up: page cache, .pyc
            results = [run_once(argvs[tool], 120) for _ in range(args.reps)]
            row[tool] = statistics.median(t for t, _ in results)
            row[f"{tool}_rc"] = results[-1][1]
        slow = [run_once(argvs["wasm-tools"], SLOW_TIMEOUT_S) for _ in range(args.slow_reps)]
        row["wasm-tools"] = statistics.median(t for t, _ in slow)
        row["wasm-tools_rc"] = slow[-1][1]
        measured = in_process(Path(path))
        info = measured.pop("info")
        row.update(measured)
        row["exports"] = len(info.get("exports") or [])
        row["imports"] = len(info.get("imports") or [])
        print(json.dumps(row), flush=True)
        rows.append(row)
    boot = startup()
    text = render(rows, boot, args)
    print(text)
    if not args.no_readme:
        replace_section(SECTION, text)
    return 0


def render(rows: list[dict[str, object]], boot: dict[str, float], args: argparse.Namespace) -> str:
    def cell(row: dict[str, object], tool: str) -> str:
        rc = row[f"{tool}_rc"]
        return fmt_s(row[tool]) + ("" if rc == 0 else f" (exit {rc})")

    lines = [
        f"## {SECTION}",
        "",
        "Machine: "
        + machine_info({"wasm-objdump": ["wasm-objdump", "--version"],
                        "wasm-tools (PyPI)": [sys.executable, "-c",
                                               "import importlib.metadata as m; print(m.version('wasm-tools'))"]})
        + ".",
        "",
        f"Whole process, output to /dev/null, median of {args.reps} runs after a warm-up (wasm-tools: "
        f"{args.slow_reps} run{'s' if args.slow_reps != 1 else ''}). Commands: `macwasm inspect --format json F`, "
        "`wasm-objdump -h -x F`, `wasm-tools F -x`. In process, median of 10 each: `inspect_path(F)` (the complete "
        "typed result, every export decoded), `.to_dict()` on it (the JSON-ready form), and `inspect_path(F)` "
        "with the C accelerator off (pure Python). C accelerator built: "
        + ("yes" if all(r.get("accelerated") for r in rows) else "**no**") + ".",
        "",
        "| module | package | MB | imports | exports | macwasm s | wasm-objdump s | wasm-tools s | "
        "objdump / macwasm | wasm-tools / macwasm | inspect_path ms | + to_dict ms | pure Python ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['key']} | {r['package']} | {int(r['size']) / 1e6:.1f} | {r['imports']:,} | {r['exports']:,} | "
            f"{cell(r, 'macwasm')} | {cell(r, 'wasm-objdump')} | {cell(r, 'wasm-tools')} | "
            f"{float(r['wasm-objdump']) / float(r['macwasm']):.2f} | "
            f"{float(r['wasm-tools']) / float(r['macwasm']):.0f} | {float(r['in_process']) * 1000:.1f} | "
            f"{float(r['to_dict']) * 1000:.1f} | {float(r['pure_python']) * 1000:.1f} |"
        )
    faster_both = [r["key"] for r in rows if r["macwasm"] < r["wasm-objdump"] and r["macwasm"] < r["wasm-tools"]]
    class30 = [r for r in rows if 25e6 <= int(r["size"]) <= 40e6]
    over = [f"{r['key']} {float(r['in_process']) * 1000:.0f} ms" for r in class30
            if float(r["in_process"]) >= GOAL_IN_PROCESS_S]
    over_dict = [f"{r['key']} {(float(r['in_process']) + float(r['to_dict'])) * 1000:.0f} ms" for r in class30
                 if float(r["in_process"]) + float(r["to_dict"]) >= GOAL_IN_PROCESS_S]
    over_pure = [f"{r['key']} {float(r['pure_python']) * 1000:.0f} ms" for r in class30
                 if float(r["pure_python"]) >= GOAL_IN_PROCESS_S]
    overhead = boot["tiny"]
    lines += [
        "",
        f"Faster than both whole-process: {len(faster_both)} of {len(rows)} modules"
        + ("" if len(faster_both) == len(rows) else
           f" (not: {', '.join(str(r['key']) for r in rows if r['key'] not in faster_both)})")
        + ".",
        f"Under {GOAL_IN_PROCESS_S * 1000:.0f} ms in process for the 30 MB class (25-40 MB, {len(class30)} modules): "
        + ("**met**" if not over else f"**NOT met** ({', '.join(over)})")
        + "; with `to_dict()` added: " + ("met" if not over_dict else f"not met ({', '.join(over_dict)})")
        + "; pure Python: " + ("met" if not over_pure else f"not met ({', '.join(over_pure)})") + ".",
        f"Start-up: bare interpreter {boot['python'] * 1000:.0f} ms, interpreter + importing the CLI "
        f"{boot['import'] * 1000:.0f} ms, `macwasm --help` (imports every command) {boot['help'] * 1000:.0f} ms, "
        f"`macwasm inspect --format json` on a {TINY_MODULE.stat().st_size}-byte module (imports only `inspect`) "
        f"{overhead * 1000:.0f} ms; the share of macwasm's "
        "whole-process time that is start-up, per module: "
        + ", ".join(f"{r['key']} {min(overhead / float(r['macwasm']), 1) * 100:.0f}%" for r in rows)
        + ".",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
