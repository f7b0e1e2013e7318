"""``audit``: every row of a table of targets (one shipping product per row) to a verdict table.

A fleet table repeats itself: a million rows hold a few thousand distinct combinations of
product type, runtime, signature facts and entitlement set. So the columns are factorised, each
distinct combination is parsed and judged once by the same engine ``check`` uses, and the
verdicts are joined back to the rows with integer codes (categoricals, no per-row Python).
:func:`audit_rowwise` is the plain per-row loop over the same rules, kept as the reference the
benchmark and the tests compare against.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from macwasm.errors import IO, MALFORMED, MacwasmError, TableFormatError
from macwasm.policy.checker import CheckOptions
from macwasm.policy.engine import Finding, TargetResult, evaluate, finding_order, verdict_of
from macwasm.policy.tables import rules
from macwasm.policy.target import Target, parse_entitlement_list, resolve_product_type, split_runtimes
from macwasm.vocabulary import (
    DEFAULT_ARCH,
    DEFAULT_DISTRIBUTION,
    DEFAULT_PLATFORM,
    FAIL,
    FORM_TABLE,
    SIGNATURE_KINDS,
    UNJUDGED,
    WARN,
)

#: columns that decide a verdict (``name`` only labels the row)
KEY_COLUMNS = ("product_type", "platform", "distribution", "runtime", "arch", "module_source", "module_kind",
               "entitlements", "hardened_runtime", "signature_kind", "has_profile", "has_timestamp")
REQUIRED_COLUMNS = ("name", "entitlements")
OUTPUT_COLUMNS = ("name", "product_type", "verdict", "errors", "warnings", "infos", "rule_ids", "top_finding")
_PLIST_SUFFIXES = (".plist", ".entitlements", ".xcent")
_BOOL = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False, "": None}


def read_table(path: str, *, data: bytes | None = None) -> pd.DataFrame:
    """The audit CSV as strings (empty cells stay empty strings, never NaN); ``data``: its bytes, already read
    (standard input), ``path`` then only names it."""
    import io

    try:
        source: Any = io.BytesIO(data) if data is not None else path
        frame = pd.read_csv(source, dtype=str, keep_default_na=False, engine="pyarrow")
    except FileNotFoundError:
        raise TableFormatError("no such file", path=path, category=IO) from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise TableFormatError(f"not a readable CSV table: {exc}", path=path) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise TableFormatError(f"missing column(s) {', '.join(missing)}", path=path)
    return frame


def _signature_kind(value: str) -> str | None:
    """A ``signature_kind`` cell: empty (not said) or one of the signature kinds."""
    if value and value not in SIGNATURE_KINDS:
        raise TableFormatError(f"signature_kind {value!r} is not one of {', '.join(SIGNATURE_KINDS)}")
    return value or None


def _flag(column: str, value: str) -> bool | None:
    try:
        return _BOOL[value.strip().lower()]
    except KeyError:
        raise TableFormatError(f"{column} {value!r} is not yes/no/empty") from None


class _EntitlementCells:
    """Entitlement cells to dicts: ``KEY;KEY=VALUE`` text, or a plist path read once."""

    def __init__(self, base_dir: str | None) -> None:
        self.base_dir = base_dir
        self.cache: dict[str, dict[str, Any]] = {}

    def __call__(self, cell: str) -> dict[str, Any]:
        if cell not in self.cache:
            self.cache[cell] = self._parse(cell)
        return self.cache[cell]

    def _parse(self, cell: str) -> dict[str, Any]:
        text = cell.strip()
        if text.lower().endswith(_PLIST_SUFFIXES) and "=" not in text and ";" not in text:
            from macwasm.signing.reader import read_signing_facts

            path = text if os.path.isabs(text) or not self.base_dir else os.path.join(self.base_dir, text)
            return dict(read_signing_facts(path).entitlements or {})
        return parse_entitlement_list(text)


def row_target(row: Mapping[str, str], entitlements: Callable[[str], dict[str, Any]]) -> Target:
    """One table row to a target (unknown option values raise MacwasmError)."""
    def cell(name: str, default: str = "") -> str:
        value = row.get(name)
        return default if value is None or value != value or value == "" else str(value).strip()

    ents = entitlements(cell("entitlements"))
    opts = CheckOptions(product_type=cell("product_type") or None, platform=cell("platform", DEFAULT_PLATFORM),
                        distribution=cell("distribution", DEFAULT_DISTRIBUTION),
                        runtimes=split_runtimes(cell("runtime")), arch=cell("arch", DEFAULT_ARCH),
                        module_source=cell("module_source") or None,
                        module_kind=cell("module_kind") or None)
    opts.validate()
    ptype, basis = resolve_product_type(opts.product_type, None, ents)
    name = cell("name", "(unnamed)")
    return Target(name=name, subject=name, product_type=ptype, product_type_basis=basis, entitlements=ents,
                  input_form=FORM_TABLE, signature_kind=_signature_kind(cell("signature_kind")),
                  hardened_runtime=_flag("hardened_runtime", cell("hardened_runtime")),
                  has_profile=_flag("has_profile", cell("has_profile")),
                  has_timestamp=_flag("has_timestamp", cell("has_timestamp")), **opts.base())


def _summary(result: TargetResult | None, error: str | None, product_type: str) -> tuple[Any, ...]:
    if result is None:
        return (product_type, "error", 0, 0, 0, "", error or "")
    return _summarise(result.product_type, result.findings)


def _summarise(product_type: str, findings: list[Finding]) -> tuple[Any, ...]:
    counts = {s: 0 for s in ("error", "warning", "info")}
    for f in findings:
        counts[f.severity] += 1
    top = next((f for f in findings if f.severity != "info"), None)
    return (product_type, verdict_of(findings), counts["error"], counts["warning"], counts["info"],
            ";".join(dict.fromkeys(f.rule_id for f in findings)), f"{top.rule_id}: {top.message}" if top else "")


def judge_row(row: Mapping[str, str], entitlements: Callable[[str], dict[str, Any]],
              ignore: Iterable[str] = ()) -> tuple[Any, ...]:
    """(product_type, verdict, errors, warnings, infos, rule_ids, top_finding) for one row."""
    try:
        target = row_target(row, entitlements)
    except MacwasmError as err:
        return _summary(None, err.message, str(row.get("product_type") or ""))
    return _summary(evaluate(target, ignore=frozenset(ignore)), None, target.product_type)


def rule_groups(columns: Iterable[str]) -> list[tuple[tuple[str, ...], frozenset[str]]]:
    """Rules grouped by the table columns their verdict depends on (the ``reads`` of rules.csv).

    Every group also depends on platform and distribution (which rules apply), and reading the
    product type means reading the entitlements too (the type is inferred from them when empty).
    """
    available = set(columns)
    groups: dict[tuple[str, ...], set[str]] = {}
    for rule in rules().values():
        needed = {"platform", "distribution", *rule.reads}
        if "product_type" in needed:
            needed.add("entitlements")
        key = tuple(c for c in KEY_COLUMNS if c in needed and c in available)
        groups.setdefault(key, set()).add(rule.id)
    return [(cols, frozenset(ids)) for cols, ids in groups.items()]


def audit(frame: pd.DataFrame, *, base_dir: str | None = None, ignore: Iterable[str] = ()) -> pd.DataFrame:
    """The verdict table, one row per input row, in input order (columns: :data:`OUTPUT_COLUMNS`).

    Three levels, so the rules run far fewer times than there are rows: (1) each column is
    factorised and the distinct rows (combinations of codes) are found; (2) for each group of
    rules, only the columns that group reads form its key, and the group is judged once per
    distinct key; (3) each distinct row merges its groups' findings, and the summaries are joined
    back to the million rows through the integer codes. ``ignore``: rule ids left out (``--ignore``).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise TableFormatError(f"missing column(s) {', '.join(missing)}")
    n = len(frame)
    present = [c for c in KEY_COLUMNS if c in frame.columns]
    combined = np.zeros(n, dtype=np.int64)
    per_column: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    cardinality = 1
    for col in present:
        codes, uniques = pd.factorize(frame[col], use_na_sentinel=False)
        per_column[col] = (codes, np.asarray(uniques, dtype=object))
        width = max(len(uniques), 1)
        if cardinality * width >= 2 ** 62:  # keep the mixed-radix key in int64
            combined, kept = pd.factorize(combined)
            cardinality = len(kept)
        combined = combined * width + codes
        cardinality *= width
    group_codes, group_keys = pd.factorize(combined)
    first = np.full(len(group_keys), n, dtype=np.int64)
    np.minimum.at(first, group_codes, np.arange(n, dtype=np.int64))

    cells = _EntitlementCells(base_dir)
    rep_codes = {col: codes[first] for col, (codes, _) in per_column.items()}  # per distinct row
    n_rows = len(first)
    merged: list[list[Finding]] = [[] for _ in range(n_rows)]
    errors: dict[int, str] = {}
    targets: dict[int, Target | str] = {}

    def target_of(i: int) -> Target | str:
        if i not in targets:
            row = {col: uniques[rep_codes[col][i]] for col, (_, uniques) in per_column.items()}
            try:
                targets[i] = row_target(row, cells)
            except MacwasmError as err:
                targets[i] = err.message
        return targets[i]

    # A row that cannot be judged (an unknown option value anywhere in it) is an error row, and must not
    # stand for a rule group: the groups below pick their representative among the valid rows only, so
    # one bad product type cannot turn every row that shares its runtime into an error.
    valid = np.ones(n_rows, dtype=bool)
    for i in range(n_rows):
        target = target_of(i)
        if isinstance(target, str):
            errors[i] = target
            valid[i] = False
    positions = np.arange(n_rows, dtype=np.int64)
    ignored = frozenset(ignore)
    for cols, ids in rule_groups(present):
        ids = ids - ignored
        if not ids:
            continue
        key = np.zeros(n_rows, dtype=np.int64)
        for col in cols:
            key = key * (int(rep_codes[col].max()) + 1 if n_rows else 1) + rep_codes[col]
        gcodes, gkeys = pd.factorize(key)
        gfirst = np.full(len(gkeys), n_rows, dtype=np.int64)
        np.minimum.at(gfirst, gcodes[valid], positions[valid])
        judged: list[list[Finding]] = []
        for rep in gfirst:
            chosen = target_of(int(rep)) if rep < n_rows else None
            judged.append(evaluate(chosen, only=ids).findings if isinstance(chosen, Target) else [])
        for row in np.flatnonzero(valid):
            got = judged[gcodes[row]]
            if got:
                merged[row].extend(got)

    ptype_col = per_column.get("product_type")
    summaries = []
    for i in range(n_rows):
        given = ptype_col[1][rep_codes["product_type"][i]] if ptype_col else ""
        given = given if isinstance(given, str) else ""
        if i in errors:
            summaries.append(_summary(None, errors[i], given))
            continue
        findings = sorted(merged[i], key=finding_order)
        inferred = target_of(i) if not given else None
        product_type = given or (inferred.product_type if isinstance(inferred, Target) else "")
        summaries.append(_summarise(product_type, findings))

    out: dict[str, Any] = {"name": frame["name"]}
    for position, column in enumerate(OUTPUT_COLUMNS[1:]):
        values = [s[position] for s in summaries]
        if column in ("errors", "warnings", "infos"):
            out[column] = np.asarray(values, dtype=np.int32)[group_codes]
        else:
            codes, categories = pd.factorize(pd.Series(values, dtype=object))
            out[column] = pd.Categorical.from_codes(codes[group_codes], categories=pd.Index(categories, dtype=object))
    return pd.DataFrame(out, index=frame.index)


