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
from typing import Any

from macwasm.cli.common import (
    BatchStatus,
    add_output_options,
    command_parser,
    is_machine,
    output_stream,
    render_options,
    run_batch,
)
from macwasm.errors import MacwasmError
from macwasm.inputs import InputItem, iter_inputs
from macwasm.report.formats import render
from macwasm.report.records import inspect_error_record, record_keys
from macwasm.wasm.model import WasmInfo

SUFFIXES = (".wasm",)
COMMAND = "inspect"

#: every key a record has (WasmInfo's own), so that error records and results line up in JSON and tables
RECORD_KEYS = record_keys(WasmInfo)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = command_parser(
        subparsers, COMMAND,
        help="inspect WebAssembly modules and components (header, sections, imports/exports, traits)",
        description="Read WebAssembly core modules and components: kind and version as `file` reports "
        "them, every section, imports, exports, memories, custom sections and derived traits. Reads "
        "only; never instantiates or runs a module.",
        exit_codes=("every file read and well-formed (and, with --validate, valid for wasmtime)",
                    "a file is malformed, not wasm, of an unknown version, or rejected by the validator",
                    "a usage error, or a file that could not be read at all"),
        example="macwasm inspect --format json data/modules",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="a .wasm file, a directory or a .zip/.pkg (searched for *.wasm; members shown as "
                        "app.zip!/X.app/...), or '-' for stdin")
    add_output_options(parser, COMMAND, quiet="only the files that are malformed or could not be read")
    parser.add_argument("--validate", action="store_true",
                        help="also validate with the wasmtime engine (compile only, never instantiate)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from macwasm.wasm import inspect_path  # here, not at the top: `macwasm --help` need not load the reader

    items = list(iter_inputs(args.paths, suffixes=SUFFIXES))
    status = BatchStatus()

    def read_one(item: InputItem) -> list[dict[str, Any]]:
        record = inspect_path(item.path, validate=args.validate).to_dict()
        validation = record.get("validation")
        # not wasm, an unknown version, or a file the engine rejects: a finding, though our walk read it
        if record.get("error") or (validation and validation.get("ok") is False):
            status.findings = True
        return [record]

    records = run_batch(items, read_one, error_record, status, total=len(items),
                        progress=not is_machine(COMMAND, args.format))
    with output_stream(args.output) as out:
        render(COMMAND, args.format, records, out, render_options(args, COMMAND))
    return status.exit_code


def error_record(item: InputItem, err: MacwasmError) -> dict[str, Any]:
    """A malformed file keeps what was read before the fault (kind, version, sections); others get blanks."""
    return inspect_error_record(item.path, err)
