"""The recognisable error strings of ``data/diagnostics.csv``, compiled into bounded matchers.

Each row quotes one message as Apple's tools print it, with named placeholders (``<path>``,
``<pid>``, ``<keys>``, ``<reason>``…) for the parts that vary. Reviewers correct the CSV, not this
module: the only knowledge here is how a pattern becomes a regex.

How a pattern is compiled (and why):

* Everything outside ``<name>`` is literal, except blanks: a run of spaces matches any run of
  spaces/tabs (crash reports pad ``Exception Type:`` with several), and ``", "`` also matches a plain
  blank (crash reports print ``Code 1 Taskgated…`` where posts quote ``Code 1, Taskgated…``).
* A placeholder followed by literal text is a non-greedy capture that stops at the FIRST place the
  following literal appears; it sits in an atomic group with that literal, so the engine never
  re-enters it (no catastrophic backtracking on a hostile line) and a capture is at most
  ``LOG_MAX_FIELD_LENGTH`` characters. A placeholder right before a quote cannot contain that quote.
* ``<pid>``, ``<n>``, ``<line>``, ``<code>``, ``<addr>``, ``<offset>`` only match numbers.
* A pattern that starts with a placeholder (``<bundle_id>: Unsatisfied entitlements: <keys>``)
  captures one blank-free word before the literal: scanning backwards over arbitrary text would
  cost quadratic time, and bundle ids and the paths in these lines carry no blanks in practice.
* A trailing free-text placeholder (``<reason>``, ``<keys>``, a trailing ``<path>``) runs to the end
  of the line, or to the start of the next recognised message when one line holds several (the
  forum thread's pasted AMFI + mac_vnode_check_signature + ASP line).
* A line is only tried against a row when the row's longest literal word occurs in it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from macwasm.datafiles import data_path, parse_rows
from macwasm.errors import IO, TableFormatError
from macwasm.limits import LOG_MAX_FIELD_LENGTH, LOG_MAX_MATCHES_PER_LINE
from macwasm.vocabulary import GRADES

TABLE = "diagnostics.csv"
COLUMNS = ("id", "where", "pattern", "meaning", "fix", "reference", "source", "grade", "rule_id")
WHERE = ("kernel/AMFI", "ASP", "taskgated-helper", "amfid", "crash-report", "notary-log", "dyld",
         "SystemExtensions", "runtime")

_PLACEHOLDER = re.compile(r"<([a-z][a-z0-9_]*)>")
_ID = re.compile(r"DX\d{3}")
_NUMERIC_SHAPES = {
    "pid": r"\d{1,10}",
    "n": r"\d{1,10}",
    "line": r"\d{1,10}",
    "code": r"-?(?:0x[0-9A-Fa-f]{1,16}|\d{1,10})",
    "addr": r"0x[0-9A-Fa-f]{1,16}",
    "offset": r"(?:0x[0-9A-Fa-f]{1,16}|\d{1,20})",
}
#: placeholders whose captured text is a list of entitlement keys
_LIST_PLACEHOLDERS = frozenset({"keys"})
#: placeholders whose capture is returned as an int
_INT_PLACEHOLDERS = frozenset({"pid", "n", "line"})
_BLANKS = re.compile(r"(,?)( +)")


@dataclass(frozen=True)
class Diagnostic:
    """One row of diagnostics.csv and its compiled matcher."""

    id: str
    where: str
    pattern: str
    meaning: str
    fix: str
    reference: str
    source: str
    grade: str
    rule_id: str | None
    regex: re.Pattern[str] = field(repr=False, compare=False)
    #: the longest literal word: a line without it cannot match (cheap pre-filter)
    anchor: str = field(repr=False, compare=False)
    #: capture group names in pattern order (a repeated placeholder gets ``_2``, ``_3``…)
    groups: tuple[str, ...] = field(repr=False, compare=False)
    #: name of the trailing free-text placeholder, cut at the next message on the same line
    trailing: str | None = field(repr=False, compare=False)
    #: characters of literal text: when two rows match at the same place, the more specific wins
    literal_length: int = field(repr=False, compare=False)

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Placeholder names as written in the pattern (repeats included)."""
        return tuple(_PLACEHOLDER.findall(self.pattern))

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in COLUMNS}


