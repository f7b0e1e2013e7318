"""Xcode projects: read and judge a generated 100-target project (goal: under 1 s), beside the parsers alone.

The project comes from ``scripts/build_xcode_samples.py`` (``big_project``: 50 apps, each embedding
its own network system extension that links wasmtime; two configurations, so 200 target x
configuration pairs, each with its .entitlements file and a .wasm in Copy Bundle Resources).
Measured, each in its own process, median of 5: ``read_xcode_project`` alone, read + judge every
pair (``macwasm.policy.check``), the whole ``macwasm check Big.xcodeproj --format json`` process;
and for scale, ``openstep_parser`` parsing the same ``project.pbxproj`` (the floor: the grammar
alone) and the ``pbxproj`` package's ``XcodeProject.load`` (the object model Python tools use).
Writes the "Xcode projects" section of benchmarks/README.md.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from run_all import machine_info, macwasm_argv, replace_section

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / ".work" / "xcode"
SECTION = "Xcode projects"
TARGETS = 100
REPEATS = 5
GOAL_S = 1.0

_CHILD = r"""
import json, sys, time
import contextlib, io
from openstep_parser import OpenStepDecoder
from pbxproj import XcodeProject
from macwasm.policy import check
from macwasm.xcode.project import read_xcode_project
mode, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if mode == "openstep_parser":
    OpenStepDecoder.ParseFromString(open(path + "/project.pbxproj", encoding="utf-8").read())
    n = 0
elif mode == "pbxproj":
    with contextlib.redirect_stderr(io.StringIO()):
        XcodeProject.load(path + "/project.pbxproj")
    n = 0
elif mode == "read":
    n = len(read_xcode_project(path).targets)
else:
    results = check(path)
    n = len(results)
    assert {r.verdict for r in results} and all(r.target for r in results)
print(json.dumps({"seconds": time.perf_counter() - t0, "pairs": n}))
"""


def child(mode: str, project: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, mode, str(project)], capture_output=True, text=True,
                          check=True, cwd=REPO)
    return json.loads(proc.stdout)


def whole_process(project: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([*macwasm_argv(), "check", str(project), "--format", "json"], capture_output=True, check=False,
                   cwd=REPO)
    return time.perf_counter() - t0


def main() -> int:
    sys.path.insert(0, str(REPO / "scripts"))
    import build_xcode_samples

    if WORK.exists():
        shutil.rmtree(WORK)
    project = build_xcode_samples.big_project(WORK / "Big", TARGETS)
    size = (project / "project.pbxproj").stat().st_size
    rows = {}
    for mode in ("openstep_parser", "pbxproj", "read", "check"):
        runs = [child(mode, project) for _ in range(REPEATS)]
        rows[mode] = (statistics.median(r["seconds"] for r in runs), runs[0]["pairs"])
    cli = statistics.median(whole_process(project) for _ in range(REPEATS))
    judged = rows["check"][0]
    text = "\n".join([
        f"## {SECTION}",
        "",
        f"A generated project (`scripts/build_xcode_samples.py` `big_project`): {TARGETS} native targets "
        f"(50 apps each embedding a network system extension that links wasmtime), 2 configurations, "
        f"{rows['check'][1]} target x configuration pairs, `project.pbxproj` {size / 1024:.0f} KB, one "
        ".entitlements file per target and a .wasm per app. Each figure is the median of "
        f"{REPEATS} runs, each in its own process, timed in process after imports unless said otherwise.",
        "",
        "| what | time |",
        "|---|---|",
        f"| `openstep_parser` parse of `project.pbxproj` alone (the grammar; no caps, no model) | "
        f"{rows['openstep_parser'][0] * 1000:.0f} ms |",
        f"| `pbxproj` `XcodeProject.load` (its object model, parse included) | {rows['pbxproj'][0] * 1000:.0f} ms |",
        f"| `macwasm.xcode.read_xcode_project` (parse, settings, xcconfig, entitlements files, phases) | "
        f"{rows['read'][0] * 1000:.0f} ms |",
        f"| `macwasm.policy.check` (read + judge all {rows['check'][1]} pairs) | {judged * 1000:.0f} ms |",
        f"| `macwasm check Big.xcodeproj --format json`, whole process (interpreter start and imports included) | "
        f"{cli * 1000:.0f} ms |",
        "",
        f"Goal: read and judge a 100-target project in under {GOAL_S:.0f} s: "
        f"{'met' if judged < GOAL_S else 'NOT met'} ({judged:.2f} s in process, {cli:.2f} s whole process).",
        "",
        f"Machine: {machine_info()}.",
    ])
    replace_section(SECTION, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
