"""``macwasm advise [target options]``: what to ship so a product launches, notarizes and loads its modules.

No file is needed: the product is described by its options, the entitlements it holds now
(``--entitlement``) and the modules it loads (``--module``). ``--write DIR`` writes the corrected
``.entitlements`` file of every binary of the recommended option (or ``--option N``) and a README.
Exit 0 when a plan was made (the verdict as given is part of the plan, not a failure of the
command), 1 when no option passes, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys

from macwasm.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE_OR_IO,
    add_ignore_option,
    add_output_options,
    command_parser,
    ignore_of,
    output_stream,
    render_options,
)
from macwasm.cli.target_options import add_target_options, target_kwargs
from macwasm.errors import MacwasmError
from macwasm.report.emit import printable
from macwasm.report.formats import render

COMMAND = "advise"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = command_parser(
        subparsers, COMMAND,
        help="plan runtime, placement, entitlements and module storage for a product, and write the fix",
        description="For a product type, distribution, architecture and the modules it loads: every runtime in "
        "every placement the product may use, judged after the plan's own changes, ranked (the criterion is "
        "printed), with the entitlements of each binary, where modules go, and the recommended option.",
        exit_codes=("a plan was made: an option passes (the verdict as given is part of the plan)",
                    "no option passes",
                    "a usage error, or --write could not write"),
        example="macwasm advise --product-type network-extension --runtime wasmtime --write fixed/",
    )
    add_target_options(parser)
    parser.add_argument("--module", action="append", default=[], metavar="M.wasm",
                        help="a module the product loads (repeatable): its kind and proposals are judged "
                        "(default: none)")
    parser.add_argument("--all", action="store_true", help="list the options that do not pass too")
    parser.add_argument("--option", type=int, default=None, metavar="N",
                        help="with --write: write option N instead of the recommended one (default: the recommended)")
    parser.add_argument("--write", default=None, metavar="DIR",
                        help="write the entitlements file of each binary of the option, and a README.md, into DIR "
                        "(default: nothing written)")
    add_ignore_option(parser)
    add_output_options(parser, COMMAND, quiet="only the verdict as given and the recommended option")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from macwasm.policy.advisor import advise
    from macwasm.policy.fixes import write_plan
    from macwasm.report.render_advise import AdviseRun

    try:
        plan = advise(entitlements=args.entitlement, module=args.module, ignore=ignore_of(args),
                      **target_kwargs(args))
        written = []
        if args.write:
            option = plan.option(args.option) if args.option else None
            written = write_plan(plan, args.write, option=option)
    except (MacwasmError, IndexError) as err:
        text = err.message if isinstance(err, MacwasmError) else str(err)
        print(f"macwasm advise: {printable(text)}", file=sys.stderr)
        return EXIT_USAGE_OR_IO
    with output_stream(args.output) as out:
        render(COMMAND, args.format, AdviseRun(plan, written), out, render_options(args, COMMAND, show_all=args.all))
    return EXIT_OK if plan.recommended is not None else EXIT_FINDINGS
