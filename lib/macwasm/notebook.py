"""What every notebook needs so its stored outputs stay deterministic and read at a glance.

nbval compares stored outputs (``text/plain`` and ``text/html``) byte for byte, so display options
are pinned here once instead of in each notebook, paths are shown relative to the repository (never
absolute: they differ per machine), and verdict tables share one colour scheme.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from macwasm.datafiles import REPO_ROOT

#: colours for verdicts and severities (background, readable in light and dark themes)
VERDICT_COLOURS = {
    "pass": "#c8e6c9",
    "info": "#e3f2fd",
    "warn": "#fff3c4",
    "warning": "#fff3c4",
    "fail": "#ffcdd2",
    "error": "#ffcdd2",
    "unconfirmed": "#eeeeee",
}

#: CSS class put on styled verdict tables; the browser test looks for it
VERDICT_TABLE_CLASS = "macwasm-verdict"


def setup() -> None:
    """Pin pandas display options so every notebook renders tables the same way on every machine."""
    import pandas as pd

    pd.set_option("display.max_rows", 200)
    pd.set_option("display.max_columns", 50)
    pd.set_option("display.width", 120)
    # never cut a cell with "...": a key, a path or a cause is what the reader acts on. Long cells
    # are wrapped by :func:`table` (text and HTML) instead.
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.colheader_justify", "left")
    pd.set_option("display.precision", 3)
    _format_frames_as_tables(pd)
    try:
        import matplotlib

        matplotlib.use("agg")
        matplotlib.rcParams["svg.hashsalt"] = "macwasm"  # stable ids in SVG output
        matplotlib.rcParams["figure.dpi"] = 80
    except ImportError:  # matplotlib is in requirements.txt; a notebook without charts still works
        pass


def _with_index(frame: Any) -> Any:
    """A frame whose index says something (not 0, 1, 2 ...) keeps it as its first columns."""
    import pandas as pd

    default = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
    return frame if default else frame.reset_index()


def _format_frames_as_tables(pd: Any) -> None:
    """Every DataFrame a cell displays renders like :func:`table`: left-aligned, wrapped, never cut.

    pandas right-aligns text and cuts or splits wide frames into blocks; a notebook's stored
    ``text/plain`` output would then be hard to read and to compare. A frame longer than
    ``display.max_rows`` keeps pandas' own (shortened) forms.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    formatters = shell.display_formatter.formatters

    def small(frame: Any) -> bool:
        return len(frame) <= (pd.get_option("display.max_rows") or len(frame))

    def as_text(frame: Any, printer: Any, cycle: bool) -> None:
        printer.text(text_table(_with_index(frame)) if small(frame) else repr(frame))

    def as_html(frame: Any) -> str:
        return style_verdicts(_with_index(frame)).to_html() if small(frame) else frame._repr_html_()

    formatters["text/plain"].for_type(pd.DataFrame, as_text)
    formatters["text/html"].for_type(pd.DataFrame, as_html)


def rel(path: str | os.PathLike[str]) -> str:
    """A path as the reader should see it: relative to the repository root, with forward slashes.

    Absolute paths and ``../`` paths (from ``notebooks/``) are resolved; any other relative path is
    already relative to something the caller knows (a bundle, a module's folder) and stays as given.
    """
    given = Path(path)
    if not given.is_absolute() and given.parts[:1] != ("..",):
        return given.as_posix()
    p = given.resolve()
    try:
        return p.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return Path(path).as_posix()


def repo_path(*parts: str) -> Path:
    """An absolute path inside the repository, whatever the notebook's working directory."""
    return REPO_ROOT.joinpath(*parts)


#: the widest a text cell is before it wraps onto the next line of its row (characters)
CELL_WIDTH = 60
#: how cells read in HTML: left-aligned, top-aligned, wrapped at spaces (never cut with "...")
_CELL_CSS = [("text-align", "left"), ("vertical-align", "top"), ("white-space", "normal"),
             ("max-width", "34em")]


