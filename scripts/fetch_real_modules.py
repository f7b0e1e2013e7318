#!/usr/bin/env python3
"""Fetch a pinned set of real-world WebAssembly modules from npm and PyPI into ``.cache/real-modules/``.

Why: the inspector must come out complete and right on what teams actually ship (emscripten, Rust,
Go, C/C++ toolchains; threads, exceptions, SIMD; 75,000 exports), and the benchmarks need large
modules. Those files are tens of megabytes and carry their own licences, so the repository pins
*which* bytes (package, version, file inside, sha256, size) and this script re-creates them.

Only package registries are used, through their ordinary clients: ``npm pack PKG@VERSION`` (or the
registry tarball over HTTPS when npm is absent) and ``pip download --no-deps PKG==VERSION``.
The script is idempotent: a module already present with the pinned sha256 is not fetched again, and
an archive already downloaded is not downloaded again. Every extracted file is checked against its
pinned sha256 and size; a mismatch is an error, never silently accepted.

Usage::

    python scripts/fetch_real_modules.py            # fetch what is missing, print a summary
    python scripts/fetch_real_modules.py --json     # same, then print the manifest with local paths
    python scripts/fetch_real_modules.py --only duckdb-eh --only esbuild
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DEST = REPO / ".cache" / "real-modules"
NPM_REGISTRY = "https://registry.npmjs.org"
# Refuse to stream more than this from one registry archive (the largest pinned one is ~54 MB).
MAX_ARCHIVE_BYTES = 200 * 1024 * 1024
# Refuse to extract a member bigger than this (the largest pinned module is ~46 MB).
MAX_MEMBER_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True)
class RealModule:
    """One pinned file inside one registry package; ``key`` names it in tests and benchmarks."""

    key: str
    registry: str  # "npm" or "pypi"
    package: str
    version: str
    member: str  # path inside the tarball / wheel
    sha256: str
    size: int
    toolchain: str
    shows: str

    @property
    def local_name(self) -> str:
        return f"{self.key}.wasm"


MANIFEST: tuple[RealModule, ...] = (
    RealModule("duckdb-eh", "npm", "@duckdb/duckdb-wasm", "1.32.0", "package/dist/duckdb-eh.wasm",
               "4c221bfa59c11f24dbd750e70c90b9252eca6eec5633936e6a2ec766e55fd879", 34242586,
               "emscripten (C++)", "wasm exception handling (imported tags), 75,011 exports, dylink.0"),
    RealModule("duckdb-mvp", "npm", "@duckdb/duckdb-wasm", "1.32.0", "package/dist/duckdb-mvp.wasm",
               "45d72a81fba8e57693d890da837c7041310e385e75619a8559839b15388dfe97", 39362651,
               "emscripten (C++)", "MVP build, 75,111 exports, 791 imports"),
    RealModule("duckdb-coi", "npm", "@duckdb/duckdb-wasm", "1.32.0", "package/dist/duckdb-coi.wasm",
               "dfddea58f142a4f61d3e63620cdc659358b5e77a63c1d5df0ec55b00eda03546", 33968067,
               "emscripten (C++)", "threads: imported shared memory (cross-origin isolated build)"),
    RealModule("ffmpeg-core-mt", "npm", "@ffmpeg/core-mt", "0.12.10", "package/dist/esm/ffmpeg-core.wasm",
               "be2c97605366b78f3f13e21b52e81a55a79e1f29c133b03a68ec187b1a2ec41a", 32718323,
               "emscripten (C)", "threads: imported shared memory; target_features"),
    RealModule("ort-simd-threaded", "npm", "onnxruntime-web", "1.30.0", "package/dist/ort-wasm-simd-threaded.wasm",
               "3398c10d07d229bd91b364548e130e0e51a8e5704b88c7c083ebbeb78842dee2", 14239897,
               "emscripten (C++)", "threads + SIMD"),
    RealModule("ort-simd-threaded-jsep", "npm", "onnxruntime-web", "1.30.0",
               "package/dist/ort-wasm-simd-threaded.jsep.wasm",
               "3ad23231b5bd6d9dda55a7f84606315e0bf35b6750c28ee993c987c54cacab0f", 28312028,
               "emscripten (C++)", "threads + SIMD, WebGPU/JSEP build"),
    RealModule("ort-simd-threaded-jspi", "npm", "onnxruntime-web", "1.30.0",
               "package/dist/ort-wasm-simd-threaded.jspi.wasm",
               "a54c76f86b0f0d9572380cf1c6292a7b3903716ffcbcd6b0e5c7050bf430eb93", 16758545,
               "emscripten (C++)", "threads + SIMD + a tag section (exceptions), JSPI build"),
    RealModule("biome", "npm", "@biomejs/wasm-nodejs", "2.5.14", "package/biome_wasm_bg.wasm",
               "898927f0cd131b7679810555c75a4814eb8fe85d067fbf40ac24d8fa3f306554", 45630618,
               "Rust (wasm-bindgen)", "largest: 7.6 MB name section, producers, target_features"),
    RealModule("swc", "npm", "@swc/wasm", "1.16.18", "package/wasm_bg.wasm",
               "67659614a2ca8504a8b33f4e3f261489bd9b700dd12058894b22788a3c61eda5", 18021247,
               "Rust (wasm-bindgen)", "Rust producers section"),
    RealModule("esbuild", "npm", "esbuild-wasm", "0.28.2", "package/esbuild.wasm",
               "b1831a5c0f6cf688034fb94d0419812f165ea316a3380d3fc00a151e562d2eaf", 13978850,
               "Go (GOOS=js)", "Go toolchain output, gojs imports"),
    RealModule("pyodide", "npm", "pyodide", "314.0.7", "package/pyodide.asm.wasm",
               "cc36e3cab04fdfc9a63ff13eb52eae2b911bf46c025cc7b281f394bd3de1d5e6", 9598218,
               "emscripten (C, CPython MAIN_MODULE)", "dylink.0, tag section, 8,560 exports"),
    RealModule("starlingmonkey", "npm", "@bytecodealliance/componentize-js", "0.23.0",
               "package/lib/starlingmonkey_embedding.wasm",
               "6094cd93d966f9bec9b01332db6e0eedbaf22f60b745c9f823f21e33cbd4d365", 10520737,
               "wasi-sdk (C++, SpiderMonkey)", "WASI preview 2 imports (wasi:*), component-type custom section"),
    RealModule("web-tree-sitter", "npm", "web-tree-sitter", "0.27.2", "package/web-tree-sitter.wasm",
               "488beeff7adb7fd7e21e97cc29a43dc6d031977755eda892d6d96c7f456cfdec", 210688,
               "emscripten (C)", "small emscripten library"),
    RealModule("sqlite3", "npm", "@sqlite.org/sqlite-wasm", "3.41.2", "package/sqlite-wasm/jswasm/sqlite3.wasm",
               "2d34bf9279985db154f98bfab9ffa289b014821873ed188b67e3a4c5d1b7faec", 866600,
               "emscripten (C)", "SQLite's official build"),
    RealModule("playwright-webp", "pypi", "playwright", "1.65.2", "playwright/driver/package/lib/webp_codec.wasm",
               "164cd9583a3e4d081f767d3b41ff0a730443dc7535fcc5caff83561463384b79", 565369,
               "emscripten (C, libwebp)", "a module shipped inside a PyPI wheel"),
)


class FetchError(RuntimeError):
    """A download or a pinned-bytes check failed; the message says which package and why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_present(module: RealModule, dest: Path) -> bool:
    target = dest / module.local_name
    return target.is_file() and target.stat().st_size == module.size and sha256_of(target) == module.sha256


