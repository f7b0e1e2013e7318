"""``macwasm audit TABLE.csv``: a verdict for every row of a table of shipped targets.

One target per row (columns: name, product_type, platform, distribution, runtime, module_source,
module_kind, arch, entitlements as a plist path or ``KEY;KEY=VALUE``, and optionally
hardened_runtime, signature_kind, has_profile, has_timestamp). Plist paths are relative to the
table's folder. Exit 0 when no row fails, 1 when a row fails or cannot be judged, 2 when the table
cannot be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from macwasm.cli.cmd_check import add_sarif_root_option
from macwasm.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE_OR_IO
from macwasm.errors import MacwasmError
from macwasm.report.emit import printable

FORMATS = ("table", "csv", "json", "sarif")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="check every row of a table of targets and write the verdict table",
        description="Judge every row of TABLE.csv (one target per row) with the rules of data/rules.csv "
        "and write the verdicts as a table, CSV or JSON, or the findings as SARIF.",
    )
    parser.add_argument("table", metavar="TABLE.csv")
    parser.add_argument("--output", "-o", default=None, metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="csv, json, or sarif (the failing and warning rows with every finding, for code "
                        "scanning); default: from --output's suffix, else table on stdout")
    add_sarif_root_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from macwasm.policy.audit_table import audit, read_table

    fmt = args.format or _format_from(args.output)
    try:
        frame = read_table(args.table)
        verdicts = audit(frame, base_dir=os.path.dirname(os.path.abspath(args.table)))
    except MacwasmError as err:
        print(f"macwasm audit: {printable(err.message)}", file=sys.stderr)
        return EXIT_USAGE_OR_IO
    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        if fmt == "sarif":
            out.write(json.dumps(_sarif(args, frame, verdicts), indent=2, ensure_ascii=False) + "\n")
        elif fmt == "csv":
            verdicts.to_csv(out, index=False, lineterminator="\n")
        elif fmt == "json":
            out.write(verdicts.to_json(orient="records", indent=2, force_ascii=False) + "\n")
        else:
            shown = verdicts.drop(columns=["top_finding"])
            out.write(printable(shown.to_string(index=False)) + "\n")
            for _, row in verdicts[verdicts["verdict"].isin(["fail", "error"])].iterrows():
                out.write(printable(f"  {row['name']}: {row['top_finding']}\n"))
            counts = verdicts["verdict"].value_counts()
            out.write(", ".join(f"{counts.get(v, 0)} {v}" for v in ("pass", "warn", "fail", "error")) + "\n")
    finally:
        if args.output:
            out.close()
    return EXIT_FINDINGS if verdicts["verdict"].isin(["fail", "error"]).any() else EXIT_OK


def _sarif(args: argparse.Namespace, frame: Any, verdicts: Any) -> dict[str, Any]:
    """The findings of the failing and warning rows, each located at the table file and its row's line.

    ``audit_findings`` returns the kept rows' results and the unjudgeable rows' errors in table
    order, so the n-th of each is the n-th row of that verdict: that gives each its line.
    """
    from macwasm.policy.audit_table import audit_findings
    from macwasm.report.sarif import Where, csv_row_lines, table_locator, to_sarif

    kept = ("fail", "warn")
    results, errors = audit_findings(frame, verdicts, base_dir=os.path.dirname(os.path.abspath(args.table)),
                                     verdicts_kept=kept)
    lines = csv_row_lines(args.table)
    if len(lines) != len(verdicts):
        lines = [None] * len(verdicts)  # a table pandas reads differently (e.g. embedded blank rows): no lines
    kept_rows = [i for i, v in enumerate(verdicts["verdict"]) if v in kept]
    error_rows = [i for i, v in enumerate(verdicts["verdict"]) if v == "error"]
    by_result = {id(r): lines[i] for r, i in zip(results, kept_rows, strict=True)}
    by_error = {id(e): lines[i] for e, i in zip(errors, error_rows, strict=True)}
    for err, i in zip(errors, error_rows, strict=True):
        err["error"] = f"row {i + 1} ({err['target']}): {err['error']}"
    return to_sarif(results, errors=errors, root=args.sarif_root,
                    locate=table_locator(args.table, by_result),
                    error_where=lambda err: Where(args.table, by_error.get(id(err))))


def _format_from(output: str | None) -> str:
    if output and output.lower().endswith(".json"):
        return "json"
    if output and output.lower().endswith(".sarif"):
        return "sarif"
    if output:
        return "csv"
    return "table"
