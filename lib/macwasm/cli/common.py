"""What every subcommand shares: exit codes and how they are decided, the batch loop, the progress line,
the output options (``--format``, ``-o``, ``-q``), the CI gating options and the project's settings.

The conventions are the ones of ruff, file, codesign and rcodesign: every ``--help`` ends with the
exit codes and an example; every option says its default; ``-o FILE`` writes the output there;
``-q`` leaves only the findings; progress goes to stderr, only to a terminal, and never while a
machine-readable format is written; ``--fail-on``, ``--exit-zero`` and ``--ignore`` decide what
fails a CI job, and ``[tool.macwasm]`` in ``pyproject.toml`` says it once for a project.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from macwasm.errors import INTERNAL, InputError, InstallationError, MacwasmError, UsageError
from macwasm.inputs import InputItem
from macwasm.report.emit import printable
from macwasm.report.formats import RenderOptions, default_format, format_help, formats, output_format
from macwasm.vocabulary import ERROR, FAIL, FAIL_ON, NOT_A_FINDING, WARN, WARNING

if TYPE_CHECKING:
    from macwasm.cli.config import ProjectConfig

#: every input readable and well-formed (and, for ``check``, no error finding)
EXIT_OK = 0
#: some input malformed / not what was expected, or an error finding
EXIT_FINDINGS = 1
#: usage error, or an input that could not be read at all
EXIT_USAGE_OR_IO = 2

R = TypeVar("R")


# ----------------------------------------------------------------------------------------- help

class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default (unless it says it already); the epilog keeps its lines."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (not action.option_strings or "default" in text or action.default in (None, False, [], ())
                or action.default is argparse.SUPPRESS):
            return text
        return text + " (default: %(default)s)"


def command_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, *, help: str,
                   description: str, exit_codes: tuple[str, str, str], example: str) -> argparse.ArgumentParser:
    """A subcommand's parser, its ``--help`` ending with the exit codes (0, 1, 2: what each means here) and an
    example."""
    codes = "\n".join(f"  {code}  {text}" for code, text in enumerate(exit_codes))
    epilog = f"exit codes:\n{codes}\n\nexample:\n  {example}"
    return subparsers.add_parser(name, help=help, description=description, epilog=epilog,
                                 formatter_class=HelpFormatter)


# ------------------------------------------------------------------------------- output options

def add_output_options(parser: argparse.ArgumentParser, command: str, *, quiet: str,
                       default: str | None = "") -> None:
    """``--format`` (the registry's formats of ``command``), ``-o FILE``, and ``-q`` (``quiet`` says what it keeps).

    ``default`` "" is the command's first format; None leaves the choice to the command (audit takes it
    from ``-o``'s suffix).
    """
    parser.add_argument("--format", choices=formats(command),
                        default=default_format(command) if default == "" else default,
                        help=f"output format: {format_help(command)}")
    parser.add_argument("-o", "--output", default=None, metavar="FILE",
                        help="write the output to FILE instead of standard output (default: standard output)")
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet)


@contextmanager
def output_stream(path: str | None) -> Iterator[TextIO]:
    """Standard output, or the file ``-o`` names (UTF-8, written whole; never one of the inputs' readers)."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        fh = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below, after the writes
    except OSError as exc:
        raise InputError(f"cannot write the output: {exc.strerror or exc}", path=path) from None
    try:
        yield fh
    finally:
        fh.close()


def is_machine(command: str, fmt: str) -> bool:
    return output_format(command, fmt).machine


def say(command: str, quiet: bool = False) -> Callable[[str], None]:
    """A writer of ``macwasm COMMAND: ...`` lines on stderr (silent with ``-q``)."""
    def write(text: str) -> None:
        if not quiet:
            print(printable(f"macwasm {command}: {text}"), file=sys.stderr)
    return write


def render_options(args: argparse.Namespace, command: str, **more: Any) -> RenderOptions:
    return RenderOptions(quiet=bool(getattr(args, "quiet", False)), root=getattr(args, "sarif_root", None),
                         say=say(command, bool(getattr(args, "quiet", False))), **more)


def add_sarif_root_option(parser: argparse.ArgumentParser) -> None:
    """``--sarif-root`` (check and audit): where SARIF's relative URIs and the annotations' paths start."""
    parser.add_argument("--sarif-root", default=None, metavar="DIR",
                        help="sarif and github formats: paths of inputs under DIR are relative to it, e.g. the "
                        "repository's root (default: the working directory); inputs elsewhere get absolute ones")


# ------------------------------------------------------------------------------------ CI gating

def add_gating_options(parser: argparse.ArgumentParser) -> None:
    """``--fail-on``, ``--exit-zero`` and ``--ignore``: what makes the exit code 1 (the defaults: pyproject.toml's
    ``[tool.macwasm]``, else error findings only)."""
    parser.add_argument("--fail-on", choices=FAIL_ON, default=None,
                        help="the lowest finding severity that makes the exit code 1 (default: error, or "
                        "[tool.macwasm] fail_on)")
    parser.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even when there are findings or malformed inputs (2 still means a usage or "
                        "I/O error)")
    add_ignore_option(parser)


def add_ignore_option(parser: argparse.ArgumentParser) -> None:
    """``--ignore``: also on ``advise``, so a plan leaves out the rules ``check`` leaves out."""
    parser.add_argument("--ignore", action="append", default=None, metavar="RULE",
                        help="leave out a rule, e.g. MW171, or every rule whose id starts so, e.g. MW18 (repeatable, "
                        "or a comma list; default: none, or [tool.macwasm] ignore)")


def ignored_rules(values: Iterable[str]) -> frozenset[str]:
    """The rule ids ``--ignore`` names: exact ids or prefixes; one that names no rule is a usage error."""
    from macwasm.policy.tables import rules

    known = list(rules())
    out: set[str] = set()
    for value in values:
        for part in (p.strip().upper() for p in value.split(",")):
            if not part:
                continue
            matched = [r for r in known if r == part or r.startswith(part)]
            if not matched:
                raise UsageError(f"--ignore {part}: no rule has this id or starts so (macwasm rules are "
                                 f"{known[0]} to {known[-1]})")
            out.update(matched)
    return frozenset(out)


@dataclass(frozen=True)
class Gate:
    """What decides the exit code from the verdicts, after ``--fail-on`` and ``--exit-zero``."""

    fail_on: str = ERROR
    exit_zero: bool = False
    ignore: frozenset[str] = frozenset()

    def fails(self, verdict: str) -> bool:
        return verdict == FAIL or (self.fail_on == WARNING and verdict == WARN)

    def exit_code(self, status: BatchStatus, verdicts: Iterable[str] = ()) -> int:
        if status.io_errors or status.internal_errors:
            return EXIT_USAGE_OR_IO
        failed = status.findings or any(self.fails(v) for v in verdicts)
        return EXIT_FINDINGS if failed and not self.exit_zero else EXIT_OK


def ignore_of(args: argparse.Namespace) -> frozenset[str]:
    """The rules ``--ignore`` or, without it, ``[tool.macwasm] ignore`` leave out."""
    ignore = args.ignore if args.ignore is not None else list(settings_of(args).ignore)
    return ignored_rules(ignore)


def gate(args: argparse.Namespace) -> Gate:
    """The gate the command line and ``[tool.macwasm]`` describe (the command line wins)."""
    settings = settings_of(args)
    return Gate(fail_on=args.fail_on or settings.fail_on or ERROR, exit_zero=args.exit_zero,
                ignore=ignore_of(args))


def settings_of(args: argparse.Namespace) -> ProjectConfig:
    """``[tool.macwasm]`` of the nearest pyproject.toml, read once per command line (tomllib only then)."""
    from macwasm.cli import config

    found = getattr(args, "_project", None)
    if not isinstance(found, config.ProjectConfig):
        found = config.load()
        args._project = found
    return found


# ---------------------------------------------------------------------------------------- batches

@dataclass
class BatchStatus:
    """Accumulates the exit code of a batch while records stream out."""

    findings: bool = False
    io_errors: bool = False
    internal_errors: list[str] = field(default_factory=list)

    def note_error(self, err: MacwasmError) -> None:
        if err.category in NOT_A_FINDING:  # nothing is wrong with the input itself: exit 2, not 1
            self.io_errors = True
        else:
            self.findings = True

    @property
    def exit_code(self) -> int:
        return Gate().exit_code(self)


class Progress:
    """A one-line counter on stderr, only when stderr is a terminal, there is a batch, and it is wanted."""

    def __init__(self, total: int | None, stream: TextIO | None = None, *, wanted: bool = True) -> None:
        self.stream = stream or sys.stderr
        is_tty: Callable[[], bool] = getattr(self.stream, "isatty", lambda: False)
        self.enabled = bool(wanted and total and total > 1 and is_tty())
        self.total = total
        self.done = 0

    def step(self, label: str) -> None:
        self.done += 1
        if self.enabled:
            width = 50
            short = label if len(label) <= width else "…" + label[-(width - 1):]
            self.stream.write(f"\r[{self.done}/{self.total}] {short:<{width}}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 80 + "\r")
            self.stream.flush()


def run_batch(
    items: Iterable[InputItem],
    read: Callable[[InputItem], list[R]],
    error_record: Callable[[InputItem, MacwasmError], R],
    status: BatchStatus,
    *,
    total: int | None = None,
    progress: bool = True,
) -> Iterator[R]:
    """Yield the records of every input (``read`` gives one per target it holds); a bad input yields its error
    record and the batch goes on.

    ``read`` returns its records or raises the reader's :class:`MacwasmError`. Any other exception
    is a bug in macwasm: it becomes an ``internal`` error record (exit code 2) rather than a
    traceback, so one hostile file can never hide the results for the others. ``progress``: whether
    a progress line may be shown (never while a machine-readable format is written).
    """
    line = Progress(total, wanted=progress)
    try:
        for item in items:
            line.step(item.path)
            if item.error is not None:
                status.note_error(item.error)
                yield error_record(item, item.error)
                continue
            try:
                records = read(item)
            except (InstallationError, ModuleNotFoundError):
                raise  # macwasm itself is incomplete: said once by main(), not once per input
            except MacwasmError as err:
                err.with_path(item.path)
                status.note_error(err)
                yield error_record(item, err)
            except Exception as exc:  # the one place a bug becomes a record
                reason = f"internal error in macwasm ({exc.__class__.__name__}: {exc}); please report it"
                status.internal_errors.append(item.path)
                yield error_record(item, MacwasmError(reason, path=item.path, category=INTERNAL))
            else:
                yield from records
    finally:
        line.close()
