"""``macwasm runtime [NAME]``: a runtime's page in the terminal; with no name, the list of runtimes.

The text is the runtime's page on the site (``macwasm.report.runtime_doc``): its strategy per
architecture and the entitlement each needs, the verdict for each product type holding exactly
those, component and proposal support, caveats, each fact with its grade and evidence. Exit 0; 2 for
a name no runtime has.
"""

from __future__ import annotations

import argparse

from macwasm.cli.cmd_rule import add_format_option, show


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "runtime",
        help="show a runtime: strategy per architecture, entitlements per product type, support, caveats",
        description="Print a runtime's documentation (the same as its page on the site), every fact with its "
        "grade and evidence. With no NAME, list every runtime and strategy.",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="a runtime or strategy of data/runtimes.csv, "
                        "e.g. wasmtime, wamr-aot, interpreter")
    add_format_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from macwasm.policy.tables import runtimes
    from macwasm.report.runtime_doc import UnknownRuntime, runtime_doc, runtime_record, runtimes_index_doc

    return show("runtime", args.name, args.format, page=runtime_doc, index=runtimes_index_doc,
                record=runtime_record, names=lambda: list(runtimes()), unknown=UnknownRuntime)
