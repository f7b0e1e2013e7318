"""Write a large audit table (default 1,000,000 rows) for ``benchmarks/bench_audit.py``.

The mix imitates a fleet: every row is one of a few dozen product profiles (product type,
platform, distribution and the entitlement set its template gives), with the runtimes such a
product ships, both architecture choices, bundled or downloaded modules and a few signature
states. Seeded, so the same arguments give the same file byte for byte.

    .venv/bin/python scripts/generate_apps_table.py --rows 1000000 --output .cache/apps-1m.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np

J = "com.apple.security.cs.allow-jit"
U = "com.apple.security.cs.allow-unsigned-executable-memory"
DLV = "com.apple.security.cs.disable-library-validation"
DYLD = "com.apple.security.cs.allow-dyld-environment-variables"
ES = "com.apple.developer.endpoint-security.client"
NE = "com.apple.developer.networking.networkextension"
INSTALL = "com.apple.developer.system-extension.install"
SB = "com.apple.security.app-sandbox"
NC = "com.apple.security.network.client"
INH = "com.apple.security.inherit"
GTA = "com.apple.security.get-task-allow"
CAM = "com.apple.security.device.camera"
MIC = "com.apple.security.device.audio-input"
GROUPS = "com.apple.security.application-groups=ABCDE12345.shared"
DK = "com.apple.developer.driverkit;com.apple.developer.driverkit.transport.usb"
INTERP = ["wasm3", "wasmi", "wasmtime-pulley", "wamr-interp", "wasmedge", "wazero-interp"]
JITS = ["wasmtime", "wasmer", "wazero", "wasmtime-cwasm", "wasmedge-aot"]

# (weight, product_type, platform, distribution, entitlement sets, runtimes)
PROFILES: list[tuple[int, str, str, str, list[str], list[str]]] = [
    (20, "app", "macos", "developer-id", ["", f"{J}", f"{U}", f"{J};{U}", f"{J};{U};{DLV}", f"{GROUPS};{J}",
                                          f"{CAM};{MIC};{J}"], INTERP + JITS + ["v8", "wamr-aot"]),
    (10, "app", "macos", "app-store", [f"{SB};{NC}", f"{SB};{NC};{J}", f"{SB};{NC};{U}", f"{NC}"],
     [*INTERP, "wasmtime", "v8", "javascriptcore-wkwebview"]),
    (6, "app", "macos", "developer-id", [f"{INSTALL};{GROUPS}", f"{INSTALL};{GROUPS};{U}",
                                         f"{ES};{NE}=content-filter-provider-systemextension;{INSTALL};{U};{NC}"],
     [*INTERP, "wasmtime"]),
    (8, "network-extension", "macos", "developer-id",
     [f"{NE}=content-filter-provider-systemextension;{SB};{GROUPS}",
      f"{NE}=content-filter-provider-systemextension;{SB};{GROUPS};{J}",
      f"{NE}=packet-tunnel-provider-systemextension;{SB};{U}"], [*INTERP, "wamr-aot", "wasmtime", "v8"]),
    (6, "endpoint-security-extension", "macos", "developer-id", [f"{ES}", f"{ES};{J}", f"{ES};{U}", f"{ES};{CAM}"],
     [*INTERP, "wamr-aot", "wasmtime"]),
    (6, "xpc-service", "macos", "developer-id", ["", f"{J}", f"{U}", f"{SB};{INH};{J}"], [*JITS, "wamr-aot", "v8"]),
    (6, "helper-tool", "macos", "developer-id", [f"{J};{U};{DLV}", f"{J}", f"{SB};{INH}"], ["v8", "wasmtime", "wasm3"]),
    (4, "daemon", "macos", "developer-id", ["", f"{ES}", f"{U}"], ["wazero", "wazero-interp", "wasmtime"]),
    (6, "command-line-tool", "macos", "developer-id", ["", f"{U}", f"{J}", "keychain-access-groups=ABCDE12345.cli"],
     ["wasmtime", "wasmer", "wazero", "wasm2c", "w2c2", "wasm3"]),
    (3, "driverkit-driver", "macos", "developer-id", [DK, f"{DK};{J}"], ["wasm3", "wamr-aot", "wasm2c"]),
    (2, "system-extension", "macos", "developer-id", ["", f"{J}"], ["wasm3", "wamr-aot"]),
    (2, "framework", "macos", "developer-id", ["", f"{J}"], ["wasmtime", "wasm3"]),
    (8, "app", "ios", "app-store", ["", f"{GROUPS}"], ["wasm3", "wasmi", "wamr-interp", "wasmtime", "wasm2c"]),
    (3, "app", "macos", "development", [f"{GTA};{J}", f"{GTA};{U}"], ["wasmtime", "v8"]),
    (2, "app", "macos", "developer-id", [f"{GTA}", f"{DYLD};{J}"], INTERP),
]
SIGNATURES = [("", "", "", ""), ("yes", "signed", "", "yes"), ("yes", "signed", "yes", "yes"),
              ("no", "signed", "", "yes"), ("yes", "adhoc", "", "no"), ("yes", "signed", "no", "yes")]
SIGNATURE_WEIGHTS = [40, 30, 18, 4, 4, 4]
COLUMNS = ["name", "product_type", "platform", "distribution", "runtime", "arch", "module_source", "module_kind",
           "entitlements", "hardened_runtime", "signature_kind", "has_profile", "has_timestamp"]


def generate(rows: int, seed: int = 20260825) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    weights = np.array([p[0] for p in PROFILES], dtype=float)
    profile_idx = rng.choice(len(PROFILES), size=rows, p=weights / weights.sum())
    sig_w = np.array(SIGNATURE_WEIGHTS, dtype=float)
    sig_idx = rng.choice(len(SIGNATURES), size=rows, p=sig_w / sig_w.sum())
    pick_ent = rng.integers(0, 1 << 30, size=rows)
    pick_rt = rng.integers(0, 1 << 30, size=rows)
    arch_idx = rng.choice(2, size=rows, p=[0.7, 0.3])
    source_idx = rng.choice(2, size=rows, p=[0.75, 0.25])
    kind_idx = rng.choice(2, size=rows, p=[0.85, 0.15])
    out = []
    for i in range(rows):
        _, ptype, platform, dist, ents, rts = PROFILES[profile_idx[i]]
        arch = "arm64" if platform == "ios" else ("universal", "arm64")[arch_idx[i]]
        out.append([f"target-{i:07d}", ptype, platform, dist, rts[pick_rt[i] % len(rts)], arch,
                    ("bundled", "downloaded")[source_idx[i]], ("core-module", "component")[kind_idx[i]],
                    ents[pick_ent[i] % len(ents)], *SIGNATURES[sig_idx[i]]])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260825)
    parser.add_argument("--output", default=".cache/apps-1m.csv")
    args = parser.parse_args(argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(generate(args.rows, args.seed))
    print(f"wrote {args.rows} rows to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
