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

Every reader of a table goes through :func:`read_rows` (the rows as strings, with their line, each
with its source), and checks a cell with :func:`check_value` / :func:`int_value`; a fault is a
:class:`~macwasm.errors.TableFormatError` naming the table file and the line (:func:`table_error`).
Tables are cached per folder: :func:`table_key` is the cache key (a reviewer's copy named with
``MACWASM_DATA`` is honoured without a restart). Notebooks read them as frames with
:func:`macwasm.policy.frames.frame`, found the same way.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from macwasm.errors import InstallationError, TableFormatError

#: one row of a table: its 1-based line in the file (the header is line 1) and its cells, stripped
Row = tuple[int, dict[str, str]]

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


def table_key() -> str:
    """What the table caches are keyed on: the ``MACWASM_DATA`` override ("" for the installed tables).

    Building a path per call would dominate an evaluation; the override is what can change at run time.
    """
    return os.environ.get(ENV, "")


def table_error(name: str, reason: str, line: int | None = None) -> TableFormatError:
    """The error for a fault in table ``name`` (at ``line`` when one row is at fault)."""
    where = f"line {line}: " if line is not None else ""
    return TableFormatError(where + reason, path=str(data_path(name)))


def parse_rows(text: str, columns: Iterable[str], *, path: str | None = None, exact: bool = False,
               source_column: str | None = "source") -> list[Row]:
    """The rows of CSV ``text`` that must have ``columns`` (all of them, and no others when ``exact``).

    Every row needs its ``source_column`` (None: no such rule), because a fact without its source
    cannot be reviewed. Cells are stripped; a missing cell is "".
    """
    wanted = tuple(columns)
    try:
        reader = csv.DictReader(io.StringIO(text))
        found = tuple(reader.fieldnames or ())
        if exact and found != wanted:
            raise TableFormatError(f"expected columns {','.join(wanted)}, got {','.join(found)}", path=path,
                                   offset=0)
        missing = [c for c in wanted if c not in found]
        if missing:
            raise TableFormatError(f"missing column(s) {', '.join(missing)}", path=path)
        rows: list[Row] = []
        line = reader.line_num + 1  # the line a record starts on (a quoted cell may hold line breaks)
        for row in reader:
            rows.append((line, {k: (v or "").strip() for k, v in row.items() if k is not None}))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise TableFormatError(f"not a readable CSV table: {exc}", path=path) from None
    if source_column is not None:
        for line, row in rows:
            if not row.get(source_column):
                raise TableFormatError(f"line {line}: every fact needs its {source_column}", path=path)
    return rows


def read_text(name: str) -> tuple[str, str]:
    """``(text, path)`` of table ``name`` (UTF-8); an unreadable file is a TableFormatError, a missing one an
    InstallationError."""
    path = data_path(name)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise TableFormatError(f"cannot read the table: {exc.strerror or exc}", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise TableFormatError(f"not a readable CSV table: {exc}", path=str(path)) from None


def read_rows(name: str, columns: Iterable[str], *, source_column: str | None = "source",
              exact: bool = False) -> list[Row]:
    """The rows of table ``name`` (see :func:`parse_rows`)."""
    text, path = read_text(name)
    return parse_rows(text, columns, path=path, exact=exact, source_column=source_column)


def check_value(name: str, line: int, column: str, value: str, allowed: Iterable[str]) -> str:
    """``value`` if it is one of ``allowed``; else the table's error naming the line, the column and the choices."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise table_error(name, f"{column} {value!r} is not one of {', '.join(allowed)}", line)
    return value


def int_value(name: str, line: int, column: str, value: str) -> int | None:
    """An integer cell (None when empty)."""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise table_error(name, f"{column} {value!r} is not a number", line) from None


def list_value(text: str, *, everything: tuple[str, ...] = ("", "*")) -> tuple[str, ...]:
    """A ``;``-separated cell as a tuple; a cell in ``everything`` ("" or "*": no restriction) is ()."""
    if text in everything:
        return ()
    return tuple(part.strip() for part in text.split(";") if part.strip())
