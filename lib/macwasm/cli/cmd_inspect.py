"""``macwasm inspect PATH...``: what each WebAssembly file is, its sections, interface and traits.

Directories are searched recursively for ``*.wasm``; a ``.zip`` or ``.pkg`` named on the command
line is searched the same way without unpacking it (its modules are shown as
``app.pkg!/Payload/X.app/Contents/Resources/m.wasm``; a ``.dmg`` is refused with the reason); any
other file named on the command line is always read; ``-`` reads standard input. The batch goes
on past bad files. Exit 0 when every file was readable and well-formed (and, with ``--validate``,
valid for wasmtime), 1 when some file is malformed, not wasm, of an unknown version or rejected
by the validator, 2 on a usage error or a file that could not be read at all.

Import cost matters here (10,000 small files must not be slower than ``file``): nothing heavier
than the inspector itself is imported unless ``--validate`` asks for wasmtime.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from macwasm.cli.common import BatchStatus, run_batch
from macwasm.errors import MacwasmError
from macwasm.inputs import InputItem, iter_inputs
from macwasm.report.emit import FORMATS, emit
from macwasm.report.records import inspect_error_record, record_keys
from macwasm.wasm.model import WasmInfo

SUFFIXES = (".wasm",)

#: every key a record has (WasmInfo's own), so that error records and results line up in JSON and tables
RECORD_KEYS = record_keys(WasmInfo)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="inspect WebAssembly modules and components (header, sections, imports/exports, traits)",
        description="Read WebAssembly core modules and components: kind and version as `file` reports "
        "them, every section, imports, exports, memories, custom sections and derived traits. Reads "
        "only; never instantiates or runs a module.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="a .wasm file, a directory or a .zip/.pkg (searched for *.wasm; members shown as "
                        "app.zip!/X.app/...), or '-' for stdin")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("--validate", action="store_true",
                        help="also validate with the wasmtime engine (compile only, never instantiate)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from macwasm.wasm import inspect_path  # here, not at the top: `macwasm --help` need not load the reader

    items = list(iter_inputs(args.paths, suffixes=SUFFIXES))
    status = BatchStatus()

    def read_one(item: InputItem) -> dict[str, Any]:
        return inspect_path(item.path, validate=args.validate).to_dict()

    records = _note_validation(run_batch(items, read_one, error_record, status, total=len(items)), status)
    emit(records, args.format, sys.stdout, _columns(args.validate))
    sys.stdout.flush()
    return status.exit_code


def error_record(item: InputItem, err: MacwasmError) -> dict[str, Any]:
    """A malformed file keeps what was read before the fault (kind, version, sections); others get blanks."""
    return inspect_error_record(item.path, err)


def _note_validation(records: Iterator[dict[str, Any]], status: BatchStatus) -> Iterator[dict[str, Any]]:
    """A file the engine rejects is a finding (exit 1) even when our structural walk found nothing."""
    for record in records:
        validation = record.get("validation")
        if validation and validation.get("ok") is False:
            status.findings = True
        yield record


def _hex(value: object) -> str | None:
    return f"0x{value:x}" if isinstance(value, int) else None


def _columns(validate: bool) -> list[tuple[str, Any]]:
    columns: list[tuple[str, Any]] = [
        ("path", lambda r: r["path"]),
        ("kind", lambda r: r.get("kind")),
        ("version", lambda r: _hex(r.get("header_version"))),
        ("sections", lambda r: len(r.get("sections") or [])),
        ("imports", lambda r: len(r.get("imports") or [])),
        ("exports", lambda r: len(r.get("exports") or [])),
        ("traits", lambda r: r.get("traits") or []),
        ("error", lambda r: r.get("error")),
    ]
    if validate:
        columns.append(("wasmtime", _validation_cell))
    return columns


def _validation_cell(record: dict[str, Any]) -> str | None:
    v = record.get("validation")
    if not v:
        return None
    if v["ok"]:
        return "valid"
    message = ": ".join(line.strip() for line in (v["message"] or "").splitlines() if line.strip())
    return "invalid: " + message if v["ok"] is False else message
