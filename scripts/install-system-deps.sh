#!/usr/bin/env bash
# Install the Debian packages macwasm's tests and benchmarks use, only when missing.
# Only the tests need them: the CLI needs none (a Mac user runs `pip install macwasm` or pipx, no root).
# file: the reference for `description` strings; wabt: wasm-objdump for side-by-side figures and an
# independent reader in tests; strace: notebook 04's Linux evidence of each runtime's memory strategy.
# Where they cannot be installed (macOS, a Linux without apt-get, a user who is not root) this says
# which are missing and goes on: the tests that need a tool skip with the tool's name.
set -euo pipefail
need=()
command -v file >/dev/null || need+=(file)
command -v wasm-objdump >/dev/null || need+=(wabt)
# clang + lld (ld64.lld) + llvm (llvm-lipo): the Mach-O reader's tests link real arm64/x86_64 Mach-O files, which
# lld signs (linker-signed) itself, and lipo them into universal files
command -v clang >/dev/null || need+=(clang)
command -v ld64.lld >/dev/null || command -v ld64.lld-14 >/dev/null || need+=(lld)
command -v llvm-lipo >/dev/null || command -v llvm-lipo-14 >/dev/null || need+=(llvm)
# strace: notebook 04 traces mmap/mprotect of wasmtime, V8 (Node.js) and a pure-Python interpreter
command -v strace >/dev/null || need+=(strace)
# chromium: the JupyterLab browser test drives Debian's build with Playwright (never a downloaded one)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
skip() {
  echo "install-system-deps: not installing ${need[*]} ($1); the tests that need them will skip" >&2
  exit 0
}
[ "$(uname -s)" = Linux ] || skip "$(uname -s) is not Debian: on a Mac, Homebrew has file, wabt and llvm"
command -v apt-get >/dev/null || skip "no apt-get on this machine"
[ "$(id -u)" = 0 ] || skip "not root: sudo apt-get install ${need[*]} to run those tests too"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
