"""``macwasm check PATH... [target options]``: will it notarize, launch and load its modules?

PATH is anything the signing reader reads (entitlements plist, ``codesign`` output, profile,
Mach-O, bundle), a ``.wasm`` module, or an ``.xcodeproj`` / ``.xcworkspace`` (each target in each
build configuration judged before anything is built); with ``--entitlement KEY[=VALUE]`` no PATH is needed.
Exit 0 when every target passes or only warns, 1 when any finding is an error (``--fail-on warning``:
or a warning) or an input is malformed, 2 on a usage error or an input that cannot be read.

The inputs go through the batch loop every command shares (:func:`~macwasm.cli.common.run_batch`):
one input gives a result per target it holds, a bad input its error record, and the outcomes stream
to the renderer as they come (SARIF, one document, collects them).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator

from macwasm.cli.common import (
    EXIT_USAGE_OR_IO,
    BatchStatus,
    add_gating_options,
    add_output_options,
    add_sarif_root_option,
    command_parser,
    gate,
    is_machine,
    output_stream,
    render_options,
    run_batch,
    say,
)
from macwasm.cli.target_options import add_target_options, target_kwargs
from macwasm.errors import MacwasmError
from macwasm.inputs import InputItem
from macwasm.policy.engine import TargetResult
from macwasm.policy.target import Target
from macwasm.report.emit import printable
from macwasm.report.formats import render
from macwasm.report.render_check import UNREADABLE, CheckRun, Outcome, error_record
from macwasm.vocabulary import VERDICTS

COMMAND = "check"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = command_parser(
        subparsers, COMMAND,
        help="check entitlements, signatures, bundles and modules against Apple's launch and notarization rules",
        description="Say whether each executable will pass notarization, launch and load its wasm modules, "
        "and if not, why and what to change (the rules: macwasm rule). Reads only.",
        exit_codes=("every target passes or only warns (--fail-on warning: passes)",
                    "an error finding (--fail-on warning: or a warning), or a malformed input; --exit-zero: 0",
                    "a usage error, or an input that could not be read at all"),
        example="macwasm check data/bundles/ForumCase.app --runtime wasmtime --format github",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="entitlements plist, codesign output, provisioning profile, Mach-O, bundle, .wasm, "
                        ".xcodeproj or .xcworkspace")
    add_target_options(parser)
    parser.add_argument("--module", action="append", default=[], metavar="M.wasm",
                        help="a module the binary loads (repeatable): its kind (core module or component) and the "
                        "proposals it uses are judged against the runtime (default: none)")
    parser.add_argument("--write-fixed", default=None, metavar="DIR",
                        help="write each target's entitlements with its findings' changes into DIR (and a "
                        "README.md saying why); inputs are never modified (default: nothing written)")
    add_output_options(parser, COMMAND, quiet="only error and warning findings: no info findings, no passing "
                       "targets, no summary line, no notes on stderr")
    add_gating_options(parser)
    add_sarif_root_option(parser)
    parser.set_defaults(func=run)


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
    try:
        kwargs = target_kwargs(args)
        kwargs["runtimes"] = kwargs.pop("runtime")
        opts = CheckOptions(**kwargs)
        opts.validate()
        rules = gate(args)
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
    judged: list[tuple[TargetResult, Target]] = []  # for --write-fixed

    def judge(target: Target) -> TargetResult:
        result = evaluate(with_modules(target, loaded, opts), ignore=rules.ignore)
        if args.write_fixed:
            judged.append((result, target))
        return result

    def read_one(item: InputItem) -> list[Outcome]:
        return [judge(t) for t in targets_for_path(item.path, opts, extra)]

    def unreadable(item: InputItem, err: MacwasmError) -> Outcome:
        return error_record(item.path, err)

    outcomes: Iterable[Outcome]
    if args.paths:
        items = _expand(args.paths)
        outcomes = run_batch(items, read_one, unreadable, status, total=len(items),
                             progress=not is_machine(COMMAND, args.format) and not args.quiet)
    else:
        outcomes = [judge(entitlements_target(extra, opts))]
    checked = CheckRun(outcomes=())

    def counted() -> Iterator[Outcome]:
        for outcome in outcomes:
            if isinstance(outcome, dict):
                checked.counts[UNREADABLE] += 1
                print(f"macwasm check: {printable(str(outcome['error']))}", file=sys.stderr)
            else:
                checked.counts[outcome.verdict] += 1
            yield outcome

    checked.outcomes = counted()
    with output_stream(args.output) as out:
        render(COMMAND, args.format, checked, out, render_options(args, COMMAND))
    if args.write_fixed:
        from macwasm.policy.fixes import write_fixed

        try:
            written = write_fixed([r for r, _ in judged], args.write_fixed,
                                  {r.target: t.entitlements or {} for r, t in judged})
        except MacwasmError as err:
            print(f"macwasm check: {printable(err.message)}", file=sys.stderr)
            return EXIT_USAGE_OR_IO
        notes = say(COMMAND, args.quiet)
        for w in written:
            notes(f"wrote {w.path} ({w.role})")
    return rules.exit_code(status, [v for v in VERDICTS if checked.counts[v]])