def _archive_slug(module: RealModule) -> str:
    return f"{module.registry}-{module.package.lstrip('@').replace('/', '-')}-{module.version}"


def _npm_tarball_url(package: str, version: str) -> str:
    bare = package.split("/")[-1]
    return f"{NPM_REGISTRY}/{package}/-/{bare}-{version}.tgz"


def _download_npm(module: RealModule, downloads: Path) -> Path:
    target = downloads / f"{_archive_slug(module)}.tgz"
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory(dir=downloads) as tmp:
        if shutil.which("npm"):
            proc = subprocess.run(
                ["npm", "pack", f"{module.package}@{module.version}", "--json", "--pack-destination", tmp],
                capture_output=True, text=True, timeout=900, check=False,
            )
            if proc.returncode != 0:
                raise FetchError(f"npm pack {module.package}@{module.version} failed: {proc.stderr.strip()[-400:]}")
            filename = json.loads(proc.stdout)[0]["filename"]
            # npm < 9 names scoped tarballs without the scope's "@"; look for what it actually wrote.
            written = Path(tmp) / filename.lstrip("@").replace("/", "-")
            if not written.is_file():
                candidates = list(Path(tmp).glob("*.tgz"))
                if len(candidates) != 1:
                    raise FetchError(f"npm pack {module.package}@{module.version}: tarball not found in {tmp}")
                written = candidates[0]
        else:
            written = Path(tmp) / "package.tgz"
            url = _npm_tarball_url(module.package, module.version)
            with urllib.request.urlopen(url, timeout=300) as resp, written.open("wb") as out:
                copied = 0
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    copied += len(chunk)
                    if copied > MAX_ARCHIVE_BYTES:
                        raise FetchError(f"{url}: larger than {MAX_ARCHIVE_BYTES} bytes")
                    out.write(chunk)
        os.replace(written, target)
    return target


