"""A small read-only file tree that a real folder and an artifact (``.zip``, ``.pkg``) both provide.

Why: the bundle walker, the signing reader and the wasm inspector must treat what is inside a
notarization artifact exactly as what is on disk, without unpacking it. They talk to a
:class:`Tree`: paths are relative POSIX paths from the tree's root (``""`` is the root), entries
carry a kind, a size, a mode and a link target, and bytes come only through bounded reads.

* :class:`DiskTree` is a real folder: ``os.scandir``, ``O_NOFOLLOW`` reads, ``realpath`` checks that a
  followed link stays inside, read-only ``mmap`` for whole files (:func:`macwasm.inputs.open_readonly`).
* :class:`MemoryTree` is an archive's index held in memory; each file's bytes come from a
  :class:`Source` (a zip member, or what a streamed pkg payload kept of it). Links are resolved here
  by the same rules as the kernel's (at most ``ARTIFACT_MAX_LINK_HOPS`` hops, ``..`` above the root
  leaves the tree, an absolute target leaves the tree).

Nothing here follows a link implicitly: :meth:`Tree.resolve` is the one place that does, and it
says where a link leads (:class:`LinkError`) when that is outside, a loop or nowhere.
"""

from __future__ import annotations

import bisect
import errno
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, overload

from macwasm.errors import LIMIT, ArtifactError
from macwasm.inputs import ARTIFACT_SEPARATOR, open_readonly
from macwasm.limits import ARTIFACT_MAX_LINK_HOPS

FILE, DIR, LINK, OTHER = "file", "dir", "link", "other"


@dataclass(frozen=True)
class Entry:
    """One name in a folder, never followed: what ``lstat`` would say."""

    name: str
    path: str  # relative to the tree's root, "/"-separated
    kind: str  # FILE | DIR | LINK | OTHER
    size: int | None = None  # None: not known without a stat (disk trees do not stat while listing)
    mode: int | None = None
    target: str | None = None  # a link's target text


class LinkError(Exception):
    """A link that cannot be followed: ``kind`` is ``loop``, ``dangling`` or ``outside``."""

    def __init__(self, kind: str, target: str, detail: str = "", real: str | None = None) -> None:
        self.kind = kind
        self.target = target
        self.detail = detail
        self.real = real
        super().__init__(f"{kind} (-> {target}) {detail}".strip())


def join(base: str, *parts: str) -> str:
    """``"/"``-join of tree paths where ``""`` is the root."""
    out = base
    for part in parts:
        if not part:
            continue
        out = f"{out}/{part}" if out else part
    return out


def parent(path: str) -> str:
    return path.rpartition("/")[0]


def basename(path: str) -> str:
    return path.rpartition("/")[2]


class Tree:
    """What a reader may ask of a folder-like thing. Subclasses implement the primitives."""

    #: how the root is shown in messages (the input path, or ``archive.zip!/X.app``)
    display: str = ""

    def shown(self, path: str) -> str:
        if not path:
            return self.display
        return self.display + path if self.display.endswith(ARTIFACT_SEPARATOR) else f"{self.display}/{path}"

    # -- primitives
    def entry(self, path: str) -> Entry | None:
        """The entry at ``path`` (not followed), or None when nothing is there."""
        raise NotImplementedError

    def listdir(self, path: str) -> list[Entry]:
        """A folder's entries sorted by name; ``OSError`` when it cannot be listed."""
        raise NotImplementedError

    def resolve(self, path: str) -> str:
        """``path`` with every link followed, inside this tree; :class:`LinkError` otherwise."""
        raise NotImplementedError

    def head(self, path: str, n: int) -> bytes:
        """The first ``n`` bytes of a regular file, not following a link; ``OSError`` otherwise."""
        raise NotImplementedError

    def open_whole(self, path: str, max_size: int) -> Any:
        """Context manager: the whole regular file (no link followed) as bytes-like, at most ``max_size``."""
        raise NotImplementedError

    def open_macho(self, path: str, max_size: int) -> Any:
        """Context manager: bytes-like enough for the Mach-O reader (the whole file, or its headers and signature)."""
        return self.open_whole(path, max_size)

    def subtree(self, path: str) -> Tree:
        """The tree rooted at folder ``path`` (a link leaving it counts as outside)."""
        raise NotImplementedError

    # -- derived
    def lexists(self, path: str) -> bool:
        return self.entry(path) is not None

    def kind(self, path: str, *, follow: bool = False) -> str | None:
        found = self.entry(path)
        if found is None:
            return None
        if follow and found.kind == LINK:
            try:
                real = self.resolve(path)
            except LinkError:
                return None
            target = self.entry(real)
            return target.kind if target else None
        return found.kind

    def is_dir(self, path: str, *, follow: bool = False) -> bool:
        return self.kind(path, follow=follow) == DIR

    def is_file(self, path: str, *, follow: bool = False) -> bool:
        return self.kind(path, follow=follow) == FILE

    def is_link(self, path: str) -> bool:
        return self.kind(path) == LINK


