"""Every output format of every command, in one registry: ``(command, format) -> renderer``.

A command builds what it has to say (records, results, a plan, a report) and hands it to
:func:`render` with the format the user asked for; the renderer writes it. ``--format``'s choices
are this registry's (:func:`formats`), so a format registered here is one ``--format`` takes, and
nothing else in the CLI lists formats. A renderer is named as ``"module:function"`` and imported
only when it runs: ``macwasm --help`` and the choices cost no import of SARIF or pandas code.

A renderer is ``function(payload, out, options) -> None``; the payload is the command's (see each
``report/render_*.py``). ``machine`` formats are read by programs: no progress line, no info
lines on stdout, and the JSON ones validate against ``macwasm/schemas/<command>.schema.json``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from macwasm.errors import UsageError


@dataclass(frozen=True)
class RenderOptions:
    """What a renderer may need beyond the payload, from the command line."""

    #: findings only: no info-severity findings, no summary or notes (``-q``)
    quiet: bool = False
    #: where relative paths and URIs start (SARIF's ``%SRCROOT%``, GitHub annotations' ``file=``); None: the cwd
    root: str | None = None
    #: advise: list the options that do not pass too (``--all``)
    show_all: bool = False
    #: where a renderer says what the output itself cannot (stderr); None: nowhere
    say: Callable[[str], None] | None = None


Renderer = Callable[[Any, TextIO, RenderOptions], None]


@dataclass(frozen=True)
class OutputFormat:
    command: str
    name: str
    #: ``"module:function"``, imported when the format is used
    renderer: str
    #: read by programs (JSON, CSV, SARIF, annotations): no progress, no info lines
    machine: bool
    #: one line for ``--help``
    summary: str

    def load(self) -> Renderer:
        module, _, function = self.renderer.partition(":")
        found: Renderer = getattr(importlib.import_module(module), function)
        return found


_REGISTRY: dict[str, dict[str, OutputFormat]] = {}


def register(command: str, name: str, renderer: str, *, machine: bool, summary: str) -> OutputFormat:
    """Add (or replace) ``name`` to ``command``'s formats; the first one registered is the default."""
    fmt = OutputFormat(command, name, renderer, machine, summary)
    _REGISTRY.setdefault(command, {})[name] = fmt
    return fmt


def unregister(command: str, name: str) -> None:
    """Take a format away again (for tests that register one)."""
    _REGISTRY.get(command, {}).pop(name, None)


def formats(command: str) -> tuple[str, ...]:
    """``--format``'s choices for ``command``, the default first."""
    return tuple(_REGISTRY.get(command, {}))


def default_format(command: str) -> str:
    return formats(command)[0]


def output_format(command: str, name: str) -> OutputFormat:
    try:
        return _REGISTRY[command][name]
    except KeyError:
        raise UsageError(f"{command} has no format {name!r}; expected one of "
                         f"{', '.join(formats(command))}") from None


def format_help(command: str) -> str:
    """What ``--format`` says in ``--help``: each format and what it is."""
    return "; ".join(f"{f.name}: {f.summary}" for f in _REGISTRY.get(command, {}).values())


def render(command: str, name: str, payload: Any, out: TextIO, options: RenderOptions | None = None) -> None:
    """Write ``payload`` in format ``name`` of ``command`` to ``out``."""
    output_format(command, name).load()(payload, out, options or RenderOptions())


# ------------------------------------------------------------------------------------ the registry
# One line per (command, format). Adding a format is a renderer in report/ and a line here (and, for a
# JSON one, the schema in macwasm/schemas/); CONTRIBUTING.md says how.
_R = "macwasm.report."

register("inspect", "table", _R + "render_records:inspect_table", machine=False, summary="one row per file")
register("inspect", "json", _R + "render_records:json_array", machine=True, summary="one array of records")
register("inspect", "jsonl", _R + "render_records:json_lines", machine=True, summary="one record per line")

register("entitlements", "table", _R + "render_records:entitlements_table", machine=False,
         summary="one row per input")
register("entitlements", "json", _R + "render_records:json_array", machine=True, summary="one array of records")
register("entitlements", "jsonl", _R + "render_records:json_lines", machine=True, summary="one record per line")

register("check", "table", _R + "render_check:table", machine=False,
         summary="a block per target, each finding with its fix and reference")
register("check", "json", _R + "render_check:json_array", machine=True, summary="one record per target")
register("check", "jsonl", _R + "render_check:json_lines", machine=True, summary="one record per line")
register("check", "sarif", _R + "render_check:sarif", machine=True, summary="SARIF 2.1.0 for code scanning")
register("check", "github", _R + "render_check:github", machine=True,
         summary="GitHub Actions workflow annotations (::error file=...)")

register("audit", "table", _R + "render_audit:table", machine=False, summary="the verdict table")
register("audit", "csv", _R + "render_audit:csv", machine=True, summary="the verdict table as CSV")
register("audit", "json", _R + "render_audit:json_array", machine=True, summary="one record per row")
register("audit", "sarif", _R + "render_audit:sarif", machine=True,
         summary="the failing and warning rows' findings as SARIF 2.1.0")
register("audit", "github", _R + "render_audit:github", machine=True,
         summary="GitHub Actions workflow annotations at the rows' lines")

register("advise", "table", _R + "render_advise:table", machine=False, summary="the plan as text")
register("advise", "json", _R + "render_advise:json_object", machine=True, summary="the plan as one object")

register("explain", "table", _R + "render_explain:table", machine=False,
         summary="a block per recognised message")
register("explain", "json", _R + "render_explain:json_object", machine=True, summary="the report as one object")

for _command in ("rule", "runtime"):
    register(_command, "text", _R + "render_doc:text", machine=False, summary="the page, wrapped for the terminal")
    register(_command, "markdown", _R + "render_doc:markdown", machine=False, summary="the site page's Markdown")
    register(_command, "json", _R + "render_doc:json_object", machine=True, summary="the page's facts as one object")
