"""The published JSON Schema of each command's JSON output, and the version every record carries.

Each command's JSON (``--format json`` and ``jsonl``) is described by
``macwasm/schemas/<command>.schema.json`` (JSON Schema 2020-12), shipped in the package. Every
record, and every single-object output, carries ``schema_version``: a consumer checks it instead of
guessing from the keys. The version changes when a key is renamed or removed, or a value changes
meaning; a key added leaves it as it is (consumers must ignore keys they do not know).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

#: the version of every command's JSON output
SCHEMA_VERSION = 1
#: the commands with a JSON output, hence a schema
COMMANDS = ("inspect", "entitlements", "check", "audit", "advise", "explain", "rule", "runtime")


def versioned(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with ``schema_version`` as its first key."""
    return {"schema_version": SCHEMA_VERSION, **record}


def schema(command: str) -> dict[str, Any]:
    """The JSON Schema of ``command``'s JSON output (one record; for advise and explain the one object)."""
    text = resources.files("macwasm").joinpath("schemas", f"{command}.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
