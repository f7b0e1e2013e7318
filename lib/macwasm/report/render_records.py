"""``inspect`` and ``entitlements``: one record per input, as a table, a JSON array or JSON Lines.

The payload is an iterable of records (``report/records.py``: the same keys for an input that was
read and one that was not). JSON and JSON Lines stream record by record, so a batch of 10,000 files
never holds its output; the table needs the whole batch to size its columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from macwasm.report.emit import write_json, write_jsonl, write_table
from macwasm.report.formats import RenderOptions
from macwasm.report.schema import versioned
from macwasm.vocabulary import ENGINE_CONFIDENCES, UNSIGNED

Record = dict[str, Any]
Columns = list[tuple[str, Callable[[Record], object]]]


def _kept(records: Iterable[Record], options: RenderOptions) -> Iterator[Record]:
    """``-q``: only the inputs with something wrong (an error of their own, or in nested code or modules)."""
    for record in records:
        if not options.quiet or record.get("error") or any(
                n.get("error") for n in record.get("nested") or ()) or any(
                w.get("error") for w in record.get("wasm_files") or ()):
            yield record


def json_array(records: Iterable[Record], out: TextIO, options: RenderOptions) -> None:
    write_json((versioned(r) for r in _kept(records, options)), out)


def json_lines(records: Iterable[Record], out: TextIO, options: RenderOptions) -> None:
    write_jsonl((versioned(r) for r in _kept(records, options)), out)


# ------------------------------------------------------------------------------------- inspect

def _hex(value: object) -> str | None:
    return f"0x{value:x}" if isinstance(value, int) else None


def _validation_cell(record: Record) -> str | None:
    v = record.get("validation")
    if not v:
        return None
    if v["ok"]:
        return "valid"
    message = ": ".join(line.strip() for line in (v["message"] or "").splitlines() if line.strip())
    return "invalid: " + message if v["ok"] is False else str(message)


INSPECT_COLUMNS: Columns = [
    ("path", lambda r: r["path"]),
    ("kind", lambda r: r.get("kind")),
    ("version", lambda r: _hex(r.get("header_version"))),
    ("sections", lambda r: len(r.get("sections") or [])),
    ("imports", lambda r: len(r.get("imports") or [])),
    ("exports", lambda r: len(r.get("exports") or [])),
    ("traits", lambda r: r.get("traits") or []),
    ("error", lambda r: r.get("error")),
]
#: the column ``--validate`` adds (shown when any file was validated)
VALIDATION_COLUMN: tuple[str, Callable[[Record], object]] = ("wasmtime", _validation_cell)


def inspect_table(records: Iterable[Record], out: TextIO, options: RenderOptions) -> None:
    rows = list(_kept(records, options))
    validated = any(r.get("validation") for r in rows)
    write_table(rows, out, [*INSPECT_COLUMNS, VALIDATION_COLUMN] if validated else INSPECT_COLUMNS)


# -------------------------------------------------------------------------------- entitlements

def _entitlement_keys(record: Record) -> str | None:
    ents = record.get("entitlements")
    if ents is None:
        return None
    return f"{len(ents)}: " + ", ".join(ents) if ents else "0"


def _sig(record: Record, key: str) -> Any:
    sig = record.get("signature")
    return sig.get(key) if sig else None


def _kind(record: Record) -> str | None:
    """``unsigned`` for a Mach-O whose first slice has no signature (None stays "-" for plists and profiles)."""
    if record.get("signature") is None and record.get("slices"):
        return UNSIGNED
    kind = _sig(record, "kind")
    return str(kind) if kind is not None else None


def _slices(record: Record) -> str | None:
    """How many slices, and whether they disagree: the other columns show the first slice only."""
    slices = record.get("slices") or []
    if not slices:
        return None
    return f"{len(slices)} differ" if record.get("slices_differ") else str(len(slices))


def _hashes(record: Record) -> str | None:
    """The CodeDirectories' hashes, primary first: ``sha1+sha256`` when an alternate CodeDirectory is present."""
    return "+".join(_sig(record, "hash_types") or ()) or None


def _engines(record: Record) -> str | None:
    """Engines found in any slice, each with the confidence of its strongest detection (``v8:high``)."""
    best: dict[str, str] = {}
    for s in record.get("slices") or []:
        for e in s.get("engines") or []:
            if e["engine"] not in best or ENGINE_CONFIDENCES.index(e["confidence"]) < ENGINE_CONFIDENCES.index(
                    best[e["engine"]]):
                best[e["engine"]] = e["confidence"]
    return ",".join(f"{k}:{v}" for k, v in best.items()) or None


ENTITLEMENTS_COLUMNS: Columns = [
    ("path", lambda r: r["path"]),
    ("source", lambda r: r.get("source")),
    ("signature", _kind),
    ("team", lambda r: _sig(r, "team_id")),
    ("runtime", lambda r: _sig(r, "hardened_runtime")),
    ("hashes", _hashes),
    ("entitlements", _entitlement_keys),
    ("slices", _slices),
    ("engines", _engines),
    ("notes", lambda r: len(r.get("notes") or []) or None),
    ("nested", lambda r: len(r.get("nested") or [])),
    ("wasm", lambda r: len(r.get("wasm_files") or [])),
    ("error", lambda r: r.get("error")),
]


def entitlements_table(records: Iterable[Record], out: TextIO, options: RenderOptions) -> None:
    write_table(list(_kept(records, options)), out, ENTITLEMENTS_COLUMNS)
