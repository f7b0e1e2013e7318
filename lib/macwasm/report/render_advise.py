"""``advise``: the plan for a product, as text or one JSON object.

The payload is an :class:`AdviseRun`: the plan and the files ``--write`` wrote. The text says the
target, the verdict as given, the ranking, the options (those that pass; ``--all`` lists every one)
and the recommended option with each binary's entitlements and changes, then where modules go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from macwasm.report.emit import printable
from macwasm.report.formats import RenderOptions
from macwasm.report.schema import versioned
from macwasm.report.text import block
from macwasm.vocabulary import FAIL, IN_PROCESS, INFO

if TYPE_CHECKING:
    from macwasm.policy.advisor import Plan, RuntimeOption
    from macwasm.policy.fixes import WrittenFile


@dataclass
class AdviseRun:
    plan: Plan
    written: list[WrittenFile] = field(default_factory=list)


def json_object(run: AdviseRun, out: TextIO, options: RenderOptions) -> None:
    record = versioned(run.plan.to_dict())
    record["written"] = [w.path for w in run.written]
    out.write(printable(json.dumps(record, indent=2, ensure_ascii=False)) + "\n")


def table(run: AdviseRun, out: TextIO, options: RenderOptions) -> None:
    write_plan_text(run.plan, out, show_failing=options.show_all, quiet=options.quiet)
    for w in run.written:
        out.write(printable(block(f"{w.path} ({w.role})", first="wrote ")))


def _option_line(o: RuntimeOption) -> str:
    ents = ", ".join(o.entitlements) or "no entitlement"
    return f"{o.runtime}, {o.placement_name}: {o.verdict.upper()}; needs {ents}; evidence {o.grade}"


def write_plan_text(plan: Plan, out: TextIO, *, show_failing: bool = False, quiet: bool = False) -> None:
    """The plan as text; ``quiet``: the verdict as given and the recommended option, nothing else."""
    t = plan.target
    w = out.write
    if not quiet:
        basis = f" ({t['product_type_basis']})" if t["product_type_basis"] else ""
        w(printable(block(f"{t['product_type']}{basis}, {t['platform']}, {t['distribution']}, arch {t['arch']}, "
                          f"runtime {t['runtime'] or '-'}, modules {t['module_source'] or '-'} "
                          f"{t['module_kind'] or ''}".rstrip(), first="target: ")))
        for note in plan.notes:
            w(printable(block(note, first="note: ")))
    w(f"verdict as given: {plan.verdict.upper()}\n")
    for f in plan.as_given.findings:
        if f.severity != INFO:
            w(printable(block(f.message, first=f"  {f.severity:<7} {f.rule_id}  ")))
    w("\n")
    if not quiet:
        w(printable(block(plan.ranking)))
        w("\noptions:\n")
        shown = [o for o in plan.options if show_failing or o.verdict != FAIL]
        for n, o in enumerate(shown, start=1):
            w(printable(block(_option_line(o), first=f"  {n:>2}. ", rest="      ")))
            for reason in o.reasons[:2]:
                w(printable(block(reason, first="        - ", rest="          ")))
        hidden = len(plan.options) - len(shown)
        if hidden:
            w(f"  ({hidden} option(s) that fail are not shown; --all lists them)\n")
        w("\n")
    best = plan.recommended
    if best is None:
        w(printable(block(plan.why_none or "No option passes.", first="recommended: none. ")))
    else:
        w(printable(block(_option_line(best), first="recommended: ")))
        if best.placement != IN_PROCESS:
            w(printable(block(best.needs, first="  placement needs: ")))
        for b in best.binaries:
            w(printable(block(f"{b.product_type} at {b.location}; {b.verdict.upper()}",
                              first=f"  {b.role}: ", rest="    ")))
            keys = ", ".join(k for k, v in sorted(b.entitlements.items()) if v is not False) or "(none)"
            w(printable(block(keys, first="    entitlements: ", rest="      ")))
            for c in b.changes:
                sign = {"add": "+", "remove": "-"}.get(c.action, "~")
                w(printable(block(f"{c.key}: {(c.rule_id + ' ' + c.why).strip()}", first=f"    {sign} ",
                                  rest="      ")))
    if quiet:
        return
    m = plan.modules
    w("\n")
    w(printable(block(m.get("where", "-"), first=f"modules ({m['module_source']}): ", rest="  ")))
    for label, key in (("downloads", "downloads"), ("hand-off", "handoff"), ("before loading", "integrity"),
                       ("owner", "owner")):
        if m.get(key):
            w(printable(block(m[key], first=f"  {label}: ", rest="    ")))