@dataclass(frozen=True)
class LineMatch:
    """Where one diagnostic was found in a line, with its cleaned captures."""

    diagnostic: Diagnostic
    start: int
    end: int
    captures: dict[str, object]


def compile_pattern(pattern: str) -> tuple[re.Pattern[str], tuple[str, ...], str | None, int, str]:
    """The regex, group names, trailing group, literal length and anchor word of one pattern.

    Raises ``ValueError`` for a pattern that cannot be matched unambiguously (two placeholders with
    nothing between them, no literal text); the table loader turns that into a TableFormatError.
    """
    parts = _PLACEHOLDER.split(pattern)
    literals = parts[0::2]
    names = parts[1::2]
    if not "".join(literals).strip():
        raise ValueError("pattern has no literal text")
    for i in range(1, len(literals) - 1):
        if literals[i] == "":
            raise ValueError(f"placeholders <{names[i - 1]}> and <{names[i]}> touch; put literal text between them")
    seen: dict[str, int] = {}
    groups: list[str] = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        groups.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    regex = [_literal(literals[0])]
    trailing = None
    for i, group in enumerate(groups):
        name, following = names[i], literals[i + 1]
        numeric = _NUMERIC_SHAPES.get(name)
        if i == 0 and literals[0] == "":
            # leading placeholder: one blank-free word that starts at a word boundary (linear scan)
            regex.append(rf"(?<!\S)(?>(?P<{group}>\S{{1,{LOG_MAX_FIELD_LENGTH}}}?){_literal(following)})")
        elif following == "":
            shape = numeric or rf"[^\n]{{1,{LOG_MAX_FIELD_LENGTH}}}"
            regex.append(f"(?P<{group}>{shape})")
            trailing = None if numeric else group
        else:
            if numeric:
                shape = numeric
            elif following[0] in "'\"":
                shape = rf"[^\n{following[0]}]{{1,{LOG_MAX_FIELD_LENGTH}}}?"
            else:
                shape = rf"[^\n]{{1,{LOG_MAX_FIELD_LENGTH}}}?"
            regex.append(f"(?>(?P<{group}>{shape}){_literal(following)})")
    words = [w.strip(",") for lit in literals for w in lit.split()]
    anchor = max(words, key=len)
    literal_length = sum(len(lit.strip()) for lit in literals)
    return re.compile("".join(regex)), tuple(groups), trailing, literal_length, anchor


def _literal(text: str) -> str:
    out = []
    pos = 0
    for m in _BLANKS.finditer(text):
        out.append(re.escape(text[pos:m.start()]))
        out.append(r",?[ \t]+" if m.group(1) else r"[ \t]+")
        pos = m.end()
    out.append(re.escape(text[pos:]))
    return "".join(out)


