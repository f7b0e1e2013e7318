"""GitHub Actions workflow annotations (``--format github``): each finding shown on the line of the file it is about.

A workflow step that prints ``::error file=App.entitlements,line=7,title=MW101::...`` gets an
annotation on that line of the pull request, without code scanning
(https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions). The place is
the one SARIF gives (``report/sarif.py``'s locators: the finding's file, the line of the key a fix
removes; an audit row's line in the table), the path relative to the root (the working directory or
``--sarif-root``, which in a workflow is the repository's checkout).
"""

from __future__ import annotations

from macwasm.policy.engine import Finding, TargetResult
from macwasm.report.emit import printable
from macwasm.report.sarif import Where, relative_path

#: annotation command per severity (GitHub has no "info": its name for it is "notice")
COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}
#: the title of an annotation that is not a finding (an input that could not be read)
TOOL_TITLE = "macwasm"


def _data(text: str) -> str:
    """A message as workflow commands take it: ``%``, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A property value (file, title): also ``:`` and ``,``, which separate the properties, escaped."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, *, where: Where | None, title: str, root: str | None) -> str:
    """One line: ``::error file=F,line=N,title=T::message`` (``file`` and ``line`` only where known)."""
    props = []
    if where is not None and where.path and where.path != "-":
        props.append(f"file={_property(relative_path(where.path, root) or where.path)}")
        if where.line:
            props.append(f"line={where.line}")
    props.append(f"title={_property(title)}")
    return printable(f"::{COMMANDS.get(level, level)} {','.join(props)}::{_data(message)}\n")


def finding_annotation(result: TargetResult, finding: Finding, where: Where | None, root: str | None) -> str:
    """A finding, worded as in SARIF: the target, the message, the fix."""
    return annotation(finding.severity, f"{result.target}: {finding.message} Fix: {finding.fix}", where=where,
                      title=finding.rule_id, root=root)


def error_annotation(message: str, where: Where | None, root: str | None) -> str:
    """An input that could not be read."""
    return annotation("error", message, where=where, title=TOOL_TITLE, root=root)
