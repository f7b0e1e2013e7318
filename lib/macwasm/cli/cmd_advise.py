"""``macwasm advise [target options]``: the plan that makes a target launch, notarize and load modules.

No file is needed: the target is described by its options and the entitlements it holds now
(``--entitlement``). Exit 0 when a plan was made (the verdict of the target as given is part of
the plan, not a failure of the command), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, TextIO

from macwasm.cli.cmd_check import add_target_options, target_kwargs
from macwasm.cli.common import EXIT_OK, EXIT_USAGE_OR_IO
from macwasm.errors import MacwasmError
from macwasm.report.emit import printable

if TYPE_CHECKING:
    from macwasm.policy.advisor import Plan

FORMATS = ("table", "json")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "advise",
        help="plan entitlements, module placement and runtime for a target",
        description="For a product type, platform, distribution, runtime and module source: the entitlements "
        "to add and remove, where modules go, the runtime options ranked with reasons, and the verdict.",
    )
    add_target_options(parser)
    parser.add_argument("--all", action="store_true", help="list failing runtime options too")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from macwasm.policy.advisor import advise

    try:
        plan = advise(entitlements=args.entitlement, **target_kwargs(args))
    except MacwasmError as err:
        print(f"macwasm advise: {printable(err.message)}", file=sys.stderr)
        return EXIT_USAGE_OR_IO
    if args.format == "json":
        sys.stdout.write(printable(json.dumps(plan.to_dict(), indent=2, ensure_ascii=False)) + "\n")
    else:
        write_plan(plan, sys.stdout, show_failing=args.all)
    return EXIT_OK


def write_plan(plan: Plan, out: TextIO, *, show_failing: bool = False) -> None:
    t = plan.target
    basis = f" ({t['product_type_basis']})" if t["product_type_basis"] else ""
    out.write(printable(f"target: {t['product_type']}{basis}, {t['platform']}, {t['distribution']}, "
                        f"runtime {t['runtime'] or '-'}, arch {t['arch']}, modules {t['module_source'] or '-'}\n"))
    out.write(f"verdict as given: {plan.verdict.upper()}\n")
    for r in plan.reasons:
        if r["severity"] != "info":
            out.write(printable(f"  {r['severity']:<7} {r['rule_id']}  {r['message']}\n"))
    out.write("\nentitlements to remove:\n")
    for change in plan.remove or [{"key": "(none)", "rule_id": "", "why": ""}]:
        out.write(printable(f"  - {change['key']}  {change['rule_id']} {change['why']}\n".rstrip() + "\n"))
    out.write("entitlements to add:\n")
    for change in plan.add or [{"key": "(none)", "rule_id": "", "why": ""}]:
        out.write(printable(f"  + {change['key']}  {change['rule_id']} {change['why']}\n".rstrip() + "\n"))
    m = plan.modules
    out.write(printable(f"\nmodules ({m['module_source']}): {m['where']}\n  covered by: {m['covered_by']}\n"
                        f"  {m['advice']}\n"))
    out.write("\nruntime options (best first):\n")
    shown = [o for o in plan.options if show_failing or o.verdict != "fail"]
    for o in shown:
        ents = ", ".join(o.entitlements) or "no entitlement"
        out.write(printable(f"  {o.rank:>2}. {o.runtime:<24} {o.placement:<21} {o.verdict.upper():<4} "
                            f"[{o.confidence}] needs: {ents}\n"))
        for reason in o.reasons[:3]:
            out.write(printable(f"        - {reason}\n"))
    hidden = len(plan.options) - len(shown)
    if hidden:
        out.write(f"  ({hidden} failing option(s) not shown; --all lists them)\n")
    best = plan.best
    if best:
        out.write(printable(f"\nrecommended: {best.runtime} ({best.placement}) -> {best.verdict.upper()}\n"))
