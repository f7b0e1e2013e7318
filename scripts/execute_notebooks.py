#!/usr/bin/env python3
"""Re-execute notebooks in place and store their outputs the way nbval compares them (``make notebooks``).

Why a script and not ``jupyter nbconvert --execute --inplace``: nbconvert also writes per-cell
execution timestamps into the metadata, so every re-run rewrites every cell of the file and hides
the real output changes in review. This runs the same kernel from ``notebooks/`` (paths in the
notebooks are relative to it) and drops those timestamps.

Usage: ``python scripts/execute_notebooks.py [NOTEBOOK.ipynb ...]`` (default: every notebook).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(path: Path, timeout: int = 300) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        print(f"executing {path.name}", file=sys.stderr)
        execute(path.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
