"""Build settings resolved the way Xcode layers them, and what could not be resolved, said as such.

Layers, lowest first: the build system's defaults (``data/xcode_build_settings.csv``), the values
the reader knows from the project (PROJECT_DIR, TARGET_NAME, CONFIGURATION ...), the project-level
``.xcconfig`` (each assignment its own layer, includes in place, so that ``$(inherited)`` in a later
line sees the earlier one, as Xcode 10 and later read them), the project-level build settings, the
target-level ``.xcconfig``, the target-level build settings. A higher layer wins; ``$(inherited)``
is the value of the same setting below the layer that uses it; a conditional assignment
(``KEY[sdk=macosx*]``, ``[config=Debug]``) beats the plain one of its layer when it matches.

``$(VAR)`` and ``${VAR}`` expand (nested names and the common ``:operators`` included). A variable
that nothing defines, one that names a folder of the build (DerivedData), an unknown operator or a
setting that refers to itself make the value *unresolved*: ``value`` is None and ``problems`` says
which variable, so that a finding can name it instead of guessing (Xcode would quietly expand an
undefined variable to nothing).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from macwasm.errors import LIMIT, XcodeProjectError
from macwasm.limits import XCODE_MAX_EXPANSION_DEPTH, XCODE_MAX_SETTING_LENGTH
from macwasm.xcode.tables import build_setting_facts, settings_with
from macwasm.xcode.xcconfig import Assignment, split_key

UNDEFINED = "undefined"
BUILD_LOCATION = "build-location"
UNSUPPORTED = "unsupported"
_TOP = 1 << 30
_NOT_IDENT = re.compile(r"[^A-Za-z0-9_]")
_NOT_RFC1034 = re.compile(r"[^A-Za-z0-9.-]")


@dataclass(frozen=True)
class Problem:
    """Why a setting has no value we can trust: ``variable`` could not be resolved (``kind`` says how)."""

    kind: str
    variable: str
    origin: str | None  # file where the reference is written (None: a default of the build system)
    line: int | None


@dataclass(frozen=True)
class Resolved:
    setting: str
    value: str | None  # None: unresolved (see problems)
    problems: tuple[Problem, ...]
    origin: str | None  # file of the assignment that won (None: a default)
    line: int | None


def settings_layer(settings: Mapping[str, Any], origin: str) -> list[Assignment]:
    """A build configuration's ``buildSettings`` dictionary as one layer of assignments."""
    out = []
    for raw, value in settings.items():
        parsed = split_key(raw)
        if parsed is None:
            continue  # Xcode ignores keys it cannot parse as settings
        key, conds = parsed
        out.append(Assignment(key, conds, _as_text(value), origin, None))
    return out


def _as_text(value: Any) -> str:
    """A string list (``OTHER_CODE_SIGN_FLAGS = ("--timestamp", "-o", runtime)``) as Xcode's space-separated text."""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value if isinstance(value, str) else str(value)


