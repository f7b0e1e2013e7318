"""Linux evidence of a runtime's memory strategy: does it make anonymous memory executable?

A JIT writes machine code into memory it allocated (anonymous memory: no file behind it) and then
makes that memory executable; an interpreter never does. On Linux, ``strace`` shows this in the
``mmap``/``mprotect`` calls of a process, so notebook 04 can show, on the machine it runs on, the
strategy that ``data/runtime_facts.csv`` states for macOS. This is evidence of the *strategy*, not a
macOS test: Linux has no ``MAP_JIT``, no Hardened Runtime and no entitlements.

Only this module runs a runtime (through ``strace``), and only for the notebooks: the CLI and the
checker never execute a module. The program traced marks the part that matters (compile, instantiate,
call) by opening two paths that do not exist (:data:`BEGIN`, :data:`END`); calls outside the marks
(the host's own start-up, e.g. Python's ctypes trampolines or V8's code space for JavaScript) are not
counted. The summary holds counts and yes/no answers only, never an address, so it is the same on
every run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from macwasm.limits import MEMTRACE_MAX_LOG_SIZE

#: the paths the traced program opens (and fails to open) around the part that is counted
BEGIN = "/macwasm-trace/begin"
END = "/macwasm-trace/end"
#: the system calls traced: the ones that map or re-protect memory, and openat for the marks
SYSCALLS = ("mmap", "mprotect", "pkey_mprotect", "openat")
_UNFINISHED = re.compile(r"^(\d+)\s+(.*?)\s*<unfinished \.\.\.>$")
_RESUMED = re.compile(r"^(\d+)\s+<\.\.\. \w+ resumed>\s*(.*)$")
_CALL = re.compile(r"^(?:\d+\s+)?(\w+)\((.*)\)\s+=\s+(-?\w+)")


@dataclass(frozen=True)
class Call:
    """One completed system call of the log: its name, its arguments as written, its return value."""

    name: str
    args: tuple[str, ...]
    result: str

    @property
    def failed(self) -> bool:
        return self.result.startswith("-")


@dataclass(frozen=True)
class MemorySummary:
    """What the calls between the marks did with memory (counts only: no address is kept)."""

    marked: bool  # both marks were seen
    anonymous_maps: int  # anonymous mappings created between the marks
    made_executable: int  # calls that made anonymous memory executable (mmap with PROT_EXEC or mprotect adding it)
    write_and_execute: int  # of those, the ones that asked for writable and executable at once
    file_executable: int  # file-backed executable mappings (shared libraries loaded) between the marks

    @property
    def executable_anonymous_memory(self) -> str:
        return "yes" if self.made_executable else "no"

    @property
    def calls_bucket(self) -> str:
        """The count in a coarse bucket, so that a runtime's chunking does not change the story."""
        return bucket(self.made_executable)


def bucket(count: int) -> str:
    if count == 0:
        return "none"
    if count < 10:
        return "1-9"
    return "10-99" if count < 100 else "100 or more"


def parse_calls(lines: Iterable[str]) -> Iterator[Call]:
    """The completed calls of an ``strace -f`` log; an interrupted call is joined with its resumption."""
    pending: dict[str, str] = {}
    for raw in lines:
        line = raw.rstrip("\n")
        unfinished = _UNFINISHED.match(line)
        if unfinished:
            pending[unfinished.group(1)] = unfinished.group(2)
            continue
        resumed = _RESUMED.match(line)
        if resumed:
            line = pending.pop(resumed.group(1), "") + resumed.group(2)
            line = line if line.startswith(tuple(SYSCALLS)) else ""
        m = _CALL.match(line)
        if m:
            yield Call(m.group(1), tuple(a.strip() for a in _split_args(m.group(2))), m.group(3))


def _split_args(text: str) -> list[str]:
    """Arguments at the top level (a quoted path may hold a comma)."""
    out, current, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(current)
            current = ""
        else:
            current += ch
    out.append(current)
    return out


