"""``explain``: each recognised log line, what it means, what to change and where it is documented.

The payload is the :class:`~macwasm.policy.explain.ExplainReport`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TextIO

from macwasm.report.emit import printable
from macwasm.report.formats import RenderOptions
from macwasm.report.schema import versioned

if TYPE_CHECKING:
    from macwasm.policy.explain import ExplainReport

#: characters of a matched message, and of an unrecognised line, a text report shows
MESSAGE_WIDTH = 200
SAMPLE_WIDTH = 120


def json_object(report: ExplainReport, out: TextIO, options: RenderOptions) -> None:
    out.write(printable(json.dumps(versioned(report.to_dict()), ensure_ascii=False, indent=2)) + "\n")


def table(report: ExplainReport, out: TextIO, options: RenderOptions) -> None:
    """One block per recognised message: the located line, then meaning, fix and reference; ``-q``: only those."""
    for m in report.matches:
        subject = _subject(m.captures)
        out.write(printable(f"line {m.line_no}  {m.id}  {m.where}  [{m.grade}]"
                            + (f"  {subject}" if subject else "") + "\n"))
        out.write(printable(f"    message:   {_short(m.line, MESSAGE_WIDTH)}\n"))
        out.write(printable(f"    meaning:   {m.meaning}\n"))
        out.write(printable(f"    fix:       {m.fix}\n"))
        out.write(printable(f"    reference: {m.reference}\n"))
    if options.quiet:
        return
    out.write(printable(report.summary()) + "\n")
    if report.unrecognised_samples:
        out.write("first unrecognised:\n")
        for line_no, text in report.unrecognised_samples:
            out.write(printable(f"    line {line_no}: {_short(text, SAMPLE_WIDTH)}\n"))


def _subject(captures: dict[str, object]) -> str:
    """The capture a reader looks for first: the binary's path, then the keys, then the pid."""
    for key in ("path", "bundle_id", "lib", "keys", "pid"):
        value = captures.get(key)
        if value:
            return ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return ""


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
