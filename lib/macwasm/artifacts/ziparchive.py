"""A ``.zip`` as ``ditto -c -k --keepParent`` makes it for notarization, read in place as a file tree.

ditto stores Unix modes in the high 16 bits of each entry's external attributes (``create_system``
3), a symlink as an entry whose mode is ``S_IFLNK`` and whose data is the target, and resource
forks and extended attributes as AppleDouble entries (``__MACOSX/...`` with ``--sequesterRsrc``,
``._name`` otherwise); those are metadata of other files, counted in a note and left out.

Members are read lazily through :mod:`zipfile`, which the standard library keeps and which reads
the central directory whole: its size and entry count are checked against the caps from the end
record *before* it is parsed. A member is refused before it is read when its declared sizes say it
expands past ``ARTIFACT_MAX_RATIO``; a large Mach-O member is streamed once and only its headers,
signature and the ranges engine detection reads are kept (:func:`macwasm.artifacts.capture.plan_macho`).
"""

from __future__ import annotations

import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from macwasm.artifacts.capture import SNIFF_SIZE, plan_macho
from macwasm.artifacts.model import ArtifactFacts
from macwasm.artifacts.names import clean_name, is_appledouble, printable_name
from macwasm.artifacts.streams import CHUNK, Budget
from macwasm.artifacts.tree import DIR, FILE, LINK, Index, Node, Source, check_size
from macwasm.errors import LIMIT, ArtifactError
from macwasm.limits import (
    ARTIFACT_KEEP_WHOLE_SIZE,
    ARTIFACT_MAX_ENGINE_EVIDENCE,
    ARTIFACT_MAX_ENTRIES,
    ARTIFACT_MAX_INDEX_SIZE,
    ARTIFACT_MAX_NAME_LENGTH,
    ARTIFACT_MAX_RATIO,
    ARTIFACT_RATIO_FLOOR,
)

EOCD, ZIP64_LOCATOR, ZIP64_EOCD = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
UNIX = 3
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError)


def check_central_directory(fh: BinaryIO, size: int, shown: str) -> None:
    """Refuse a central directory that is too large or lists too many entries, before zipfile reads it."""
    tail_size = min(size, 65535 + 22)
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    at = tail.rfind(EOCD)
    if at < 0 or len(tail) - at < 22:
        raise ArtifactError("not a zip archive: no end-of-central-directory record", path=shown, offset=size)
    entries, cd_size = struct.unpack_from("<HI", tail, at + 10)
    eocd_offset = size - tail_size + at
    if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and at >= 20 and tail[at - 20:at - 16] == ZIP64_LOCATOR:
        (record,) = struct.unpack_from("<Q", tail, at - 20 + 8)
        fh.seek(record)
        raw = fh.read(56)
        if len(raw) == 56 and raw[:4] == ZIP64_EOCD:
            entries, cd_size = struct.unpack_from("<QQ", raw, 32)
    if entries > ARTIFACT_MAX_ENTRIES:
        raise ArtifactError(f"the zip lists {entries} entries, more than the limit of {ARTIFACT_MAX_ENTRIES}",
                            path=shown, offset=eocd_offset + 10, category=LIMIT)
    if cd_size > ARTIFACT_MAX_INDEX_SIZE:
        raise ArtifactError(f"the zip's central directory is {cd_size} bytes, more than the limit of "
                            f"{ARTIFACT_MAX_INDEX_SIZE}", path=shown, offset=eocd_offset + 12, category=LIMIT)


def read_zip(fh: BinaryIO, size: int, shown: str, budget: Budget) -> tuple[Index, ArtifactFacts, zipfile.ZipFile]:
    """The tree of a zip (members read later, through the returned open ``ZipFile``) and its facts."""
    check_central_directory(fh, size, shown)
    try:
        zf = zipfile.ZipFile(fh)
        infos = zf.infolist()
    except _ZIP_ERRORS as exc:
        raise ArtifactError(f"not a readable zip archive ({exc})", path=shown) from None
    facts = ArtifactFacts(shown, "zip")
    index = Index()
    appledouble = 0
    encrypted = 0
    for info in infos:
        raw = info.filename
        name, problem = clean_name(raw)
        if problem is not None:
            facts.note(f"{printable_name(raw)!r}: {problem}; not read")
            continue
        if not name:
            continue
        if is_appledouble(name):
            appledouble += 1
            continue
        mode = (info.external_attr >> 16) & 0xFFFF if info.create_system == UNIX else 0
        source = ZipSource(zf, info, budget)
        if info.flag_bits & 0x1:
            encrypted += 1
        if stat.S_ISLNK(mode):
            node = Node(LINK, info.file_size, mode, target=_link_target(source, info, shown, name))
        elif info.is_dir() or stat.S_ISDIR(mode):
            node = Node(DIR, mode=mode or None)
        else:
            node = Node(FILE, info.file_size, mode or None, source=source)
        clash = index.add(name, node)
        if clash:
            facts.note(clash)
    if appledouble:
        facts.note(f"{appledouble} AppleDouble entries (__MACOSX/, ._*: resource forks and extended "
                           "attributes ditto stores beside the files) left out")
    if encrypted:
        facts.note(f"{encrypted} encrypted entries cannot be read")
    return index, facts, zf


