"""``macwasm audit TABLE.csv``: a verdict for every row of a table of shipped targets.

One target per row (columns: name, product_type, platform, distribution, runtime, module_source,
module_kind, arch, entitlements as a plist path or ``KEY;KEY=VALUE``, and optionally
hardened_runtime, signature_kind, has_profile, has_timestamp). Plist paths are relative to the
table's folder (to the working directory for ``-``, standard input). Exit 0 when no row fails, 1
when a row fails (``--fail-on warning``: or warns) or cannot be judged, 2 when the table cannot be
read.
"""

from __future__ import annotations

import argparse
import os
import sys

from macwasm.cli.common import (
    EXIT_USAGE_OR_IO,
    BatchStatus,
    add_gating_options,
    add_output_options,
    add_sarif_root_option,
    command_parser,
    gate,
    output_stream,
    render_options,
)
from macwasm.errors import MacwasmError
from macwasm.inputs import STDIN, open_readonly
from macwasm.limits import AUDIT_MAX_STDIN_SIZE
from macwasm.report.emit import printable
from macwasm.report.formats import render
from macwasm.vocabulary import UNJUDGED

COMMAND = "audit"
#: the format ``-o`` implies by its suffix, when ``--format`` is not given
BY_SUFFIX = {".json": "json", ".sarif": "sarif", ".csv": "csv"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = command_parser(
        subparsers, COMMAND,
        help="check every row of a table of targets and write the verdict table",
        description="Judge every row of TABLE.csv (one target per row) with the rules `macwasm check` applies, "
        "and write the verdicts as a table, CSV or JSON, or the findings as SARIF or GitHub annotations.",
        exit_codes=("no row fails (--fail-on warning: none warns either)",
                    "a row fails (--fail-on warning: or warns) or cannot be judged; --exit-zero: 0",
                    "a usage error, or the table could not be read"),
        example="macwasm audit data/samples/apps.csv --format sarif -o audit.sarif",
    )
    parser.add_argument("table", metavar="TABLE.csv", help="the table of targets, or '-' for standard input")
    add_output_options(parser, COMMAND, default=None,
                       quiet="only the rows that do not pass, and no counts line; no info findings in SARIF")
    add_gating_options(parser)
    add_sarif_root_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from macwasm.policy.audit_table import audit, read_table
    from macwasm.report.render_audit import AuditRun
    from macwasm.report.sarif import csv_row_lines

    fmt = args.format or _format_from(args.output)
    try:
        rules = gate(args)
        if args.table == STDIN:
            data = _stdin()
            frame = read_table(STDIN, data=data)
            base_dir = os.getcwd()
            lines: list[int | None] = list(csv_row_lines(STDIN, text=data.decode("utf-8", "replace")))
        else:
            frame = read_table(args.table)
            base_dir = os.path.dirname(os.path.abspath(args.table))
            lines = list(csv_row_lines(args.table))
        verdicts = audit(frame, base_dir=base_dir, ignore=rules.ignore)
    except MacwasmError as err:
        print(f"macwasm audit: {printable(err.message)}", file=sys.stderr)
        return EXIT_USAGE_OR_IO
    run_ = AuditRun(args.table, frame, verdicts, base_dir, lines, rules.ignore)
    with output_stream(args.output) as out:
        render(COMMAND, fmt, run_, out, render_options(args, COMMAND))
    status = BatchStatus(findings=bool(verdicts["verdict"].isin([UNJUDGED]).any()))
    return rules.exit_code(status, set(verdicts["verdict"]))


def _stdin() -> bytes:
    with open_readonly(STDIN, max_size=AUDIT_MAX_STDIN_SIZE) as data:
        return bytes(data)


def _format_from(output: str | None) -> str:
    """The format ``-o``'s suffix implies: .json, .sarif, .csv (any other file: csv); table on stdout."""
    if not output or output == "-":
        return "table"
    return BY_SUFFIX.get(os.path.splitext(output.lower())[1], "csv")
