"""What every notebook needs so its stored outputs stay deterministic and read at a glance.

nbval compares stored outputs (``text/plain`` and ``text/html``) byte for byte, so display options
are pinned here once instead of in each notebook, paths are shown relative to the repository (never
absolute: they differ per machine), and verdict tables share one colour scheme.
"""

from __future__ import annotations

import os
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
    pd.set_option("display.max_colwidth", 80)
    pd.set_option("display.precision", 3)
    try:
        import matplotlib

        matplotlib.use("agg")
        matplotlib.rcParams["svg.hashsalt"] = "macwasm"  # stable ids in SVG output
        matplotlib.rcParams["figure.dpi"] = 80
    except ImportError:  # matplotlib is in requirements.txt; a notebook without charts still works
        pass


def rel(path: str | os.PathLike[str]) -> str:
    """A path as the reader should see it: relative to the repository root, with forward slashes."""
    p = Path(path).resolve()
    try:
        return p.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return Path(path).as_posix()


def repo_path(*parts: str) -> Path:
    """An absolute path inside the repository, whatever the notebook's working directory."""
    return REPO_ROOT.joinpath(*parts)


def style_verdicts(frame: Any, columns: tuple[str, ...] = ("verdict", "severity")) -> Any:
    """A pandas Styler that colours verdict/severity cells and tags the table for the browser test."""
    present = [c for c in columns if c in frame.columns]

    def colour(value: object) -> str:
        bg = VERDICT_COLOURS.get(str(value).lower())
        return f"background-color: {bg}" if bg else ""

    styler = frame.style.map(colour, subset=present) if present else frame.style
    return (
        styler.set_table_attributes(f'class="{VERDICT_TABLE_CLASS}"')
        .set_uuid("macwasm")  # stable element ids so nbval's text/html comparison is deterministic
        .hide(axis="index")
    )
