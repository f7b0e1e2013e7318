"""``macwasm rule [ID]``: a rule's page in the terminal; with no id, the list of rules.

The text is the rule's page on the site (``macwasm.report.rule_doc``), written for a terminal:
what it checks, why it matters, an example that fires and one that stays quiet (evaluated now),
the fix, the references and the evidence grade. Exit 0; 2 for an id no rule has.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from macwasm.cli.common import EXIT_OK, EXIT_USAGE_OR_IO, add_output_options, command_parser, output_stream
from macwasm.cli.common import render_options as options_of
from macwasm.report.emit import printable
from macwasm.report.formats import render
from macwasm.report.render_doc import DocRequest

COMMAND = "rule"


def doc_exit_codes(what: str) -> tuple[str, str, str]:
    """The exit codes of ``rule`` and ``runtime`` (``what``: the kind of name they take)."""
    return ("the page (or the list) was written", "(not used)", f"no such {what}, or the output could not be written")


DOC_QUIET = "with no {what}, only the names, one per line (a page is always written whole)"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = command_parser(
        subparsers, COMMAND,
        help="show a rule: what it checks, why, an example that fires and one that does not, the fix",
        description="Print a rule's documentation (the same as its page on the site), with its two examples "
        "evaluated now. With no ID, list every rule.",
        exit_codes=doc_exit_codes("rule id"),
        example="macwasm rule MW110",
    )
    parser.add_argument("rule_id", nargs="?", metavar="ID", help="a rule id, e.g. MW101 (case does not matter)")
    add_output_options(parser, COMMAND, quiet=DOC_QUIET.format(what="ID"))
    parser.set_defaults(func=run)


def show(args: argparse.Namespace, command: str, request: DocRequest, *, find: Callable[[str], Any],
         unknown: type[Exception]) -> int:
    """Check the name first (one clear error, exit 2, nothing written), then render the page asked for."""
    if request.name:
        try:
            find(request.name)
        except unknown as err:
            print(f"macwasm {command}: {printable(str(err.args[0]))}", file=sys.stderr)
            return EXIT_USAGE_OR_IO
    with output_stream(args.output) as out:
        render(command, args.format, request, out, options_of(args, command))
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    from macwasm.policy.tables import rules
    from macwasm.report.rule_doc import UnknownRule, find_rule, rule_doc, rule_record, rules_index_doc

    request = DocRequest("rules", args.rule_id, rule_doc, rules_index_doc, rule_record, lambda: list(rules()))
    return show(args, COMMAND, request, find=find_rule, unknown=UnknownRule)
