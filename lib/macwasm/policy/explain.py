"""Explain a system log, crash report or notarization log with the rows of ``diagnostics.csv``.

Three shapes reach us and are told apart by their content, not their name:

* plain text (``log show``/Console excerpts, pasted forum lines, text crash reports): every line is
  searched for every message it holds; a line may embed a message after a prefix
  (``kernel: (AppleMobileFileIntegrity) AMFI: …``) or hold several;
* an ``.ips`` crash report: a one-line JSON header, then a JSON body whose ``exception`` and
  ``termination`` objects are rendered as the text report's ``Exception Type:`` and
  ``Termination Reason:`` lines and matched like them;
* a ``notarytool log`` JSON: ``statusSummary`` and every ``issues[]`` entry's ``message`` are
  matched; the issue's ``path``, ``architecture``, ``severity`` and ``docUrl`` become captures.

Nothing is dropped silently: lines (or JSON entries) that match nothing are counted. Input that
is not what it claims (a truncated or over-deep JSON) is reported as a :class:`LogFormatError`
with its offset in ``errors`` and then read line by line, so a half-pasted notary log still
yields the messages it holds. Only an input over the size or line-count caps raises.
"""

from __future__ import annotations

import json
import mmap
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from macwasm.errors import LIMIT, LogFormatError
from macwasm.inputs import open_readonly
from macwasm.limits import (
    LOG_MAX_JSON_DEPTH,
    LOG_MAX_JSON_SIZE,
    LOG_MAX_LINE_LENGTH,
    LOG_MAX_LINES,
    LOG_MAX_QUOTE_LENGTH,
    LOG_MAX_SIZE,
    LOG_MAX_UNRECOGNISED_SAMPLES,
)
from macwasm.policy.diagnostics import DiagnosticTable, LineMatch, load_diagnostics

KIND_LOG = "log"
KIND_NOTARY = "notary-log"
KIND_IPS = "crash-report-ips"

_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}

Source = str | bytes | bytearray | memoryview | mmap.mmap | Iterable[str]


@dataclass(frozen=True)
class ExplainMatch:
    """One recognised message: where it was, which row it is, and what to do."""

    line_no: int
    line: str
    id: str
    where: str
    captures: dict[str, object]
    meaning: str
    fix: str
    reference: str
    grade: str
    rule_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "line_no": self.line_no, "id": self.id, "where": self.where, "line": self.line,
            "captures": self.captures, "meaning": self.meaning, "fix": self.fix, "reference": self.reference,
            "grade": self.grade, "rule_id": self.rule_id,
        }


@dataclass
class ExplainReport:
    """Everything ``explain`` found in one input, with the counts that show what it did not."""

    path: str | None
    kind: str = KIND_LOG
    matches: list[ExplainMatch] = field(default_factory=list)
    total_lines: int = 0
    #: lines (or JSON entries) with at least one recognised message
    recognised: int = 0
    #: non-blank lines (or JSON entries) that matched nothing
    unrecognised: int = 0
    blank_lines: int = 0
    #: JSON kinds only: entries examined (statusSummary + issues, or exception + termination)
    entries: int | None = None
    #: lines longer than LOG_MAX_LINE_LENGTH, matched on their head only
    long_lines: int = 0
    unrecognised_samples: list[tuple[int, str]] = field(default_factory=list)
    #: problems that did not stop the reading (truncated JSON, over-deep JSON); each has an offset
    errors: list[LogFormatError] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.matches]

    def summary(self) -> str:
        if self.entries is not None:
            what = "notary-log entries" if self.kind == KIND_NOTARY else "crash-report fields"
            return (f"{self.recognised} recognised, {self.unrecognised} unrecognised of {self.entries} {what} "
                    f"({self.total_lines} lines)")
        text = f"{self.recognised} recognised, {self.unrecognised} unrecognised of {self.total_lines} lines"
        extras = []
        if self.blank_lines:
            extras.append(f"{self.blank_lines} blank")
        if self.long_lines:
            extras.append(f"{self.long_lines} longer than {LOG_MAX_LINE_LENGTH} characters, matched on their start")
        return text + (f" ({'; '.join(extras)})" if extras else "")

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "summary": {
                "recognised": self.recognised, "unrecognised": self.unrecognised,
                "total_lines": self.total_lines, "blank_lines": self.blank_lines, "entries": self.entries,
                "long_lines": self.long_lines, "text": self.summary(),
            },
            "matches": [m.to_dict() for m in self.matches],
            "unrecognised_samples": [{"line_no": n, "line": text} for n, text in self.unrecognised_samples],
            "errors": [e.to_dict() for e in self.errors],
        }