def _link_target(source: ZipSource, info: zipfile.ZipInfo, shown: str, name: str) -> str:
    if info.file_size > ARTIFACT_MAX_NAME_LENGTH:
        raise ArtifactError(f"{name}: symlink target of {info.file_size} bytes is longer than "
                            f"{ARTIFACT_MAX_NAME_LENGTH}", path=shown, offset=info.header_offset, category=LIMIT)
    with source.open_whole(ARTIFACT_MAX_NAME_LENGTH, f"{shown}{name}") as data:
        return bytes(data).decode("utf-8", "surrogateescape")


class ZipSource(Source):
    """One member of an open zip, read when a reader asks."""

    def __init__(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> None:
        self.zf, self.info, self.budget = zf, info, budget

    def _check_ratio(self, shown: str) -> None:
        size, packed = self.info.file_size, self.info.compress_size
        if size > ARTIFACT_RATIO_FLOOR and size > ARTIFACT_MAX_RATIO * max(packed, 1):
            raise ArtifactError(f"member expands {size // max(packed, 1)}x ({size} bytes from {packed}), more than "
                                f"{ARTIFACT_MAX_RATIO}x: a decompression bomb, not read", path=shown,
                                offset=self.info.header_offset, category=LIMIT)

    @contextmanager
    def _open(self, shown: str) -> Iterator[Any]:
        try:
            with self.zf.open(self.info) as fh:
                yield fh
        except _ZIP_ERRORS as exc:
            raise ArtifactError(f"cannot read this member ({exc})", path=shown,
                                offset=self.info.header_offset) from None

    def head(self, n: int) -> bytes:
        with self._open(self.info.filename) as fh:
            data: bytes = fh.read(min(n, self.info.file_size))
            return data

    def _admit(self, max_size: int, shown: str) -> int:
        """The member's size, once it is known to fit ``max_size``, the ratio cap and the artifact's budget."""
        size = self.info.file_size
        check_size(size, max_size, shown)
        self._check_ratio(shown)
        self.budget.spend(size)
        return size

    @contextmanager
    def open_whole(self, max_size: int, shown: str) -> Iterator[bytes]:
        size = self._admit(max_size, shown)
        with self._open(shown) as fh:
            data = _read_exact(fh, size, shown)
        yield data

    @contextmanager
    def open_macho(self, max_size: int, shown: str) -> Iterator[Any]:
        if self.info.file_size <= ARTIFACT_KEEP_WHOLE_SIZE:
            with self.open_whole(max_size, shown) as data:
                yield data
            return
        size = self._admit(max_size, shown)
        with self._open(shown) as fh:
            reader = _ZipReader(fh, size, shown)
            view = plan_macho(reader.read_at(0, SNIFF_SIZE), reader, ARTIFACT_MAX_ENGINE_EVIDENCE)
        view.name = shown
        yield view


def _read_exact(fh: Any, size: int, shown: str) -> bytes:
    parts, left = [], size
    while left > 0:
        piece = fh.read(min(CHUNK, left))
        if not piece:
            raise ArtifactError(f"member ends after {size - left} of its {size} bytes", path=shown)
        parts.append(piece)
        left -= len(piece)
    return b"".join(parts)


class _ZipReader:
    """Forward reads of a member: seeks when it is stored, reads and drops bytes when it is compressed."""

    def __init__(self, fh: Any, size: int, shown: str) -> None:
        self.fh, self.size, self.pos, self.shown = fh, size, 0, shown
        self.seekable = fh.seekable() and getattr(fh, "_compress_type", None) == zipfile.ZIP_STORED

    def read_at(self, offset: int, n: int) -> bytes:
        n = max(0, min(n, self.size - offset))
        if offset > self.pos:
            if self.seekable:
                self.fh.seek(offset)
            else:
                left = offset - self.pos
                while left > 0:
                    piece = self.fh.read(min(CHUNK, left))
                    if not piece:
                        raise ArtifactError("member ends early", path=self.shown, offset=self.pos)
                    left -= len(piece)
        data = _read_exact(self.fh, n, self.shown)
        self.pos = offset + n
        return data

