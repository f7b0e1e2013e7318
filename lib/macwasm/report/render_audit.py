"""``audit``: the verdict of every row of a table of targets, as text, CSV, JSON, SARIF or GitHub annotations.

The payload is an :class:`AuditRun`: the table as read (a pandas frame), the verdicts (one row per
input row, :data:`~macwasm.policy.audit_table.OUTPUT_COLUMNS`), and where each row sits in the file,
so that SARIF and annotations point at the row's line of the CSV (the row's name is in the message,
never in a URI).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TextIO

from macwasm.report.emit import printable
from macwasm.report.formats import RenderOptions
from macwasm.report.schema import SCHEMA_VERSION
from macwasm.vocabulary import FAIL, PASS, REPORT_VERDICTS, UNJUDGED, WARN


@dataclass
class AuditRun:
    """What ``audit`` hands to its renderers."""

    table: str  # the table's path as given ("-": standard input)
    frame: Any  # pandas.DataFrame of the table, strings
    verdicts: Any  # pandas.DataFrame of the verdicts
    base_dir: str | None  # where the table's plist paths are relative to
    #: the 1-based line of each data row in the file (None where unknown)
    row_lines: list[int | None] = field(default_factory=list)
    #: rule ids left out (``--ignore``)
    ignore: frozenset[str] = frozenset()


def _shown(run: AuditRun, options: RenderOptions) -> Any:
    """The verdicts, ``-q``: only the rows that do not pass."""
    return run.verdicts[run.verdicts["verdict"] != PASS] if options.quiet else run.verdicts


def table(run: AuditRun, out: TextIO, options: RenderOptions) -> None:
    verdicts = _shown(run, options)
    out.write(printable(verdicts.drop(columns=["top_finding"]).to_string(index=False)) + "\n")
    for _, row in verdicts[verdicts["verdict"].isin([FAIL, UNJUDGED])].iterrows():
        out.write(printable(f"  {row['name']}: {row['top_finding']}\n"))
    if not options.quiet:
        counts = run.verdicts["verdict"].value_counts()
        out.write(", ".join(f"{counts.get(v, 0)} {v}" for v in REPORT_VERDICTS) + "\n")


def csv(run: AuditRun, out: TextIO, options: RenderOptions) -> None:
    _shown(run, options).to_csv(out, index=False, lineterminator="\n")


def json_array(run: AuditRun, out: TextIO, options: RenderOptions) -> None:
    verdicts = _shown(run, options).copy()
    verdicts.insert(0, "schema_version", SCHEMA_VERSION)
    out.write(verdicts.to_json(orient="records", indent=2, force_ascii=False) + "\n")


def _findings(run: AuditRun, options: RenderOptions) -> tuple[list[Any], list[dict[str, Any]], dict[int, int],
                                                             dict[int, int | None]]:
    """The failing and warning rows judged again in full, the unjudgeable rows' errors, and each one's line.

    ``audit_findings`` returns the kept rows' results and the unjudgeable rows' errors in table
    order, so the n-th of each is the n-th row of that verdict: that gives each its line.
    """
    from macwasm.policy.audit_table import audit_findings
    from macwasm.report.render_check import quiet

    kept = (FAIL, WARN)
    results, errors = audit_findings(run.frame, run.verdicts, base_dir=run.base_dir, verdicts_kept=kept,
                                     ignore=run.ignore)
    verdicts = list(run.verdicts["verdict"])
    lines = run.row_lines if len(run.row_lines) == len(verdicts) else [None] * len(verdicts)
    kept_rows = [i for i, v in enumerate(verdicts) if v in kept]
    error_rows = [i for i, v in enumerate(verdicts) if v == UNJUDGED]
    if options.quiet:
        results = [quiet(r) for r in results]
    by_result = {id(r): line for r, i in zip(results, kept_rows, strict=True) if (line := lines[i]) is not None}
    by_error = {id(e): lines[i] for e, i in zip(errors, error_rows, strict=True)}
    for err, i in zip(errors, error_rows, strict=True):
        err["error"] = f"row {i + 1} ({err['target']}): {err['error']}"
    return results, errors, by_result, by_error


def sarif(run: AuditRun, out: TextIO, options: RenderOptions) -> None:
    """The findings of the failing and warning rows, each located at the table file and its row's line."""
    from macwasm.report.sarif import Where, table_locator, to_sarif

    results, errors, by_result, by_error = _findings(run, options)
    log = to_sarif(results, errors=errors, root=options.root, locate=table_locator(run.table, by_result),
                   error_where=lambda err: Where(run.table, by_error.get(id(err))))
    out.write(json.dumps(log, indent=2, ensure_ascii=False) + "\n")


def github(run: AuditRun, out: TextIO, options: RenderOptions) -> None:
    """An annotation per finding of the failing and warning rows, and per unjudgeable row, at the row's line."""
    from macwasm.report.github import error_annotation, finding_annotation
    from macwasm.report.sarif import Where

    results, errors, by_result, by_error = _findings(run, options)
    for result in results:
        for f in result.findings:
            out.write(finding_annotation(result, f, Where(run.table, by_result.get(id(result))), options.root))
    for err in errors:
        out.write(error_annotation(str(err["error"]), Where(run.table, by_error.get(id(err))), options.root))
