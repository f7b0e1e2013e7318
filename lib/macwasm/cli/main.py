"""Entry point of the ``macwasm`` command: builds the parser from the subcommand modules."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from macwasm import __version__
from macwasm.cli.common import EXIT_USAGE_OR_IO, HelpFormatter
from macwasm.errors import InstallationError, MacwasmError
from macwasm.extras import missing_dependency
from macwasm.report.emit import printable

#: subcommand modules under macwasm.cli; each defines ``register(subparsers)`` which adds its
#: parser and sets ``func(args) -> int`` as the parser default.
COMMANDS: tuple[str, ...] = ("advise", "audit", "check", "entitlements", "explain", "inspect", "rule", "runtime")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 on usage errors already; keep it
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE_OR_IO, f"{self.prog}: error: {message}\n")


def _invoked_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line, if any: the first argument that is not an option."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that subcommand is registered.

    Each subcommand module imports its readers (the signing and policy packages pull in asn1crypto
    and pandas), so importing all of them cost ~0.4 s per run; a CI job calling ``macwasm inspect``
    on one file should pay for the inspector only. ``--help`` and usage errors still see every
    command, because then ``only`` is None.
    """
    parser = _Parser(
        prog="macwasm",
        description="Read WebAssembly modules, entitlements and code signatures; check them against "
        "Apple's rules for notarization and launch. Reads only: never modifies, runs or fetches.",
        epilog="exit codes: 0 nothing to fix, 1 findings or a malformed input, 2 a usage or I/O error "
        "(`macwasm COMMAND --help` says what each means for that command)\n\nexample:\n"
        "  macwasm check data/bundles/ForumCase.app --runtime wasmtime",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"macwasm {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in (only,) if only else COMMANDS:
        importlib.import_module(f"macwasm.cli.cmd_{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _invoked_command(argv)
    if command is None and argv[:1] in (["-V"], ["--version"]):
        print(f"macwasm {__version__}")  # without building every subcommand's parser
        return 0
    try:
        parser = build_parser(command)  # a command module may import a missing extra
        args = parser.parse_args(argv)
        return int(args.func(args))
    except InstallationError as err:
        return _installation_error(err)
    except ModuleNotFoundError as exc:
        missing = missing_dependency(exc, command)
        if missing is None:
            raise
        return _installation_error(missing)
    except MacwasmError as err:
        print(f"macwasm: {printable(err.message)}", file=sys.stderr)
        return EXIT_USAGE_OR_IO
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


def _installation_error(err: InstallationError) -> int:
    """One line, exit 2: the install is incomplete, whatever the inputs were (the message names macwasm)."""
    print(printable(err.message), file=sys.stderr)
    return EXIT_USAGE_OR_IO


if __name__ == "__main__":
    raise SystemExit(main())
