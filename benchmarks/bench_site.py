#!/usr/bin/env python3
"""The site (``make site``): build time, where the time goes, and what it weighs.

The whole build (``mkdocs build --strict``, as ``make site`` runs it) three times, each into an empty
folder; the generated pages timed on their own (the notebooks through nbconvert, the rule and
runtime pages through the engine); the size of the result by kind of file. Side by side: nbconvert's
own HTML export of the same notebooks (``jupyter nbconvert --to html``, the usual way to share a
notebook as a page), its size and how many scripts and styles each of its pages loads from a CDN,
and the time of ``macwasm rule`` / ``macwasm runtime``, the terminal's view of the same pages.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import site_pages
from run_all import machine_info, macwasm_argv, replace_section, timed

REPO = Path(__file__).resolve().parents[1]

RUNS = 3
CLI_RUNS = 5
_TAG = re.compile(r"<(script|link)\b[^>]*>", re.IGNORECASE)
_REMOTE = re.compile(r"\b(?:src|href)=[\"'](?:https?:)?//", re.IGNORECASE)


def _timed(argv: list[str]) -> float:
    """Wall time of one process that must succeed (run from the repository, as make runs it)."""
    seconds, proc = timed(argv)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stdout[-1500:]!r}{proc.stderr[-1500:]!r}")
    return seconds


def _remote_loads(html: str) -> int:
    """Scripts and stylesheets a page loads from another host (a canonical <link> is not a load)."""
    return sum(1 for m in _TAG.finditer(html) if _REMOTE.search(m.group(0))
               and (m.group(1).lower() == "script" or "stylesheet" in m.group(0).lower()))


def _kind(path: Path) -> str:
    if path.suffix == ".html":
        return "HTML pages"
    if path.suffix in (".png", ".svg", ".jpg"):
        return "images"
    if path.parts and "search" in path.parts:
        return "search index"
    if path.suffix in (".js", ".css", ".map"):
        return "theme scripts and styles"
    return "other"


def _sizes(folder: Path) -> tuple[Counter[str], Counter[str]]:
    size: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for path in folder.rglob("*"):
        if path.is_file():
            kind = _kind(path.relative_to(folder))
            size[kind] += path.stat().st_size
            count[kind] += 1
    return size, count


def _phases() -> list[tuple[str, float]]:
    out = []
    for label, fn in (("notebooks (nbconvert, stored outputs)",
                       lambda: site_pages.notebook_pages(site_pages.notebook_paths(), set())),
                      ("rule pages (examples evaluated)", site_pages.rule_pages),
                      ("runtime pages (verdict per product type)", site_pages.runtime_pages)):
        start = time.perf_counter()
        fn()
        out.append((label, time.perf_counter() - start))
    return out


def _median_cli(args: list[str]) -> float:
    return statistics.median(_timed([*macwasm_argv(), *args]) for _ in range(CLI_RUNS))


def main() -> int:
    os.chdir(REPO)
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        builds = [_timed([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(work / f"s{i}")])
                  for i in range(RUNS)]
        site = work / "s0"
        size, count = _sizes(site)
        pages = count["HTML pages"]
        phases = _phases()
        notebooks = site_pages.notebook_paths()
        nb_out = work / "nbconvert"
        nb_time = _timed([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir", str(nb_out),
                          *map(str, notebooks)])
        nb_pages = sorted(nb_out.glob("*.html"))
        nb_size = sum(p.stat().st_size for p in nb_pages)
        nb_remote = statistics.median(_remote_loads(p.read_text(errors="replace")) for p in nb_pages)
        ours = sum(_remote_loads(p.read_text(errors="replace")) for p in site.rglob("*.html"))
        site_nb_size = sum(p.stat().st_size for p in (site / "notebooks").rglob("*") if p.is_file())
    rule_cli = _median_cli(["rule", "MW101"])
    runtime_cli = _median_cli(["runtime", "wasmtime"])
    total = sum(size.values())
    lines = [
        "## Site build",
        "",
        f"`make site` (`mkdocs build --strict`): {len(notebooks)} notebooks, {pages} HTML pages in all; "
        f"median of {RUNS} builds into an empty folder, `benchmarks/bench_site.py`.",
        "",
        "| what | figure |",
        "|---|---:|",
        f"| whole build, median (min-max) | {statistics.median(builds):.1f} s "
        f"({min(builds):.1f}-{max(builds):.1f} s) |",
        *(f"| of which: {label} | {seconds:.2f} s |" for label, seconds in phases),
        f"| site size | {total / 1e6:.1f} MB in {sum(count.values())} files |",
        *(f"| of which: {kind} | {size[kind] / 1e6:.2f} MB ({count[kind]} files) |"
          for kind in sorted(size, key=lambda k: -size[k])),
        f"| scripts and styles loaded from the network, all pages | {ours} |",
        f"| `macwasm rule MW101` (median of {CLI_RUNS}) | {rule_cli * 1000:.0f} ms |",
        f"| `macwasm runtime wasmtime` (median of {CLI_RUNS}) | {runtime_cli * 1000:.0f} ms |",
        "",
        f"Side by side, the same {len(notebooks)} notebooks through `jupyter nbconvert --to html` (no "
        f"navigation, search or rule pages): {nb_time:.1f} s, {nb_size / 1e6:.1f} MB "
        f"(the site's notebook pages with their charts: {site_nb_size / 1e6:.1f} MB); each page loads "
        f"{nb_remote:.0f} scripts or styles from a CDN (require.js and MathJax in these), so it is incomplete offline.",
        "",
        f"Machine: {machine_info()}.",
    ]
    replace_section("Site build", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
