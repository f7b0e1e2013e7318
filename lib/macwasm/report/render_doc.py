"""``rule`` and ``runtime``: a documentation page (or the index) as text, Markdown or JSON.

The payload is a :class:`DocRequest`: which page, and how to build it. The page is built only in the
format asked (a rule page evaluates its two examples; JSON needs the record, not the document), and
the command has already checked that the name exists, so a renderer never fails half-way through a
file given with ``-o``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from macwasm.report.doc import Doc, to_markdown, to_text
from macwasm.report.emit import printable
from macwasm.report.formats import RenderOptions
from macwasm.report.schema import versioned


@dataclass(frozen=True)
class DocRequest:
    """One page of ``rule``/``runtime`` (``name``), or their index (``name`` None)."""

    #: what the index's JSON calls its list ("rules", "runtimes")
    plural: str
    name: str | None
    page: Callable[[str], Doc]
    index: Callable[[], Doc]
    record: Callable[[str], dict[str, Any]]
    names: Callable[[], list[str]]

    def doc(self) -> Doc:
        return self.page(self.name) if self.name else self.index()


def text(request: DocRequest, out: TextIO, options: RenderOptions) -> None:
    """The page wrapped for the terminal; ``-q`` with no name: the names only, one per line."""
    if options.quiet and not request.name:
        out.write(printable("".join(f"{n}\n" for n in request.names())))
        return
    out.write(printable(to_text(request.doc())))


def markdown(request: DocRequest, out: TextIO, options: RenderOptions) -> None:
    """The page's Markdown source, as the site renders it."""
    out.write(printable(to_markdown(request.doc())))


def json_object(request: DocRequest, out: TextIO, options: RenderOptions) -> None:
    """The page's record, or ``{plural: [names]}`` for the index; both carry ``schema_version``."""
    data = request.record(request.name) if request.name else {request.plural: request.names()}
    out.write(printable(json.dumps(versioned(data), ensure_ascii=False, indent=2)) + "\n")