# ------------------------------------------------------------------------------------ on disk


def _nofollow_flags() -> int:
    # O_NONBLOCK: a FIFO named like a module must not hang the walk; O_NOFOLLOW: a link is never read through
    return os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class NotRegularFile(OSError):
    def __init__(self) -> None:
        super().__init__(errno.EINVAL, "not a regular file")


class DiskTree(Tree):
    """A real folder, read through the OS with the bundle walker's guarantees."""

    def __init__(self, root: str, display: str | None = None) -> None:
        self.root = os.path.realpath(root)
        self.display = display if display is not None else root

    def os_path(self, path: str) -> str:
        return os.path.join(self.root, *path.split("/")) if path else self.root

    def entry(self, path: str) -> Entry | None:
        try:
            st = os.lstat(self.os_path(path))
        except (OSError, ValueError):
            return None
        return Entry(basename(path), path, _kind_of_mode(st.st_mode), st.st_size, st.st_mode,
                     os.readlink(self.os_path(path)) if stat.S_ISLNK(st.st_mode) else None)

    def listdir(self, path: str) -> list[Entry]:
        out = []
        with os.scandir(self.os_path(path)) as it:
            for e in it:
                if e.is_symlink():
                    kind = LINK
                elif e.is_dir(follow_symlinks=False):
                    kind = DIR
                elif e.is_file(follow_symlinks=False):
                    kind = FILE
                else:
                    kind = OTHER
                out.append(Entry(e.name, join(path, e.name), kind))
        out.sort(key=lambda e: e.name)
        return out

    def readlink(self, path: str) -> str:
        return os.readlink(self.os_path(path))

    def resolve(self, path: str) -> str:
        full = self.os_path(path)
        try:
            target = os.readlink(full) if os.path.islink(full) else path
        except OSError:
            target = "?"
        try:
            real = os.path.realpath(full, strict=True)
        except OSError as exc:
            if exc.errno == errno.ELOOP or "symbolic links" in str(exc):
                raise LinkError("loop", target) from None
            raise LinkError("dangling", target, exc.strerror or str(exc)) from None
        if not _inside(self.root, real):
            raise LinkError("outside", target, real=real)
        rel = os.path.relpath(real, self.root)
        return "" if rel == "." else rel.replace(os.sep, "/")

    def head(self, path: str, n: int) -> bytes:
        fd = os.open(self.os_path(path), _nofollow_flags())
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise NotRegularFile()
            return os.read(fd, n)
        finally:
            os.close(fd)

    def open_whole(self, path: str, max_size: int) -> Any:
        return open_readonly(self.os_path(path), max_size=max_size)

    def subtree(self, path: str) -> Tree:
        return DiskTree(self.os_path(path), self.shown(path))


