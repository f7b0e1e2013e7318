"""SARIF 2.1.0 for ``check`` and ``audit --format sarif`` (GitHub code scanning, IDE viewers).

The rule metadata (``tool.driver.rules``) is ``data/rules.csv`` itself, so a reviewer who fixes a
rule's wording fixes it in every SARIF viewer too.

Locations follow what code scanning accepts (every result has one, with a URI):

- an input inside the root (the working directory, or ``--sarif-root``) is a relative URI with
  ``uriBaseId`` ``%SRCROOT%`` (left unresolved: code scanning reads it as the repository's root,
  and the log stays the same on every machine);
- an input outside it is an absolute ``file://`` URI: still a location, never a dropped one;
- an entitlement finding on an XML plist has a ``region``: the line of the key's ``<key>`` element;
- an ``audit`` result is located at the table file, its region the row's line; the row's name is
  in the message and in ``properties.target``, never in a URI.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import posixpath
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from macwasm import __version__
from macwasm.errors import MacwasmError
from macwasm.inputs import open_readonly
from macwasm.limits import PLIST_MAX_SIZE
from macwasm.policy.engine import Finding, TargetResult
from macwasm.policy.tables import Rule, rules
from macwasm.report.links import rule_url

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
#: SARIF has no "info" level; "note" is its name for it
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
#: suffixes of files whose text may be an XML plist worth a region
_PLIST_SUFFIXES = (".plist", ".entitlements", ".xcent", ".xml", ".txt")
_XML_START = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*<(?:\?xml|!DOCTYPE\s+plist|plist)")


@dataclass(frozen=True)
class Where:
    """A result's place: a file path (as given, relative to the cwd or absolute) and a line if known."""

    path: str
    line: int | None = None


#: how a caller places a finding of a target (``None``: nowhere known)
Locator = Callable[[TargetResult, Finding], Where | None]


# ----------------------------------------------------------------------------- URIs

def relative_path(subject: str, root: str | None = None) -> str | None:
    """A relative POSIX path for a path inside ``root`` (default: the cwd); else None."""
    if not subject or subject == "-":
        return None
    path = subject.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        base = os.path.abspath(root or os.getcwd()).replace("\\", "/")
        if not path.startswith(base.rstrip("/") + "/"):
            return None
        path = path[len(base.rstrip("/")) + 1:]
    elif root is not None:
        path = os.path.relpath(os.path.abspath(path), os.path.abspath(root)).replace("\\", "/")
    path = posixpath.normpath(path)
    if path.startswith("..") or path == ".":
        return None
    return path


def relative_uri(subject: str, root: str | None = None) -> str | None:
    """A relative, percent-encoded URI for a path inside ``root`` (default: the cwd); else None."""
    path = relative_path(subject, root)
    return None if path is None else quote(path, safe="/._-~")


def artifact_location(path: str, root: str | None = None) -> dict[str, str] | None:
    """``{"uri", "uriBaseId"}`` inside the root, an absolute ``file://`` URI outside; None for ``-``."""
    if not path or path == "-":
        return None
    uri = relative_uri(path, root)
    if uri is not None:
        return {"uri": uri, "uriBaseId": SRCROOT}
    return {"uri": Path(os.path.abspath(path)).as_uri()}


# ----------------------------------------------------------------------------- regions

def _plist_lines(path: str) -> tuple[str, ...] | None:
    """The lines of an XML plist file (bounded read), or None when it is not one or cannot be read."""
    if not path.lower().endswith(_PLIST_SUFFIXES):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _plist_lines_of(path, st.st_mtime_ns, st.st_size) if os.path.isfile(path) else None


@lru_cache(maxsize=64)
def _plist_lines_of(path: str, _mtime_ns: int, _size: int) -> tuple[str, ...] | None:
    """Cached per file version: a batch reads each plist once, however many findings it has."""
    try:
        with open_readonly(path, max_size=PLIST_MAX_SIZE) as data:
            raw = bytes(data)
    except MacwasmError:
        return None
    if not _XML_START.match(raw[:512]):
        return None  # a binary plist or something else: no line to point at
    return tuple(raw.decode("utf-8", "replace").splitlines())


def key_line(path: str, keys: Iterable[str]) -> int | None:
    """The 1-based line of the first ``<key>KEY</key>`` of ``keys`` found in the XML plist at ``path``."""
    lines = _plist_lines(path)
    if lines is None:
        return None
    for key in keys:
        pattern = re.compile(r"<key>\s*" + re.escape(escape(key)) + r"\s*</key>")
        for number, line in enumerate(lines, start=1):
            if pattern.search(line):
                return number
    return None


def subject_locator(result: TargetResult, finding: Finding) -> Where | None:
    """``check``: the finding's subject file, at the line of the first key the fix removes (else the
    first key the message names)."""
    path = finding.subject or result.subject
    if not path or path == "-":
        return None
    keys = finding.remove + finding.keys
    return Where(path, key_line(path, keys) if keys else None)


def csv_row_lines(path: str, *, text: str | None = None) -> list[int]:
    """The 1-based start line of every data row of a CSV file (blank lines skipped, as pandas does); ``text``:
    the file's text, already read (standard input)."""
    lines = []
    with (io.StringIO(text, newline="") if text is not None
          else open(path, newline="", encoding="utf-8", errors="replace")) as fh:
        reader = csv.reader(fh)
        next(reader, None)  # the header
        start = reader.line_num + 1
        for row in reader:
            if row:
                lines.append(start)
            start = reader.line_num + 1
    return lines


