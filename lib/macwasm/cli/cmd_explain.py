"""``macwasm explain [LOGFILE|-]``: what each recognised log line means, what to change, and the reference.

Exit 0 whenever the input could be read (recognising nothing is an answer, not a failure), 2 on a
usage error or an input that could not be read or is over a size cap. Problems that did not stop
the reading (a truncated notarization JSON read line by line instead) go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from macwasm.cli.common import EXIT_OK
from macwasm.policy.explain import ExplainReport, explain_file
from macwasm.report.emit import printable

FORMATS = ("table", "json")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain AMFI/kernel log lines, crash reports and notarization logs",
        description="Recognise the code-signing, launch and notarization messages in a system log "
        "excerpt, a crash report (.ips or text) or a notarytool log (JSON), and say what each means, "
        "what to change and where it is documented. Unrecognised lines are counted.",
    )
    parser.add_argument("logfile", nargs="?", default="-", metavar="LOGFILE",
                        help="the log to read; '-' or nothing reads standard input")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = explain_file(args.logfile)
    for err in report.errors:
        print(f"macwasm explain: warning: {printable(err.message)}", file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(printable(json.dumps(report.to_dict(), ensure_ascii=False, indent=2)) + "\n")
    else:
        write_report(report, sys.stdout)
    return EXIT_OK


def write_report(report: ExplainReport, out: TextIO) -> None:
    """One block per recognised message: the located line, then meaning, fix and reference."""
    for m in report.matches:
        subject = _subject(m.captures)
        out.write(printable(f"line {m.line_no}  {m.id}  {m.where}  [{m.confidence}]"
                            + (f"  {subject}" if subject else "") + "\n"))
        out.write(printable(f"    message:   {_short(m.line, 200)}\n"))
        out.write(printable(f"    meaning:   {m.meaning}\n"))
        out.write(printable(f"    fix:       {m.fix}\n"))
        out.write(printable(f"    reference: {m.reference}\n"))
    out.write(printable(report.summary()) + "\n")
    if report.unrecognised_samples:
        out.write("first unrecognised:\n")
        for line_no, text in report.unrecognised_samples:
            out.write(printable(f"    line {line_no}: {_short(text, 120)}\n"))


def _subject(captures: dict[str, object]) -> str:
    """The capture a reader looks for first: the binary's path, then the keys, then the pid."""
    for key in ("path", "bundle_id", "lib", "keys", "pid"):
        value = captures.get(key)
        if value:
            return ",".join(value) if isinstance(value, list) else str(value)
    return ""


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