class BuildSettings:
    """One target in one configuration: ask :meth:`resolve` for any setting."""

    def __init__(self, layers: Sequence[Iterable[Assignment]], *, context: Mapping[str, str],
                 configuration: str) -> None:
        facts = build_setting_facts()
        base = [Assignment(f.setting, (), f.default, "", None) for f in facts.values()
                if f.role not in ("context", "build-location")]
        ctx = [Assignment(k, (), v, "", None) for k, v in context.items()]
        self._index: dict[str, list[tuple[int, Assignment]]] = {}
        for i, layer in enumerate([base, ctx, *layers]):
            for a in layer:
                self._index.setdefault(a.key, []).append((i, a))
        self._build_locations = settings_with("build-location")
        self._configuration = configuration
        self._cache: dict[tuple[str, int], tuple[str, tuple[Problem, ...], Assignment | None]] = {}
        self._sdk = ""
        self._sdk = self._plain("SDKROOT")

    def defined(self, key: str) -> bool:
        return key in self._index

    def resolve(self, key: str) -> Resolved:
        value, problems, winner = self._value(key, _TOP, ())
        origin = winner.origin or None if winner else None
        return Resolved(key, None if problems else value, problems, origin, winner.line if winner else None)

    def evaluate(self, text: str, label: str) -> Resolved:
        """An expression that is no setting of its own (a copy phase's dstPath) expanded with these settings."""
        value, problems = self._expand(text, label, _TOP, Assignment(label, (), text, "", None), ())
        return Resolved(label, None if problems else value, problems, None, None)

    # ---------------------------------------------------------------- layers
    def _plain(self, key: str) -> str:
        """A value with no conditions applied and no expansion (for the SDK, which conditions need)."""
        entries = [a for _i, a in self._index.get(key, []) if not a.conditions]
        return entries[-1].value if entries else ""

    def _matches(self, conditions: tuple[tuple[str, str], ...]) -> bool:
        for name, pattern in conditions:
            if name == "sdk":
                ok = fnmatch.fnmatchcase(self._sdk or "macosx", pattern)
            elif name == "config":
                ok = fnmatch.fnmatchcase(self._configuration, pattern)
            elif name == "variant":
                ok = fnmatch.fnmatchcase("normal", pattern)
            elif name == "arch":
                ok = pattern == "*"  # the architecture is not known before the build
            else:
                ok = False
            if not ok:
                return False
        return True

    def _winner(self, key: str, below: int) -> tuple[int, Assignment] | None:
        best: tuple[int, Assignment] | None = None
        for layer, a in self._index.get(key, ()):
            if layer >= below or not self._matches(a.conditions):
                continue
            if best is None or layer > best[0] or (layer == best[0] and len(a.conditions) >= len(best[1].conditions)):
                best = (layer, a)
        return best

    # ---------------------------------------------------------------- values
    def _value(self, key: str, below: int, stack: tuple[tuple[str, int], ...]
               ) -> tuple[str, tuple[Problem, ...], Assignment | None]:
        cached = self._cache.get((key, below))
        if cached is not None:
            return cached
        if (key, below) in stack:
            return "", (Problem(UNSUPPORTED, f"$({key}) refers to itself", None, None),), None
        if len(stack) >= XCODE_MAX_EXPANSION_DEPTH:
            origin = self._winner(key, below)
            raise XcodeProjectError(f"build setting {key} nests $(...) references more than "
                                    f"{XCODE_MAX_EXPANSION_DEPTH} deep",
                                    path=origin[1].origin if origin and origin[1].origin else None,
                                    line=origin[1].line if origin else None, category=LIMIT)
        found = self._winner(key, below)
        if found is None:
            result: tuple[str, tuple[Problem, ...], Assignment | None] = ("", (), None)
        else:
            layer, a = found
            text, problems = self._expand(a.value, key, layer, a, (*stack, (key, below)))
            result = (text, problems, a)
        self._cache[(key, below)] = result
        return result

    def _reference(self, name: str, key: str, layer: int, at: Assignment, stack: tuple[tuple[str, int], ...]
                   ) -> tuple[str, tuple[Problem, ...]]:
        if name == "inherited":
            value, problems, _ = self._value(key, layer, stack)
            return value, problems
        if name in self._build_locations:
            return "", (Problem(BUILD_LOCATION, name, at.origin or None, at.line),)
        if name not in self._index:
            return "", (Problem(UNDEFINED, name, at.origin or None, at.line),)
        value, problems, _ = self._value(name, _TOP, stack)
        return value, problems

    def _expand(self, text: str, key: str, layer: int, at: Assignment, stack: tuple[tuple[str, int], ...]
                ) -> tuple[str, tuple[Problem, ...]]:
        if "$" not in text:
            return text, ()
        out: list[str] = []
        problems: list[Problem] = []
        i = 0
        size = 0
        while i < len(text):
            start = text.find("$", i)
            if start < 0 or start + 1 >= len(text) or text[start + 1] not in "({":
                stop = len(text) if start < 0 else start + 1
                out.append(text[i:stop])
                size += stop - i
                i = stop
                continue
            out.append(text[i:start])
            end = _closing(text, start)
            if end < 0:
                problems.append(Problem(UNSUPPORTED, text[start:], at.origin or None, at.line))
                break
            inner, inner_problems = self._expand(text[start + 2:end], key, layer, at, stack)
            problems.extend(inner_problems)
            name, *ops = inner.split(":")
            value, ref_problems = self._reference(name, key, layer, at, stack)
            problems.extend(ref_problems)
            value, op_problem = _apply(value, ops)
            if op_problem:
                problems.append(Problem(UNSUPPORTED, f"$({inner})", at.origin or None, at.line))
            out.append(value)
            size += len(value) + start - i
            if size > XCODE_MAX_SETTING_LENGTH:
                raise XcodeProjectError(f"build setting {key} expands to more than {XCODE_MAX_SETTING_LENGTH} "
                                        "characters", path=at.origin or None, line=at.line, category=LIMIT)
            i = end + 1
        return "".join(out), tuple(dict.fromkeys(problems))


def _closing(text: str, start: int) -> int:
    """Index of the bracket that closes the reference opening at ``start`` (``$(`` or ``${``), -1 if none."""
    closers = [")" if text[start + 1] == "(" else "}"]
    i = start + 2
    while i < len(text):
        c = text[i]
        if c == "$" and i + 1 < len(text) and text[i + 1] in "({":
            closers.append(")" if text[i + 1] == "(" else "}")
            i += 2
            continue
        if c == closers[-1]:
            closers.pop()
            if not closers:
                return i
        i += 1
    return -1


def _apply(value: str, ops: list[str]) -> tuple[str, bool]:
    """Xcode's ``$(VAR:op)`` operators; ``(value, True)`` when one is unknown."""
    for op in ops:
        if op.startswith("default="):
            value = value or op[len("default="):]
        elif op == "lower":
            value = value.lower()
        elif op == "upper":
            value = value.upper()
        elif op == "file":
            value = os.path.basename(value)
        elif op == "dir":
            value = os.path.dirname(value)
        elif op == "base":
            value = os.path.splitext(os.path.basename(value))[0]
        elif op == "suffix":
            value = os.path.splitext(value)[1]
        elif op == "standardizepath":
            value = os.path.normpath(value) if value else value
        elif op in ("identifier", "c99extidentifier"):
            value = _NOT_IDENT.sub("_", value)
            value = "_" + value if value[:1].isdigit() else value
        elif op == "rfc1034identifier":
            value = _NOT_RFC1034.sub("-", value)
        elif op == "quote":
            value = shlex.quote(value)
        else:
            return value, True
    return value, False
