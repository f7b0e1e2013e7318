"""``.xcconfig`` build-configuration files, ``#include`` chains followed, as ordered assignments.

The format is a line format with no parser on PyPI: ``KEY[cond=value]... = value`` lines,
``//`` comments (to the end of the line, values included, as Xcode reads them),
``#include "path"`` (the build fails when the file is missing) and ``#include? "path"`` (skipped
when missing). Included files are read in place, relative to the including file. A file that
includes itself (directly or through others), a chain deeper than the cap, more files than the cap
or a file larger than the cap is one :class:`XcodeProjectError` naming the file and line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from macwasm.errors import LIMIT, InputError, XcodeProjectError
from macwasm.inputs import open_readonly
from macwasm.limits import XCODE_MAX_INCLUDE_DEPTH, XCODE_MAX_XCCONFIG_FILES, XCODE_MAX_XCCONFIG_SIZE

_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]=]+=[^\]]*\])*)\s*=(.*)$")
_CONDITION = re.compile(r"\[([^\]=]+)=([^\]]*)\]")
_INCLUDE = re.compile(r'^\s*#include(\??)\s*"([^"]*)"\s*;?\s*$')
_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]=]+=[^\]]*\])*)$")


@dataclass(frozen=True)
class Assignment:
    """One setting as written: ``key[conditions] = value`` at ``origin``:``line`` (line None: not a text file)."""

    key: str
    conditions: tuple[tuple[str, str], ...]
    value: str
    origin: str
    line: int | None = None


@dataclass(frozen=True)
class MissingInclude:
    path: str
    included_from: str
    line: int
    optional: bool


@dataclass
class IncludeBudget:
    """Files read so far for one project (a project's configurations share the budget)."""

    files: int = 0


@dataclass(frozen=True)
class XcconfigChain:
    assignments: tuple[Assignment, ...]
    missing: tuple[MissingInclude, ...]


def read_xcconfig(path: str, budget: IncludeBudget | None = None) -> XcconfigChain:
    """Every assignment of ``path`` and what it includes, in the order Xcode applies them."""
    budget = budget or IncludeBudget()
    assignments: list[Assignment] = []
    missing: list[MissingInclude] = []
    _read(os.path.normpath(path), budget, assignments, missing, stack=(), at=None)
    return XcconfigChain(tuple(assignments), tuple(missing))


def _read(path: str, budget: IncludeBudget, out: list[Assignment], missing: list[MissingInclude],
          stack: tuple[str, ...], at: tuple[str, int] | None) -> None:
    real = os.path.realpath(path)
    if real in stack:
        chain = " -> ".join(os.path.basename(p) for p in (*stack, real))
        raise XcodeProjectError(f"#include cycle: {chain}", path=at[0] if at else path, line=at[1] if at else None)
    if len(stack) >= XCODE_MAX_INCLUDE_DEPTH:
        raise XcodeProjectError(f"#include chain deeper than {XCODE_MAX_INCLUDE_DEPTH} files",
                                path=at[0] if at else path, line=at[1] if at else None, category=LIMIT)
    budget.files += 1
    if budget.files > XCODE_MAX_XCCONFIG_FILES:
        raise XcodeProjectError(f"more than {XCODE_MAX_XCCONFIG_FILES} .xcconfig files read for one project",
                                path=at[0] if at else path, line=at[1] if at else None, category=LIMIT)
    text = _text(path)
    folder = os.path.dirname(path)
    offset = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        line_offset = offset
        offset += len(raw.encode("utf-8")) + 1
        include = _INCLUDE.match(raw)
        if include:
            target = include.group(2)
            if target.startswith("<"):  # <DEVELOPER_DIR>/...: a file of the Xcode install, not of the checkout
                missing.append(MissingInclude(target, path, number, include.group(1) == "?"))
                continue
            target = os.path.normpath(os.path.join(folder, target))
            if not os.path.isfile(target):
                missing.append(MissingInclude(target, path, number, include.group(1) == "?"))
                continue
            _read(target, budget, out, missing, (*stack, real), (path, number))
            continue
        line = _strip_comment(raw).strip()
        if not line:
            continue
        if line.startswith("#"):
            raise XcodeProjectError(f"unknown directive {line.split()[0]!r}", path=path, offset=line_offset,
                                    line=number)
        match = _ASSIGNMENT.match(line)
        if match is None:
            raise XcodeProjectError("not a KEY = VALUE line", path=path, offset=line_offset, line=number)
        key, conds, value = match.groups()
        value = value.strip()
        if value.endswith(";"):
            value = value[:-1].rstrip()
        out.append(Assignment(key, tuple(_CONDITION.findall(conds)), value, path, number))


def split_key(raw: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """``KEY[sdk=macosx*][arch=arm64]`` as ``(KEY, (("sdk", "macosx*"), ("arch", "arm64")))``; None if not a key."""
    match = _KEY.match(raw.strip())
    if match is None:
        return None
    return match.group(1), tuple(_CONDITION.findall(match.group(2)))


def _strip_comment(line: str) -> str:
    at = line.find("//")
    return line if at < 0 else line[:at]


def _text(path: str) -> str:
    try:
        with open_readonly(path, max_size=XCODE_MAX_XCCONFIG_SIZE) as buf:
            data = bytes(buf)
    except InputError as err:
        raise XcodeProjectError(err.reason, path=path, offset=err.offset, category=err.category) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise XcodeProjectError(f"not UTF-8 text ({exc.reason})", path=path, offset=exc.start,
                                line=data.count(b"\n", 0, exc.start) + 1) from None
