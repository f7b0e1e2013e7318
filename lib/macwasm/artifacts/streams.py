"""Forward-only byte streams over an artifact's bytes, and the decompressors a pkg or zip needs, all bounded.

A pkg payload is one compressed cpio stream: a file in the middle can only be reached by
decompressing everything before it. So payloads are read once, front to back, through a
:class:`ByteStream`; nothing is written to disk and only what a reader needs is kept.

Every decompressor here checks two things as it goes, so that a decompression bomb ends with a
``limit`` error instead of minutes of CPU or gigabytes of memory: the expansion ratio of the
stream (after ``ARTIFACT_RATIO_FLOOR`` bytes of output, at most ``ARTIFACT_MAX_RATIO`` x) and the
bytes expanded from the whole artifact (``ARTIFACT_MAX_EXPANDED_SIZE``, via :class:`Budget`).
Output comes in pieces of at most ``CHUNK`` bytes whatever the input claims.
"""

from __future__ import annotations

import bz2
import lzma
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Protocol

from macwasm.errors import LIMIT, ArtifactError
from macwasm.limits import ARTIFACT_MAX_EXPANDED_SIZE, ARTIFACT_MAX_RATIO, ARTIFACT_RATIO_FLOOR, MiB

CHUNK = 1 * MiB
GZIP_MAGIC = b"\x1f\x8b"
XZ_MAGIC = b"\xfd7zXZ\x00"
BZIP2_MAGIC = b"BZh"
PBZX_MAGIC = b"pbzx"


class _Decompressor(Protocol):
    """What lzma's and bz2's decompressors have in common (the piecewise interface ``_unpack`` drives)."""

    @property
    def eof(self) -> bool: ...
    @property
    def needs_input(self) -> bool: ...
    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class Budget:
    """Bytes expanded from one artifact in all, across its streams and members."""

    def __init__(self, shown: str, limit: int = ARTIFACT_MAX_EXPANDED_SIZE) -> None:
        self.shown = shown
        self.limit = limit
        self.used = 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise ArtifactError(f"more than {self.limit} bytes decompressed from this artifact; not read further",
                                path=self.shown, category=LIMIT)


class Ratio:
    """Expanded vs compressed bytes of one stream; too high a ratio past the floor is a bomb."""

    def __init__(self, shown: str, what: str, budget: Budget, *, ratio: int = ARTIFACT_MAX_RATIO,
                 floor: int = ARTIFACT_RATIO_FLOOR) -> None:
        self.shown, self.what, self.budget = shown, what, budget
        self.ratio, self.floor = ratio, floor
        self.consumed = 0
        self.produced = 0

    def took(self, n: int) -> None:
        self.consumed += n

    def gave(self, n: int) -> None:
        self.produced += n
        self.budget.spend(n)
        if self.produced > self.floor and self.produced > self.ratio * max(self.consumed, 1):
            raise ArtifactError(f"{self.what} expands more than {self.ratio}x ({self.produced} bytes from "
                                f"{self.consumed}): a decompression bomb, not read further", path=self.shown,
                                category=LIMIT)


def file_chunks(fd: int, offset: int, length: int, shown: str, what: str) -> Iterator[bytes]:
    """``length`` bytes of a file from ``offset`` (``os.pread``: no shared file position), in pieces."""
    pos, end = offset, offset + length
    while pos < end:
        piece = os.pread(fd, min(CHUNK, end - pos), pos)
        if not piece:
            raise ArtifactError(f"{what} is truncated: the file ends at {pos}, {end - pos} bytes before the end of "
                                f"{what} ({length} bytes from {offset})", path=shown, offset=pos)
        pos += len(piece)
        yield piece


