"""The JSON record of one input, the same shape whether the input was read or could not be.

A batch writes one record per input; a consumer (a CI step, a notebook, ``jq``) must find the same
keys in each, or it breaks on the first unreadable file. So the keys are never listed by hand: they
are the model's own (``WasmInfo.to_dict()``, ``SigningFacts.to_dict()``), and the record of an input
that could not be read is that same ``to_dict()`` of a model whose required fields are None and
whose other fields keep their defaults (empty lists, no producers), with the error filled in.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

from macwasm.errors import MacwasmError
from macwasm.signing.model import SigningFacts
from macwasm.wasm.model import WasmInfo

#: what an entitlements record adds to ``SigningFacts.to_dict()`` (the error's category and offset)
ENTITLEMENTS_ERROR_KEYS = ("error_category", "error_offset")


def blank_record(model: Any) -> dict[str, Any]:
    """``model(...).to_dict()`` with None for every field that has no default (the others keep theirs)."""
    required = {f.name: None for f in fields(model) if f.default is MISSING and f.default_factory is MISSING}
    record: dict[str, Any] = model(**required).to_dict()
    return record


def record_keys(model: Any) -> tuple[str, ...]:
    """The keys of every record ``model.to_dict()`` writes, in its order."""
    return tuple(blank_record(model))


# ------------------------------------------------------------------------------------- inspect

def inspect_error_record(path: str, err: MacwasmError) -> dict[str, Any]:
    """A file that is malformed keeps what was read before the fault (kind, version, sections); a file that
    could not be read at all gets the blank record."""
    partial = getattr(err, "info", None)  # WasmFormatError carries the partial result; other errors none
    record = partial.to_dict() if isinstance(partial, WasmInfo) else blank_record(WasmInfo)
    record.update(path=path, well_formed=False, error=err.message_without_path, error_offset=err.offset,
                  error_category=err.category)
    return record


# -------------------------------------------------------------------------------- entitlements

def entitlements_record(facts: SigningFacts) -> dict[str, Any]:
    record = facts.to_dict()
    record.update(dict.fromkeys(ENTITLEMENTS_ERROR_KEYS))
    return record


def entitlements_error_record(path: str, err: MacwasmError) -> dict[str, Any]:
    """An input that could not be read: the blank record, its path, and the error (with the inner file's path
    when the fault lies in another file than the input, e.g. a bundle's Info.plist)."""
    record = blank_record(SigningFacts)
    record.update(path=path, error=err.message if err.path not in (None, path) else err.message_without_path,
                  error_category=err.category, error_offset=err.offset)
    return record