def explain(source: Source, *, path: str | None = None, table: DiagnosticTable | None = None) -> ExplainReport:
    """Recognise every known message in a log, crash report or notarization log.

    ``source`` is the text, its bytes (invalid UTF-8 is replaced, not an error) or an iterable of
    lines. Raises :class:`LogFormatError` (category ``limit``) only when the input exceeds
    ``LOG_MAX_SIZE`` or ``LOG_MAX_LINES``.
    """
    table = table or load_diagnostics()
    data = _normalise(source, path)
    report = ExplainReport(path=path)
    head = _head(data)
    if head.startswith(("{", "\ufeff{")):
        if len(data) > LOG_MAX_JSON_SIZE:
            report.errors.append(LogFormatError(
                f"JSON input is {len(data)} bytes, more than the {LOG_MAX_JSON_SIZE} read as JSON; read line by line",
                path=path, offset=LOG_MAX_JSON_SIZE, category=LIMIT))
        else:
            text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
            if _explain_json(text, report, table):
                return report
            data = text
    _explain_lines(data, report, table)
    return report


def explain_file(path: str, *, table: DiagnosticTable | None = None) -> ExplainReport:
    """``explain`` on a file (``-`` = standard input), read-only and size-capped before reading."""
    with open_readonly(path, max_size=LOG_MAX_SIZE) as data:
        return explain(data, path=path, table=table)


# --- input normalisation -------------------------------------------------------------------------

def _normalise(source: Source, path: str | None) -> str | bytes | mmap.mmap:
    if isinstance(source, (str, bytes, mmap.mmap)):
        data = source
    elif isinstance(source, (bytearray, memoryview)):
        data = bytes(source)
    else:
        chunks: list[str] = []
        size = 0
        for line in source:
            piece = line.rstrip("\r\n")
            size += len(piece) + 1
            if size > LOG_MAX_SIZE:
                raise LogFormatError(f"input is larger than the limit of {LOG_MAX_SIZE} characters",
                                     path=path, offset=LOG_MAX_SIZE, category=LIMIT)
            chunks.append(piece)
        data = "\n".join(chunks)
    if len(data) > LOG_MAX_SIZE:
        raise LogFormatError(f"input is {len(data)} bytes, larger than the limit of {LOG_MAX_SIZE} bytes",
                             path=path, offset=LOG_MAX_SIZE, category=LIMIT)
    return data


def _head(data: str | bytes | mmap.mmap) -> str:
    raw = data[:64]
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    return text.lstrip(" \t\r\n")


def _iter_lines(data: str | bytes | mmap.mmap) -> Iterator[tuple[int, int, str, bool]]:
    """(line number, byte/char offset, text cut to the line cap, was it longer) without copying the input."""
    newline: Any = "\n" if isinstance(data, str) else b"\n"
    size = len(data)
    pos = 0
    line_no = 0
    cap_units = LOG_MAX_LINE_LENGTH if isinstance(data, str) else 4 * LOG_MAX_LINE_LENGTH
    while pos < size:
        end = data.find(newline, pos)
        if end < 0:
            end = size
        line_no += 1
        chunk = data[pos:min(end, pos + cap_units)]
        text = chunk if isinstance(chunk, str) else chunk.decode("utf-8", "replace")
        long = end - pos > cap_units or len(text) > LOG_MAX_LINE_LENGTH
        yield line_no, pos, text[:LOG_MAX_LINE_LENGTH].rstrip("\r"), long
        pos = end + 1


# --- plain text ------------------------------------------------------------------------------------

