"""What to keep of a member read from a forward stream, so that the readers can work on it later.

A streamed payload cannot be rewound, so the decision is made as each member goes by:

* a Mach-O file up to ``ARTIFACT_KEEP_WHOLE_SIZE`` is kept whole; a larger one keeps only what the
  signing reader reads: the fat header, each slice's header and load commands, and each slice's
  code signature (``LC_CODE_SIGNATURE``), and, while the budget lasts, what the engine detector
  reads (string sections, Go build info, symbol and string tables, export trie, chained fixups),
  all planned from the load commands as they arrive and read in increasing file order, so one
  forward pass suffices;
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
    ARTIFACT_MAX_ENGINE_EVIDENCE,
    ARTIFACT_MAX_KEPT_SIZE,
    ARTIFACT_MAX_SIGNATURE_SIZE,
    ENGINE_MAX_SCAN_BYTES,
    ENGINE_MAX_STRTAB_SCAN,
    GO_MAX_BUILDINFO_SIZE,
    MACHO_MAX_FAT_ARCHS,
    MACHO_MAX_LOAD_COMMANDS,
    MACHO_MAX_SIZEOFCMDS,
    MACHO_MAX_SYMBOLS,
    PLIST_MAX_SIZE,
    WASM_MAX_FILE_SIZE,
)
from macwasm.signing.engines import STRING_SECTIONS
from macwasm.signing.gobuild import SECTION as GO_BUILDINFO_SECTION
from macwasm.signing.layout import SliceLayout, collect
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

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

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
        view = plan_macho(head, reader, min(budget.left, ARTIFACT_MAX_ENGINE_EVIDENCE))
        budget.spend(view.kept)
        return PartialSource(view, "a large Mach-O file: its headers, load commands, code signature and what "
                             "engine detection reads, within the memory budget")
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


def plan_macho(head: bytes, reader: Reader, evidence_budget: int = 0) -> SparseView:
    """Keep the bytes the Mach-O reader will ask for: fat header, slice headers and load commands, signatures,
    and, within ``evidence_budget`` bytes, what the engine detector reads of each slice.

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
        evidence_budget -= _plan_slice(ensure, start, size, evidence_budget)
    return view


def _plan_slice(get: Callable[[int, int], bytes], start: int, size: int, evidence_budget: int = 0) -> int:
    """Keep one slice's headers, load commands and signature, and (within ``evidence_budget``) the
    ranges the engine detector reads; return the evidence bytes planned."""
    header = get(start, 32)
    kind = _THIN.get(header[:4])
    if kind is None or len(header) < 28:
        return 0
    order, is64 = kind
    ncmds, sizeofcmds = struct.unpack_from(order + "II", header, 16)
    if ncmds > MACHO_MAX_LOAD_COMMANDS or sizeofcmds > MACHO_MAX_SIZEOFCMDS:
        return 0
    base = start + (32 if is64 else 28)
    raw = get(base, sizeofcmds)
    pos = 0
    signature = None
    layout: SliceLayout | None = SliceLayout(start, size - start, order, is64)
    for _ in range(ncmds):
        if pos + 8 > len(raw):
            break
        cmd, cmdsize = struct.unpack_from(order + "II", raw, pos)
        if cmdsize < 8:
            break
        if cmd & ~LC_REQ_DYLD == LC_CODE_SIGNATURE and pos + 16 <= len(raw):
            signature = struct.unpack_from(order + "II", raw, pos + 8)
        if layout is not None:
            try:
                collect(layout, cmd & ~LC_REQ_DYLD, raw[pos:pos + cmdsize], base + pos, None)
            except MacwasmError:
                layout = None  # malformed: keep what the signing reader needs; it names the fault
        pos += cmdsize
    ranges = []
    if layout is not None:
        ranges = _evidence_ranges(layout, evidence_budget)
    if signature is not None:
        dataoff, datasize = signature
        if datasize <= ARTIFACT_MAX_SIGNATURE_SIZE and start + dataoff < size:
            ranges.append((start + dataoff, datasize))
    planned = 0
    for offset, n in sorted(ranges):  # in file order: the stream only goes forward
        planned += len(get(offset, n))
    return planned


def _evidence_ranges(layout: SliceLayout, budget: int) -> list[tuple[int, int]]:
    """What the engine detector reads of a slice (engines.py), strongest evidence first while ``budget`` lasts:
    the export trie, chained fixups, Go build info, symbol and string tables, then the string sections
    (a part of one is still searched). Returned in file order.

    Without them a large member of a zip or pkg would have its engines judged from the load commands
    alone (a wheel's Node.js binary names no engine there)."""
    tables: list[tuple[int, int]] = []
    for link in (layout.exports, layout.chained_fixups):
        if link is not None:
            tables.append((link.offset, link.size))
    go = layout.section(None, GO_BUILDINFO_SECTION)
    if go is not None and go.has_file_bytes:
        tables.append((go.offset, min(go.size, GO_MAX_BUILDINFO_SIZE)))
    if layout.symtab is not None:
        st = layout.symtab
        tables.append((st.symoff, min(st.nsyms, MACHO_MAX_SYMBOLS) * (16 if layout.is64 else 12)))
        tables.append((st.stroff, min(st.strsize, ENGINE_MAX_STRTAB_SCAN)))
    out = []
    for off, n in tables:
        if 0 < n <= budget and off + n <= layout.size:
            out.append((layout.start + off, n))
            budget -= n
    scan = ENGINE_MAX_SCAN_BYTES
    for segname, sectname in STRING_SECTIONS:
        sec = layout.section(segname, sectname)
        if sec is None or not sec.has_file_bytes or sec.offset + sec.size > layout.size:
            continue
        take = min(sec.size, scan, budget)
        if take > 0:
            out.append((layout.start + sec.offset, take))
            scan -= take
            budget -= take
    return sorted(out)
