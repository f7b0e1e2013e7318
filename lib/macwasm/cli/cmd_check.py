"""``macwasm check PATH... [target options]``: will it notarize, launch and load its modules?

PATH is anything the signing reader reads (entitlements plist, ``codesign`` output, profile,
Mach-O, bundle), a ``.wasm`` module, or an ``.xcodeproj`` / ``.xcworkspace`` (each target in each
build configuration judged before anything is built); with ``--entitlement KEY[=VALUE]`` no PATH is needed.
Exit 0 when every target passes or only warns, 1 when any finding is an error (or an input is
malformed), 2 on a usage error or an input that cannot be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from macwasm.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE_OR_IO, BatchStatus
from macwasm.errors import INTERNAL, InstallationError, MacwasmError
from macwasm.inputs import InputItem
from macwasm.policy.target import split_runtimes
from macwasm.report.emit import printable, write_json
from macwasm.report.text import block
from macwasm.vocabulary import (
    ARCH_CHOICES,
    DEFAULT_ARCH,
    DEFAULT_DISTRIBUTION,
    DEFAULT_PLATFORM,
    DISTRIBUTIONS,
    LOADABLE_MODULE_KINDS,
    MODULE_SOURCES,
    PLATFORMS,
    product_types,
)

FORMATS = ("table", "json", "sarif")


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """The options that describe what is shipped (shared by check and advise)."""
    parser.add_argument("--product-type", choices=product_types(), default=None,
                        help="what the executable is (default: inferred from the bundle or the entitlements)")
    parser.add_argument("--platform", choices=PLATFORMS, default=DEFAULT_PLATFORM)
    parser.add_argument("--distribution", choices=DISTRIBUTIONS, default=DEFAULT_DISTRIBUTION)
    parser.add_argument("--runtime", action="append", default=[], metavar="NAME_OR_STRATEGY",
                        help="a runtime of data/runtimes.csv (wasmtime, wasmtime-pulley, wamr-aot, electron, ...) or a "
                        "strategy (interpreter, map-jit, unsigned-memory, aot-in-binary); repeat it (or give a "
                        "comma list) when one binary runs several engines: the entitlements needed are the union")
    parser.add_argument("--module-source", choices=MODULE_SOURCES, default=None)
    parser.add_argument("--module-kind", choices=LOADABLE_MODULE_KINDS, default=None)
    parser.add_argument("--arch", choices=ARCH_CHOICES, default=DEFAULT_ARCH,
                        help="architectures that must work (default: universal = arm64 and x86_64)")
    parser.add_argument("--hardened-runtime", choices=("yes", "no"), default=None,
                        help="whether the binary is signed with the Hardened Runtime (-o runtime), for inputs that "
                        "carry no signature (a plist); a signature read from a binary wins")
    parser.add_argument("--entitlement", action="append", default=[], metavar="KEY[=VALUE]",
                        help="an entitlement the target holds, as if read from a file (repeatable; "
                        "VALUE: true/false, a,b,c list, or text)")


def target_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"product_type": args.product_type, "platform": args.platform, "distribution": args.distribution,
            "runtime": split_runtimes(args.runtime), "arch": args.arch, "module_source": args.module_source,
            "module_kind": args.module_kind,
            "hardened_runtime": None if args.hardened_runtime is None else args.hardened_runtime == "yes"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check entitlements, signatures, bundles and modules against Apple's launch and notarization rules",
        description="Say whether each executable will pass notarization, launch and load its wasm modules, "
        "and if not, why and what to change (rules: data/rules.csv). Reads only.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="entitlements plist, codesign output, provisioning profile, Mach-O, bundle, .wasm, "
                        ".xcodeproj or .xcworkspace")
    add_target_options(parser)
    parser.add_argument("--module", action="append", default=[], metavar="M.wasm",
                        help="a module the binary loads (repeatable): its kind (core module or component) and the "
                        "proposals it uses are judged against the runtime")
    parser.add_argument("--write-fixed", default=None, metavar="DIR",
                        help="write each target's entitlements with its findings' changes into DIR (and a "
                        "README.md saying why); inputs are never modified")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    add_sarif_root_option(parser)
    parser.set_defaults(func=run)


def add_sarif_root_option(parser: argparse.ArgumentParser) -> None:
    """``--sarif-root`` (shared by check and audit): where SARIF's relative URIs start."""
    parser.add_argument("--sarif-root", default=None, metavar="DIR",
                        help="SARIF only: URIs of inputs under DIR are relative to it, e.g. the repository's "
                        "root (default: the working directory); inputs elsewhere get absolute file:// URIs")


def _expand(paths: list[str]) -> list[InputItem]:
    """Folders are searched for signing inputs and modules; a .wasm file named explicitly is taken as is.

    An ``.xcodeproj`` is one input (never searched); an ``.xcworkspace`` stands for the projects it
    lists, each judged once however many workspaces or folders name it.
    """
    from macwasm.policy.xcode import xcode_items
    from macwasm.signing.reader import iter_signing_items
    from macwasm.xcode import is_xcode_input

    out: list[InputItem] = []
    projects: set[str] = set()
    for path in paths:
        if path.lower().endswith(".wasm") and not os.path.isdir(path):
            out.append(InputItem(path))
            continue
        for item in iter_signing_items([path], include_wasm=True, include_xcode=True):
            for one in xcode_items(item.path) if item.error is None and is_xcode_input(item.path) else [item]:
                key = os.path.realpath(one.path) if one.error is None and is_xcode_input(one.path) else None
                if key is None or key not in projects:
                    out.append(one)
                    projects.update([key] if key else [])
    return out


