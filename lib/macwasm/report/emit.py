"""Write a batch of records as a fixed-width table, one JSON array, or JSON Lines.

The renderers of ``report/`` (``report/formats.py`` is the registry of every command's formats)
build plain ``dict`` records (JSON-ready) and hand them here; nothing in this module knows what a
record means. JSON Lines is streamed record by record so a batch of 10,000
files never holds its output in memory; the table and the JSON array need the whole batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any, TypeVar

from macwasm.report.text import wrap

#: a row of a text table: a record (dict) for the CLI, a list of cells for a notebook's frame
Row = TypeVar("Row")


def printable(text: str) -> str:
    """Text that can always be written as UTF-8.

    File names that are not valid UTF-8 reach Python as lone surrogates (``surrogateescape``);
    writing them would raise ``UnicodeEncodeError`` in the middle of a batch. They are shown as
    ``\\udcff``-style escapes instead, so the output stays valid UTF-8 and names the file.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def to_json_line(record: dict[str, Any]) -> str:
    return printable(json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=False))


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> None:
    for record in records:
        out.write(to_json_line(record))
        out.write("\n")


def write_json(records: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """One JSON array, one record per line, streamed as the records come.

    ``json.dumps(..., indent=2)`` falls back to the pure-Python encoder: for a module with 75,000
    exports it took 2 s, ten times the inspection itself. Compact records go through the C encoder,
    and streaming keeps memory flat over a batch of 10,000 files; the output is still one array.
    """
    out.write("[")
    first = True
    for record in records:
        out.write("\n" if first else ",\n")
        out.write(to_json_line(record))
        first = False
    out.write("\n]\n" if not first else "]\n")


def write_table(
    records: Iterable[Row],
    out: IO[str],
    columns: Sequence[tuple[str, Callable[[Row], object]]],
    *,
    max_width: int = 60,
) -> None:
    """Plain fixed-width text: deterministic, no terminal tricks, pasteable into a ticket.

    A cell longer than ``max_width`` is wrapped onto more lines of its row, never cut: a path or an
    error message is something the reader acts on. The first column names the row and stays whole on
    one line, so a row's continuation lines always start with spaces.
    """
    rows = [[[_cell(getter(r))] if i == 0 else wrap(_cell(getter(r)), max_width)
             for i, (_, getter) in enumerate(columns)] for r in records]
    headers = [name for name, _ in columns]
    widths = [max([len(h)] + [len(line) for row in rows for line in row[i]]) for i, h in enumerate(headers)]
    out.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        for n in range(max(len(cell) for cell in row)):
            out.write("  ".join((cell[n] if n < len(cell) else "").ljust(w)
                                for cell, w in zip(row, widths, strict=True)).rstrip() + "\n")


def _cell(value: object) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, (list, tuple)):
        text = ",".join(str(v) for v in value) or "-"
    else:
        text = str(value)
    return printable(text.replace("\n", " "))