def text_table(frame: Any, *, max_width: int = CELL_WIDTH) -> str:
    """A frame as plain text: left-aligned columns, long cells wrapped at word boundaries, never cut.

    The same layout as the CLI's tables (:func:`macwasm.report.emit.write_table`), so a notebook's
    stored ``text/plain`` output reads like ``macwasm check`` in a terminal.
    """
    from macwasm.report.emit import write_table

    out = io.StringIO()
    columns = [(str(name), (lambda record, i=i: record[i])) for i, name in enumerate(frame.columns)]
    rows = [[_plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    write_table(rows, out, columns, max_width=max_width)
    return out.getvalue().rstrip("\n")


def _plain(value: Any) -> Any:
    """A cell as the HTML table shows it: booleans (numpy's too) as True/False, not the CLI's yes/no."""
    if type(value).__name__ in ("bool", "bool_"):
        return str(bool(value))
    return value


def link_label(url: str) -> str:
    """A short name for an evidence link: ``repo/file:line``, ``forum 805941``, ``Apple: <page>``."""
    m = re.match(r"https://github\.com/[^/]+/([^/]+)/(?:blob|tree)/[^/]+/?(.*?)(?:#L(\d+)(?:-L\d+)?)?$", url)
    if m:
        repo, path, line = m.groups()
        leaf = path.rsplit("/", 1)[-1]
        return f"{repo}/{leaf}" + (f":{line}" if line else "") if leaf else repo
    m = re.match(r"https://github\.com/[^/]+/([^/]+)/(issues|pull)/(\d+)", url)
    if m:
        return f"{m.group(1)} #{m.group(3)}"
    m = re.match(r"https://developer\.apple\.com/forums/thread/(\d+)", url)
    if m:
        return f"forum {m.group(1)}"
    if url.startswith("https://developer.apple.com/"):
        return "Apple: " + url.rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"^https?://(www\.)?", "", url).split("/", 1)[0] if url else ""


def _anchor(url: object) -> str:
    text = str(url)
    if not text.startswith("http"):
        return html.escape(text)
    return f'<a href="{html.escape(text)}" target="_blank">{html.escape(link_label(text))}</a>'


def style_verdicts(frame: Any, columns: tuple[str, ...] = ("verdict", "severity"),
                   links: tuple[str, ...] = ("evidence",), width: int = CELL_WIDTH) -> Any:
    """A table for a notebook: verdict/severity cells coloured, text left-aligned and wrapped, links clickable.

    ``links`` names columns of URLs: the HTML shows a short label (:func:`link_label`) that opens the
    link, the plain text the whole URL. ``width`` is where a plain-text cell wraps (a 64-digit hash
    needs more than the default to stay whole). The table is tagged for the browser test.
    """
    present = [c for c in columns if c in frame.columns]

    def colour(value: object) -> str:
        bg = VERDICT_COLOURS.get(str(value).lower())
        return f"background-color: {bg}" if bg else ""

    styler = _plain_repr_styler_class()(frame)
    styler = styler.map(colour, subset=present) if present else styler
    linked = [c for c in links if c in frame.columns]
    if linked:
        styler = styler.format(_anchor, subset=linked)
    styler.text_width = width
    return (
        styler.set_table_attributes(f'class="{VERDICT_TABLE_CLASS}"')
        .set_table_styles([{"selector": "td", "props": _CELL_CSS}, {"selector": "th", "props": _CELL_CSS}])
        .set_uuid(_table_uuid(frame, present))
        .hide(axis="index")
    )


def table(frame: Any, **options: Any) -> Any:
    """Any frame as a notebook table (see :func:`style_verdicts`): the one way notebooks show tables."""
    return style_verdicts(frame, **options)



def _table_uuid(frame: Any, coloured: list[str]) -> str:
    """Element ids that are stable across runs (nbval compares ``text/html``) yet differ per table.

    A Styler's CSS addresses cells by id (``#T_<uuid>_row0_col1``); in JupyterLab every output of a
    notebook shares one page, so two tables with the same uuid would colour each other's cells.
    A digest of the content gives each distinct table its own ids; identical tables share ids and
    styles, which is harmless.
    """
    digest = hashlib.sha256(frame.to_json(orient="split", default_handler=str).encode())
    digest.update(repr(coloured).encode())
    return f"macwasm_{digest.hexdigest()[:12]}"


@cache
def _plain_repr_styler_class() -> type:
    """A pandas Styler whose plain-text form is the table itself.

    The stock Styler has no ``__repr__``, so the notebook stores ``<...Styler at 0x7f...>`` as its
    ``text/plain`` output: a memory address that changes on every run. Printing the frame instead
    makes that output deterministic and lets nbval compare the data a second time.
    """
    from pandas.io.formats.style import Styler

    class PlainReprStyler(Styler):
        text_width = CELL_WIDTH

        def __repr__(self) -> str:
            return text_table(self.data, max_width=self.text_width)

    return PlainReprStyler


#: colours of the allowed / refused / unconfirmed grid (same family as the verdict colours)
GRID_COLOURS = {
    "yes": "#66bb6a",
    "allowed": "#66bb6a",
    "only-allow-jit": "#ffe082",
    "limited": "#ffe082",
    "no": "#e57373",
    "refused": "#e57373",
    "unconfirmed": "#bdbdbd",
    "n/a": "#ffffff",
}


#: saturated versions of the verdict colours, for bars and lines on a white background
BAR_COLOURS = {
    "pass": "#43a047",
    "info": "#1e88e5",
    "warn": "#f9a825",
    "warning": "#f9a825",
    "fail": "#e53935",
    "error": "#e53935",
    "unconfirmed": "#9e9e9e",
}


def figure_png(fig: Any) -> Any:
    """Render a matplotlib figure as an inline PNG and close it.

    Returning an ``IPython.display.Image`` (instead of the Figure) keeps the stored ``text/plain``
    free of figure sizes and addresses, works with the ``agg`` backend that :func:`setup` selects,
    and frees the figure so later cells start clean. nbval does not compare images.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return Image(data=buffer.getvalue(), format="png")


def category_grid(table: Any, *, title: str, colours: dict[str, str] | None = None,
                  legend_title: str = "") -> Any:
    """Draw a table of category labels (rows x columns) as a coloured grid with the labels written in.

    A heat-map of words rather than numbers: each cell's colour comes from its label, so "refused"
    and "unconfirmed" stand out without a colour scale to decode. Returns the inline PNG.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch

    palette = {**GRID_COLOURS, **(colours or {})}
    labels = [[str(v) for v in row] for row in table.to_numpy()]
    rgb = [[to_rgb(palette.get(v, "#ffffff")) for v in row] for row in labels]
    height = 0.45 * len(table.index) + 1.6
    widest = max((len(v) for row in labels for v in row), default=8)
    width = max(1.25, 0.075 * widest) * len(table.columns) + 4.5
    fig, ax = plt.subplots(figsize=(width, height))
    ax.imshow(rgb, aspect="auto", interpolation="nearest")
    for y, row in enumerate(labels):
        for x, value in enumerate(row):
            ax.text(x, y, value, ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(table.columns)), [str(c) for c in table.columns], rotation=30, ha="right")
    ax.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    ax.set_xticks([x - 0.5 for x in range(1, len(table.columns))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(table.index))], minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    ax.set_title(title)
    used = sorted({v for row in labels for v in row})
    ax.legend(handles=[Patch(facecolor=palette.get(v, "#ffffff"), edgecolor="grey", label=v) for v in used],
              title=legend_title or None, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return figure_png(fig)


def count_bars(counts: Any, *, title: str, xlabel: str = "", ylabel: str = "count",
               colours: dict[str, str] | None = None, stacked: bool = False) -> Any:
    """Bar chart of a count Series (one bar per label) or DataFrame (one group per row).

    Colours follow the verdict colours when the labels are verdicts, so a chart and a styled table
    agree at a glance. Returns the inline PNG.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    palette = BAR_COLOURS | (colours or {})
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    if isinstance(counts, pd.Series):
        names = [str(i) for i in counts.index]
        ax.bar(names, counts.to_numpy(), color=[palette.get(n.lower(), "#90a4ae") for n in names],
               edgecolor="black", linewidth=0.5)
        for x, value in enumerate(counts.to_numpy()):
            ax.annotate(f"{value:,}", (x, value), ha="center", va="bottom", fontsize=8)
    else:
        colour_list = [palette.get(str(c).lower(), None) for c in counts.columns]
        counts.plot.bar(ax=ax, stacked=stacked, edgecolor="black", linewidth=0.5,
                        color=colour_list if all(colour_list) else None)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return figure_png(fig)


def choice_panel(choices: dict[str, list[str]], default: dict[str, str], answer: Any) -> Any:
    """Dropdowns (one per choice) above an output area that shows ``answer(**selection)`` (or each item
    of the tuple it returns).

    Generic on purpose: the notebook decides what the choices are and what the answer is (a call into
    the policy engine), so this helper holds no policy knowledge. The first answer is rendered at
    once, so the panel is never empty; every change re-renders it.
    """
    import ipywidgets as widgets
    from IPython.display import display

    dropdowns = {
        name: widgets.Dropdown(options=options, value=default.get(name, options[0]),
                               description=name.replace("_", " "),
                               style={"description_width": "9em"},
                               layout=widgets.Layout(width="34em"))
        for name, options in choices.items()
    }
    output = widgets.Output()

    def refresh(_change: object = None) -> None:
        output.clear_output(wait=True)
        result = answer(**{name: box.value for name, box in dropdowns.items()})
        with output:
            for item in result if isinstance(result, tuple) else (result,):
                display(item)

    for box in dropdowns.values():
        box.observe(refresh, names="value")
    refresh()
    return widgets.VBox([*dropdowns.values(), output])


#: Apple's usual key prefixes, dropped where a table lists many keys (the rest still names the key)
KEY_PREFIXES = ("com.apple.security.cs.", "com.apple.security.", "com.apple.developer.")


def short_key(key: str) -> str:
    """``com.apple.developer.endpoint-security.client`` -> ``endpoint-security.client``."""
    for prefix in KEY_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def plan_table(plan: Any, *, runtime: str | None = None, alternatives: int = 3) -> Any:
    """An advisor plan as one styled verdict table: the recommended option, the reader's runtime, the next best.

    The recommended option comes first, then the options of the reader's runtime (``runtime``), then the
    best-ranked others, so a ``fail`` always comes with a way out. Entitlement keys lose Apple's common
    prefix (:func:`short_key`) for reading.
    """
    import pandas as pd

    picked: list[Any] = [plan.recommended] if plan.recommended else []
    picked += [o for o in plan.options if runtime and o.runtime == runtime and o not in picked]
    picked += [o for o in plan.options if o not in picked][:alternatives]
    rows = [{"rank": o.rank,
             "option": "recommended" if o is plan.recommended else "your runtime" if o.runtime == runtime
             else "alternative",
             "runtime": o.runtime, "placement": o.placement_name, "verdict": o.verdict,
             "entitlements for the engine": ", ".join(short_key(k) for k in o.entitlements) or "none",
             "evidence": o.grade}
            for o in picked]
    return style_verdicts(pd.DataFrame(rows, columns=["rank", "option", "runtime", "placement", "verdict",
                                                      "entitlements for the engine", "evidence"]))


def binaries_table(option: Any) -> Any:
    """The binaries of one option: what each is, the keys it is signed with (false ones left out: they grant
    nothing), what changed, its verdict."""
    import pandas as pd

    rows = [{"binary": b.role, "product type": b.product_type, "verdict": b.verdict,
             "entitlements": ", ".join(short_key(k) for k, v in sorted(b.entitlements.items()) if v is not False)
             or "(none)",
             "changes": "; ".join(f"{'+' if c.action == 'add' else '-'}{short_key(c.key)}" for c in b.changes)
             or "none"}
            for b in option.binaries]
    return style_verdicts(pd.DataFrame(rows, columns=["binary", "product type", "verdict", "entitlements",
                                                      "changes"]))


def plan_summary(plan: Any) -> Any:
    """The advisor's plan in a few Markdown lines: the verdict as given, the recommendation, where modules go."""
    from IPython.display import Markdown

    why = [f"{f.rule_id} {f.severity}" for f in plan.as_given.findings if f.severity != "info"]
    lines = [f"**As given**: verdict `{plan.verdict}`{' (' + ', '.join(why) + ')' if why else ''}."]
    best = plan.recommended
    if best is None:
        lines.append(f"**Recommended**: none. {plan.why_none}")
    else:
        keys = ", ".join(f"`{k}`" for k in best.entitlements) or "no entitlement"
        lines.append(f"**Recommended** (#{best.rank}): {best.name}, {best.placement_name}, needs {keys}; "
                     f"verdict `{best.verdict}`.")
    m = plan.modules
    lines.append(f"**Modules** ({m['module_source']}): {m.get('where', '-')}"
                 + (f" Hand-off: {m['handoff']}" if m.get("handoff") else ""))
    lines.append(f"*{plan.ranking}*")
    class ComparedMarkdown(Markdown):
        """Markdown whose plain-text form is its text, so nbval compares the plan, not a class name."""

        def __repr__(self) -> str:
            return text

    text = "\n\n".join(lines)
    # placeholders such as <bundle id> would be read as HTML tags and vanish
    return ComparedMarkdown(text.replace("<", "&lt;").replace(">", "&gt;"))


def findings_table(result: Any, *, info: bool = True, subject: bool = False) -> Any:
    """The findings of one check result: rule, severity, grade (how the facts behind it are known), message."""
    import pandas as pd

    rows = []
    for f in result.findings:
        if f.severity == "info" and not info:
            continue
        row = {"rule": f.rule_id, "severity": f.severity, "grade": f.grade, "message": f.message}
        if subject:
            row["file"] = rel(f.subject) if f.subject else "-"
        rows.append(row)
    columns = ["rule", "severity", "grade", "message"] + (["file"] if subject else [])
    return style_verdicts(pd.DataFrame(rows, columns=columns))


def results_table(results: Any, *, group: bool = False) -> Any:
    """One row per check result: what was checked, as what, with which engines, the verdict, the rules that fired.

    ``group`` shows an Xcode result by project, target and configuration, with the file its errors
    point at (the ``.entitlements`` file a pull request changes).
    """
    import pandas as pd

    rows = []
    for r in results:
        errors = [f for f in r.findings if f.severity == "error"]
        row: dict[str, Any] = {}
        if group and r.group:
            g = dict(r.group)
            row.update({"project": rel(g.get("project", "")).rsplit("/", 1)[-1], "target": g.get("xcode_target", ""),
                        "configuration": g.get("configuration", "")})
        else:
            row["target"] = rel(r.target)
        row.update({"checked as": r.product_type, "engines": ", ".join(r.runtimes) or "-", "verdict": r.verdict,
                    "errors": " ".join(dict.fromkeys(f.rule_id for f in errors)) or "-",
                    "warnings": " ".join(dict.fromkeys(f.rule_id for f in r.findings if f.severity == "warning"))
                    or "-"})
        if group:
            row["file"] = ", ".join(dict.fromkeys(rel(f.subject) for f in errors if f.subject)) or "-"
        rows.append(row)
    return style_verdicts(pd.DataFrame(rows))


def checks_table(cases: list[dict[str, Any]]) -> Any:
    """Check several cases and show one row each: the case, what it was checked as, the verdict, the findings.

    Each case is ``{"case": label, **keyword arguments of macwasm.policy.check}``; the findings shown
    are the warnings and errors, with their rule titles.
    """
    import pandas as pd

    from macwasm.policy import check

    rows = []
    for case in cases:
        kwargs = {k: v for k, v in case.items() if k != "case"}
        (result,) = check(**kwargs)
        runtime = kwargs.get("runtime")
        rows.append({"case": case["case"], "checked as": result.product_type,
                     "runtime": ", ".join(runtime) if isinstance(runtime, (list, tuple)) else runtime or "-",
                     "verdict": result.verdict,
                     "errors and warnings": "; ".join(dict.fromkeys(f"{f.rule_id} {f.title}" for f in result.findings
                                                                    if f.severity != "info")) or "-"})
    return style_verdicts(pd.DataFrame(rows))


#: the module facts of a plan, in the order a reader asks them
_MODULE_FACTS = (("runs in", "runs_in"), ("where", "where"), ("owner and mode", "owner"),
                 ("who downloads", "downloads"), ("how they reach the engine", "handoff"),
                 ("before loading", "integrity"), ("covered by", "covered_by"), ("grade", "grade"))


def modules_table(plans: Any) -> Any:
    """Where a plan's modules live for the binary that runs them, who fetches them, how they get there.

    ``plans`` is one plan (a question/answer table) or ``{label: plan}`` (one column per label, to
    compare products side by side). A question a plan does not answer shows ``-``.
    """
    import pandas as pd

    labelled = plans if isinstance(plans, dict) else {"answer": plans}
    rows = []
    for label, key in (*_MODULE_FACTS, ("sources", "source")):
        answers = {name: str(plan.modules.get(key) or "-") for name, plan in labelled.items()}
        if any(a != "-" for a in answers.values()):
            rows.append({"question": label, **answers})
    return style_verdicts(pd.DataFrame(rows, columns=["question", *labelled]))


def written_table(written: Any, folder: str | os.PathLike[str]) -> Any:
    """The files ``write_plan`` wrote: name (relative to ``folder``), binary, product type, engines, keys."""
    import pandas as pd

    from macwasm.signing.plist import read_entitlements_file

    rows = []
    for w in written:
        keys, _ = read_entitlements_file(w.path)
        rows.append({"file": Path(w.path).relative_to(folder).as_posix(), "binary": w.role,
                     "product type": w.product_type, "engines": ", ".join(w.runtimes) or "-",
                     "entitlements": ", ".join(sorted(keys)) or "(none)"})
    return style_verdicts(pd.DataFrame(rows))


def sarif_table(sarif: dict[str, Any], *, levels: tuple[str, ...] = ("error", "warning", "note"),
                limit: int | None = None, target: bool = True) -> Any:
    """A SARIF log's results as code scanning shows them: file and line, level, rule, the cause.

    The message of a macwasm result names its target first and ends with the fix; the table keeps
    the target in its own column (``target=False`` leaves it out, where the file says enough) and shows
    the cause between them, whole. Identical annotations (the same file, line, rule and cause for Debug
    and Release) are shown once.
    """
    import pandas as pd

    rows = []
    for result in sarif["runs"][0]["results"]:
        if result["level"] not in levels:
            continue
        where = (result.get("locations") or [{}])[0].get("physicalLocation", {})
        text = result["message"]["text"]
        name = result.get("properties", {}).get("target", "")
        cause = text[len(name) + 2:] if name and text.startswith(f"{name}: ") else text
        rows.append({"file": where.get("artifactLocation", {}).get("uri", "-"),
                     "line": where.get("region", {}).get("startLine", "-"), "level": result["level"],
                     "rule": result["ruleId"], "target": name or "-", "message": cause.split(" Fix: ", 1)[0]})
    frame = pd.DataFrame(rows, columns=["file", "line", "level", "rule", "target", "message"])
    frame = frame.drop_duplicates(["file", "line", "rule", "message"])
    dropped = ([] if target else ["target"]) + (["file", "line"] if (frame["file"] == "-").all() else [])
    frame = frame.drop(columns=dropped)
    return style_verdicts(frame.head(limit) if limit else frame, columns=("level",))
