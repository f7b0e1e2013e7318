"""``macwasm rule [ID]``: a rule's page in the terminal; with no id, the list of rules.

The text is the rule's page on the site (``macwasm.report.rule_doc``), written for a terminal:
what it checks, why it matters, an example that fires and one that stays quiet (evaluated now),
the fix, the references and the evidence grade. Exit 0; 2 for an id no rule has.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from macwasm.cli.common import EXIT_OK, EXIT_USAGE_OR_IO
from macwasm.report.doc import Doc, to_markdown, to_text
from macwasm.report.emit import printable

FORMATS = ("text", "markdown", "json")


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (wrapped for the terminal), markdown (the site page's source) or json "
                        "(default: text)")


def show(command: str, name: str | None, fmt: str, *, page: Callable[[str], Doc], index: Callable[[], Doc],
         record: Callable[[str], dict[str, Any]], names: Callable[[], list[str]], unknown: type[Exception]) -> int:
    """Write one page (or, with no name, the index) in the format asked; an unknown name is exit 2."""
    try:
        if fmt == "json":
            data: Any = record(name) if name else names()
            text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        else:
            doc = page(name) if name else index()
            text = to_markdown(doc) if fmt == "markdown" else to_text(doc)
    except unknown as err:
        print(f"macwasm {command}: {printable(str(err.args[0]))}", file=sys.stderr)
        return EXIT_USAGE_OR_IO
    sys.stdout.write(printable(text))
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rule",
        help="show a rule: what it checks, why, an example that fires and one that does not, the fix",
        description="Print a rule's documentation (the same as its page on the site), with its two examples "
        "evaluated now. With no ID, list every rule.",
    )
    parser.add_argument("rule_id", nargs="?", metavar="ID", help="a rule id, e.g. MW101 (case does not matter)")
    add_format_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from macwasm.policy.tables import rules
    from macwasm.report.rule_doc import UnknownRule, rule_doc, rule_record, rules_index_doc

    return show("rule", args.rule_id, args.format, page=rule_doc, index=rules_index_doc, record=rule_record,
                names=lambda: list(rules()), unknown=UnknownRule)
