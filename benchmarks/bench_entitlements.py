#!/usr/bin/env python3
"""Signing facts of real signed binaries: ``macwasm entitlements --format jsonl`` vs a LIEF script.

Why LIEF: it is the Mach-O library a Python user would reach for. It parses the whole binary
(segments, symbols, bindings, exports...) before handing over the raw signature bytes, while the
facts a release engineer needs (signature kind, team, runtime flag, identifier, entitlements) live
only in the load commands and the signature; macwasm reads just those (issue 3's goal: at least
10x faster). The LIEF side gets the same facts: LIEF parses the file and its
``LC_CODE_SIGNATURE``, and a few lines of Python decode the SuperBlob (CodeDirectory and XML
entitlements) from the bytes LIEF returns.

Corpus: every Mach-O file under ``.cache/signed-fixtures/`` (pinned real binaries from PyPI and
npm, fetched by ``scripts/fetch_signed_fixtures.py``; run here when the folder is missing) plus
the executables of the sample bundles in ``data/bundles/``. Whole processes, interpreter start-up
included, run alternately in the same session, several repetitions; we report medians and the
ratio, and check that both sides report the same facts per slice.

Run: ``.venv/bin/python benchmarks/bench_entitlements.py [--reps N]`` (part of ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import plistlib
import statistics
import struct
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / ".cache" / "signed-fixtures"
FETCH = REPO / "scripts" / "fetch_signed_fixtures.py"
SAMPLES = REPO / "data" / "bundles"
SECTION = "Entitlements and signatures"
MACHO_MAGICS = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")
CS_ADHOC, CS_RUNTIME, CS_LINKER_SIGNED = 0x2, 0x10000, 0x20000


# ------------------------------------------------------------------------------- the LIEF side


def lief_worker(paths: list[str]) -> int:
    """Print one JSON line per file with the facts LIEF + a SuperBlob decoder give (the baseline)."""
    import lief

    lief.logging.disable()
    for path in paths:
        record: dict = {"path": path, "slices": []}
        fat = lief.MachO.parse(path)
        if fat is None:
            record["error"] = "LIEF could not parse the file"
        else:
            for i in range(len(fat)):
                binary = fat.at(i)
                facts = {"arch": _lief_arch(binary), "signature": None, "entitlements": None}
                if binary.has_code_signature:
                    facts.update(_superblob(bytes(binary.code_signature.content)))
                record["slices"].append(facts)
        print(json.dumps(record))
    return 0


def _lief_arch(binary) -> str:
    cpu = str(binary.header.cpu_type).rsplit(".", 1)[-1]
    name = {"ARM64": "arm64", "X86_64": "x86_64", "X86": "i386", "ARM": "arm"}.get(cpu, cpu.lower())
    if name == "arm64" and binary.header.cpu_subtype & 0xFF == 2:
        name = "arm64e"
    return name


def _superblob(blob: bytes) -> dict:
    """CodeDirectory kind/team/identifier/runtime and the XML entitlements of an embedded signature."""
    out: dict = {"signature": None, "entitlements": None}
    try:
        magic, _, count = struct.unpack_from(">III", blob, 0)
        if magic != 0xFADE0CC0:
            return out
        cms_present = False
        for i in range(count):
            slot, offset = struct.unpack_from(">II", blob, 12 + 8 * i)
            bmagic, blen = struct.unpack_from(">II", blob, offset)
            body = blob[offset:offset + blen]
            if slot == 0 and bmagic == 0xFADE0C02:
                version, flags = struct.unpack_from(">II", body, 8)
                ident_off = struct.unpack_from(">I", body, 20)[0]
                team_off = struct.unpack_from(">I", body, 48)[0] if version >= 0x20200 else 0
                ident = body[ident_off:body.index(b"\0", ident_off)].decode()
                team = body[team_off:body.index(b"\0", team_off)].decode() if team_off else None
                out["signature"] = {"flags": flags, "identifier": ident, "team_id": team}
            elif slot == 5 and bmagic == 0xFADE7171:
                out["entitlements"] = plistlib.loads(body[8:].lstrip())
            elif slot == 0x10000 and blen > 8:
                cms_present = True
        sig = out["signature"]
        if sig:
            flags = sig.pop("flags")
            sig["hardened_runtime"] = bool(flags & CS_RUNTIME)
            if flags & CS_LINKER_SIGNED:
                sig["kind"] = "linker-signed"
            elif flags & CS_ADHOC:
                sig["kind"] = "adhoc"
            else:
                sig["kind"] = "signed" if cms_present and sig["team_id"] else "adhoc"
            if sig["kind"] != "signed":
                sig["team_id"] = None
    except (struct.error, ValueError, plistlib.InvalidFileException) as exc:
        out["error"] = str(exc)
    return out


# ------------------------------------------------------------------------------------ the run


def corpus() -> list[Path]:
    if not FIXTURES.exists() and FETCH.exists():
        subprocess.run([sys.executable, str(FETCH)], check=False)
    # the single binaries of the fixture folder (its whole-wheel trees are bench_wheel_tree.py's corpus)
    files = []
    for root, pattern in ((FIXTURES, "*"), (SAMPLES, "**/*")):
        if root.exists():
            files.extend(macho_files(sorted(root.glob(pattern))))
    return files


def macho_files(paths: list[Path]) -> list[Path]:
    """The regular files (not links) among ``paths`` that start with a Mach-O magic."""
    out = []
    for p in paths:
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as fh:
                if fh.read(4) in MACHO_MAGICS:
                    out.append(p)
    return out



def _facts(slice_: dict) -> tuple:
    sig = slice_.get("signature") or {}
    ents = slice_.get("entitlements")
    return (slice_.get("arch"), sig.get("kind"), sig.get("team_id"), sig.get("identifier"),
            sig.get("hardened_runtime"), tuple(sorted(ents)) if ents is not None else None)


def agreement(mac_out: bytes, lief_out: bytes) -> tuple[int, int, list[str]]:
    mac = {r["path"]: r for r in map(json.loads, mac_out.splitlines())}
    ref = {r["path"]: r for r in map(json.loads, lief_out.splitlines())}
    same, total, differ = 0, 0, []
    for path, rec in ref.items():
        ours = mac.get(path) or {}
        theirs = [_facts(s) for s in rec["slices"]]
        mine = [_facts(s) for s in ours.get("slices") or []]
        total += len(theirs)
        same += sum(a == b for a, b in zip(mine, theirs, strict=False))
        if mine != theirs:
            differ.append(f"{Path(path).name}: macwasm {mine} vs LIEF {theirs}")
    return same, total, differ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--lief-worker", nargs="+", metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--no-readme", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args(argv)
    if args.lief_worker:
        return lief_worker(args.lief_worker)

    from run_all import machine_info, macwasm_argv, replace_section, timed  # this folder is on sys.path

    files = corpus()
    real = [f for f in files if FIXTURES in f.parents]
    if not files:
        print("no Mach-O files found", file=sys.stderr)
        return 1
    names = [str(f) for f in files]
    mac_cmd = [*macwasm_argv(), "entitlements", "--format", "jsonl", *names]
    lief_cmd = [sys.executable, str(Path(__file__).resolve()), "--lief-worker", *names]
    mac_times, lief_times = [], []
    mac_proc = lief_proc = None
    for rep in range(args.reps):
        order = [("mac", mac_cmd), ("lief", lief_cmd)]
        for which, cmd in order if rep % 2 == 0 else reversed(order):
            elapsed, proc = timed(cmd)
            if which == "mac":
                mac_times.append(elapsed)
                mac_proc = proc
            else:
                lief_times.append(elapsed)
                lief_proc = proc
    import lief

    same, total, differ = agreement(mac_proc.stdout, lief_proc.stdout)
    mac_med, lief_med = statistics.median(mac_times), statistics.median(lief_times)
    size = sum(f.stat().st_size for f in files)
    lines = [
        f"## {SECTION}",
        "",
        "Signing facts (per slice: architecture, signature kind, team id, identifier, Hardened Runtime flag, "
        "entitlement keys) of every Mach-O file in the corpus, in one process each: `macwasm entitlements "
        "--format jsonl FILES...` vs a Python script that parses each file with LIEF and decodes the "
        "SuperBlob LIEF returns. Written by `.venv/bin/python benchmarks/bench_entitlements.py`.",
        "",
        f"Corpus: {len(files)} Mach-O files, {size / 1e6:.1f} MB: {len(real)} real signed binaries from pinned "
        f"PyPI/npm packages (`.cache/signed-fixtures/`, `scripts/fetch_signed_fixtures.py`) and "
        f"{len(files) - len(real)} sample-bundle executables (`data/bundles/`).",
        "",
        f"Machine: {machine_info()}; LIEF {lief.__version__.split('-')[0]}.",
        "",
        "| tool | median wall time | runs | exit |",
        "|---|---|---|---|",
        f"| macwasm entitlements --format jsonl | {mac_med:.3f} s | {len(mac_times)} | {mac_proc.returncode} |",
        f"| LIEF {lief.__version__.split('-')[0]} + SuperBlob decoder | {lief_med:.3f} s | {len(lief_times)} | "
        f"{lief_proc.returncode} |",
        "",
        f"macwasm is **{lief_med / mac_med:.1f}x** faster than the LIEF script (goal: at least 10x). "
        f"Facts agree on {same} of {total} slices.",
    ]
    if not real:
        lines += ["", "**The real-fixture corpus was missing** (no `.cache/signed-fixtures/`): these figures cover "
                  "only the small sample executables and say little about real binaries."]
    if differ:
        lines += ["", "Slices where the two disagree:", ""] + [f"- {d}" for d in differ[:20]]
    text = "\n".join(lines) + "\n"
    if args.no_readme:
        print(text)
    else:
        replace_section(SECTION, text)
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