def _download_pypi(module: RealModule, downloads: Path) -> Path:
    existing = sorted(downloads.glob(f"{_archive_slug(module)}--*.whl"))
    if existing:
        return existing[0]
    with tempfile.TemporaryDirectory(dir=downloads) as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
             "-q", f"{module.package}=={module.version}", "-d", tmp],
            capture_output=True, text=True, timeout=900, check=False,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            raise FetchError(f"pip download {module.package}=={module.version} failed: {proc.stderr.strip()[-400:]}")
        target = downloads / f"{_archive_slug(module)}--{wheels[0].name}"
        os.replace(wheels[0], target)
    return target


def _copy_bounded(src, dst, limit: int, what: str) -> None:
    copied = 0
    for chunk in iter(lambda: src.read(1 << 20), b""):
        copied += len(chunk)
        if copied > limit:
            raise FetchError(f"{what}: member larger than {limit} bytes")
        dst.write(chunk)


def _extract_member(module: RealModule, archive: Path, dest: Path) -> Path:
    """Write only the pinned member (never extractall: archive paths are not trusted), then check it."""
    target = dest / module.local_name
    what = f"{module.package}@{module.version}:{module.member}"
    with tempfile.NamedTemporaryFile(dir=dest, delete=False, suffix=".part") as out:
        tmp_path = Path(out.name)
        try:
            if module.registry == "npm":
                with tarfile.open(archive, "r:gz") as tar:
                    try:
                        info = tar.getmember(module.member)
                    except KeyError:
                        raise FetchError(f"{what}: not in {archive.name}") from None
                    src = tar.extractfile(info)
                    if src is None:
                        raise FetchError(f"{what}: not a regular file")
                    _copy_bounded(src, out, MAX_MEMBER_BYTES, what)
            else:
                with zipfile.ZipFile(archive) as whl:
                    try:
                        src_zip = whl.open(module.member)
                    except KeyError:
                        raise FetchError(f"{what}: not in {archive.name}") from None
                    with src_zip:
                        _copy_bounded(src_zip, out, MAX_MEMBER_BYTES, what)
        except BaseException:
            out.close()
            tmp_path.unlink(missing_ok=True)
            raise
    size = tmp_path.stat().st_size
    digest = sha256_of(tmp_path)
    if size != module.size or digest != module.sha256:
        tmp_path.unlink(missing_ok=True)
        raise FetchError(f"{what}: got {size} bytes sha256 {digest}, pinned {module.size} bytes sha256 {module.sha256}")
    os.replace(tmp_path, target)
    return target


def fetch(modules: tuple[RealModule, ...] | list[RealModule] = MANIFEST, dest: Path = DEFAULT_DEST,
          log=None) -> dict[str, Path]:
    """Make every module present in ``dest`` with its pinned bytes; returns key -> local path."""
    dest.mkdir(parents=True, exist_ok=True)
    downloads = dest / ".downloads"
    downloads.mkdir(exist_ok=True)
    paths: dict[str, Path] = {}
    for module in modules:
        target = dest / module.local_name
        if is_present(module, dest):
            if log:
                log(f"present  {module.key:24} {module.size:>11,} B")
        else:
            download = _download_npm if module.registry == "npm" else _download_pypi
            archive = download(module, downloads)
            _extract_member(module, archive, dest)
            if log:
                log(f"fetched  {module.key:24} {module.size:>11,} B  from {module.registry} "
                    f"{module.package} {module.version}")
        paths[module.key] = target
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="where to put the modules")
    parser.add_argument("--only", action="append", metavar="KEY", help="fetch only these keys (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the manifest with local paths as JSON")
    args = parser.parse_args(argv)
    modules = list(MANIFEST)
    if args.only:
        unknown = set(args.only) - {m.key for m in MANIFEST}
        if unknown:
            parser.error(f"unknown key(s): {', '.join(sorted(unknown))}")
        modules = [m for m in MANIFEST if m.key in args.only]
    log = (lambda msg: print(msg, file=sys.stderr)) if args.json else print
    try:
        paths = fetch(modules, args.dest, log=log)
    except (FetchError, OSError, subprocess.SubprocessError, tarfile.TarError, zipfile.BadZipFile) as exc:
        print(f"fetch_real_modules: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{**asdict(m), "path": str(paths[m.key])} for m in modules], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
