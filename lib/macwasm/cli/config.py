"""Per-project settings: the ``[tool.macwasm]`` table of the project's ``pyproject.toml``.

So that a CI line stays ``macwasm check App.entitlements``, a project says once what it ships:

.. code-block:: toml

    [tool.macwasm]
    product_type = "network-extension"
    runtime = ["wasmtime"]        # or one name
    arch = "universal"
    distribution = "developer-id"
    ignore = ["MW171"]            # rules left out, as with --ignore
    fail_on = "warning"           # as with --fail-on

The file is the nearest ``pyproject.toml`` with a ``[tool.macwasm]`` table, from the working
directory upward (as ruff finds its settings). An option given on the command line wins over the
file. A key the table does not know, or a value of the wrong type, is a usage error naming the file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from macwasm.errors import UsageError
from macwasm.vocabulary import ARCH_CHOICES, DISTRIBUTIONS, FAIL_ON, product_types

FILE = "pyproject.toml"
#: the table's keys, each with the option it stands for
KEYS = {"product_type": "--product-type", "runtime": "--runtime", "arch": "--arch",
        "distribution": "--distribution", "ignore": "--ignore", "fail_on": "--fail-on"}


@dataclass(frozen=True)
class ProjectConfig:
    """The settings found, and where (``path`` None: no file has a ``[tool.macwasm]`` table)."""

    path: str | None = None
    product_type: str | None = None
    runtime: tuple[str, ...] = ()
    arch: str | None = None
    distribution: str | None = None
    ignore: tuple[str, ...] = ()
    fail_on: str | None = None
    given: frozenset[str] = field(default_factory=frozenset)


def find(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.macwasm]`` table, from ``start`` (the cwd) upward."""
    folder = Path(start or os.getcwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / FILE
        if path.is_file() and _table(path) is not None:
            return path
    return None


def _table(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError:
        return None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"not a readable TOML file: {exc}", path=str(path)) from None
    table = data.get("tool", {}).get("macwasm") if isinstance(data.get("tool"), dict) else None
    return table if isinstance(table, dict) else None


def load(start: str | os.PathLike[str] | None = None) -> ProjectConfig:
    """The project's settings (empty when no ``pyproject.toml`` upward has a ``[tool.macwasm]`` table)."""
    path = find(start)
    if path is None:
        return ProjectConfig()
    table = _table(path) or {}
    where = str(path)
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise UsageError(f"[tool.macwasm] has unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}",
                         path=where)

    def one(key: str, allowed: tuple[str, ...] | None = None) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or (allowed is not None and value not in allowed):
            choices = f"one of {', '.join(allowed)}" if allowed else "a string"
            raise UsageError(f"[tool.macwasm] {key} = {value!r} is not {choices}", path=where)
        return value

    def many(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise UsageError(f"[tool.macwasm] {key} = {value!r} is not a string or a list of strings", path=where)
        return tuple(items)

    return ProjectConfig(path=where, product_type=one("product_type", product_types()), runtime=many("runtime"),
                         arch=one("arch", ARCH_CHOICES), distribution=one("distribution", DISTRIBUTIONS),
                         ignore=many("ignore"), fail_on=one("fail_on", FAIL_ON), given=frozenset(table))
