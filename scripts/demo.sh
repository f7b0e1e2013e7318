#!/usr/bin/env bash
# `make demo`: the main job on the bundled forum case and sample table, then what to try next.
# Exit 1 from a step means "findings" (the samples are deliberately bad), the expected result;
# 2 or more is a real failure and stops the demo.
set -uo pipefail
MACWASM=${1:-macwasm}

step() {
  echo "\$ macwasm $*"
  "$MACWASM" "$@"
  local rc=$?
  if [ "$rc" -gt 1 ]; then echo "demo failed (exit $rc)" >&2; exit "$rc"; fi
  echo "(exit $rc: 0 = nothing to fix, 1 = findings above)"
  echo
}

step inspect data/modules/mvp.wasm data/modules/component-wasi-p2.wasm data/modules/truncated.wasm
step check data/bundles/ForumCase.app --runtime wasmtime
step explain data/samples/logs/system-log-amfi.log
step audit data/samples/apps.csv

cat <<'TEXT'
Next, on your own files:
  macwasm check path/to/YourApp.app --runtime wasmtime      # a bundle, a Mach-O, an .entitlements file
  macwasm advise --product-type network-extension --runtime wasmtime
  macwasm explain < "log show output with AMFI lines"
  macwasm check YourApp.entitlements --format sarif > macwasm.sarif   # for GitHub code scanning
TEXT