def _explain_lines(data: str | bytes | mmap.mmap, report: ExplainReport, table: DiagnosticTable) -> None:
    report.kind = KIND_LOG
    for line_no, offset, text, long in _iter_lines(data):
        if line_no > LOG_MAX_LINES:
            raise LogFormatError(f"more than {LOG_MAX_LINES} lines", path=report.path, offset=offset,
                                 category=LIMIT)
        report.total_lines = line_no
        report.long_lines += long
        stripped = text.strip()
        if not stripped:
            report.blank_lines += 1
            continue
        found = table.match_line(text)
        if not found:
            _note_unrecognised(report, line_no, stripped)
            continue
        report.recognised += 1
        report.matches.extend(_to_match(line_no, stripped, m) for m in found)


def _note_unrecognised(report: ExplainReport, line_no: int, text: str) -> None:
    report.unrecognised += 1
    if len(report.unrecognised_samples) < LOG_MAX_UNRECOGNISED_SAMPLES:
        report.unrecognised_samples.append((line_no, _quote(text)))


def _quote(text: str) -> str:
    return text if len(text) <= LOG_MAX_QUOTE_LENGTH else text[:LOG_MAX_QUOTE_LENGTH - 1] + "…"


def _to_match(line_no: int, line: str, m: LineMatch, extra: Mapping[str, object] | None = None) -> ExplainMatch:
    dx = m.diagnostic
    captures = {**(extra or {}), **m.captures}
    return ExplainMatch(line_no=line_no, line=_quote(line), id=dx.id, where=dx.where, captures=captures,
                        meaning=dx.meaning, fix=dx.fix, reference=dx.reference, grade=dx.grade,
                        rule_id=dx.rule_id)


# --- JSON: notarization logs and .ips crash reports ------------------------------------------------

def _explain_json(text: str, report: ExplainReport, table: DiagnosticTable) -> bool:
    """Explain ``text`` as JSON; False (with the reason in ``report.errors``) to fall back to lines."""
    body_at = 0
    start = len(text) - len(text.lstrip("\ufeff \t\r\n"))
    first_nl = text.find("\n", start)
    header: Any = None
    if first_nl >= 0 and text[first_nl:].strip():
        # an .ips report: a complete JSON object on the first line, the body after it
        try:
            header = _load_json(text[start:first_nl], start, report.path, text)
        except LogFormatError:
            header = None
        if isinstance(header, dict):
            body_at = first_nl + 1
    try:
        doc = _load_json(text[body_at or start:], body_at or start, report.path, text)
    except LogFormatError as err:
        report.errors.append(err)
        return False
    report.total_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if isinstance(doc, dict) and ("exception" in doc or "termination" in doc):
        _explain_ips(text, header if isinstance(header, dict) else {}, doc, report, table)
        return True
    if isinstance(doc, dict) and header is None and ("issues" in doc or "statusSummary" in doc or "jobId" in doc):
        _explain_notary(text, doc, report, table)
        return True
    return False  # JSON of a shape we do not know: its lines may still hold messages


def _load_json(fragment: str, at: int, path: str | None, whole: str) -> Any:
    """json.loads after a depth check, so a hostile nesting is a limit error, never a RecursionError."""
    depth = _json_depth(fragment)
    if depth > LOG_MAX_JSON_DEPTH:
        raise LogFormatError(f"JSON nests {depth if depth < 10**6 else 'too many'} levels deep, more than the "
                             f"limit of {LOG_MAX_JSON_DEPTH}", path=path, offset=_byte_offset(whole, at),
                             category=LIMIT)
    try:
        return json.loads(fragment)
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno}); read line by line instead"
        raise LogFormatError(reason, path=path, offset=_byte_offset(whole, at + exc.pos)) from None
    except RecursionError:  # belt and braces: the depth check should have caught it
        raise LogFormatError("JSON nests too deep", path=path, offset=_byte_offset(whole, at),
                             category=LIMIT) from None


