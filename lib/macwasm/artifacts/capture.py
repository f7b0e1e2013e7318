"""What to keep of a member read from a forward stream, so that the readers can work on it later.

A streamed payload cannot be rewound, so the decision is made as each member goes by:

* a Mach-O file up to ``ARTIFACT_KEEP_WHOLE_SIZE`` is kept whole; a larger one keeps only what the
  signing reader reads: the fat header, each slice's header and load commands, and each slice's
  code signature (``LC_CODE_SIGNATURE``), planned from the bytes as they arrive (all in increasing
  file order, so one forward pass suffices). A 227 MB framework binary keeps ~2 MB;
* Info.plists, profiles, entitlements and ``.wasm`` modules are kept whole (within their caps);
* anything else keeps its first bytes only (enough to tell what it is).

Everything kept counts against ``ARTIFACT_MAX_KEPT_SIZE`` for the artifact; past it a Mach-O falls
back to its headers and signature, and other files to their first bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from macwasm.artifacts.tree import BytesSource, PartialSource, Source, SparseView
from macwasm.errors import MacwasmError
from macwasm.limits import (
    ARTIFACT_KEEP_WHOLE_SIZE,
    ARTIFACT_MAX_KEPT_SIZE,
    ARTIFACT_MAX_SIGNATURE_SIZE,
    MACHO_MAX_FAT_ARCHS,
    MACHO_MAX_LOAD_COMMANDS,
    MACHO_MAX_SIZEOFCMDS,
    PLIST_MAX_SIZE,
    WASM_MAX_FILE_SIZE,
)
from macwasm.signing.macho import LC_CODE_SIGNATURE, LC_REQ_DYLD, is_macho

HEAD_SIZE = 4096
SNIFF_SIZE = 8
#: member names kept whole besides the signing suffixes (the bundle reader reads these)
WHOLE_NAMES = ("Info.plist", "embedded.provisionprofile", "embedded.mobileprovision", "PackageInfo", "Distribution")
_THIN = {b"\xce\xfa\xed\xfe": ("<", False), b"\xcf\xfa\xed\xfe": ("<", True),
         b"\xfe\xed\xfa\xce": (">", False), b"\xfe\xed\xfa\xcf": (">", True)}
_FAT = {b"\xca\xfe\xba\xbe": False, b"\xca\xfe\xba\xbf": True}


class Reader(Protocol):
    """A member's bytes read forward only (:class:`macwasm.artifacts.cpio.Member` or a zip member)."""

    pos: int
    size: int

    def read_at(self, offset: int, n: int) -> bytes: ...


@dataclass
class KeepBudget:
    """Bytes kept from one artifact's streams."""

    limit: int = ARTIFACT_MAX_KEPT_SIZE
    used: int = 0

    def allows(self, n: int) -> bool:
        return self.used + n <= self.limit

    def spend(self, n: int) -> None:
        self.used += n


def _whole_suffixes() -> tuple[str, ...]:
    from macwasm.signing.reader import SIGNING_SUFFIXES

    return (*SIGNING_SUFFIXES, ".wasm")


def keep(name: str, reader: Reader, budget: KeepBudget) -> Source:
    """Read what is worth keeping of one member (its bytes from ``reader``) and return where it now lives."""
    size = reader.size
    head = reader.read_at(0, min(size, SNIFF_SIZE))
    base = name.rpartition("/")[2]
    if is_macho(head):
        if size <= ARTIFACT_KEEP_WHOLE_SIZE and budget.allows(size):
            return _whole(head, reader, budget)
        view = plan_macho(head, reader)
        budget.spend(view.kept)
        return PartialSource(view, "a large Mach-O file: its headers, load commands and code signature")
    cap = WASM_MAX_FILE_SIZE if base.lower().endswith(".wasm") else PLIST_MAX_SIZE
    wanted = base in WHOLE_NAMES or base.lower().endswith(_whole_suffixes())
    if wanted and size <= cap and budget.allows(size):
        return _whole(head, reader, budget)
    view = SparseView(size)
    view.add(0, head)
    reason = "only its first bytes are read from a streamed payload" if not wanted else \
        f"{size} bytes did not fit in the {budget.limit}-byte memory budget of a streamed payload"
    return PartialSource(view, reason)


def _whole(head: bytes, reader: Reader, budget: KeepBudget) -> BytesSource:
    data = head + reader.read_at(len(head), reader.size - len(head))
    budget.spend(len(data))
    return BytesSource(data)


def plan_macho(head: bytes, reader: Reader) -> SparseView:
    """Keep the bytes the Mach-O reader will ask for: fat header, slice headers and load commands, signatures.

    Planned from the bytes themselves, in increasing offset order. A malformed file keeps what was
    read before the fault: the Mach-O reader will then name the fault (or the range it lacks).
    """
    size = reader.size
    view = SparseView(size)
    view.add(0, head)

    def ensure(offset: int, n: int) -> bytes:
        n = max(0, min(n, size - offset))
        if n == 0:
            return b""
        try:
            return view[offset:offset + n]
        except MacwasmError:
            pass
        start = max(offset, reader.pos)
        if start >= offset + n:
            return b""  # behind the stream and not kept: the reader will say which range it lacks
        view.add(start, reader.read_at(start, offset + n - start))
        try:
            return view[offset:offset + n]
        except MacwasmError:
            return b""

    first = ensure(0, HEAD_SIZE)
    slices: list[int] = []
    if first[:4] in _FAT:
        entry = 32 if _FAT[first[:4]] else 20
        (count,) = struct.unpack(">I", first[4:8])
        if 0 < count <= MACHO_MAX_FAT_ARCHS:
            raw = ensure(8, count * entry)
            for i in range(len(raw) // entry):
                fields = struct.unpack_from(">iiQQ" if entry == 32 else ">iiII", raw, i * entry)
                slices.append(fields[2])
    elif first[:4] in _THIN:
        slices.append(0)
    for start in sorted(set(slices)):
        _plan_slice(ensure, start, size)
    return view


def _plan_slice(get: Callable[[int, int], bytes], start: int, size: int) -> None:
    header = get(start, 32)
    kind = _THIN.get(header[:4])
    if kind is None or len(header) < 28:
        return
    order, is64 = kind
    ncmds, sizeofcmds = struct.unpack_from(order + "II", header, 16)
    if ncmds > MACHO_MAX_LOAD_COMMANDS or sizeofcmds > MACHO_MAX_SIZEOFCMDS:
        return
    base = start + (32 if is64 else 28)
    raw = get(base, sizeofcmds)
    pos = 0
    signature = None
    for _ in range(ncmds):
        if pos + 8 > len(raw):
            break
        cmd, cmdsize = struct.unpack_from(order + "II", raw, pos)
        if cmdsize < 8:
            break
        if cmd & ~LC_REQ_DYLD == LC_CODE_SIGNATURE and pos + 16 <= len(raw):
            signature = struct.unpack_from(order + "II", raw, pos + 8)
        pos += cmdsize
    if signature is not None:
        dataoff, datasize = signature
        if datasize <= ARTIFACT_MAX_SIGNATURE_SIZE and start + dataoff < size:
            get(start + dataoff, datasize)