def _inside(root: str, real: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _kind_of_mode(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return LINK
    if stat.S_ISDIR(mode):
        return DIR
    if stat.S_ISREG(mode):
        return FILE
    return OTHER


# ------------------------------------------------------------------------------- in an archive


class Source:
    """Where one archive member's bytes come from. Readers never see this, only :class:`Tree` reads."""

    def head(self, n: int) -> bytes:
        raise NotImplementedError

    def open_whole(self, max_size: int, shown: str) -> Any:
        raise NotImplementedError

    def open_macho(self, max_size: int, shown: str) -> Any:
        return self.open_whole(max_size, shown)


class BytesSource(Source):
    """A member kept whole in memory."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def head(self, n: int) -> bytes:
        return self.data[:n]

    @contextmanager
    def open_whole(self, max_size: int, shown: str) -> Iterator[bytes]:
        check_size(len(self.data), max_size, shown)
        yield self.data


class PartialSource(Source):
    """A member of a streamed payload of which only some byte ranges were kept."""

    def __init__(self, view: SparseView, reason: str) -> None:
        self.view = view
        self.reason = reason

    def head(self, n: int) -> bytes:
        return self.view.prefix(n)

    def open_whole(self, max_size: int, shown: str) -> Any:
        raise ArtifactError(f"only part of this member was kept ({self.reason}); it cannot be read whole",
                            path=shown, category=LIMIT)

    @contextmanager
    def open_macho(self, max_size: int, shown: str) -> Iterator[SparseView]:
        check_size(len(self.view), max_size, shown)
        self.view.name = shown
        yield self.view


def check_size(size: int, max_size: int, shown: str) -> None:
    if size > max_size:
        raise ArtifactError(f"member is {size} bytes, larger than the limit of {max_size} bytes", path=shown,
                            offset=max_size, category=LIMIT)


class SparseView:
    """A file of ``size`` bytes of which some ranges are known; slicing a known range gives its bytes.

    The Mach-O reader only slices (``bytes(data[a:b])``) and asks ``len``; a slice that touches a
    range that was not kept raises :class:`ArtifactError` naming the range, never returns zeros.
    """

    def __init__(self, size: int, name: str = "") -> None:
        self.size = size
        self.name = name
        self._starts: list[int] = []
        self._chunks: list[bytes] = []

    def add(self, offset: int, data: bytes) -> None:
        """Keep ``data`` at ``offset`` (ranges are added in increasing, non-overlapping order)."""
        if not data:
            return
        if self._starts and offset == self._starts[-1] + len(self._chunks[-1]):
            self._chunks[-1] += data
            return
        self._starts.append(offset)
        self._chunks.append(bytes(data))

    @property
    def kept(self) -> int:
        return sum(len(c) for c in self._chunks)

    def prefix(self, n: int) -> bytes:
        if self._starts and self._starts[0] == 0:
            return self._chunks[0][:n]
        return b""

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, key: int) -> int: ...
    @overload
    def __getitem__(self, key: slice) -> bytes: ...

    def __getitem__(self, key: int | slice) -> int | bytes:
        if isinstance(key, int):
            return self[key:key + 1][0]
        start, stop, step = key.indices(self.size)
        if step != 1:
            raise TypeError("SparseView slices take no step")
        if stop <= start:
            return b""
        i = bisect.bisect_right(self._starts, start) - 1
        if i >= 0:
            base = self._starts[i]
            chunk = self._chunks[i]
            if stop <= base + len(chunk):
                return chunk[start - base:stop - base]
        raise ArtifactError(f"bytes {start}-{stop} of this {self.size}-byte member were not kept by the streamed "
                            "reader (of a large Mach-O file it keeps headers, load commands, code signatures and, "
                            "within a budget, what engine detection reads)",
                            path=self.name or None, offset=start, category=LIMIT)


@dataclass
class Node:
    kind: str
    size: int = 0
    mode: int | None = None
    target: str | None = None
    source: Source | None = None
    children: dict[str, None] | None = None  # names, for folders (insertion order; sorted when listed)


@dataclass
class Index:
    """Every member of an archive by normalized path, folders implied by their members."""

    nodes: dict[str, Node] = field(default_factory=lambda: {"": Node(DIR, children={})})

    def add(self, path: str, node: Node) -> str | None:
        """Add a member; returns a note when the name clashes (the later member wins, as an installer would)."""
        note = None
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            existing = self.nodes.get(folder)
            if existing is None:
                self._link(folder, Node(DIR, children={}))
            elif existing.kind != DIR:
                return f"{path}: {folder} is not a folder in this archive; entry ignored"
        old = self.nodes.get(path)
        if old is not None:
            if old.kind == DIR and node.kind == DIR:
                old.mode = node.mode if node.mode is not None else old.mode
                return None
            if old.kind == DIR and old.children:
                return f"{path}: a folder with entries and also a {node.kind}; the later entry is ignored"
            note = f"{path}: appears more than once; the later entry is used"
            if node.kind == DIR:
                node.children = {}
            self.nodes[path] = node
            return note
        if node.kind == DIR and node.children is None:
            node.children = {}
        self._link(path, node)
        return note

    def _link(self, path: str, node: Node) -> None:
        self.nodes[path] = node
        up = self.nodes[parent(path)]
        assert up.children is not None
        up.children[basename(path)] = None


class MemoryTree(Tree):
    """An archive's index (or a folder inside it) as a :class:`Tree`."""

    def __init__(self, index: Index, display: str, base: str = "",
                 on_close: Callable[[], None] | None = None) -> None:
        self.index = index
        self.display = display
        self.base = base
        self._on_close = on_close

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def _full(self, path: str) -> str:
        return join(self.base, path)

    def _node(self, path: str) -> Node | None:
        """The node at ``path``, its folders' links followed as the OS follows them (the last name is not)."""
        node = self.index.nodes.get(self._full(path))
        if node is not None or "/" not in path:
            return node
        up, _, name = path.rpartition("/")
        try:
            real_up = self.resolve(up)
        except LinkError:
            return None
        return self.index.nodes.get(self._full(join(real_up, name)))

    def entry(self, path: str) -> Entry | None:
        node = self._node(path)
        if node is None:
            return None
        return Entry(basename(path), path, node.kind, node.size, node.mode, node.target)

    def listdir(self, path: str) -> list[Entry]:
        node = self._node(path)
        if node is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")
        if node.kind != DIR or node.children is None:
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory")
        out = []
        path_real = self.resolve(path) if node is not self.index.nodes.get(self._full(path)) else path
        for name in sorted(node.children):
            child = self.index.nodes[join(self._full(path_real), name)]
            out.append(Entry(name, join(path, name), child.kind, child.size, child.mode, child.target))
        return out

    def readlink(self, path: str) -> str:
        node = self._node(path)
        if node is None or node.kind != LINK:
            raise OSError(errno.EINVAL, "Invalid argument")
        return node.target or ""

    def resolve(self, path: str) -> str:
        """Follow links component by component, as the kernel would, without leaving this (sub)tree."""
        first = self._node(path)
        shown_target = first.target if first is not None and first.kind == LINK else path
        pending = [p for p in path.split("/") if p][::-1]  # a stack: next component last
        done: list[str] = []
        hops = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if not done:
                    raise LinkError("outside", shown_target or "?", real=None)
                done.pop()
                continue
            candidate = join(self.base, *done, part)
            node = self.index.nodes.get(candidate)
            if node is None:
                raise LinkError("dangling", shown_target or "?", "No such file or directory")
            if node.kind == LINK:
                hops += 1
                if hops > ARTIFACT_MAX_LINK_HOPS:
                    raise LinkError("loop", shown_target or "?")
                target = node.target or ""
                if target.startswith("/"):
                    raise LinkError("outside", shown_target or target, real=target)
                pending.extend(p for p in target.split("/")[::-1] if p)
                continue
            if pending and node.kind != DIR:
                raise LinkError("dangling", shown_target or "?", "Not a directory")
            done.append(part)
        return "/".join(done)

    def _source(self, path: str) -> tuple[Node, Source]:
        node = self._node(path)
        if node is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")
        if node.kind != FILE or node.source is None:
            raise NotRegularFile()
        return node, node.source

    def head(self, path: str, n: int) -> bytes:
        return self._source(path)[1].head(n)

    def open_whole(self, path: str, max_size: int) -> Any:
        return self._open(path, max_size, macho=False)

    def open_macho(self, path: str, max_size: int) -> Any:
        return self._open(path, max_size, macho=True)

    def _open(self, path: str, max_size: int, *, macho: bool) -> Any:
        try:
            _, source = self._source(path)
        except OSError as exc:
            raise ArtifactError(exc.strerror or str(exc), path=self.shown(path)) from None
        if macho:
            return source.open_macho(max_size, self.shown(path))
        return source.open_whole(max_size, self.shown(path))

    def subtree(self, path: str) -> Tree:
        return MemoryTree(self.index, self.shown(path), self._full(path))
