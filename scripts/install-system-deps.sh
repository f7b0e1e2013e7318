#!/usr/bin/env bash
# Install the Debian packages macwasm's tests and benchmarks use, only when missing.
# file: the reference for `description` strings; wabt: wasm-objdump for side-by-side figures and an
# independent reader in tests.
set -euo pipefail
need=()
command -v file >/dev/null || need+=(file)
command -v wasm-objdump >/dev/null || need+=(wabt)
# clang + lld (ld64.lld) + llvm (llvm-lipo): the Mach-O reader's tests link real arm64/x86_64 Mach-O files, which
# lld signs (linker-signed) itself, and lipo them into universal files
command -v clang >/dev/null || need+=(clang)
command -v ld64.lld >/dev/null || command -v ld64.lld-14 >/dev/null || need+=(lld)
command -v llvm-lipo >/dev/null || command -v llvm-lipo-14 >/dev/null || need+=(llvm)
# chromium: the JupyterLab browser test drives Debian's build with Playwright (never a downloaded one)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages: ${need[*]} (run: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
