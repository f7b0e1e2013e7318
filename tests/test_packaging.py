"""The declared dependencies and the lock: installable with wheels on Linux and both Macs, 3.11-3.13.

Offline: ``uv.lock`` lists every file of every locked version, so the lock is walked from macwasm
(every extra, the dev group) for each target platform, following only the edges whose markers
hold there, and each package reached must have a wheel that platform can install (or be pure
Python). ``requirements.txt`` must be the lock's pip export, so the two cannot drift.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import canonicalize_name, parse_wheel_filename

REPO = Path(__file__).resolve().parents[1]
LOCK = tomllib.loads((REPO / "uv.lock").read_text())
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PYTHONS = ((3, 11), (3, 12), (3, 13))
#: (name, sys_platform, platform_machine, platform tags): macOS 12 is the oldest macOS the wheels cover
PLATFORMS = (
    ("linux-x86_64", "linux", "x86_64", [f"manylinux_2_{m}_x86_64" for m in range(28, 4, -1)]
     + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]),
    ("macos-arm64", "darwin", "arm64", list(mac_platforms((12, 0), "arm64"))),
    ("macos-x86_64", "darwin", "x86_64", list(mac_platforms((12, 0), "x86_64"))),
)


#: packages published as an sdist only that are one pure-Python module (nothing to compile on any platform),
#: with why the lock reaches them
PURE_PYTHON_SDISTS = {"docopt": "pbxproj's command line; dev group only (scripts/build_xcode_samples.py)"}


def _env(py: tuple[int, int], sys_platform: str, machine: str) -> dict[str, str]:
    return {"python_version": f"{py[0]}.{py[1]}", "python_full_version": f"{py[0]}.{py[1]}.0",
            "sys_platform": sys_platform, "platform_system": {"linux": "Linux", "darwin": "Darwin"}[sys_platform],
            "platform_machine": machine, "os_name": "posix", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "extra": ""}


def _holds(marker: str | None, env: dict[str, str]) -> bool:
    return marker is None or Marker(marker).evaluate(env)


def _packages() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for pkg in LOCK["package"]:
        out.setdefault(canonicalize_name(pkg["name"]), []).append(pkg)
    return out


def _version_for(candidates: list[dict], env: dict[str, str]) -> dict:
    if len(candidates) == 1:
        return candidates[0]
    chosen = [p for p in candidates if any(_holds(m, env) for m in p.get("resolution-markers", []))]
    assert len(chosen) == 1, [p["version"] for p in chosen]
    return chosen[0]


def _reached(env: dict[str, str]) -> list[dict]:
    packages = _packages()
    root = packages["macwasm"][0]
    edges = list(root.get("dependencies", []))
    edges += [d for deps in root.get("optional-dependencies", {}).values() for d in deps]
    edges += [d for deps in root.get("dev-dependencies", {}).values() for d in deps]
    seen: dict[str, dict] = {}
    while edges:
        edge = edges.pop()
        name = canonicalize_name(edge["name"])
        if name in seen or name == "macwasm" or not _holds(edge.get("marker"), env):
            continue
        pkg = _version_for(packages[name], env)
        seen[name] = pkg
        edges.extend(pkg.get("dependencies", []))
        for extra in edge.get("extra", []):
            edges.extend(pkg.get("optional-dependencies", {}).get(extra, []))
    return list(seen.values())


@pytest.mark.parametrize("py", PYTHONS, ids=lambda p: f"py{p[0]}{p[1]}")
@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p[0])
def test_every_locked_package_has_a_wheel_for_the_platform(py: tuple[int, int], platform: tuple) -> None:
    name, sys_platform, machine, platform_tags = platform
    env = _env(py, sys_platform, machine)
    supported = set(cpython_tags(py, platforms=platform_tags)) | set(compatible_tags(py, platforms=platform_tags))
    missing = []
    reached = _reached(env)
    for pkg in reached:
        tags: set[Tag] = set()
        for wheel in pkg.get("wheels", []):
            tags |= set(parse_wheel_filename(wheel["url"].rsplit("/", 1)[-1])[3])
        if not tags & supported and canonicalize_name(pkg["name"]) not in PURE_PYTHON_SDISTS:
            missing.append(f"{pkg['name']} {pkg['version']}")
    assert not missing, f"no wheel for {name} / Python {py[0]}.{py[1]}: {missing}"
    names = {canonicalize_name(p["name"]) for p in reached}
    assert {"asn1crypto", "pandas", "pyarrow", "wasmtime", "pytest"} <= names
    assert ("atheris" in names) is (sys_platform == "linux")  # libFuzzer-based: Linux only


def test_the_core_is_what_the_cli_imports_and_extras_are_declared() -> None:
    project = PYPROJECT["project"]
    assert [d.split(">")[0].split("=")[0] for d in project["dependencies"]] == ["asn1crypto", "openstep-parser"]
    assert {"audit", "validate", "notebooks"} <= set(project["optional-dependencies"])
    assert any(d.startswith("pandas") for d in project["optional-dependencies"]["audit"])
    assert any(d.startswith("pyarrow") for d in project["optional-dependencies"]["audit"])
    dev = PYPROJECT["dependency-groups"]["dev"]
    assert any(d.startswith("atheris") and "sys_platform == 'linux'" in d for d in dev)
    assert "version" in project["dynamic"]


def test_requirements_txt_is_the_pip_export_of_the_lock(tmp_path: Path) -> None:
    uv = Path(sys.executable).with_name("uv")
    out = tmp_path / "requirements.txt"
    proc = subprocess.run([str(uv), "export", "--frozen", "--all-extras", "--no-emit-project", "--format",
                           "requirements.txt", "--quiet", "--output-file", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    def body(text: str) -> list[str]:  # the header names the output file; the rest must be equal
        return [line for line in text.splitlines() if not line.startswith("#    uv export")]
    assert body(out.read_text()) == body((REPO / "requirements.txt").read_text()), "run `make lock`"


def test_the_lock_is_up_to_date_with_pyproject() -> None:
    uv = Path(sys.executable).with_name("uv")
    proc = subprocess.run([str(uv), "lock", "--check", "--offline"], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "UV_PYTHON_DOWNLOADS": "never",
                                            "HOME": str(Path.home())})
    assert proc.returncode == 0, proc.stderr[-2000:] + " (run `make lock`)"