def _number(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None


def summarise(calls: Iterable[Call], *, begin: str = BEGIN, end: str = END) -> MemorySummary:
    """Count, between the marks, the calls that made anonymous memory executable.

    Anonymous ranges are remembered from the start of the log (a runtime may reserve memory early
    and make it executable later); a range is anonymous when its ``mmap`` had ``MAP_ANONYMOUS``.
    """
    anonymous: list[tuple[int, int]] = []
    state = "before"
    counts = {"anonymous_maps": 0, "made_executable": 0, "write_and_execute": 0, "file_executable": 0}
    for call in calls:
        if call.name == "openat" and len(call.args) > 1:
            path = call.args[1].strip('"')
            state = "inside" if path == begin and state == "before" else "after" if path == end else state
            continue
        if call.failed or call.name not in ("mmap", "mprotect", "pkey_mprotect") or len(call.args) < 3:
            continue
        counted = state == "inside"
        prot = call.args[2]
        if call.name == "mmap" and len(call.args) >= 4:
            start, length = _number(call.result), _number(call.args[1])
            is_anonymous = "MAP_ANONYMOUS" in call.args[3]
            if is_anonymous and start is not None and length is not None:
                anonymous.append((start, start + length))
            if not counted:
                continue
            counts["anonymous_maps"] += is_anonymous
            if "PROT_EXEC" in prot:
                if is_anonymous:
                    counts["made_executable"] += 1
                    counts["write_and_execute"] += "PROT_WRITE" in prot
                else:
                    counts["file_executable"] += 1
        elif counted and "PROT_EXEC" in prot:
            start = _number(call.args[0])
            if start is not None and any(lo <= start < hi for lo, hi in anonymous):
                counts["made_executable"] += 1
                counts["write_and_execute"] += "PROT_WRITE" in prot
    return MemorySummary(marked=state == "after", **counts)


@dataclass(frozen=True)
class TraceRun:
    """One traced run: what ran, whether it could be traced (and why not), its output and its summary."""

    label: str
    traced: bool
    reason: str  # why it was not traced ("" when it was)
    output: str  # the program's standard output, stripped (the function's result)
    summary: MemorySummary | None


def _not_traced(label: str, reason: str) -> TraceRun:
    return TraceRun(label, False, reason, "", None)


def _read_log(path: str) -> tuple[list[str], bool]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read(MEMTRACE_MAX_LOG_SIZE + 1)
    return text[:MEMTRACE_MAX_LOG_SIZE].splitlines(), len(text) > MEMTRACE_MAX_LOG_SIZE


def trace(label: str, command: Sequence[str], *, timeout: float = 120, cwd: str | None = None) -> TraceRun:
    """Run ``command`` under ``strace -f`` and summarise its memory calls; never raises for a missing tool.

    Reasons for no trace are stated in fixed words (not Linux, no strace, the program is missing,
    ptrace refused, the program failed, no marks), so a notebook shows the same text wherever it
    cannot trace.
    """
    if not sys.platform.startswith("linux"):
        return _not_traced(label, f"not Linux ({sys.platform}): strace is a Linux tool")
    strace = shutil.which("strace")
    if strace is None:
        return _not_traced(label, "strace is not installed (scripts/install-system-deps.sh installs it)")
    if shutil.which(command[0]) is None and not os.path.exists(command[0]):
        return _not_traced(label, f"{os.path.basename(command[0])} is not installed")
    with tempfile.TemporaryDirectory(prefix="macwasm-trace-") as scratch:
        log = os.path.join(scratch, "strace.log")
        argv = [strace, "-f", "-qq", "-e", "trace=" + ",".join(SYSCALLS), "-o", log, "--", *command]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False)
        except subprocess.TimeoutExpired:
            return _not_traced(label, f"the traced program ran longer than {timeout:g} s")
        if "ptrace" in done.stderr and ("not permitted" in done.stderr or "denied" in done.stderr):
            return _not_traced(label, "strace could not trace: ptrace is refused here (a sandbox or container)")
        if done.returncode != 0 or not os.path.exists(log):
            return _not_traced(label, f"the traced program failed (exit code {done.returncode})")
        lines, cut = _read_log(log)
    summary = summarise(parse_calls(lines))
    if not summary.marked:
        why = "the log was cut at its size cap" if cut else "the program never reached its end mark"
        return _not_traced(label, f"no complete trace: {why}")
    return TraceRun(label, True, "", done.stdout.strip(), summary)
