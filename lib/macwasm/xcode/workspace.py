"""``X.xcworkspace/contents.xcworkspacedata``: the projects a workspace lists.

``FileRef`` locations are ``group:`` (relative to the enclosing ``Group``'s folder), ``container:``
(relative to the folder that holds the workspace), ``absolute:`` and ``self:`` (the project a
``project.xcworkspace`` sits in). They are resolved and reported as found or missing; nothing is
refused for lying outside the workspace, since shared projects in sibling folders are common.
The XML is read with expat, entity declarations and DTDs refused (no billion laughs, no external
entities), size and entry count capped.
"""

from __future__ import annotations

import os
import xml.parsers.expat as expat
from dataclasses import dataclass

from macwasm.errors import LIMIT, InputError, XcodeProjectError
from macwasm.inputs import open_readonly
from macwasm.limits import XCODE_MAX_NESTING, XCODE_MAX_WORKSPACE_PROJECTS, XCODE_MAX_WORKSPACE_SIZE

WORKSPACE_DATA = "contents.xcworkspacedata"
_PROJECT_SUFFIX = ".xcodeproj"


@dataclass(frozen=True)
class WorkspaceFacts:
    path: str
    projects: tuple[str, ...]  # resolved .xcodeproj paths that exist, in the workspace's order
    missing: tuple[str, ...]  # resolved .xcodeproj paths the workspace lists but the checkout lacks


class _Refuse(Exception):
    pass


def read_workspace(path: str | os.PathLike[str]) -> WorkspaceFacts:
    """The projects of ``X.xcworkspace``; raises :class:`XcodeProjectError` or ``InputError``."""
    folder = os.path.normpath(os.fspath(path))
    data_path = os.path.join(folder, WORKSPACE_DATA)
    try:
        with open_readonly(data_path, max_size=XCODE_MAX_WORKSPACE_SIZE) as buf:
            data = bytes(buf)
    except InputError as err:
        if err.category == LIMIT:
            raise XcodeProjectError(err.reason, path=data_path, offset=err.offset, category=LIMIT) from None
        raise
    container = os.path.dirname(folder)
    project_of_self = container if container.lower().endswith(_PROJECT_SUFFIX) else None
    refs = parse_workspace(data, path=data_path, container=container, self_project=project_of_self)
    found = tuple(p for p in refs if os.path.isdir(p))
    return WorkspaceFacts(folder, found, tuple(p for p in refs if p not in found))


def parse_workspace(data: bytes, *, path: str, container: str, self_project: str | None = None) -> list[str]:
    """Resolved paths of every ``FileRef`` that names an ``.xcodeproj``, in document order."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    groups: list[str] = [container]
    out: list[str] = []
    count = 0

    def resolve(location: str) -> str | None:
        kind, _, rel = location.partition(":")
        if kind == "group":
            return os.path.normpath(os.path.join(groups[-1], rel))
        if kind == "container":
            return os.path.normpath(os.path.join(container, rel))
        if kind == "absolute":
            return os.path.normpath(rel)
        if kind == "self":
            return self_project
        return None  # developer: and unknown kinds name nothing in the checkout

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > XCODE_MAX_WORKSPACE_PROJECTS:
            raise _Refuse(f"more than {XCODE_MAX_WORKSPACE_PROJECTS} entries")
        if len(groups) > XCODE_MAX_NESTING:
            raise _Refuse(f"groups nested more than {XCODE_MAX_NESTING} deep")
        where = resolve(attrs.get("location", "")) if "location" in attrs else None
        if tag == "Group":
            groups.append(where or groups[-1])
        elif tag == "FileRef" and where and where.lower().rstrip("/").endswith(_PROJECT_SUFFIX):
            out.append(where.rstrip("/"))

    def end(tag: str) -> None:
        if tag == "Group" and len(groups) > 1:
            groups.pop()

    def refuse(*_args: object) -> None:
        raise _Refuse("DTD or entity declarations are not allowed")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XcodeProjectError(f"not well-formed XML: {expat.ErrorString(exc.code)}", path=path,
                                offset=parser.CurrentByteIndex if parser.CurrentByteIndex >= 0 else None,
                                line=exc.lineno) from None
    except _Refuse as exc:
        category = LIMIT if "more than" in str(exc) else None
        raise XcodeProjectError(str(exc), path=path, offset=max(parser.CurrentByteIndex, 0),
                                line=parser.CurrentLineNumber, category=category) from None
    return out
