"""Coverage-guided fuzzing of one reader with atheris (libFuzzer), for ``make fuzz``.

Usage (from the repository root): ``python -m tests.fuzz.run_atheris [TARGET...] [--seconds N] [--keep-corpus]``

The working corpus lives in ``.cache/fuzz/TARGET`` (git-ignored) and starts from the target's
seeds; with ``--keep-corpus`` the smallest inputs libFuzzer added for new coverage (at most
``MAX_KEPT`` bytes, ``MAX_KEPT_FILES`` per run) are copied to ``tests/fuzz/corpus/TARGET`` so later short runs and the
replay test start from them. Figures of the run (executions, corpus size, crashes) are appended to
``.cache/fuzz/stats.jsonl`` for ``tests/fuzz/README.md``. Any crash is saved with its input
under ``.cache/fuzz/crashes/``; turn it into a regression test before fixing it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = REPO / ".cache" / "fuzz"
MAX_KEPT = 4096
MAX_KEPT_FILES = 40  # per target and run
MAX_LEN = 65536
CHILD = [sys.executable, "-m", "tests.fuzz.run_atheris", "--child"]


def _child(target: str) -> None:
    """Run inside the fuzzing process: instrument macwasm, then hand control to libFuzzer."""
    import atheris

    # Readers are imported lazily by the targets; import them here, inside the context, or libFuzzer sees
    # no coverage (the first long runs kept 0 inputs: executions were fast because nothing was instrumented).
    with atheris.instrument_imports(include=["macwasm"]):
        import importlib

        from .targets import TARGETS

        for module in (TARGETS[target].module, "macwasm.wasm", "macwasm.signing.reader", "macwasm.policy.explain"):
            importlib.import_module(module)
    run = TARGETS[target].run
    atheris.Setup(sys.argv[:1] + sys.argv[3:], run)
    atheris.Fuzz()


def _keep_small_inputs(target: str, work: Path, seed_names: set[str]) -> int:
    """Copy the smallest inputs libFuzzer added (each added coverage when found) into the kept corpus.

    libFuzzer's ``-merge=1`` would minimise the set, but it re-runs ``argv[0]`` as a program, and
    under ``python -m`` that is a script without execute permission: every merge attempt failed and
    nothing was kept. The smallest ``MAX_KEPT_FILES`` new inputs of at most ``MAX_KEPT`` bytes keep
    the committed corpus small; the replay test runs every one of them.
    """
    kept = REPO / "tests" / "fuzz" / "corpus" / target
    kept.mkdir(parents=True, exist_ok=True)
    found = [p for p in work.iterdir() if p.name not in seed_names and p.stat().st_size <= MAX_KEPT]
    for path in sorted(found, key=lambda p: (p.stat().st_size, p.name))[:MAX_KEPT_FILES]:
        (kept / hashlib.sha1(path.read_bytes()).hexdigest()).write_bytes(path.read_bytes())
    return sum(1 for _ in kept.iterdir())


def run(target: str, seconds: int, keep: bool) -> dict[str, object]:
    from .mutations import seeds

    work = CACHE / target
    crashes = CACHE / "crashes"
    work.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    for seed in seeds(target):
        (work / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    args = [*CHILD, target, f"-max_total_time={seconds}", f"-max_len={MAX_LEN}", "-timeout=10",
            "-rss_limit_mb=2048", f"-artifact_prefix={crashes}/{target}-", "-print_final_stats=1", str(work)]
    started = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, cwd=REPO)
    elapsed = time.monotonic() - started
    log = proc.stdout + proc.stderr
    execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
    crashed = proc.returncode != 0
    stats = {
        "target": target,
        "seconds": round(elapsed, 1),
        "executions": int(execs[-1]) if execs else None,
        "corpus_files": sum(1 for _ in work.iterdir()),
        "crashed": crashed,
        "date": time.strftime("%Y-%m-%d"),
    }
    if crashed:
        stats["log_tail"] = log[-3000:]
    if keep and not crashed:
        stats["kept"] = _keep_small_inputs(target, work, {hashlib.sha1(seed).hexdigest() for seed in seeds(target)})
    with open(CACHE / "stats.jsonl", "a") as fh:
        fh.write(json.dumps(stats) + "\n")
    return stats


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(sys.argv[2])
        return 0
    from .targets import TARGETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", default=sorted(TARGETS), help="targets (default: all)")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--keep-corpus", action="store_true")
    args = parser.parse_args()
    failed = False
    for name in args.targets:
        stats = run(name, args.seconds, args.keep_corpus)
        print(json.dumps({k: v for k, v in stats.items() if k != "log_tail"}))
        if stats["crashed"]:
            failed = True
            print(stats.get("log_tail", ""), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
