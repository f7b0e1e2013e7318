"""Plain text for terminals and tickets: left-aligned, wrapped at word boundaries, never cut.

A finding's cause is what a user acts on, so it must be readable whole in an 80- or 100-column
terminal and in a pasted log. Long words (paths, entitlement keys) are broken after a ``/``, ``.``,
``-`` or ``,`` when they do not fit, and only as a last resort in the middle.
"""

from __future__ import annotations

import os
import re

#: the width text is wrapped to when the terminal does not say (COLUMNS overrides, as in every CLI)
DEFAULT_WIDTH = 100
_BREAK_AFTER = re.compile(r"(?<=[/.,\-_])")


def width() -> int:
    try:
        return max(40, int(os.environ.get("COLUMNS", DEFAULT_WIDTH)))
    except ValueError:
        return DEFAULT_WIDTH


def _pieces(word: str, room: int) -> list[str]:
    """A word too long for ``room``, in pieces broken after punctuation where it can be."""
    out: list[str] = []
    current = ""
    for part in _BREAK_AFTER.split(word):
        while len(part) > room:  # no punctuation to break at: cut, the last resort
            if current:
                out.append(current)
                current = ""
            out.append(part[:room])
            part = part[room:]
        if len(current) + len(part) > room and current:
            out.append(current)
            current = ""
        current += part
    if current:
        out.append(current)
    return out


def wrap(text: str, room: int) -> list[str]:
    """``text`` as lines of at most ``room`` characters, words kept whole where they fit."""
    room = max(room, 10)
    lines: list[str] = []
    line = ""
    for word in text.split():
        pieces = [word] if len(word) <= room else _pieces(word, room)
        for piece in pieces:
            if not line:
                line = piece
            elif len(line) + 1 + len(piece) <= room:
                line += " " + piece
            else:
                lines.append(line)
                line = piece
    if line or not lines:
        lines.append(line)
    return lines


def block(text: str, *, first: str = "", rest: str | None = None, total: int | None = None) -> str:
    """``text`` wrapped, the first line after ``first`` and the others indented by ``rest`` (aligned)."""
    total = total or width()
    rest = " " * len(first) if rest is None else rest
    lines = wrap(text, total - len(first))
    return "\n".join([first + lines[0], *(rest + line for line in lines[1:])]) + "\n"
