"""Write the fix: corrected ``.entitlements`` files for each binary of a plan, and a README that says why.

The only writer in macwasm, and it writes only into the folder it is given (created if missing,
never over a file that exists unless ``overwrite``): inputs are never touched. The files are XML
property lists as Xcode writes them, so they can replace the project's ``CODE_SIGN_ENTITLEMENTS``
file; the README lists every change with the rule or reason behind it, and the verdict the binary
gets with the new file.
"""

from __future__ import annotations

import os
import plistlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from macwasm.errors import InputError
from macwasm.policy.advisor import Change, Plan, PlannedBinary, RuntimeOption, apply_findings
from macwasm.policy.engine import TargetResult


@dataclass(frozen=True)
class WrittenFile:
    path: str
    role: str
    product_type: str
    runtimes: tuple[str, ...]


def file_name(role: str) -> str:
    """``container app`` -> ``ContainerApp.entitlements`` (a name a project can keep)."""
    words = re.findall(r"[A-Za-z0-9]+", role.replace("the ", ""))
    return "".join(w[:1].upper() + w[1:] for w in words) + ".entitlements"


def _plist(entitlements: Mapping[str, Any]) -> bytes:
    # false booleans grant nothing and only confuse a reader: the written file holds what is granted
    kept = {k: v for k, v in sorted(entitlements.items()) if v is not False and v is not None}
    return plistlib.dumps(kept, fmt=plistlib.FMT_XML, sort_keys=True)


def _open_new(folder: Path, name: str, overwrite: bool) -> Path:
    path = folder / name
    if path.exists() and not overwrite:
        raise InputError(f"{path} exists; not overwritten (choose an empty folder)", path=str(path))
    return path


def _folder(directory: str | os.PathLike[str]) -> Path:
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder: {exc.strerror or exc}", path=str(folder)) from None
    return folder


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _changes_md(changes: Iterable[Change]) -> list[str]:
    lines = []
    for c in changes:
        sign = {"add": "+", "remove": "-"}.get(c.action, "~")
        because = f"{c.rule_id} {c.why}".strip()
        lines.append(f"- `{sign} {c.key}`: {because}")
    return lines or ["- no change"]


def write_plan(plan: Plan, directory: str | os.PathLike[str], *, option: RuntimeOption | None = None,
               overwrite: bool = False) -> list[WrittenFile]:
    """The entitlements file of every binary of ``option`` (default: the recommended one) and a README.md."""
    chosen = option or plan.recommended
    if chosen is None:
        raise InputError(f"no option passes, so there is no fix to write: {plan.why_none}")
    folder = _folder(directory)
    written = []
    for binary in chosen.binaries:
        path = _open_new(folder, file_name(binary.role), overwrite)
        path.write_bytes(_plist(binary.entitlements))
        written.append(WrittenFile(str(path), binary.role, binary.product_type, binary.runtimes))
    readme = _open_new(folder, "README.md", overwrite)
    readme.write_text(_plan_readme(plan, chosen, written), encoding="utf-8")
    return written


def _binary_md(binary: PlannedBinary, name: str) -> list[str]:
    runs = f", runs {', '.join(binary.runtimes)}" if binary.runtimes else ""
    out = [f"## {binary.role}: `{name}`", "",
           f"{_a(binary.product_type).capitalize()} ({binary.location}){runs}. Verdict with this file: "
           f"**{binary.verdict}**.", "",
           "Changes against the entitlements given:", *(_changes_md(binary.changes)), ""]
    rest = [f"- {f.rule_id} {f.severity}: {f.message}" for f in binary.result.findings if f.severity != "info"]
    if rest:
        out += ["What still needs a look:", *rest, ""]
    return out


def _plan_readme(plan: Plan, option: RuntimeOption, written: list[WrittenFile]) -> str:
    t = plan.target
    lines = ["# Entitlements written by `macwasm advise`", "",
             f"For {_a(t['host_product_type'])} ({t['distribution']}, {t['platform']}, {t['arch']}), modules "
             f"{t['module_source'] or 'bundled'}{', ' + t['module_kind'] if t['module_kind'] else ''}.", "",
             f"Option #{option.rank}: **{option.name}** ({option.runtime}), {option.placement_name}. "
             f"Verdict: **{option.verdict}**.", "", plan.ranking, ""]
    if option.placement != "in-process":
        lines += [f"What this placement needs: {option.needs}", "", f"Evidence: {option.evidence}", ""]
    for binary, file in zip(option.binaries, written, strict=True):
        lines += _binary_md(binary, Path(file.path).name)
    m = plan.modules
    lines += ["## Modules", "", f"Where: {m.get('where', '-')}", ""]
    for label, key in (("Who downloads", "downloads"), ("How they reach the engine", "handoff"),
                       ("Before loading", "integrity"), ("Owner and mode", "owner")):
        if m.get(key):
            lines += [f"{label}: {m[key]}", ""]
    lines += [f"Advice: {m['advice']}", "", f"Sources: {m['source']}", ""]
    return "\n".join(lines)


def write_fixed(results: Iterable[TargetResult], directory: str | os.PathLike[str],
                entitlements_of: Mapping[str, Mapping[str, Any]], *, overwrite: bool = False) -> list[WrittenFile]:
    """For ``check --write-fixed``: each target's entitlements with its findings' removals and additions.

    ``entitlements_of`` maps a target name to the entitlements it was judged with. A target with no
    change to make gets no file; the README lists what changed and why, per target.
    """
    folder = _folder(directory)
    written: list[WrittenFile] = []
    sections: list[str] = []
    used: set[str] = set()
    for result in results:
        ents = dict(entitlements_of.get(result.target) or {})
        changes = apply_findings(ents, result.findings)
        unfixed = [f"- {f.rule_id} {f.severity}: {f.message}" for f in result.findings
                   if f.severity == "error" and not f.remove and not f.add and not f.rename]
        if not changes:
            continue
        base = file_name(Path(result.target.split(" [")[0]).stem or "target")
        name, n = base, 2
        while name in used:
            name, n = base.replace(".entitlements", f"-{n}.entitlements"), n + 1
        used.add(name)
        path = _open_new(folder, name, overwrite)
        path.write_bytes(_plist(ents))
        written.append(WrittenFile(str(path), result.target, result.product_type, result.runtimes))
        sections += [f"## `{name}`: {result.target}", "", f"Checked as {result.product_type}.", "",
                     *(_changes_md(changes)), ""]
        if unfixed:
            sections += ["A change of entitlements does not fix these (see `macwasm advise`):", *unfixed, ""]
    if written:
        readme = _open_new(folder, "README.md", overwrite)
        readme.write_text("\n".join(["# Entitlements written by `macwasm check --write-fixed`", "",
                                     "Each file is the target's entitlements with the changes its findings name. "
                                     "Check them again with the runtime and product type you ship.", "",
                                     *sections]), encoding="utf-8")
    return written