def table_locator(table: str, lines: Mapping[int, int]) -> Locator:
    """``audit``: every result at the table file, at the line of its row (``lines``: id(result) to line)."""
    def locate(result: TargetResult, finding: Finding) -> Where:
        return Where(table, lines.get(id(result)))
    return locate


# ----------------------------------------------------------------------------- rules

def neutral_fix(rule: Rule) -> str:
    """The rule's fix with every ``{placeholder}`` rendered: the rule's own values filled in, the
    per-finding ones named neutrally ("the keys named in the result"); optional ``*_hint`` parts dropped."""
    values: dict[str, str] = {}
    for _, name, _, _ in string.Formatter().parse(rule.fix):
        if not name or name in values:
            continue
        if name == "log_message":
            values[name] = rule.log_message
        elif name.endswith("_hint"):
            values[name] = ""
        else:
            values[name] = NEUTRAL_VALUES[name]
    return rule.fix.format(**values)


#: what a rule's fix says, written once for every finding, where each finding fills in its own value
#: (a test checks every placeholder of rules.csv's fixes has one)
NEUTRAL_VALUES = {
    "keys": "the keys named in the result",
    "key": "the key named in the result",
    "sysex_keys": "the system-extension keys named in the result",
    "needed": "the entitlement named in the result",
    "required": "the entitlement named in the result",
    "keep": "the entitlement named in the result",
    "arches": "the architectures named in the result",
    "wanted": "the architecture named in the result",
    "trait": "the module feature named in the result",
    "subject_name": "MODULE.wasm",
    "modes": "the result names them",
    "closest": "as the result suggests",
    "expected": "the result names",
    "example": "the result shows how",
    "variable": "the build setting named in the result",
    "setting": "the build setting named in the result",
}


def _information_uri() -> str | None:
    """The project's home page, from the installed package's metadata (written once, in pyproject.toml)."""
    try:
        urls = metadata.metadata("macwasm").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "homepage":
            return str(url).strip()
    return None


def sarif_rules() -> list[dict[str, Any]]:
    out = []
    for rule in rules().values():
        fix = neutral_fix(rule)
        out.append({
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.checks},
            "help": {"text": f"{fix}\n\nWhy it matters: {rule.why}\nWhat it checks: {rule.checks}\n"
                             f"Reference: {rule.reference}\nMore: {rule_url(rule.id)}",
                     "markdown": f"{fix}\n\n**Why it matters:** {rule.why}\n\n**What it checks:** {rule.checks}\n\n"
                                 f"**Reference:** [{rule.reference}]({rule.reference})\n\n"
                                 f"[The rule's page]({rule_url(rule.id)})"},
            "helpUri": rule_url(rule.id),
            "defaultConfiguration": {"level": LEVELS[rule.severity]},
            "properties": {"grade": rule.grade, "since": rule.since,
                           "tags": ["macos", "code-signing", "webassembly"]},
        })
    return out


# ----------------------------------------------------------------------------- the log

def _fingerprint(finding: Finding, target: str, uri: str | None) -> str:
    """Stable across runs and line moves: rule, file, target and the keys involved (not the wording)."""
    parts = [finding.rule_id, uri or "", target, ",".join(finding.remove), ",".join(finding.add)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _location(where: Where | None, root: str | None) -> list[dict[str, Any]]:
    art = artifact_location(where.path, root) if where else None
    if art is None:
        return []
    physical: dict[str, Any] = {"artifactLocation": art}
    if where and where.line:
        physical["region"] = {"startLine": where.line}
    return [{"physicalLocation": physical}]


def to_sarif(results: Iterable[TargetResult], *, errors: Iterable[dict[str, Any]] = (),
             root: str | None = None, locate: Locator = subject_locator,
             error_where: Callable[[dict[str, Any]], Where | None] | None = None) -> dict[str, Any]:
    """One SARIF log with one run; ``errors`` (unreadable inputs) become tool notifications.

    ``root``: the folder relative URIs start from (default: the working directory). ``locate``
    places each finding (default: its subject file); ``error_where`` places an error record
    (default: its ``target`` as a path).
    """
    rule_rows = sarif_rules()
    index = {r["id"]: i for i, r in enumerate(rule_rows)}
    sarif_results = []
    for result in results:
        for f in result.findings:
            locations = _location(locate(result, f), root)
            uri = locations[0]["physicalLocation"]["artifactLocation"]["uri"] if locations else None
            entry: dict[str, Any] = {
                "ruleId": f.rule_id,
                "ruleIndex": index[f.rule_id],
                "level": LEVELS[f.severity],
                "message": {"text": f"{result.target}: {f.message} Fix: {f.fix}"},
                "partialFingerprints": {"macwasmFinding/v1": _fingerprint(f, result.target, uri)},
                "properties": {"target": result.target, "productType": result.product_type,
                               "verdict": result.verdict, "grade": f.grade},
            }
            if locations:
                entry["locations"] = locations
            sarif_results.append(entry)
    place = error_where or (lambda err: Where(str(err.get("target", ""))))
    notifications = []
    for err in errors:
        note: dict[str, Any] = {"level": "error", "message": {"text": str(err.get("error", "unreadable input"))}}
        locations = _location(place(err), root)
        if locations:
            note["locations"] = locations
        notifications.append(note)
    invocation: dict[str, Any] = {"executionSuccessful": not notifications}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    driver: dict[str, Any] = {"name": "macwasm", "version": __version__, "semanticVersion": __version__}
    info = _information_uri()
    if info:
        driver["informationUri"] = info
    driver["rules"] = rule_rows
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [invocation],
            "results": sarif_results,
        }],
    }
