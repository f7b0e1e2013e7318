"""Reading inputs safely: bounded, read-only, never following a path we were not asked to follow.

Readers take ``bytes``-like data; this module turns a path (or stdin) into such data without
copying large files (read-only ``mmap``), and turns the command line's PATH arguments into a
sorted, deterministic stream of files, directories recursed, symlinked directories not followed.
"""

from __future__ import annotations

import mmap
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from macwasm.errors import IO, LIMIT, InputError, MacwasmError
from macwasm.limits import INPUT_MMAP_THRESHOLD, WALK_MAX_DEPTH

#: how a member of an artifact is named: ``app.zip!/X.app`` (macwasm.artifacts.tree names it too)
ARTIFACT_SEPARATOR = "!/"

STDIN = "-"


@dataclass(frozen=True)
class InputItem:
    """One file to read, or the error met while finding it (a batch goes on past it)."""

    path: str
    error: MacwasmError | None = None


@contextmanager
def open_readonly(path: str | os.PathLike[str], *, max_size: int) -> Iterator[bytes | mmap.mmap]:
    """Yield the whole file as read-only bytes (mmap for anything non-trivial).

    The file is never opened for writing and the mapping is ``ACCESS_READ``, so no code path in a
    reader can modify an input. ``max_size`` is checked before mapping: a 4 GB sparse file claiming
    to be a module fails fast with a ``limit`` error instead of being paged in.

    ``<artifact>!/<member>`` (``app.zip!/X.app/Contents/Resources/m.wasm``) gives the member's bytes,
    read from the ``.zip`` or ``.pkg`` without unpacking it (:mod:`macwasm.artifacts.access`).
    """
    name = os.fspath(path)
    if name != STDIN and ARTIFACT_SEPARATOR in name and not os.path.lexists(name):
        from macwasm.artifacts.access import open_member

        with open_member(name, max_size) as member:
            yield member
        return
    if name == STDIN:
        data = sys.stdin.buffer.read(max_size + 1)
        if len(data) > max_size:
            raise InputError(f"standard input is larger than the limit of {max_size} bytes",
                             path=name, offset=max_size, category=LIMIT)
        yield data
        return
    try:
        # O_NONBLOCK: opening a FIFO or a device named like a module must not hang the batch;
        # it is refused below as "not a regular file". Regular files ignore the flag.
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(_os_reason(exc), path=name, category=IO) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError("not a regular file", path=name, category=IO)
        size = st.st_size
        if size > max_size:
            raise InputError(f"file is {size} bytes, larger than the limit of {max_size} bytes",
                             path=name, offset=max_size, category=LIMIT)
        if size < INPUT_MMAP_THRESHOLD:
            try:
                data = os.read(fd, size + 1)
            except OSError as exc:
                raise InputError(_os_reason(exc), path=name, category=IO) from None
            yield data[:max_size]
            return
        try:
            mapped = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot map file: {exc}", path=name, category=IO) from None
        try:
            yield mapped
        finally:
            mapped.close()
    finally:
        os.close(fd)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def iter_inputs(paths: Iterable[str], *, suffixes: tuple[str, ...] | None = None) -> Iterator[InputItem]:
    """Expand PATH arguments: files as given, directories recursively in sorted order.

    Inside a directory only files ending in one of ``suffixes`` are taken (all files when None);
    a file named explicitly is always taken, except a ``.zip`` or ``.pkg`` named while ``suffixes``
    do not take it: its members with those suffixes are taken instead (``app.zip!/X.app/.../m.wasm``),
    and a ``.dmg`` comes as an item with the reason it cannot be read. Symlinked directories are not
    descended into, so a symlink loop or a link to ``/`` cannot make a batch endless.
    """
    def take(entry: os.DirEntry[str]) -> bool:
        return suffixes is None or entry.name.lower().endswith(suffixes)

    for arg in paths:
        if arg == STDIN:
            yield InputItem(STDIN)
            continue
        try:
            st = os.stat(arg)
        except OSError as exc:
            yield InputItem(arg, InputError(_os_reason(exc), path=arg, category=IO))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from walk_folder(arg, take)
        elif suffixes is not None and not arg.lower().endswith(suffixes) and _is_artifact(arg):
            yield from iter_artifact(arg, lambda path: path.lower().endswith(suffixes))
        else:
            yield InputItem(arg)


def _is_artifact(path: str) -> bool:
    from macwasm.artifacts.access import artifact_kind

    return artifact_kind(path) is not None


#: folder suffixes that hold no code to check: a debug-symbols bundle (``X.dSYM``) carries DWARF for
#: debuggers in an MH_DSYM file that is never loaded, has no CFBundleExecutable and is not signed
#: (pyobjc-core's wheel ships 144 of them); searches skip it instead of reporting 144 broken bundles
NOT_CODE_FOLDER_SUFFIXES = (".dsym",)


def is_not_code_folder(path: str) -> bool:
    return path.rstrip("/").lower().endswith(NOT_CODE_FOLDER_SUFFIXES)


def iter_artifact(path: str, take_file: Callable[[str], bool],
                  take_dir: Callable[[str], bool] | None = None) -> Iterator[InputItem]:
    """Members of the artifact at ``path`` as items named ``path!/member`` (the artifact's error as an item)."""
    from macwasm.artifacts.access import open_artifact, walk_members

    try:
        artifact = open_artifact(path)
        tree = artifact.tree
        for member in walk_members(tree, lambda e: take_file(e.path), take_dir or (lambda _p: False)):
            yield InputItem(tree.shown(member))
    except MacwasmError as err:
        yield InputItem(path, err)


def walk_folder(root: str, take_file: Callable[[os.DirEntry[str]], bool],
                take_dir: Callable[[str], bool] | None = None) -> Iterator[InputItem]:
    """Regular files under ``root`` that ``take_file`` accepts, depth first in sorted name order.

    Iterative, not recursive: a folder nested 2,000 levels deep (a few kilobytes of path) used to
    end the batch with Python's ``RecursionError``. Below ``WALK_MAX_DEPTH`` levels a folder is
    reported as a limit hit and not searched; symlinks are never followed; a folder ``take_dir``
    accepts (a bundle) is yielded whole instead of searched.
    """
    listing, err = _list(root)
    if err is not None:
        yield InputItem(root, err)
        return
    stack = [listing]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        path = entry.path
        try:
            if entry.is_dir(follow_symlinks=False):
                if is_not_code_folder(path):
                    continue
                if take_dir is not None and take_dir(path):
                    yield InputItem(path)
                elif len(stack) >= WALK_MAX_DEPTH:
                    yield InputItem(path, InputError(f"folder nested more than {WALK_MAX_DEPTH} levels below "
                                                     f"{root!r}; not searched", path=path, category=LIMIT))
                else:
                    listing, err = _list(path)
                    if err is not None:
                        yield InputItem(path, err)
                    else:
                        stack.append(listing)
            elif entry.is_file(follow_symlinks=False) and take_file(entry):
                yield InputItem(path)
        except OSError as exc:
            yield InputItem(path, InputError(_os_reason(exc), path=path, category=IO))


def _list(folder: str) -> tuple[Iterator[os.DirEntry[str]], InputError | None]:
    """A folder's entries sorted by name (the scandir handle is closed before this returns)."""
    try:
        with os.scandir(folder) as it:
            return iter(sorted(it, key=lambda e: e.name)), None
    except OSError as exc:
        return iter(()), InputError(_os_reason(exc), path=folder, category=IO)
