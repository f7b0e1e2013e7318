"""A small document model with two writers: markdown for the site, plain text for the terminal.

A rule's page and ``macwasm rule MW101`` must say the same thing, so both are written from one
:class:`Doc` built once (``macwasm.report.rule_doc``, ``runtime_doc``): headings, paragraphs, lists,
tables and preformatted blocks, with inline links and code. The markdown writer escapes what
Python-Markdown would read as markup; the text writer wraps every paragraph with
:func:`macwasm.report.text.block` (never cutting a word it can keep whole) and turns a table too wide
for the terminal into one record per row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from macwasm.report.text import block, width


@dataclass(frozen=True)
class Link:
    """A link; ``url`` is a page of the site (``../runtimes/x.md``) or an absolute URL. The terminal
    shows an absolute URL after the text, and a page of the site as its text only (``show_url``)."""

    text: str
    url: str

    @property
    def is_page(self) -> bool:
        return not re.match(r"^[a-z]+://", self.url)


@dataclass(frozen=True)
class Code:
    """Inline code: an entitlement key, a command, a value."""

    text: str


Inline = str | Link | Code
Span = tuple[Inline, ...]


def span(*parts: Inline | None) -> Span:
    return tuple(p for p in parts if p not in (None, ""))


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    parts: Span

    def __post_init__(self) -> None:
        if not isinstance(self.parts, tuple):  # Para("text") would iterate the characters
            raise TypeError(f"Para takes a tuple of inline parts, not {type(self.parts).__name__}")


@dataclass(frozen=True)
class Item:
    """A list item; ``lead`` is shown first (bold in markdown, a fixed prefix in the terminal)."""

    parts: Span
    lead: str = ""


@dataclass(frozen=True)
class Bullets:
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Pre:
    """Preformatted text (a plist, a command), shown as is."""

    text: str
    lang: str = ""


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Span, ...], ...]


Block = Heading | Para | Bullets | Pre | Table


@dataclass
class Doc:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Doc:
        self.blocks.extend(blocks)
        return self


# ---------------------------------------------------------------------------------------------- markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]>|])")


def md_escape(text: str) -> str:
    """Plain text as markdown that shows the same characters (no emphasis, links, raw HTML or cells)."""
    return _MD_SPECIAL.sub(r"\\\1", text.replace("&", "&amp;").replace("<", "&lt;"))


def _md_code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_inline(parts: Iterable[Inline]) -> str:
    out = []
    for part in parts:
        if isinstance(part, Link):
            out.append(f"[{md_escape(part.text)}]({part.url})")
        elif isinstance(part, Code):
            out.append(_md_code(part.text))
        else:
            out.append(md_escape(part))
    return "".join(out)


def _md_block(b: Block) -> str:
    if isinstance(b, Heading):
        return f"{'#' * b.level} {md_escape(b.text)}"
    if isinstance(b, Para):
        return _md_inline(b.parts)
    if isinstance(b, Bullets):
        return "\n".join(f"- {'**' + md_escape(i.lead) + '** ' if i.lead else ''}{_md_inline(i.parts)}"
                         for i in b.items)
    if isinstance(b, Pre):
        fence = "````" if "```" in b.text else "```"
        return f"{fence}{b.lang}\n{b.text.rstrip()}\n{fence}"
    head = "| " + " | ".join(md_escape(c) for c in b.columns) + " |"
    rule = "|" + "---|" * len(b.columns)
    rows = ["| " + " | ".join(_md_inline(cell).replace("\n", " ") for cell in row) + " |" for row in b.rows]
    return "\n".join([head, rule, *rows])


def to_markdown(doc: Doc) -> str:
    parts = [f"# {md_escape(doc.title)}", *(_md_block(b) for b in doc.blocks)]
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------------- text

#: a table whose last column would get less room than this (or than its widest cell) is shown as records
_MIN_LAST_COLUMN = 30
#: a list item's lead up to this long has its continuation lines aligned after it (longer: indented)
_ALIGN_LEADS_UP_TO = 20


def _text_inline(parts: Iterable[Inline]) -> str:
    out = []
    for part in parts:
        if isinstance(part, Link):
            out.append(part.text if part.is_page or part.text == part.url else f"{part.text} <{part.url}>")
        elif isinstance(part, Code):
            out.append(part.text)
        else:
            out.append(part)
    return "".join(out)


def _aligned(columns: Sequence[str], rows: Sequence[Sequence[str]], total: int) -> str | None:
    """The table as aligned columns, the last one wrapped in the room left; None when even that does not fit."""
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    lead = 2 + sum(w + 2 for w in widths[:-1])
    room = total - lead
    if room < min(widths[-1], _MIN_LAST_COLUMN) or any("\n" in cell for r in rows for cell in r):
        return None
    pad = " " * lead

    def line(cells: Sequence[str]) -> str:
        head = "  " + "".join(c.ljust(w + 2) for c, w in zip(cells[:-1], widths, strict=False))
        return block(cells[-1], first=head, rest=pad, total=total) if cells[-1] else head.rstrip() + "\n"

    rule = "  " + "".join("-" * w + "  " for w in widths[:-1]) + "-" * min(widths[-1], room)
    return "".join([line(columns), rule + "\n", *(line(r) for r in rows)])


def _text_block(b: Block, total: int) -> str:
    if isinstance(b, Heading):
        return f"{b.text}\n{('=' if b.level == 1 else '-') * min(len(b.text), total)}\n"
    if isinstance(b, Para):
        return block(_text_inline(b.parts), total=total)
    if isinstance(b, Bullets):
        out = []
        for item in b.items:
            text = _text_inline(item.parts)
            if item.lead and len(item.lead) + 5 <= _ALIGN_LEADS_UP_TO:  # continuation lines aligned after the lead
                out.append(block(text, first=f"  - {item.lead} ", total=total))
            else:  # a long lead wraps with the text
                out.append(block(f"{item.lead} {text}" if item.lead else text, first="  - ", rest="    ", total=total))
        return "".join(out)
    if isinstance(b, Pre):
        return "".join(f"    {line}\n" for line in b.text.rstrip().splitlines())
    cells = [[_text_inline(cell) for cell in row] for row in b.rows]
    aligned = _aligned(b.columns, cells, total)
    if aligned is not None:
        return aligned
    out = []
    for row in cells:  # too wide: one record per row, the first column as its lead
        rest = "; ".join(f"{c}: {v}" for c, v in zip(b.columns[1:], row[1:], strict=True) if v)
        out.append(block(rest, first=f"  - {row[0]}: ", rest="    ", total=total))
    return "".join(out)


def to_text(doc: Doc, total: int | None = None) -> str:
    """The document for a terminal, wrapped at ``total`` columns (default: the terminal's width)."""
    total = total or width()
    parts = [f"{doc.title}\n{'=' * min(len(doc.title), total)}\n"]
    parts += [_text_block(b, total) for b in doc.blocks]
    return "\n".join(parts)