class DiagnosticTable:
    """All rows, and the search of one line for every message it holds."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        self._by_id = {d.id: d for d in diagnostics}

    def __len__(self) -> int:
        return len(self.diagnostics)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.diagnostics)

    def get(self, diagnostic_id: str) -> Diagnostic | None:
        return self._by_id.get(diagnostic_id)

    def match_line(self, line: str) -> list[LineMatch]:
        """Every message recognised in ``line``, left to right, overlaps resolved.

        Where two rows match at the same place the one with more literal text wins (the specific
        AMFI reason over the generic AMFI row); a match that starts inside another's fixed text is
        dropped; a trailing free-text capture ends where the next message starts.
        """
        candidates: list[tuple[int, int, str, Diagnostic, re.Match[str]]] = []
        budget = 4 * LOG_MAX_MATCHES_PER_LINE
        for dx in self.diagnostics:
            if dx.anchor not in line:
                continue
            for m in dx.regex.finditer(line):
                candidates.append((m.start(), -dx.literal_length, dx.id, dx, m))
                budget -= 1
                if budget <= 0:
                    break
            if budget <= 0:
                break
        candidates.sort(key=lambda c: c[:3])
        kept: list[tuple[Diagnostic, re.Match[str], int]] = []  # (row, match, end after cutting)
        for start, _, _, dx, m in candidates:
            if kept:
                prev_dx, prev_m, prev_end = kept[-1]
                fixed_end = prev_m.start(prev_dx.trailing) if prev_dx.trailing else prev_m.end()
                if start < fixed_end:
                    continue
                if start < prev_end:
                    kept[-1] = (prev_dx, prev_m, start)
            kept.append((dx, m, m.end()))
            if len(kept) >= LOG_MAX_MATCHES_PER_LINE:
                break
        return [LineMatch(dx, m.start(), end, _captures(dx, m, end)) for dx, m, end in kept]


def _captures(dx: Diagnostic, m: re.Match[str], end: int) -> dict[str, object]:
    out: dict[str, object] = {}
    for group in dx.groups:
        start, stop = m.span(group)
        text = m.string[start:min(stop, end)].strip()
        base = group.rsplit("_", 1)[0] if group[-1].isdigit() and "_" in group else group
        if base in _LIST_PLACEHOLDERS:
            out[group] = [k for k in re.split(r"[,\s]+", text) if k]
        elif base in _INT_PLACEHOLDERS and text.isdigit():
            out[group] = int(text)
        else:
            out[group] = text
    return out


def parse_diagnostics(text: str, *, path: str | None = None) -> DiagnosticTable:
    """Read and compile diagnostics.csv content; every row is checked, errors name the row."""
    rows: list[Diagnostic] = []
    seen: set[str] = set()
    for line, values in parse_rows(text, COLUMNS, path=path, exact=True, source_column=None):
        where_at = f"row {line}"
        missing = [k for k in COLUMNS if k != "rule_id" and not values[k]]
        if missing:
            raise TableFormatError(f"{where_at}: empty {', '.join(missing)}", path=path)
        if not _ID.fullmatch(values["id"]) or values["id"] in seen:
            raise TableFormatError(f"{where_at}: id {values['id']!r} is not DXnnn or is repeated", path=path)
        if values["grade"] not in GRADES:
            raise TableFormatError(f"{where_at}: grade {values['grade']!r} is not one of "
                                   f"{', '.join(GRADES)}", path=path)
        if values["where"] not in WHERE:
            raise TableFormatError(f"{where_at}: where {values['where']!r} is not one of {', '.join(WHERE)}",
                                   path=path)
        try:
            regex, groups, trailing, literal_length, anchor = compile_pattern(values["pattern"])
        except (ValueError, re.error) as exc:
            raise TableFormatError(f"{where_at}: pattern {values['pattern']!r}: {exc}", path=path) from None
        seen.add(values["id"])
        rows.append(Diagnostic(
            id=values["id"], where=values["where"], pattern=values["pattern"], meaning=values["meaning"],
            fix=values["fix"], reference=values["reference"], source=values["source"],
            grade=values["grade"], rule_id=values["rule_id"] or None, regex=regex, anchor=anchor,
            groups=groups, trailing=trailing, literal_length=literal_length,
        ))
    if not rows:
        raise TableFormatError("no diagnostics in the table", path=path)
    return DiagnosticTable(rows)


def load_diagnostics(path: str | Path | None = None) -> DiagnosticTable:
    """The table from ``data/diagnostics.csv`` (or ``path``), compiled once per file."""
    resolved = Path(path) if path is not None else data_path(TABLE)
    return _load_cached(str(resolved))


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> DiagnosticTable:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TableFormatError(f"cannot read diagnostics table: {exc}", path=path, category=IO) from None
    return parse_diagnostics(text, path=path)