def audit_rowwise(frame: pd.DataFrame, *, base_dir: str | None = None, ignore: Iterable[str] = ()) -> pd.DataFrame:
    """The same verdicts with a plain loop: every row parsed and judged on its own (the reference)."""
    rows = []
    for record in frame.to_dict("records"):
        cells = _EntitlementCells(base_dir)  # fresh per row: no sharing between rows
        rows.append((record.get("name"), *judge_row(record, cells, ignore)))
    return pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS), index=frame.index)


def audit_findings(frame: pd.DataFrame, verdicts: pd.DataFrame, *, base_dir: str | None = None,
                   verdicts_kept: Iterable[str] = (FAIL, WARN),
                   ignore: Iterable[str] = ()) -> tuple[list[TargetResult], list[dict[str, Any]]]:
    """Full results for the rows worth reporting (for SARIF), and the rows that could not be judged.

    The vectorised audit keeps only a summary per row; code scanning wants every finding with its
    message, so the rows whose verdict is in ``verdicts_kept`` are judged again one by one (a few
    hundred rows in a real fleet, not a million). Unjudgeable rows come back as error records.
    """
    cells = _EntitlementCells(base_dir)
    keep = set(verdicts_kept)
    results: list[TargetResult] = []
    errors: list[dict[str, Any]] = []
    for record, verdict, top in zip(frame.to_dict("records"), verdicts["verdict"], verdicts["top_finding"],
                                    strict=True):
        if verdict == UNJUDGED:  # the summary of an unjudgeable row holds its error message
            errors.append({"target": str(record.get("name") or "(unnamed)"), "error_category": MALFORMED,
                           "error": top})
        elif verdict in keep:
            results.append(evaluate(row_target(record, cells), ignore=frozenset(ignore)))
    return results, errors
