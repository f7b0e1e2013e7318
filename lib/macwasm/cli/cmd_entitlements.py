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
import sys
from typing import Any

from macwasm.cli.common import BatchStatus, run_batch
from macwasm.errors import MacwasmError
from macwasm.inputs import InputItem
from macwasm.report.emit import FORMATS, emit
from macwasm.report.records import (
    ENTITLEMENTS_ERROR_KEYS,
    entitlements_error_record,
    entitlements_record,
    record_keys,
)
from macwasm.signing.model import SigningFacts
from macwasm.vocabulary import ENGINE_CONFIDENCES, UNSIGNED

#: every key a record has (SigningFacts' own and the error's), so that error records and results line up
RECORD_KEYS = record_keys(SigningFacts) + ENTITLEMENTS_ERROR_KEYS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "entitlements",
        help="read entitlements and code signatures (plists, codesign output, profiles, Mach-O, bundles)",
        description="Read entitlements and code-signature facts from .entitlements/.xcent plists, pasted "
        "`codesign -d --entitlements` output, DER entitlements (.der, or a blob with its 0xfade7172 header), "
        "provisioning profiles, signed Mach-O files (thin or "
        "universal) and .app/.appex/.systemextension/.dext/.xpc bundles. Works on any OS; reads only. "
        "Provisioning-profile and code-signature CMS signatures are NOT verified.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="a file, a bundle folder, or a folder searched for them ('-' reads standard input)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # imported here, not at the top: `macwasm --help` registers every command and must not need asn1crypto
    from macwasm.signing.reader import iter_signing_items, read_signing_facts

    items = list(iter_signing_items(args.paths))
    status = BatchStatus()

    def read_one(item: InputItem) -> dict[str, Any]:
        facts = read_signing_facts(item.path)
        # a nested executable or a module that could not be read is a finding, though the bundle was read
        if any(n.error for n in facts.nested) or any(w.error for w in facts.wasm_files):
            status.findings = True
        return entitlements_record(facts)

    records = run_batch(items, read_one, error_record, status, total=len(items))
    emit(records, args.format, sys.stdout, COLUMNS)
    sys.stdout.flush()
    return status.exit_code


def error_record(item: InputItem, err: MacwasmError) -> dict[str, Any]:
    return entitlements_error_record(item.path, err)


def _entitlement_keys(record: dict[str, Any]) -> str | None:
    ents = record.get("entitlements")
    if ents is None:
        return None
    return f"{len(ents)}: " + ", ".join(ents) if ents else "0"


def _sig(record: dict[str, Any], key: str) -> Any:
    sig = record.get("signature")
    return sig.get(key) if sig else None


def _kind(record: dict[str, Any]) -> str | None:
    """``unsigned`` for a Mach-O whose first slice has no signature (None stays "-" for plists and profiles)."""
    if record.get("signature") is None and record.get("slices"):
        return UNSIGNED
    return _sig(record, "kind")


def _slices(record: dict[str, Any]) -> str | None:
    """How many slices, and whether they disagree: the other columns show the first slice only."""
    slices = record.get("slices") or []
    if not slices:
        return None
    return f"{len(slices)} differ" if record.get("slices_differ") else str(len(slices))


def _hashes(record: dict[str, Any]) -> str | None:
    """The CodeDirectories' hashes, primary first: ``sha1+sha256`` when an alternate CodeDirectory is present."""
    return "+".join(_sig(record, "hash_types") or ()) or None


def _engines(record: dict[str, Any]) -> str | None:
    """Engines found in any slice, each with the confidence of its strongest detection (``v8:high``)."""
    best: dict[str, str] = {}
    for s in record.get("slices") or []:
        for e in s.get("engines") or []:
            if e["engine"] not in best or ENGINE_CONFIDENCES.index(e["confidence"]) < ENGINE_CONFIDENCES.index(
                    best[e["engine"]]):
                best[e["engine"]] = e["confidence"]
    return ",".join(f"{k}:{v}" for k, v in best.items()) or None


COLUMNS: list[tuple[str, Any]] = [
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
