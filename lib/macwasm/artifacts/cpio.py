"""cpio archives as a pkg's ``Payload`` holds them: the portable ``odc`` format and ``newc`` (with or without CRC).

Apple's ``pkgbuild`` writes odc (``070707``: octal fields, data right after the name); other
tools write newc (``070701``/``070702``: hex fields, header+name and data padded to 4 bytes).
Entries are read one by one from a forward stream; the caller reads as much of each member as it
needs through :class:`Member` and the rest is skipped, so a payload is never held whole.

Raises :class:`~macwasm.errors.ArtifactError` with the offset in the *decompressed* payload.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass

from macwasm.artifacts.streams import ByteStream
from macwasm.errors import LIMIT, ArtifactError
from macwasm.limits import ARTIFACT_MAX_NAME_LENGTH

ODC, NEWC, NEWC_CRC = b"070707", b"070701", b"070702"
TRAILER = "TRAILER!!!"
_ODC_FIELDS = (("dev", 6), ("ino", 6), ("mode", 6), ("uid", 6), ("gid", 6), ("nlink", 6), ("rdev", 6),
               ("mtime", 11), ("namesize", 6), ("filesize", 11))
_NEWC_FIELDS = ("ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor", "rdevmajor",
                "rdevminor", "namesize", "check")


@dataclass(frozen=True)
class CpioEntry:
    name: str  # as written (e.g. "./Applications/X.app"), decoded as UTF-8 with surrogate escapes
    mode: int
    size: int
    nlink: int
    ino: int
    offset: int  # of the header in the decompressed payload

    @property
    def kind(self) -> str:
        if stat.S_ISLNK(self.mode):
            return "link"
        if stat.S_ISDIR(self.mode):
            return "dir"
        if stat.S_ISREG(self.mode):
            return "file"
        return "other"


class Member:
    """The data of one entry: forward reads at offsets, nothing before the current position."""

    def __init__(self, stream: ByteStream, size: int) -> None:
        self.stream = stream
        self.size = size
        self.pos = 0

    def read_at(self, offset: int, n: int) -> bytes:
        if offset < self.pos:
            raise ValueError("cpio members are read forward only")
        n = max(0, min(n, self.size - offset))
        if offset > self.pos:
            self.stream.skip(offset - self.pos, "a cpio member")
        self.pos = offset
        data = self.stream.read_exact(n, "a cpio member")
        self.pos += n
        return data

    def finish(self) -> None:
        if self.pos < self.size:
            self.stream.skip(self.size - self.pos, "a cpio member")
            self.pos = self.size


def _number(raw: bytes, base: int, field: str, at: int, stream: ByteStream) -> int:
    try:
        return int(raw, base)
    except ValueError:
        raise ArtifactError(f"cpio header field {field} is not a {'octal' if base == 8 else 'hex'} number "
                            f"({raw!r})", path=stream.shown, offset=at) from None


def iter_entries(stream: ByteStream) -> Iterator[tuple[CpioEntry, Member]]:
    """Each entry with its data; the caller may read some of the data before asking for the next one."""
    while True:
        at = stream.pos
        magic = stream.read(6)
        if not magic:
            raise ArtifactError("cpio payload ends without its TRAILER!!! entry", path=stream.shown, offset=at)
        if magic == ODC:
            raw = stream.read_exact(70, "a cpio header")
            fields, pos = {}, 0
            for name, width in _ODC_FIELDS:
                fields[name] = _number(raw[pos:pos + width], 8, name, at + 6 + pos, stream)
                pos += width
            pad_name = pad_data = 0
        elif magic in (NEWC, NEWC_CRC):
            raw = stream.read_exact(104, "a cpio header")
            fields = {name: _number(raw[i * 8:i * 8 + 8], 16, name, at + 6 + i * 8, stream)
                      for i, name in enumerate(_NEWC_FIELDS)}
            pad_name = (-(110 + fields["namesize"])) % 4
            pad_data = (-fields["filesize"]) % 4
        else:
            raise ArtifactError(f"not a cpio header (magic {magic!r}; odc 070707 and newc 070701/070702 are read)",
                                path=stream.shown, offset=at)
        namesize = fields["namesize"]
        if namesize == 0 or namesize > ARTIFACT_MAX_NAME_LENGTH + 1:
            raise ArtifactError(f"cpio name of {namesize} bytes (at most {ARTIFACT_MAX_NAME_LENGTH})",
                                path=stream.shown, offset=at, category=LIMIT if namesize else None)
        raw_name = stream.read_exact(namesize, "a cpio name")
        if pad_name:
            stream.skip(pad_name, "cpio padding")
        name = raw_name.rstrip(b"\0").decode("utf-8", "surrogateescape")
        if name == TRAILER:
            return
        entry = CpioEntry(name, fields["mode"], fields["filesize"], fields["nlink"], fields["ino"], at)
        member = Member(stream, entry.size)
        yield entry, member
        member.finish()
        if pad_data:
            stream.skip(pad_data, "cpio padding")
