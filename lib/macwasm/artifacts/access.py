"""Opening an artifact, naming what is inside it (``app.zip!/X.app/...``) and walking it like a folder.

The readers see a path; this module decides whether it is an artifact (a regular file named
``*.zip``, ``*.whl`` or ``*.pkg``; ``*.dmg`` is refused with the reason), or a member of one
(``<artifact>!/<path inside>``, when no file of that name exists on disk), and hands out the
artifact's :class:`~macwasm.artifacts.tree.MemoryTree`.

The last artifact opened is kept (one only): a batch reads each bundle of an artifact in turn,
and a pkg payload is streamed once for all of them, not once per bundle.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from macwasm.artifacts.dmg import DMG_SUFFIX, refuse_dmg
from macwasm.artifacts.tree import DIR, FILE, Entry, LinkError, MemoryTree
from macwasm.errors import IO, LIMIT, ArtifactError, InputError
from macwasm.inputs import ARTIFACT_SEPARATOR, is_not_code_folder
from macwasm.limits import ARTIFACT_MAX_SIZE, WALK_MAX_DEPTH

if TYPE_CHECKING:
    from macwasm.artifacts.model import ArtifactFacts

#: suffix -> format of the artifacts read (a folder with such a name is a folder, e.g. an old bundle-style .pkg);
#: a Python wheel is a zip (PEP 427), and macOS wheels carry dylibs, frameworks and helper apps
ARTIFACT_SUFFIXES = {".zip": "zip", ".whl": "zip", ".pkg": "pkg"}


def artifact_kind(path: str) -> str | None:
    """``zip``, ``pkg`` or ``dmg`` for a path named like an artifact that is not a folder; None otherwise."""
    lower = path.lower()
    kind = next((k for s, k in ARTIFACT_SUFFIXES.items() if lower.endswith(s)), None)
    if kind is None and lower.endswith(DMG_SUFFIX):
        kind = "dmg"
    if kind is None or os.path.isdir(path):
        return None
    return kind


def split_member(path: str) -> tuple[str, str] | None:
    """``("dist/X.zip", "X.app/Contents")`` for ``dist/X.zip!/X.app/Contents``; None for anything else.

    Only when no file of that exact name exists and the part before ``!/`` is an artifact file, so
    a real folder called ``odd!`` is never mistaken for an archive.
    """
    if ARTIFACT_SEPARATOR not in path or os.path.lexists(path):
        return None
    at = path.find(ARTIFACT_SEPARATOR)
    while at >= 0:
        outer = path[:at]
        if artifact_kind(outer) and os.path.isfile(outer):
            return outer, path[at + len(ARTIFACT_SEPARATOR):].strip("/")
        at = path.find(ARTIFACT_SEPARATOR, at + 1)
    return None


@dataclass
class Artifact:
    path: str
    tree: MemoryTree
    facts: ArtifactFacts
    key: tuple[Any, ...]

    def close(self) -> None:
        self.tree.close()


_LAST: list[Artifact] = []


def open_artifact(path: str) -> Artifact:
    """The artifact's tree and facts (the last one opened is reused while the file is unchanged)."""
    kind = artifact_kind(path)
    if kind == "dmg":
        raise refuse_dmg(path)
    if kind is None:
        raise ArtifactError("not a .zip or .pkg file", path=path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(exc.strerror or exc.__class__.__name__, path=path, category=IO) from None
    keep_fd = False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError("not a regular file", path=path, category=IO)
        if st.st_size > ARTIFACT_MAX_SIZE:
            raise ArtifactError(f"file is {st.st_size} bytes, larger than the limit of {ARTIFACT_MAX_SIZE} bytes",
                                path=path, offset=ARTIFACT_MAX_SIZE, category=LIMIT)
        key = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        for cached in _LAST:
            if cached.key == key:
                return cached
        from macwasm.artifacts.streams import Budget

        shown = path + ARTIFACT_SEPARATOR
        budget = Budget(path)
        if kind == "zip":
            from macwasm.artifacts.ziparchive import read_zip

            fh = os.fdopen(fd, "rb", closefd=True)
            keep_fd = True
            try:
                index, facts, zf = read_zip(fh, st.st_size, path, budget)
            except BaseException:
                fh.close()
                raise

            def close() -> None:
                zf.close()
                fh.close()

            artifact = Artifact(path, MemoryTree(index, shown, on_close=close), facts, key)
        else:
            from macwasm.artifacts.pkg import read_pkg

            index, facts = read_pkg(fd, st.st_size, path, budget)
            artifact = Artifact(path, MemoryTree(index, shown), facts, key)
    except OSError as exc:
        raise InputError(exc.strerror or exc.__class__.__name__, path=path, category=IO) from None
    finally:
        if not keep_fd:
            os.close(fd)
    forget()
    _LAST.append(artifact)
    return artifact


def forget() -> None:
    """Close and drop the kept artifact (tests; a long-lived process that is done with it)."""
    while _LAST:
        _LAST.pop().close()


def artifact_facts(path: str) -> ArtifactFacts:
    return open_artifact(path).facts


def resolve_member(artifact: Artifact, inner: str) -> tuple[str, Entry]:
    """The member's real tree path and entry (links followed inside the artifact only)."""
    tree = artifact.tree
    shown = tree.shown(inner)
    if tree.entry(inner) is None:
        raise ArtifactError("no such member in the artifact", path=shown)
    try:
        real = tree.resolve(inner)
    except LinkError as err:
        raise ArtifactError(f"member is a symlink that cannot be followed ({err.kind}, -> {err.target})",
                            path=shown) from None
    entry = tree.entry(real)
    assert entry is not None
    return real, entry


@contextmanager
def open_member(path: str, max_size: int) -> Iterator[Any]:
    """The whole bytes of ``<artifact>!/<member>`` (what :func:`macwasm.inputs.open_readonly` gives for it)."""
    split = split_member(path)
    if split is None:
        raise InputError("No such file or directory", path=path, category=IO)
    artifact = open_artifact(split[0])
    real, entry = resolve_member(artifact, split[1])
    if entry.kind != FILE:
        raise InputError("not a regular file", path=path, category=IO)
    with artifact.tree.open_whole(real, max_size) as data:
        yield data


def walk_members(tree: MemoryTree, take_file: Callable[[Entry], bool],
                 take_dir: Callable[[str], bool]) -> Iterator[str]:
    """Tree paths of the files ``take_file`` accepts and the folders ``take_dir`` accepts (not searched further).

    Depth first in name order, links never followed, folders deeper than ``WALK_MAX_DEPTH`` skipped.
    """
    stack = [iter(tree.listdir(""))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if entry.kind == DIR:
            if is_not_code_folder(entry.path):
                continue
            if take_dir(entry.path):
                yield entry.path
            elif len(stack) < WALK_MAX_DEPTH:
                stack.append(iter(tree.listdir(entry.path)))
        elif entry.kind == FILE and take_file(entry):
            yield entry.path
