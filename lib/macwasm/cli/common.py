"""What every subcommand shares: exit codes, the batch loop, the progress line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from macwasm.errors import INTERNAL, InstallationError, MacwasmError
from macwasm.inputs import InputItem
from macwasm.vocabulary import NOT_A_FINDING

#: every input readable and well-formed (and, for ``check``, no error finding)
EXIT_OK = 0
#: some input malformed / not what was expected, or an error finding
EXIT_FINDINGS = 1
#: usage error, or an input that could not be read at all
EXIT_USAGE_OR_IO = 2


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
        if self.io_errors or self.internal_errors:
            return EXIT_USAGE_OR_IO
        return EXIT_FINDINGS if self.findings else EXIT_OK


class Progress:
    """A one-line counter on stderr, only when stderr is a terminal and there is a batch."""

    def __init__(self, total: int | None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = bool(total and total > 1 and getattr(self.stream, "isatty", lambda: False)())
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
    read_one: Callable[[InputItem], dict[str, Any]],
    error_record: Callable[[InputItem, MacwasmError], dict[str, Any]],
    status: BatchStatus,
    *,
    total: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one record per input; a bad input yields its error record and the batch goes on.

    ``read_one`` returns a record or raises the reader's :class:`MacwasmError`. Any other
    exception is a bug in macwasm: it becomes an ``internal error`` record (exit code 2) rather
    than a traceback, so one hostile file can never hide the results for the others.
    """
    progress = Progress(total)
    try:
        for item in items:
            progress.step(item.path)
            if item.error is not None:
                status.note_error(item.error)
                yield error_record(item, item.error)
                continue
            try:
                record = read_one(item)
            except (InstallationError, ModuleNotFoundError):
                raise  # macwasm itself is incomplete: said once by main(), not once per input
            except MacwasmError as err:
                err.with_path(item.path)
                status.note_error(err)
                yield error_record(item, err)
            except Exception as exc:  # the one place a bug becomes a record
                reason = f"internal error in macwasm ({exc.__class__.__name__}: {exc}); please report it"
                status.internal_errors.append(item.path)
                err = MacwasmError(reason, path=item.path, category=INTERNAL)
                yield error_record(item, err)
            else:
                if record.get("error"):
                    status.findings = True
                yield record
    finally:
        progress.close()
