"""The short fuzzing pass of ``make test``: replay the kept corpus, mutate seeds, and a brief atheris run.

Each target (see ``targets.py``) may only return a result that keeps its invariants or raise its
reader's own error. ``make fuzz`` runs the coverage-guided fuzzer for longer; this pass makes sure
every input it ever kept, and a few hundred fresh mutations, still hold up.
"""

from __future__ import annotations

import importlib
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .mutations import mutate, seeds
from .targets import TARGETS

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NAMES = sorted(TARGETS)
FUZZ_SETTINGS = settings(max_examples=150, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _available(name: str) -> None:
    """A reader that does not exist is a failure: every reader must have its fuzz target."""
    importlib.import_module(TARGETS[name].module)


@pytest.mark.parametrize("name", NAMES)
def test_kept_corpus_and_regressions_still_hold(name):
    _available(name)
    files = [p for d in ("corpus", "regressions") for p in sorted((HERE / d / name).glob("*")) if p.is_file()]
    for path in files:
        TARGETS[name].run(path.read_bytes())


@pytest.mark.parametrize("name", NAMES)
def test_seeds_exist_and_pass(name):
    _available(name)
    found = seeds(name)
    assert found, f"no seed inputs for {name}: see SEED_DIRS in mutations.py"
    for data in found:
        TARGETS[name].run(data)


@pytest.mark.parametrize("name", NAMES)
def test_mutated_seeds(name):
    _available(name)
    pool = seeds(name) or [b""]

    @FUZZ_SETTINGS
    @given(st.integers(min_value=0, max_value=2**32 - 1))
    def check(seed: int) -> None:
        rng = random.Random(seed)
        TARGETS[name].run(mutate(rng.choice(pool), rng))

    check()


@pytest.mark.parametrize("name", NAMES)
def test_random_bytes(name):
    _available(name)

    @FUZZ_SETTINGS
    @given(st.binary(max_size=4096))
    def check(data: bytes) -> None:
        TARGETS[name].run(data)

    check()


@pytest.mark.parametrize("name", NAMES)
def test_short_coverage_guided_run(name):
    pytest.importorskip("atheris", reason="atheris is installed on Linux only (dev group, sys_platform == 'linux'): "
                        "no macOS wheel, and Apple's clang has no libFuzzer")
    _available(name)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.run_atheris", name, "--seconds", "3"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    assert stats["executions"] and stats["executions"] > 0, stats