def _json_depth(fragment: str) -> int:
    """Deepest bracket nesting outside strings, computed in C loops (regex, map, accumulate)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", fragment))
    if not brackets:
        return 0
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)))


def _byte_offset(text: str, char_pos: int) -> int:
    return len(text[:char_pos].encode("utf-8", "surrogatepass"))


def _line_of(text: str, needle: str, start: int) -> tuple[int, int]:
    """1-based line number of ``needle`` at or after ``start`` (and where it was), or of ``start``."""
    at = text.find(needle, start) if needle else -1
    pos = at if at >= 0 else start
    return text.count("\n", 0, pos) + 1, (at + len(needle) if at >= 0 else start)


def _explain_notary(text: str, doc: dict[str, Any], report: ExplainReport, table: DiagnosticTable) -> None:
    report.kind = KIND_NOTARY
    report.entries = 0
    cursor = 0
    envelope: dict[str, object] = {k: doc[k] for k in ("status", "statusCode", "jobId", "archiveFilename") if k in doc}
    summary = doc.get("statusSummary")
    if isinstance(summary, str):
        report.entries += 1
        line_no, cursor = _line_of(text, json.dumps(summary, ensure_ascii=False)[1:-1], cursor)
        _match_entry(report, table, line_no, summary, envelope)
    issues = doc.get("issues")
    if issues is None:
        return
    if not isinstance(issues, list):
        report.errors.append(LogFormatError(f"'issues' is a {type(issues).__name__}, expected a list",
                                            path=report.path, offset=_byte_offset(text, text.find('"issues"'))))
        return
    for issue in issues:
        report.entries += 1
        if not isinstance(issue, dict) or not isinstance(issue.get("message"), str):
            line_no, _ = _line_of(text, "", cursor)
            _note_unrecognised(report, line_no, _quote(json.dumps(issue, ensure_ascii=False)))
            continue
        message = issue["message"]
        line_no, cursor = _line_of(text, json.dumps(message, ensure_ascii=False)[1:-1], cursor)
        extra = {"path": issue.get("path"), "architecture": issue.get("architecture"),
                 "severity": issue.get("severity"), "doc_url": issue.get("docUrl")}
        _match_entry(report, table, line_no, message, {k: v for k, v in extra.items() if v is not None})


def _explain_ips(text: str, header: dict[str, Any], body: dict[str, Any], report: ExplainReport,
                 table: DiagnosticTable) -> None:
    report.kind = KIND_IPS
    report.entries = 0
    info = body.get("bundleInfo")
    bundle_info: dict[str, Any] = info if isinstance(info, dict) else {}
    facts = {
        "process": body.get("procName") or header.get("app_name"),
        "path": body.get("procPath"),
        "bundle_id": header.get("bundleID") or bundle_info.get("CFBundleIdentifier"),
        "pid": body.get("pid"),
    }
    process = {k: v for k, v in facts.items() if isinstance(v, (str, int))}
    exception = body.get("exception")
    if isinstance(exception, dict):
        report.entries += 1
        kind, signal = exception.get("type"), exception.get("signal")
        line = f"Exception Type: {kind} ({signal})" if signal else f"Exception Type: {kind}"
        line_no, _ = _line_of(text, '"exception"', 0)
        _match_entry(report, table, line_no, line, process)
    termination = body.get("termination")
    if isinstance(termination, dict):
        report.entries += 1
        namespace, code, indicator = (termination.get(k) for k in ("namespace", "code", "indicator"))
        line = f"Termination Reason: Namespace {namespace}, Code {code}"
        if indicator:
            line += f", {indicator}"
        line_no, _ = _line_of(text, '"termination"', 0)
        extra = {**process, **{k: v for k, v in (("namespace", namespace), ("code", code),
                                                  ("indicator", indicator)) if v is not None}}
        _match_entry(report, table, line_no, line, extra)


def _match_entry(report: ExplainReport, table: DiagnosticTable, line_no: int, line: str,
                 extra: Mapping[str, object]) -> None:
    found = table.match_line(line[:LOG_MAX_LINE_LENGTH])
    if not found:
        _note_unrecognised(report, line_no, _quote(line))
        return
    report.recognised += 1
    report.matches.extend(_to_match(line_no, line.strip(), m, extra) for m in found)

