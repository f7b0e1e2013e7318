"""Each rule's two examples (``data/rule_examples.csv``): a target it fires on and one it stays quiet on.

The same rows are the rules' test fixtures (``tests/test_policy_rules.py``) and the examples of
the rule pages and of ``macwasm rule`` (``macwasm.report.rule_doc``), evaluated every time they are
shown, so a page cannot show a finding the engine no longer gives. A row describes a
:class:`~macwasm.policy.target.Target` as a JSON object of its fields; a field left out has the
target's default, except ``input_form``, which is ``entitlements`` (an example stands for an
entitlements file unless it says otherwise) and ``entitlements``, which is an empty set. A row
whose JSON is not an object of known fields with values of the right type is refused with its line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from macwasm.datafiles import data_path
from macwasm.errors import TableFormatError
from macwasm.policy.tables import _check, _read, _root
from macwasm.policy.target import Target, WasmFile

TABLE = "rule_examples.csv"
#: the two cases every rule has, in the order pages show them
CASES = ("fires", "quiet")
#: what an example stands for when its row does not say
DEFAULT_INPUT_FORM = "entitlements"
#: the name every example target gets (findings and pages show it)
EXAMPLE_NAME = "example"

_TEXT_FIELDS = ("product_type", "product_type_basis", "platform", "distribution", "arch", "module_source",
                "module_kind", "input_form", "signature_kind", "requested_arch", "missing_executable")
_FLAG_FIELDS = ("hardened_runtime", "has_timestamp", "has_profile")
_LIST_FIELDS = ("runtimes", "profile_keys", "slice_arches")
_WASM_FIELDS = {"path": str, "location": str, "kind": str, "traits": list}
_NOTE_FIELDS = {"kind": str, "setting": str, "detail": str, "subject": str, "line": int}
FIELDS = ("entitlements", *_TEXT_FIELDS, *_FLAG_FIELDS, *_LIST_FIELDS, "wasm_files", "build_notes", "detected")


@dataclass(frozen=True)
class RuleExample:
    """One example: the rule, whether it fires, the target as written in the table and as built."""

    rule_id: str
    case: str  # fires | quiet
    description: Mapping[str, Any]
    target: Target
    line: int


def _refuse(line: int, reason: str) -> TableFormatError:
    return TableFormatError(f"line {line}: {reason}", path=str(data_path(TABLE)))


def _typed(line: int, name: str, value: Any, kind: type) -> Any:
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise _refuse(line, f"{name} must be a JSON {'number' if kind is int else kind.__name__}, not {value!r}")
    return value


def _strings(line: int, name: str, value: Any) -> tuple[str, ...]:
    items = _typed(line, name, value, list)
    return tuple(_typed(line, f"an item of {name}", item, str) for item in items)


def _records(line: int, name: str, value: Any, fields: Mapping[str, type]) -> list[dict[str, Any]]:
    out = []
    for item in _typed(line, name, value, list):
        record = _typed(line, f"an item of {name}", item, dict)
        unknown = sorted(set(record) - set(fields))
        if unknown:
            raise _refuse(line, f"{name}: unknown field(s) {', '.join(unknown)} (known: {', '.join(fields)})")
        out.append({k: _typed(line, f"{name}.{k}", v, fields[k]) for k, v in record.items()})
    return out


def target_of(description: Mapping[str, Any], line: int = 0) -> Target:
    """The target a row's JSON object describes (raises :class:`TableFormatError` naming the line)."""
    unknown = sorted(set(description) - set(FIELDS))
    if unknown:
        raise _refuse(line, f"unknown target field(s) {', '.join(unknown)} (known: {', '.join(FIELDS)})")
    kwargs: dict[str, Any] = {"input_form": DEFAULT_INPUT_FORM, "entitlements": {}}
    try:
        for name, value in description.items():
            kwargs[name] = _field(line, name, value)
        return Target(name=EXAMPLE_NAME, **kwargs)
    except TypeError as exc:  # a wasm file or a note without one of its required fields
        raise _refuse(line, f"incomplete target: {exc}") from None


def _field(line: int, name: str, value: Any) -> Any:
    """One target field from its JSON value (raises TypeError for a record that misses a field)."""
    from macwasm.xcode.model import Note

    if name == "entitlements":
        return dict(_typed(line, name, value, dict))
    if name in _TEXT_FIELDS:
        return _typed(line, name, value, str)
    if name in _FLAG_FIELDS:
        return _typed(line, name, value, bool)
    if name in ("runtimes", "slice_arches"):
        return _strings(line, name, value)
    if name == "detected":  # [[runtime, evidence], ...]: engines found in the binary
        return tuple(_strings(line, "an item of detected", pair) for pair in _typed(line, name, value, list))
    if name == "profile_keys":
        return frozenset(_strings(line, name, value))
    if name == "wasm_files":
        return tuple(WasmFile(**{**r, "traits": tuple(r.get("traits", ()))})
                     for r in _records(line, name, value, _WASM_FIELDS))
    return tuple(Note(**r) for r in _records(line, name, value, _NOTE_FIELDS))  # build_notes


@lru_cache(maxsize=4)
def _examples(_root_key: str) -> dict[str, dict[str, RuleExample]]:
    out: dict[str, dict[str, RuleExample]] = {}
    for line, row in _read(TABLE, ("rule_id", "case", "target"), source_column="target"):
        case = _check(TABLE, line, "case", row["case"], CASES)
        try:
            description = json.loads(row["target"])
        except json.JSONDecodeError as exc:
            raise _refuse(line, f"target is not JSON: {exc}") from None
        description = _typed(line, "target", description, dict)
        mine = out.setdefault(row["rule_id"], {})
        if case in mine:
            raise _refuse(line, f"a second '{case}' example for {row['rule_id']}")
        mine[case] = RuleExample(row["rule_id"], case, description, target_of(description, line), line)
    return out


def rule_examples() -> dict[str, dict[str, RuleExample]]:
    """rule id -> case (``fires``, ``quiet``) -> its example, as the table gives them."""
    return _examples(_root())
