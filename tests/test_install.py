"""macwasm installed as a user installs it: a wheel and an sdist, in fresh venvs, run from elsewhere.

``python -m build`` makes the sdist and then the wheel *from the sdist* (so the sdist must carry
the tables); each goes into a fresh venv outside the checkout, and every command runs from a
folder that is not the checkout, on copies of the sample files. Once with the core alone (the
extras' commands must say which extra to install, exit 2, no traceback) and once with the extras.
Dependencies come from PyPI (through uv's cache), pinned by uv.lock.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
UV = Path(sys.executable).with_name("uv")
pytestmark = [pytest.mark.network, pytest.mark.slow]


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env or _clean_env())


def _clean_env() -> dict[str, str]:
    """The user's environment: no PYTHONPATH, no MACWASM_DATA, no venv of the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MACWASM_DATA", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(REPO)))
    return env


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    proc = _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO), cwd=out)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = out.glob("macwasm-*.whl")
    (sdist,) = out.glob("macwasm-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def constraints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lock's versions for the runtime dependencies (no dev group): what a user would get."""
    path = tmp_path_factory.mktemp("lock") / "constraints.txt"
    proc = _run(str(UV), "export", "--frozen", "--no-dev", "--all-extras", "--no-emit-project", "--no-hashes",
                "--quiet", "--output-file", str(path), cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return path


def _venv(where: Path, spec: str, constraints: Path) -> Path:
    env = {**_clean_env(), "UV_PYTHON_DOWNLOADS": "never"}
    proc = _run(str(UV), "venv", "--quiet", "--python", sys.executable, str(where), cwd=where.parent, env=env)
    assert proc.returncode == 0, proc.stderr
    proc = _run(str(UV), "pip", "install", "--quiet", "--python", str(where / "bin" / "python"),
                "--constraint", str(constraints), spec, cwd=where.parent, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return where / "bin" / "macwasm"


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's folder: copies of the samples, nothing of the checkout."""
    home = tmp_path_factory.mktemp("user")
    shutil.copytree(DATA / "samples", home / "samples")
    shutil.copytree(DATA / "bundles" / "ForumCase.app", home / "ForumCase.app", symlinks=True)
    shutil.copy(DATA / "modules" / "mvp.wasm", home / "mvp.wasm")
    return home


def test_the_wheel_and_the_sdist_carry_every_table_and_the_licence(dists: dict[str, Path]) -> None:
    tables = sorted(p.name for p in DATA.glob("*.csv"))
    with zipfile.ZipFile(dists["wheel"]) as whl:
        names = whl.namelist()
    assert sorted(n.removeprefix("macwasm/data/") for n in names if n.startswith("macwasm/data/")) == tables
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    from macwasm.report.schema import COMMANDS

    assert {f"macwasm/schemas/{c}.schema.json" for c in COMMANDS} <= set(names)  # the published JSON Schemas
    import tarfile

    with tarfile.open(dists["sdist"]) as sd:
        members = sd.getnames()
    assert {f"data/{t}" for t in tables} <= {m.split("/", 1)[1] for m in members if "/" in m}
    assert any(m.endswith("/LICENSE") for m in members)


def _commands(home: Path) -> dict[str, tuple[list[str], int]]:
    """Every command, with the exit code the samples call for (1: deliberate findings)."""
    return {
        "version": (["--version"], 0),
        "help": (["--help"], 0),
        "inspect": (["inspect", "mvp.wasm"], 0),
        "entitlements": (["entitlements", "samples/entitlements/forum-thread.entitlements"], 0),
        "check": (["check", "ForumCase.app", "--runtime", "wasmtime"], 1),
        "check-sarif": (["check", "samples/entitlements/forum-thread.entitlements", "--format", "sarif"], 1),
        "advise": (["advise", "--product-type", "network-extension", "--runtime", "wasmtime"], 0),
        "explain": (["explain", "samples/logs/system-log-amfi.log"], 0),
        "audit": (["audit", "samples/apps.csv"], 1),
        "rule": (["rule", "MW101"], 0),  # its examples are evaluated from the wheel's rule_examples.csv
        "runtime": (["runtime", "wasmtime"], 0),
        "validate": (["inspect", "--validate", "mvp.wasm"], 0),
    }


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_core_install_runs_every_command_and_names_the_missing_extras(
        kind: str, dists: dict[str, Path], constraints: Path, elsewhere: Path, tmp_path: Path) -> None:
    macwasm = _venv(tmp_path / "venv", str(dists[kind]), constraints)
    extras = {"audit": "pip install 'macwasm[audit]'", "validate": "pip install 'macwasm[validate]'"}
    for name, (args, code) in _commands(elsewhere).items():
        proc = _run(str(macwasm), *args, cwd=elsewhere)
        if name in extras:
            assert proc.returncode == 2, (name, proc.stderr)
            assert proc.stderr.startswith(f"macwasm {args[0]} needs "), proc.stderr
            assert extras[name] in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
            continue
        assert proc.returncode == code, (name, proc.returncode, proc.stdout[-1500:], proc.stderr[-1500:])
        assert "Traceback" not in proc.stderr
    log = json.loads(_run(str(macwasm), *_commands(elsewhere)["check-sarif"][0], cwd=elsewhere).stdout)
    assert {loc["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]
            for loc in r["locations"]} == {"samples/entitlements/forum-thread.entitlements"}


def test_wheel_with_extras_runs_every_command(dists: dict[str, Path], constraints: Path, elsewhere: Path,
                                              tmp_path: Path) -> None:
    macwasm = _venv(tmp_path / "venv", f"macwasm[audit,validate] @ {dists['wheel'].as_uri()}", constraints)
    for name, (args, code) in _commands(elsewhere).items():
        proc = _run(str(macwasm), *args, cwd=elsewhere)
        assert proc.returncode == code, (name, proc.returncode, proc.stdout[-1500:], proc.stderr[-1500:])
    audit = _run(str(macwasm), "audit", "samples/apps.csv", "--format", "json", cwd=elsewhere)
    rows = sum(1 for line in (DATA / "samples" / "apps.csv").open() if line.strip()) - 1
    assert len(json.loads(audit.stdout)) == rows


def test_a_missing_table_is_an_installation_error_not_malformed(dists: dict[str, Path], constraints: Path,
                                                                elsewhere: Path, tmp_path: Path) -> None:
    macwasm = _venv(tmp_path / "venv", str(dists["wheel"]), constraints)
    site = next((tmp_path / "venv" / "lib").glob("python3*/site-packages/macwasm/data"))
    (site / "product_roles.csv").unlink()
    proc = _run(str(macwasm), "entitlements", "ForumCase.app", "samples/entitlements", cwd=elsewhere)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "product_roles.csv is missing" in proc.stderr and "installation is incomplete" in proc.stderr
    assert "malformed" not in proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1  # said once, not once per input
