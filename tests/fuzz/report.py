"""Rewrite the figures in ``tests/fuzz/README.md`` from the code and the last fuzzing runs.

The limits table comes from :data:`macwasm.limits.LIMITS` (so the documentation cannot drift from
what the readers enforce) and the run figures from ``.cache/fuzz/stats.jsonl`` written by
``run_atheris.py``. Run after ``make fuzz``: ``python -m tests.fuzz.report``.
"""

from __future__ import annotations

import json
from pathlib import Path

from macwasm.limits import LIMITS

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
STATS = HERE.parents[1] / ".cache" / "fuzz" / "stats.jsonl"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


def limits_table() -> str:
    rows = ["| limit | value | unit | caps | source |", "|---|---:|---|---|---|"]
    rows += [f"| `{lim.name}` | {lim.value:,} | {lim.unit} | {lim.caps} | {lim.source} |" for lim in LIMITS]
    return "\n".join(rows)


def runs_table() -> str:
    if not STATS.exists():
        return "_No long run recorded on this machine yet: run `make fuzz`._"
    latest: dict[str, dict] = {}
    for line in STATS.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("seconds", 0) >= 20:  # long runs only, not the 3-second pass of make test
            latest[rec["target"]] = rec
    rows = ["| target | date | seconds | executions | corpus inputs | kept (small) | crashed |",
            "|---|---|---:|---:|---:|---:|---|"]
    for name in sorted(latest):
        r = latest[name]
        rows.append(f"| {name} | {r['date']} | {r['seconds']:.0f} | {r['executions'] or 0:,} | "
                    f"{r['corpus_files']:,} | {r.get('kept', '-')} | {'yes' if r['crashed'] else 'no'} |")
    return "\n".join(rows)


def main() -> int:
    text = README.read_text()
    body = f"{BEGIN}\n\n### Last long run\n\n{runs_table()}\n\n### Limits\n\n{limits_table()}\n\n{END}"
    start, end = text.find(BEGIN), text.find(END)
    text = text[:start] + body + text[end + len(END):] if start >= 0 and end >= 0 else text + "\n" + body + "\n"
    README.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
