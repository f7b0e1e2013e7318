"""``macwasm runtime [NAME]``: a runtime's page in the terminal; with no name, the list of runtimes.

The text is the runtime's page on the site (``macwasm.report.runtime_doc``): its strategy per
architecture and the entitlement each needs, the verdict for each product type holding exactly
those, component and proposal support, caveats, each fact with its grade and evidence. Exit 0; 2 for
a name no runtime has.
"""

from __future__ import annotations

import argparse

from macwasm.cli.cmd_rule import DOC_QUIET, doc_exit_codes, show
from macwasm.cli.common import add_output_options, command_parser
from macwasm.report.render_doc import DocRequest

COMMAND = "runtime"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = command_parser(
        subparsers, COMMAND,
        help="show a runtime: strategy per architecture, entitlements per product type, support, caveats",
        description="Print a runtime's documentation (the same as its page on the site), every fact with its "
        "grade and evidence. With no NAME, list every runtime and strategy.",
        exit_codes=doc_exit_codes("runtime"),
        example="macwasm runtime wasmtime",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="a runtime or strategy (macwasm runtime lists them), "
                        "e.g. wasmtime, wamr-aot, interpreter")
    add_output_options(parser, COMMAND, quiet=DOC_QUIET.format(what="NAME"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from macwasm.policy.tables import runtimes
    from macwasm.report.runtime_doc import UnknownRuntime, find_runtime, runtime_doc, runtime_record, runtimes_index_doc

    request = DocRequest("runtimes", args.name, runtime_doc, runtimes_index_doc, runtime_record,
                         lambda: list(runtimes()))
    return show(args, COMMAND, request, find=find_runtime, unknown=UnknownRuntime)
