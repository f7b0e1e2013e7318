"""Shared fixtures: where things are, and a way to run the real CLI as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


def run_cli(*args: str, input_bytes: bytes | None = None, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m macwasm ARGS`` in a child process, exactly as the console script would."""
    proc = subprocess.run(
        [sys.executable, "-m", "macwasm", *args],
        input=input_bytes,
        capture_output=True,
        cwd=cwd or REPO,
        timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def tables_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of every fact table, in force (``MACWASM_DATA``) for the test and the CLI it starts."""
    import shutil

    for table in DATA.glob("*.csv"):
        shutil.copy(table, tmp_path / table.name)
    monkeypatch.setenv("MACWASM_DATA", str(tmp_path))
    return tmp_path
