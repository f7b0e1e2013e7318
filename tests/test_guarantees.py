"""The promises every command makes: it only reads, never runs what it inspects, never goes online.

Each command runs in-process over the sample data with ``subprocess``/``os`` process creation and
``socket`` connections replaced by tripwires, so a reader that tried to run ``codesign``, ``file``,
a module or a binary, or to fetch anything, fails the test. Afterwards every input's bytes and
mtime are compared with what they were before.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from pathlib import Path

import pytest

from macwasm.cli.main import main

REPO = Path(__file__).resolve().parents[1]

#: (command line, inputs it reads) — every command that reads files, on the bundled samples
COMMANDS = [
    (["inspect", "--format", "json", "data/modules"], ["data/modules"]),
    (["inspect", "--format", "json", "--validate", "data/modules"], ["data/modules"]),
    (["entitlements", "--format", "json", "data/bundles"], ["data/bundles"]),
    (["check", "--format", "json", "data/bundles"], ["data/bundles"]),
    *[(["explain", "--format", "json", f"data/samples/logs/{name}"], [f"data/samples/logs/{name}"])
      for name in sorted(p.name for p in (REPO / "data/samples/logs").iterdir() if p.name != "README.md")],
    (["audit", "data/samples/apps.csv", "--format", "json"], ["data/samples"]),
    (["rule", "MW101", "--format", "json"], ["data"]),
    (["runtime", "wasmtime", "--format", "json"], ["data"]),
]


class Tripwire(AssertionError):
    pass


def _snapshot(paths: list[str]) -> dict[str, tuple[str, int]]:
    out = {}
    for rel in paths:
        root = REPO / rel
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
        for f in files:
            out[str(f.relative_to(REPO))] = (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns)
    return out


@pytest.fixture
def tripwires(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise Tripwire("a reader tried to start a process or open a network connection")

    for name in ("Popen", "run", "call", "check_call", "check_output"):
        monkeypatch.setattr(subprocess, name, refuse)
    for name in ("system", "popen", "execv", "execve", "execvp", "spawnv", "posix_spawn", "posix_spawnp", "fork"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.parametrize(("argv", "inputs"), COMMANDS, ids=[" ".join(c[0][:1] + c[0][-1:]) for c in COMMANDS])
def test_command_only_reads(argv, inputs, tripwires, monkeypatch, capsys, tmp_path):
    for rel in inputs:
        assert (REPO / rel).exists(), f"sample input {rel} is missing"
    monkeypatch.chdir(REPO)
    before = _snapshot(inputs)
    code = main(argv)
    captured = capsys.readouterr()
    assert code in (0, 1), f"exit {code}: {captured.err[-2000:]}"
    assert "Tripwire" not in captured.out + captured.err
    assert "internal error" not in captured.out + captured.err
    assert _snapshot(inputs) == before, "an input's bytes or mtime changed"


def test_tripwires_really_fire(tripwires):
    with pytest.raises(Tripwire):
        subprocess.run(["true"])
    with pytest.raises(Tripwire):
        socket.create_connection(("127.0.0.1", 9))
