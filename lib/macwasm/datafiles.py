"""Where the project's fact tables are, in a checkout and in an installed package.

The tables have one source: ``data/*.csv`` at the top of the checkout, where reviewers edit them.
A wheel or an sdist install has no checkout, so ``setup.py`` copies every ``data/*.csv`` into the
package as ``macwasm/data/`` at build time (the build step, not a second copy in git). Looked for,
in this order:

1. ``MACWASM_DATA``, a folder named by the user (a reviewer's corrected copy of the tables);
2. ``macwasm/data`` inside the installed package (wheel, sdist, pipx, a pre-commit hook's env);
3. ``data/`` of the checkout the package was imported from (``pip install -e .``, ``PYTHONPATH=lib``).

A table that none of them holds is an :class:`~macwasm.errors.InstallationError` (exit 2, said
once): a broken install, never a "malformed" input.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from macwasm.errors import InstallationError

#: the override, documented in the README
ENV = "MACWASM_DATA"
REPO_ROOT = Path(__file__).resolve().parents[2]
#: every table folder holds this one; it tells a table folder from an empty or unrelated one
MARKER = "rules.csv"


def package_tables() -> Path | None:
    """``macwasm/data`` of the installed package, when the build put the tables there."""
    folder = resources.files("macwasm").joinpath("data")
    return folder if isinstance(folder, Path) and (folder / MARKER).is_file() else None


def checkout_tables() -> Path | None:
    """``data/`` of the checkout this package was imported from, if it was imported from one."""
    folder = REPO_ROOT / "data"
    return folder if (folder / MARKER).is_file() else None


def data_dir() -> Path:
    """The folder the tables are read from (see the module docstring for the order)."""
    override = os.environ.get(ENV)
    if override:
        return Path(override)
    return package_tables() or checkout_tables() or REPO_ROOT / "data"


def data_path(name: str) -> Path:
    """The path of table ``name``; raises :class:`InstallationError` when it is not there."""
    folder = data_dir()
    path = folder / name
    if not path.is_file():
        where = f"{ENV}={folder}" if os.environ.get(ENV) else str(folder)
        raise InstallationError(
            f"macwasm's table {name} is missing (looked in {where}): the installation is incomplete; "
            f"reinstall macwasm, or set {ENV} to a folder that holds the tables")
    return path
