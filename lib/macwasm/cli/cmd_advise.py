"""``macwasm advise [target options]``: what to ship so a product launches, notarizes and loads its modules.

No file is needed: the product is described by its options, the entitlements it holds now
(``--entitlement``) and the modules it loads (``--module``). ``--write DIR`` writes the corrected
``.entitlements`` file of every binary of the recommended option (or ``--option N``) and a README.
Exit 0 when a plan was made (the verdict as given is part of the plan, not a failure of the
command), 1 when no option passes, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, TextIO

from macwasm.cli.cmd_check import add_target_options, target_kwargs
from macwasm.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE_OR_IO
from macwasm.errors import MacwasmError
from macwasm.report.emit import printable
from macwasm.report.text import block

if TYPE_CHECKING:
    from macwasm.policy.advisor import Plan, RuntimeOption

FORMATS = ("table", "json")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "advise",
        help="plan runtime, placement, entitlements and module storage for a product, and write the fix",
        description="For a product type, distribution, architecture and the modules it loads: every runtime in "
        "every placement the product may use, judged after the plan's own changes, ranked (the criterion is "
        "printed), with the entitlements of each binary, where modules go, and the recommended option.",
    )
    add_target_options(parser)
    parser.add_argument("--module", action="append", default=[], metavar="M.wasm",
                        help="a module the product loads (repeatable): its kind and proposals are judged")
    parser.add_argument("--all", action="store_true", help="list the options that do not pass too")
    parser.add_argument("--option", type=int, default=None, metavar="N",
                        help="with --write: write option N instead of the recommended one")
    parser.add_argument("--write", default=None, metavar="DIR",
                        help="write the entitlements file of each binary of the option, and a README.md, into DIR")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from macwasm.policy.advisor import advise
    from macwasm.policy.fixes import write_plan

    try:
        plan = advise(entitlements=args.entitlement, module=args.module, **target_kwargs(args))
        written = []
        if args.write:
            option = plan.option(args.option) if args.option else None
            written = write_plan(plan, args.write, option=option)
    except (MacwasmError, IndexError) as err:
        text = err.message if isinstance(err, MacwasmError) else str(err)
        print(f"macwasm advise: {printable(text)}", file=sys.stderr)
        return EXIT_USAGE_OR_IO
    if args.format == "json":
        record = plan.to_dict()
        record["written"] = [w.path for w in written]
        sys.stdout.write(printable(json.dumps(record, indent=2, ensure_ascii=False)) + "\n")
    else:
        write_plan_text(plan, sys.stdout, show_failing=args.all)
        for w in written:
            sys.stdout.write(printable(block(f"{w.path} ({w.role})", first="wrote ")))
    return EXIT_OK if plan.recommended is not None else EXIT_FINDINGS


def _option_line(o: RuntimeOption) -> str:
    ents = ", ".join(o.entitlements) or "no entitlement"
    return f"{o.runtime}, {o.placement_name}: {o.verdict.upper()}; needs {ents}; evidence {o.grade}"


def write_plan_text(plan: Plan, out: TextIO, *, show_failing: bool = False) -> None:
    t = plan.target
    w = out.write
    basis = f" ({t['product_type_basis']})" if t["product_type_basis"] else ""
    w(printable(block(f"{t['product_type']}{basis}, {t['platform']}, {t['distribution']}, arch {t['arch']}, "
                      f"runtime {t['runtime'] or '-'}, modules {t['module_source'] or '-'} "
                      f"{t['module_kind'] or ''}".rstrip(), first="target: ")))
    for note in plan.notes:
        w(printable(block(note, first="note: ")))
    w(f"verdict as given: {plan.verdict.upper()}\n")
    for f in plan.as_given.findings:
        if f.severity != "info":
            w(printable(block(f.message, first=f"  {f.severity:<7} {f.rule_id}  ")))
    w("\n")
    w(printable(block(plan.ranking)))
    w("\noptions:\n")
    shown = [o for o in plan.options if show_failing or o.verdict != "fail"]
    for n, o in enumerate(shown, start=1):
        w(printable(block(_option_line(o), first=f"  {n:>2}. ", rest="      ")))
        for reason in o.reasons[:2]:
            w(printable(block(reason, first="        - ", rest="          ")))
    hidden = len(plan.options) - len(shown)
    if hidden:
        w(f"  ({hidden} option(s) that fail are not shown; --all lists them)\n")
    best = plan.recommended
    w("\n")
    if best is None:
        w(printable(block(plan.why_none or "No option passes.", first="recommended: none. ")))
    else:
        w(printable(block(_option_line(best), first="recommended: ")))
        if best.placement != "in-process":
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
    m = plan.modules
    w("\n")
    w(printable(block(m.get("where", "-"), first=f"modules ({m['module_source']}): ", rest="  ")))
    for label, key in (("downloads", "downloads"), ("hand-off", "handoff"), ("before loading", "integrity"),
                       ("owner", "owner")):
        if m.get(key):
            w(printable(block(m[key], first=f"  {label}: ", rest="    ")))
