#!/usr/bin/env python3
"""Download the real binaries the engine detector is tested on into ``.cache/engine-fixtures/``.

Each carries one engine, or none, as its publisher built it (our builders can only show what we
think the signals look like):

* Bun 1.4.5 (npm ``@oven/bun-darwin-aarch64``): a static JavaScriptCore (sections ``__jsc_int``,
  ``__jsc_opcodes``, ``__wtf_config``, ``__BUN,__bun``) that also exports V8-API and Node-API shims;
* buf 1.75.0 (npm ``@bufbuild/buf-darwin-arm64``): a stripped Go binary whose build info lists
  ``github.com/tetratelabs/wazero`` v1.12.0;
* libwasmtime from the wasmtime 50.0.1 wheel (PyPI): the C API library (``@rpath/libwasmtime.dylib``);
* libextism_sys from extism-sys 1.41.0 (PyPI): a Rust library that embeds the wasmtime crate and
  exports only its own ``extism_*`` API (found by local symbols and cargo registry paths);
* the wasmer 1.1.0 extension (PyPI, CPython 3.10, x86_64): wasmer 2.1 with its ``wasmer_vm_*`` libcalls;
* cmake 4.4.4 (PyPI universal2): no engine, and a SHA-1 primary plus SHA-256 alternate CodeDirectory.

Node.js 18 and 22 (V8 and Node) and esbuild (Go, no engine) come from
``scripts/fetch_signed_fixtures.py``, whose pinning, digest check and extraction this script uses.
Usage: ``.venv/bin/python scripts/fetch_engine_fixtures.py [DIR]``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch_signed_fixtures as SIGNED  # a sibling script, not a package

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO / ".cache" / "engine-fixtures"
Fixture = SIGNED.Fixture

FIXTURES = (
    Fixture("bun-1.4.5-darwin-aarch64", "npm", "@oven/bun-darwin-aarch64@1.4.5", "oven-bun-darwin-aarch64-1.4.5.tgz",
            "88c398ee13212e8b189119a2bddc7d240ae4f1252c1d0ae2ac1fd44c921fdcb1", "package/bin/bun"),
    Fixture("buf-1.75.0-darwin-arm64", "npm", "@bufbuild/buf-darwin-arm64@1.75.0",
            "bufbuild-buf-darwin-arm64-1.75.0.tgz",
            "88aad55a35d866a118bfece6b5f190d5a3508bb63147c088bdb43179c8a0b9a7", "package/bin/buf"),
    Fixture("libwasmtime-50.0.1-macos-arm64.dylib", "pypi", "wasmtime==50.0.1",
            "wasmtime-50.0.1-py3-none-macosx_11_0_arm64.whl",
            "ff4fc58ed3cbdb919d056accd4d280be13962a542754aaefd8a9b4654efa9bd9",
            "wasmtime/darwin-aarch64/_libwasmtime.dylib", pip_platform="macosx_11_0_arm64"),
    Fixture("libextism_sys-1.41.0-macos-arm64.dylib", "pypi", "extism-sys==1.41.0",
            "extism_sys-1.41.0-py3-none-macosx_11_0_arm64.whl",
            "2f76f1cdc6eb8bb14947fbf78feb90c8f4d94f045c7677ceb4175a0f91faedf0",
            "extism_sys/libextism_sys.dylib", pip_platform="macosx_11_0_arm64"),
    Fixture("wasmer-1.1.0-cp310-macos-x86_64.so", "pypi", "wasmer==1.1.0",
            "wasmer-1.1.0-cp310-cp310-macosx_10_7_x86_64.whl",
            "c2af4b907ae2dabcac41e316e811d5937c93adf1f8b05c5d49427f8ce0f37630",
            "wasmer/wasmer.cpython-310-darwin.so", pip_platform="macosx_10_7_x86_64", python_version="3.10"),
    Fixture("cmake-4.4.4-universal2", "pypi", "cmake==4.4.4", "cmake-4.4.4-py3-none-macosx_10_10_universal2.whl",
            "883962a72b1b3a16ff445427f24c8caca9797dd9e563bbe208cbcd89e877f9d3", "cmake/data/bin/cmake",
            pip_platform="macosx_10_10_universal2"),
)


def fetch_all(folder: Path = DEFAULT_DIR) -> dict[str, Path]:
    """Every fixture's path (these and the signed-binaries ones), downloading the missing ones."""
    folder.mkdir(parents=True, exist_ok=True)
    found = SIGNED.fetch_all()
    found.update({f.name: SIGNED.fetch(f, folder) for f in FIXTURES})
    return found


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    try:
        for name, path in fetch_all(folder).items():
            print(f"{name}: {path} ({path.stat().st_size} bytes)")
    except (SIGNED.FetchError, OSError, subprocess.SubprocessError) as exc:
        print(f"fetch_engine_fixtures: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
