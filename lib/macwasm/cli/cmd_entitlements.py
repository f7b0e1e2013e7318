"""``macwasm entitlements PATH...``: entitlements and code signatures from every form they come in.

Each PATH is an ``.entitlements``/``.xcent`` plist, pasted ``codesign -d --entitlements`` output,
a provisioning profile, a signed Mach-O (thin or universal) or a bundle folder; a plain folder is
searched for those. The form is sniffed from the content. The batch goes on past bad inputs.
Exit 0 when every input was read completely, 1 when some input (or code nested in a bundle, or a
``.wasm`` file in it) is malformed or not a form we read, 2 on a usage error or an input that
could not be read at all.
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
from macwasm.inputs import InputItem
from macwasm.report.formats import render
from macwasm.report.records import (
    ENTITLEMENTS_ERROR_KEYS,
    entitlements_error_record,
    entitlements_record,
    record_keys,
)
from macwasm.signing.model import SigningFacts

COMMAND = "entitlements"

#: every key a record has (SigningFacts' own and the error's), so that error records and results line up
RECORD_KEYS = record_keys(SigningFacts) + ENTITLEMENTS_ERROR_KEYS


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = command_parser(
        subparsers, COMMAND,
        help="read entitlements and code signatures (plists, codesign output, profiles, Mach-O, bundles)",
        description="Read entitlements and code-signature facts from .entitlements/.xcent plists, pasted "
        "`codesign -d --entitlements` output, DER entitlements (.der, or a blob with its 0xfade7172 header), "
        "provisioning profiles, signed Mach-O files (thin or "
        "universal) and .app/.appex/.systemextension/.dext/.xpc bundles. Works on any OS; reads only. "
        "Provisioning-profile and code-signature CMS signatures are NOT verified.",
        exit_codes=("every input read completely",
                    "an input, code nested in a bundle, or a .wasm file in it is malformed or of a form not read",
                    "a usage error, or an input that could not be read at all"),
        example="macwasm entitlements data/bundles/ForumCase.app",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="a file, a bundle folder, or a folder searched for them ('-' reads standard input)")
    add_output_options(parser, COMMAND, quiet="only the inputs with an error (their own, or of nested code or "
                       "modules)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # imported here, not at the top: `macwasm --help` registers every command and must not need asn1crypto
    from macwasm.signing.reader import iter_signing_items, read_signing_facts

    items = list(iter_signing_items(args.paths))
    status = BatchStatus()

    def read_one(item: InputItem) -> list[dict[str, Any]]:
        facts = read_signing_facts(item.path)
        # a nested executable or a module that could not be read is a finding, though the bundle was read
        if facts.error or any(n.error for n in facts.nested) or any(w.error for w in facts.wasm_files):
            status.findings = True
        return [entitlements_record(facts)]

    records = run_batch(items, read_one, error_record, status, total=len(items),
                        progress=not is_machine(COMMAND, args.format))
    with output_stream(args.output) as out:
        render(COMMAND, args.format, records, out, render_options(args, COMMAND))
    return status.exit_code


def error_record(item: InputItem, err: MacwasmError) -> dict[str, Any]:
    return entitlements_error_record(item.path, err)
