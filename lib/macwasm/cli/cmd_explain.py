"""``macwasm explain [LOGFILE|-]``: what each recognised log line means, what to change, and the reference.

Exit 0 whenever the input could be read (recognising nothing is an answer, not a failure), 2 on a
usage error or an input that could not be read or is over a size cap. Problems that did not stop
the reading (a truncated notarization JSON read line by line instead) go to stderr.
"""

from __future__ import annotations

import argparse
import sys

from macwasm.cli.common import EXIT_OK, EXIT_USAGE_OR_IO, add_output_options, command_parser, output_stream, say
from macwasm.cli.common import render_options as options_of
from macwasm.errors import MacwasmError
from macwasm.report.emit import printable
from macwasm.report.formats import render

COMMAND = "explain"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = command_parser(
        subparsers, COMMAND,
        help="explain AMFI/kernel log lines, crash reports and notarization logs",
        description="Recognise the code-signing, launch and notarization messages in a system log "
        "excerpt, a crash report (.ips or text) or a notarytool log (JSON), and say what each means, "
        "what to change and where it is documented. Unrecognised lines are counted.",
        exit_codes=("the input was read (recognising nothing is an answer too)",
                    "(not used)",
                    "a usage error, or the input could not be read or is over a size cap"),
        example="log show --last 5m --predicate 'process == \"kernel\"' | macwasm explain -",
    )
    parser.add_argument("logfile", nargs="?", default="-", metavar="LOGFILE",
                        help="the log to read; '-' or nothing reads standard input (default: -)")
    add_output_options(parser, COMMAND, quiet="only the recognised messages: no summary, no unrecognised lines, "
                       "no warnings")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from macwasm.policy.explain import explain_file

    try:
        report = explain_file(args.logfile)
    except MacwasmError as err:
        print(f"macwasm explain: {printable(err.message)}", file=sys.stderr)
        return EXIT_USAGE_OR_IO
    warn = say(COMMAND, args.quiet)
    for problem in report.errors:
        warn(f"warning: {problem.message}")
    with output_stream(args.output) as out:
        render(COMMAND, args.format, report, out, options_of(args, COMMAND))
    return EXIT_OK
