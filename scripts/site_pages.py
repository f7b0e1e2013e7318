"""The generated pages of the site (``make site``): the notebooks, one page per rule and per runtime.

Nothing here is written to ``docs/``: :mod:`site_hooks` hands these pages to MkDocs as generated
files, so the only copies of the table content are the tables themselves.

- **Notebooks**: every ``notebooks/NN_*.ipynb``, in file-name order (the reading order), converted to
  markdown by nbconvert's ``MarkdownExporter`` from its stored outputs (never executed): charts
  become PNG files beside the page, styled tables stay HTML, widget views (which need a live kernel)
  become a note pointing at the static answer the notebooks print after them. Links to other
  notebooks become links to their pages; links to files of the repository go to the repository.
- **Rules and runtimes**: :mod:`macwasm.report.rule_doc` and :mod:`macwasm.report.runtime_doc` as
  markdown, the same documents ``macwasm rule`` and ``macwasm runtime`` print. A rule whose example
  does not show what it should stops the build (the page would lie).
- **Live blocks** in hand-written pages: ``<!-- macwasm:NAME -->`` on a line of its own is replaced by
  the block NAME of :data:`LIVE_BLOCKS`, computed when the site is built.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from macwasm import PROJECT_URL
from macwasm.report.links import (
    NOTEBOOKS_DIR,
    RULES_INDEX,
    RUNTIMES_INDEX,
    page_link,
    page_path,
    rule_source,
    runtime_source,
)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
#: the notebooks that are pages: numbered, in reading order
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
#: links into the repository from a page go to its files on the forge, at this branch
REPO_BRANCH = "main"
#: lines of a code cell that only steer nbval, not the reader
_NBVAL_LINE = re.compile(r"^\s*#\s*NBVAL_[A-Z_]+.*$\n?", re.MULTILINE)
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_LINK = re.compile(r"(?P<head>\]\()(?P<target>[^)\s]+)(?P<tail>\))")
_LIVE = re.compile(r"^<!-- macwasm:(?P<name>[a-z-]+) -->$", re.MULTILINE)
_H1 = re.compile(r"^# (?P<title>.+)$", re.MULTILINE)
WIDGET_NOTE = ("*Interactive in JupyterLab (`make lab`): the dropdowns above the answer change the question. "
               "This page is rendered from the notebook's stored outputs, so the static answer follows.*")


@dataclass(frozen=True)
class Page:
    """A generated file of the site: its path under the docs folder and its content."""

    src_uri: str
    content: str | bytes
    title: str | None = None  # for the navigation (None: MkDocs takes the page's own)


class SiteError(Exception):
    """The site cannot be built truthfully (an example that no longer shows what its page says)."""


# ---------------------------------------------------------------------------------------------- links

def repo_url(path: str) -> str:
    """A file or folder of the repository on the forge."""
    return f"{PROJECT_URL}/blob/{REPO_BRANCH}/{path}"


def rewrite_link(target: str, here: str, pages: set[str]) -> str:
    """A link of a notebook (``here``: its page) as the site needs it.

    ``NN_x.ipynb`` -> its page; a path that resolves inside the site stays; any other relative path
    is a file of the repository (``../data/rules.csv``) and goes to the forge.
    """
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
        return target
    path, sep, anchor = target.partition("#")
    if path.endswith(".ipynb"):
        path = path[: -len(".ipynb")] + ".md"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(here), path))
    if resolved in pages:
        return path + sep + anchor
    in_repo = posixpath.normpath(posixpath.join(NOTEBOOKS_DIR, target.partition("#")[0]))
    if in_repo.startswith(".."):
        return target
    return repo_url(in_repo) + sep + anchor


def rewrite_links(markdown: str, here: str, pages: set[str]) -> str:
    return _LINK.sub(lambda m: m["head"] + rewrite_link(m["target"], here, pages) + m["tail"], markdown)


# ---------------------------------------------------------------------------------------------- notebooks

def notebook_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    return sorted(folder.glob(NOTEBOOK_GLOB))


def notebook_source(path: Path) -> str:
    return f"{NOTEBOOKS_DIR}/{path.stem}.md"


def _reader_view(nb: Any, here: str, pages: set[str]) -> Any:
    """The notebook as a reader of the page sees it: nbval markers gone, widgets a note, links for the site."""
    from nbformat import v4

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source, here, pages)
        elif cell.cell_type == "code":
            cell.source = _NBVAL_LINE.sub("", cell.source)
            outputs = []
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if _WIDGET_VIEW in data:
                    outputs.append(v4.new_output("display_data", data={"text/markdown": WIDGET_NOTE}))
                    continue
                if "text/markdown" in data:
                    data["text/markdown"] = rewrite_links(data["text/markdown"], here, pages)
                outputs.append(out)
            cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return nb


def notebook_pages(paths: list[Path], pages: set[str]) -> list[Page]:
    """Each notebook as a markdown page (its H1 the title) plus the images its outputs hold."""
    import nbformat
    from nbconvert import MarkdownExporter

    exporter = MarkdownExporter()
    out: list[Page] = []
    for path in paths:
        here = notebook_source(path)
        nb = _reader_view(nbformat.read(path, as_version=4), here, pages)
        files_dir = f"{path.stem}_files"
        body, resources = exporter.from_notebook_node(nb, resources={"unique_key": path.stem,
                                                                     "output_files_dir": files_dir})
        match = _H1.search(body)
        title = match["title"].strip() if match else path.stem
        note = (f"\n\n*This page is the notebook [`notebooks/{path.name}`]({repo_url(f'notebooks/{path.name}')}) "
                "with the outputs stored in it; `make lab` opens it in JupyterLab to run it yourself.*\n")
        body = body[:match.end()] + note + body[match.end():] if match else note + body
        out.append(Page(here, f"---\ntitle: {_yaml_string(title)}\n---\n\n{body}", title))
        for name, data in sorted(resources.get("outputs", {}).items()):
            out.append(Page(posixpath.join(NOTEBOOKS_DIR, name), data))
    return out


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------------- rules, runtimes

def rule_pages() -> list[Page]:
    from macwasm.policy.tables import rules
    from macwasm.report.doc import to_markdown
    from macwasm.report.rule_doc import example_results, rule_doc, rules_index_doc

    out = [Page(RULES_INDEX, to_markdown(rules_index_doc()), "Rules")]
    for rule in rules().values():
        broken = [ex.example for ex in example_results(rule.id) if not ex.holds]
        if broken or len(example_results(rule.id)) != 2:
            lines = ", ".join(f"line {ex.line} ({ex.case})" for ex in broken) or "a case is missing"
            raise SiteError(f"data/rule_examples.csv: the examples of {rule.id} do not show what they should: {lines}")
        out.append(Page(rule_source(rule.id), to_markdown(rule_doc(rule.id)), f"{rule.id} {rule.name}"))
    return out


def runtime_pages() -> list[Page]:
    from macwasm.policy.tables import runtimes
    from macwasm.report.doc import to_markdown
    from macwasm.report.runtime_doc import runtime_doc, runtimes_index_doc

    out = [Page(RUNTIMES_INDEX, to_markdown(runtimes_index_doc()), "Runtimes")]
    out += [Page(runtime_source(name), to_markdown(runtime_doc(name)), name) for name in runtimes()]
    return out


# ---------------------------------------------------------------------------------------------- live blocks

FORUM_ENTITLEMENTS = "tests/fixtures/plists/forum-thread-sysext.entitlements"
#: the forum thread's situation, as the advisor of 00_start_here answers it
FORUM_CASE = {"product_type": "endpoint-security-extension", "distribution": "developer-id", "runtime": "wasmtime",
              "module_source": "downloaded"}


def _forum_check(here: str) -> str:
    """The checker's findings on the thread's own entitlements, as a styled verdict table."""
    import pandas as pd

    from macwasm import policy
    from macwasm.notebook import setup, style_verdicts

    setup()
    (result,) = policy.check(str(REPO / FORUM_ENTITLEMENTS), product_type="app", runtime="wasmtime")
    rows = [{"rule": f'<a href="{page_path(page_link(here, rule_source(f.rule_id)))}">{f.rule_id}</a>',
             "severity": f.severity, "message": f.message} for f in result.findings]
    table = style_verdicts(pd.DataFrame(rows), columns=("severity",)).hide(axis="index")
    return (f"Checked as the app it was (`macwasm check {FORUM_ENTITLEMENTS} --product-type app --runtime wasmtime`),"
            f" verdict **{result.verdict}**:\n\n{table.to_html(escape=False)}\n")


def _forum_plan(here: str) -> str:
    """The advisor's answer for the thread's situation: the verdict table and the plan in a few lines."""
    from macwasm import policy
    from macwasm.notebook import plan_summary, plan_table, setup

    setup()
    plan = policy.advise(**FORUM_CASE)
    summary = plan_summary(plan)
    text = summary.data if hasattr(summary, "data") else str(summary)
    return f"{plan_table(plan, runtime=FORUM_CASE['runtime']).to_html()}\n\n{text}\n"


LIVE_BLOCKS: dict[str, Callable[[str], str]] = {"forum-check": _forum_check, "forum-plan": _forum_plan}


def fill_live_blocks(markdown: str, here: str) -> str:
    """Replace each ``<!-- macwasm:NAME -->`` line by its block (an unknown NAME stops the build)."""
    def block(m: re.Match[str]) -> str:
        if m["name"] not in LIVE_BLOCKS:
            raise SiteError(f"{here}: no live block {m['name']!r} (known: {', '.join(LIVE_BLOCKS)})")
        return LIVE_BLOCKS[m["name"]](here)
    return _LIVE.sub(block, markdown)


# ---------------------------------------------------------------------------------------------- navigation

def navigation(generated: list[Page], static_pages: list[tuple[str, str]]) -> list[Any]:
    """The site's navigation in reading order: the landing page, the notebooks, the rules, the runtimes, the rest."""
    def section(prefix: str) -> list[Any]:
        return [{p.title: p.src_uri} if p.title else p.src_uri for p in generated
                if p.src_uri.startswith(prefix) and p.src_uri.endswith(".md")]

    notebooks = section(f"{NOTEBOOKS_DIR}/")
    return [{"Start": "index.md"}, {"Knowledge base": notebooks},
            {"Rules": section(f"{PurePosixPath(RULES_INDEX).parent}/")},
            {"Runtimes": section(f"{PurePosixPath(RUNTIMES_INDEX).parent}/")},
            *({title: src} for src, title in static_pages)]


def generated_pages(notebooks: list[Path] | None = None) -> list[Page]:
    """Every generated page and file of the site."""
    paths = notebook_paths() if notebooks is None else notebooks
    structured = rule_pages() + runtime_pages()
    known = {p.src_uri for p in structured} | {notebook_source(p) for p in paths} | {"index.md"}
    return notebook_pages(paths, known) + structured