class ByteStream:
    """Forward-only reads over an iterator of byte pieces, with the position in the stream."""

    def __init__(self, pieces: Iterator[bytes], shown: str, what: str) -> None:
        self._pieces = pieces
        self._buf = b""
        self._off = 0
        self.pos = 0
        self.shown = shown
        self.what = what

    def _fill(self) -> bool:
        for piece in self._pieces:
            if piece:
                self._buf = self._buf[self._off:] + piece if self._off < len(self._buf) else piece
                self._off = 0
                return True
        return False

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the stream."""
        out = []
        need = n
        while need > 0:
            have = len(self._buf) - self._off
            if have <= 0:
                if not self._fill():
                    break
                continue
            take = min(have, need)
            out.append(self._buf[self._off:self._off + take])
            self._off += take
            need -= take
        data = b"".join(out) if len(out) != 1 else out[0]
        self.pos += len(data)
        return data

    def read_exact(self, n: int, what: str) -> bytes:
        at = self.pos
        data = self.read(n)
        if len(data) < n:
            raise ArtifactError(f"{self.what} ends inside {what} ({len(data)} of {n} bytes)", path=self.shown,
                                offset=at + len(data))
        return data

    def skip(self, n: int, what: str) -> None:
        left = n
        while left > 0:
            have = len(self._buf) - self._off
            if have <= 0:
                if not self._fill():
                    raise ArtifactError(f"{self.what} ends inside {what} ({n - left} of {n} bytes)",
                                        path=self.shown, offset=self.pos)
                continue
            take = min(have, left)
            self._off += take
            self.pos += take
            left -= take

    def at_end(self) -> bool:
        return len(self._buf) - self._off <= 0 and not self._fill()


# ------------------------------------------------------------------------------- decompressors


def inflate(pieces: Iterator[bytes], ratio: Ratio, *, wbits: int = zlib.MAX_WBITS) -> Iterator[bytes]:
    """zlib (``wbits=15``), raw deflate (``-15``) or gzip (``31``, members one after another) output in pieces."""
    d = zlib.decompressobj(wbits)
    try:
        for piece in pieces:
            ratio.took(len(piece))
            data = piece
            while data:
                out = d.decompress(data, CHUNK)
                if out:
                    ratio.gave(len(out))
                    yield out
                data = d.unconsumed_tail
                if d.eof:
                    rest = d.unused_data
                    if wbits == 31 and rest[:2] == GZIP_MAGIC:  # another gzip member follows
                        d = zlib.decompressobj(wbits)
                        data = rest
                    else:
                        return  # trailing bytes after the stream are ignored, as gunzip does
        while not d.eof:
            out = d.decompress(b"", CHUNK)
            if not out:
                raise ArtifactError(f"{ratio.what}: compressed data ends before the end of its stream",
                                    path=ratio.shown, offset=ratio.consumed)
            ratio.gave(len(out))
            yield out
    except zlib.error as exc:
        raise ArtifactError(f"{ratio.what}: not valid compressed data ({exc})", path=ratio.shown,
                            offset=ratio.consumed) from None


def _unpack(pieces: Iterator[bytes], ratio: Ratio, make: Callable[[], _Decompressor],
            errors: tuple[type[BaseException], ...],
            kind: str) -> Iterator[bytes]:
    """xz or bzip2 output in pieces: the decompressor's ``max_length`` keeps each piece small."""
    d = make()
    try:
        for piece in pieces:
            ratio.took(len(piece))
            data = piece
            while True:
                if d.eof:
                    return
                out = d.decompress(data, CHUNK)
                data = b""
                if out:
                    ratio.gave(len(out))
                    yield out
                if d.needs_input:
                    break
        while not d.eof:
            out = d.decompress(b"", CHUNK)
            if not out and d.needs_input:
                raise ArtifactError(f"{ratio.what}: {kind} data ends before the end of its stream", path=ratio.shown,
                                    offset=ratio.consumed)
            if out:
                ratio.gave(len(out))
                yield out
    except errors as exc:
        raise ArtifactError(f"{ratio.what}: not valid {kind} data ({exc})", path=ratio.shown,
                            offset=ratio.consumed) from None


def unxz(pieces: Iterator[bytes], ratio: Ratio) -> Iterator[bytes]:
    return _unpack(pieces, ratio, lambda: lzma.LZMADecompressor(format=lzma.FORMAT_AUTO), (lzma.LZMAError,), "xz")


def unbzip2(pieces: Iterator[bytes], ratio: Ratio) -> Iterator[bytes]:
    return _unpack(pieces, ratio, bz2.BZ2Decompressor, (OSError, ValueError), "bzip2")


def pbzx(stream: ByteStream, ratio: Ratio) -> Iterator[bytes]:
    """Apple's pbzx: ``pbzx``, a flags word, then chunks of (flags, length, data); data is xz or stored.

    The chunk flag ``0x01000000`` says another chunk follows; a chunk whose length equals the
    chunk size is stored, not compressed (``pbzx`` in Apple's ``libarchive`` and the open pbzx tools).
    """
    stream.read_exact(4, "the pbzx magic")
    (flags,) = struct.unpack(">Q", stream.read_exact(8, "the pbzx header"))
    while flags & 0x01000000:
        at = stream.pos
        flags, length = struct.unpack(">QQ", stream.read_exact(16, "a pbzx chunk header"))
        if length > 64 * MiB:
            raise ArtifactError(f"pbzx chunk of {length} bytes is larger than 64 MiB", path=stream.shown, offset=at,
                                category=LIMIT)
        data = stream.read_exact(length, "a pbzx chunk")
        if data[:6] == XZ_MAGIC:
            yield from unxz(iter((data,)), ratio)
        else:
            ratio.took(len(data))
            ratio.gave(len(data))
            yield data


def decoded(pieces: Iterator[bytes], head: bytes, shown: str, what: str, budget: Budget) -> Iterator[bytes]:
    """The pieces of a payload whose compression is told by its first bytes (gzip, pbzx, xz, bzip2, zlib)."""
    ratio = Ratio(shown, what, budget)
    if head[:2] == GZIP_MAGIC:
        return inflate(pieces, ratio, wbits=31)
    if head[:4] == PBZX_MAGIC:
        return pbzx(ByteStream(pieces, shown, what), ratio)
    if head[:6] == XZ_MAGIC:
        return unxz(pieces, ratio)
    if head[:3] == BZIP2_MAGIC:
        return unbzip2(pieces, ratio)
    if len(head) >= 2 and head[0] & 0x0F == 8 and ((head[0] << 8) | head[1]) % 31 == 0:
        return inflate(pieces, ratio)
    return pieces  # stored as is (cpio magic checked by the caller)


def prepend(head: bytes, pieces: Iterator[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    yield from pieces
