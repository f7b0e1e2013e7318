#!/usr/bin/env python3
"""Install time and venv size (CLI only, ``[audit]``, everything), ``make demo`` on a fresh clone,
and the start-up time of each command.

Side by side: uv (what the Makefile uses) and pip (what a user without uv runs) install the same
wheel with the same lock-pinned versions; cold (an empty package cache: every file downloaded
from PyPI) and warm (the cache filled by the cold run). ``make demo`` runs in a ``git clone`` of the
committed tree, cold and warm. Start-up: the median wall time of 5 runs of each command on a small
sample, next to ``python -c pass`` (the interpreter alone).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_all import machine_info, replace_section

REPO = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")
RUNS = 5


def _size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                total += os.stat(p).st_size
    return total


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


def _timed(argv: list[str], **kw) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - start


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT")}
    env.update(UV_CACHE_DIR=str(cache / "uv"), PIP_CACHE_DIR=str(cache / "pip"), UV_PYTHON_DOWNLOADS="never")
    return env


def _installs(work: Path, wheel: Path, constraints: Path) -> list[tuple[str, str, str, float, float, int]]:
    rows = []
    specs = {"CLI only": str(wheel), "[audit]": f"macwasm[audit] @ {wheel.as_uri()}"}
    for tool in ("uv", "pip"):
        cache = work / f"cache-{tool}"
        for label, spec in specs.items():
            times = []
            for attempt in ("cold", "warm"):
                venv = work / f"{tool}-{label.strip('[]').replace(' ', '-')}-{attempt}"
                env = _env(cache)
                if tool == "uv":
                    t = _timed([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], env=env)
                    t += _timed([str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                                 "--constraint", str(constraints), spec], env=env)
                else:
                    t = _timed([sys.executable, "-m", "venv", str(venv)], env=env)
                    t += _timed([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                 "--disable-pip-version-check", "--constraint", str(constraints), spec], env=env)
                times.append(t)
            rows.append((label, tool, "", times[0], times[1], _size(venv)))
    # everything: every extra and the dev group, as `make test` syncs it
    cache = work / "cache-uv-all"
    times = []
    for attempt in ("cold", "warm"):
        venv = work / f"uv-all-{attempt}"
        env = {**_env(cache), "UV_PROJECT_ENVIRONMENT": str(venv)}
        times.append(_timed([str(UV), "sync", "--locked", "--all-extras", "--python", sys.executable, "--quiet"],
                            cwd=REPO, env=env))
    rows.append(("everything (make test)", "uv", "", times[0], times[1], _size(venv)))
    return rows


def _demo(work: Path) -> list[tuple[str, float, int]]:
    clone = work / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    out = []
    cache = work / "cache-demo"
    for attempt in ("cold cache", "warm cache"):
        shutil.rmtree(clone / ".venv", ignore_errors=True)
        shutil.rmtree(clone / ".cache", ignore_errors=True)
        env = _env(cache)
        start = time.perf_counter()
        proc = subprocess.run(["make", "demo"], cwd=clone, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"make demo failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        out.append((attempt, elapsed, _size(clone / ".venv")))
    return out


def _startup(macwasm: Path, python: Path) -> list[tuple[str, float]]:
    data = REPO / "data"
    forum = str(data / "samples" / "entitlements" / "forum-thread.entitlements")
    amfi = str(data / "samples" / "logs" / "system-log-amfi.log")
    commands = {
        "python -c pass (the interpreter alone)": [str(python), "-c", "pass"],
        "--version": [str(macwasm), "--version"],
        "--help": [str(macwasm), "--help"],
        "inspect mvp.wasm": [str(macwasm), "inspect", str(data / "modules" / "mvp.wasm")],
        "entitlements forum-thread.entitlements": [str(macwasm), "entitlements", forum],
        "check forum-thread.entitlements": [str(macwasm), "check", forum],
        "advise --product-type app": [str(macwasm), "advise", "--product-type", "app"],
        "explain system-log-amfi.log": [str(macwasm), "explain", amfi],
        "audit apps.csv (21 rows)": [str(macwasm), "audit", str(data / "samples" / "apps.csv")],
    }
    out = []
    for label, argv in commands.items():
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True, cwd=tempfile.gettempdir())
            times.append(time.perf_counter() - start)
        out.append((label, statistics.median(times)))
    return out


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-install-") as tmp:
        work = Path(tmp)
        dist = work / "dist"
        _timed([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(dist), str(REPO)],
               cwd=work)
        (wheel,) = dist.glob("*.whl")
        constraints = work / "constraints.txt"
        _timed([str(UV), "export", "--frozen", "--no-dev", "--all-extras", "--no-emit-project", "--no-hashes",
                "--quiet", "--output-file", str(constraints)], cwd=REPO)
        installs = _installs(work, wheel, constraints)
        demo = _demo(work)
        audit_venv = work / "uv-audit-warm"
        startup = _startup(audit_venv / "bin" / "macwasm", audit_venv / "bin" / "python")
    lines = [
        "## Install and start-up",
        "",
        "`benchmarks/bench_install.py`. Install: a fresh venv and the wheel with the lock's versions; cold = "
        "empty package cache (every file downloaded from PyPI), warm = the cache the cold run filled. "
        "Size: every file of the venv.",
        "",
        "| what | installer | cold | warm | venv size |",
        "|---|---|---:|---:|---:|",
        *(f"| {label} | {tool} | {cold:.1f} s | {warm:.1f} s | {_mb(size)} |"
          for label, tool, _, cold, warm, size in installs),
        "",
        "`make demo` on a fresh `git clone` (installs uv, then the CLI and `[audit]`, runs inspect, check, "
        "explain and audit on the samples):",
        "",
        "| cache | time | .venv size |",
        "|---|---:|---:|",
        *(f"| {attempt} | {t:.1f} s | {_mb(size)} |" for attempt, t, size in demo),
        "",
        f"Start-up: median wall time of {RUNS} runs per command, CLI + `[audit]` venv, whole process:",
        "",
        "| command | time |",
        "|---|---:|",
        *(f"| `{label}` | {t * 1000:.0f} ms |" for label, t in startup),
        "",
        f"Machine: {machine_info({'uv': [str(UV), '--version']})}.",
    ]
    replace_section("Install and start-up", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