def run(args: argparse.Namespace) -> int:
    from macwasm.policy.checker import (
        CheckOptions,
        entitlements_target,
        module_file,
        parse_entitlement_options,
        targets_for_path,
        with_modules,
    )
    from macwasm.policy.engine import evaluate

    if not args.paths and not args.entitlement:
        print("macwasm check: give a PATH or at least one --entitlement KEY[=VALUE]", file=sys.stderr)
        return EXIT_USAGE_OR_IO
    kwargs = target_kwargs(args)
    kwargs["runtimes"] = kwargs.pop("runtime")
    opts = CheckOptions(**kwargs)
    try:
        opts.validate()
        extra = parse_entitlement_options(args.entitlement)
        loaded = []
        for m in args.module:
            try:
                loaded.append(module_file(m, location="given"))
            except MacwasmError as err:
                raise err.with_path(f"--module {m}") from None
    except MacwasmError as err:
        print(f"macwasm check: {printable(err.message)}", file=sys.stderr)
        return EXIT_USAGE_OR_IO

    status = BatchStatus()
    counts = {"pass": 0, "warn": 0, "fail": 0, "unreadable": 0}
    judged: list[tuple[Any, Any]] = []  # (result, entitlements) for --write-fixed

    def judge(target: Any) -> Any:
        result = evaluate(target)
        if args.write_fixed:
            judged.append((result, target.entitlements))
        return result

    def outcomes() -> Iterator[tuple[Any, dict[str, Any] | None]]:
        """``(result, None)`` per target or ``(None, error record)`` per unreadable input, as they come."""
        if not args.paths:
            yield judge(with_modules(entitlements_target(extra, opts), loaded, opts)), None
        for item in _expand(args.paths) if args.paths else []:
            path = item.path
            try:
                if item.error is not None:
                    raise item.error
                targets = targets_for_path(path, opts, extra)
            except (InstallationError, ModuleNotFoundError):
                raise  # macwasm itself is incomplete: said once by main(), not once per input
            except MacwasmError as err:
                err.with_path(path)
                status.note_error(err)
                yield None, {"target": path, "error": err.message, "category": err.category or ""}
                continue
            except Exception as exc:  # a bug must not hide the other inputs' results
                status.internal_errors.append(path)
                yield None, {"target": path, "error": f"internal error in macwasm ({exc.__class__.__name__}: "
                             f"{exc}); please report it", "category": INTERNAL}
                continue
            for target in targets:
                yield judge(with_modules(target, loaded, opts)), None

    def counted() -> Iterator[tuple[Any, dict[str, Any] | None]]:
        for result, error in outcomes():
            if error is not None:
                counts["unreadable"] += 1
                print(f"macwasm check: {printable(error['error'])}", file=sys.stderr)
            else:
                counts[result.verdict] += 1
            yield result, error

    # json and table stream (memory stays flat over a batch of 10,000 inputs); SARIF is one document
    if args.format == "sarif":
        from macwasm.report.sarif import to_sarif

        pairs = list(counted())
        results = [r for r, _ in pairs if r is not None]
        errors = [e for _, e in pairs if e is not None]
        log = to_sarif(results, errors=errors, root=args.sarif_root)
        sys.stdout.write(json.dumps(log, indent=2, ensure_ascii=False) + "\n")
        nowhere = sum(1 for r in log["runs"][0]["results"] if not r.get("locations"))
        if nowhere:
            print(f"macwasm check: {nowhere} SARIF result(s) have no file to point at (--entitlement or "
                  "standard input): code scanning refuses results without a location", file=sys.stderr)
    elif args.format == "json":
        write_json((r.to_dict() if r is not None else e for r, e in counted()), sys.stdout)
    else:
        write_table(counted(), counts, sys.stdout)
    if args.write_fixed:
        from macwasm.policy.fixes import write_fixed

        try:
            written = write_fixed([r for r, _ in judged], args.write_fixed,
                                  {r.target: ents or {} for r, ents in judged})
        except MacwasmError as err:
            print(f"macwasm check: {printable(err.message)}", file=sys.stderr)
            return EXIT_USAGE_OR_IO
        for w in written:
            print(printable(f"macwasm check: wrote {w.path} ({w.role})"), file=sys.stderr)
    if status.io_errors or status.internal_errors:
        return EXIT_USAGE_OR_IO
    if status.findings or counts["fail"]:
        return EXIT_FINDINGS
    return EXIT_OK


def write_table(outcomes: Iterable[tuple[Any, dict[str, Any] | None]], counts: dict[str, int], out: TextIO) -> None:
    """A block per target: verdict line, then one line per finding with its fix and reference."""
    for r, err in outcomes:
        if err is not None:
            out.write(printable(f"{err['target']}  ERROR  {err['error']}\n\n"))
            continue
        out.write(printable(f"{r.target}  [{r.product_type}]  {r.verdict.upper()}\n"))
        for f in r.findings:
            subject = f" ({f.subject})" if f.subject and f.subject != r.subject else ""
            out.write(printable(block(f.message + subject, first=f"  {f.severity:<7} {f.rule_id}  ")))
            if f.severity != "info":
                out.write(printable(block(f.fix, first="          fix: ", rest=" " * 15)))
                out.write(printable(f"          see: {f.reference}\n"))  # a link stays whole, to be clicked
        out.write("\n")
    total = counts["pass"] + counts["warn"] + counts["fail"]
    out.write(f"{total} target(s): {counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail"
              + (f"; {counts['unreadable']} unreadable" if counts["unreadable"] else "") + "\n")
