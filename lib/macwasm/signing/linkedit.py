"""Symbol names from a slice's ``__LINKEDIT``: imports, exports and the symbol table, read bounded.

The engine detector asks few questions of a symbol table that may hold 600,000 names in 14 MB
(Node.js): "does this binary export a name starting with ``__ZN2v88internal8compiler``?", "which
names does it import, and from which library?". Reading every ``nlist`` entry in Python would
cost more than the rest of ``macwasm entitlements``, so each question takes the cheap road:

* exports: a walk of the export trie guided by the prefix (a few dozen nodes), or, without a
  trie, a binary search of the symbol table's external-definition range, which ld64 and lld
  write sorted by name;
* imports: the undefined-symbol range and the chained-fixups import table, small in any real
  binary (hundreds to a few thousand names), each name with the library that provides it;
* every other name (local symbols, e.g. a Rust crate's internals): a byte search of the string
  table for ``\\0`` + prefix, up to :data:`~macwasm.limits.ENGINE_MAX_STRTAB_SCAN` bytes.

Every offset is checked before it is followed; a malformed table raises
:class:`~macwasm.errors.MachOFormatError` with the absolute file offset, a table larger than a cap
is searched up to the cap and the caller is told (``notes``).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from typing import Any

from macwasm.errors import LIMIT, MachOFormatError
from macwasm.limits import (
    ENGINE_MAX_IMPORTS,
    ENGINE_MAX_STRTAB_SCAN,
    ENGINE_MAX_TRIE_STEPS,
    MACHO_MAX_SYMBOL_NAME,
    MACHO_MAX_SYMBOLS,
)
from macwasm.signing.layout import Range, SliceLayout

N_STAB = 0xE0
N_TYPE = 0x0E
N_EXT = 0x01
N_UNDF = 0x0
#: two-level namespace library ordinals with a meaning of their own (mach-o/nlist.h, fixup-chains.h)
SELF_ORDINAL, MAIN_EXECUTABLE, FLAT_LOOKUP, WEAK_LOOKUP = 0, -1, -2, -3
_CHAINED_IMPORT_SIZES = {1: 4, 2: 8, 3: 16}  # DYLD_CHAINED_IMPORT, _ADDEND, _ADDEND64


def find(buf: Any, needle: bytes, start: int, end: int) -> int:
    """``buf.find`` between absolute offsets, without copying when the buffer can search itself."""
    if hasattr(buf, "find"):  # bytes, bytearray, mmap
        at: int = buf.find(needle, start, end)
        return at
    hit = bytes(buf[start:end]).find(needle)
    return hit + start if hit >= 0 else -1


def cstring(buf: Any, start: int, end: int) -> bytes:
    """The NUL-terminated name at ``start``, at most :data:`MACHO_MAX_SYMBOL_NAME` bytes, never past ``end``."""
    stop = min(end, start + MACHO_MAX_SYMBOL_NAME)
    nul = find(buf, b"\0", start, stop)
    return bytes(buf[start:nul if nul >= 0 else stop])


def provider(layout: SliceLayout, ordinal: int) -> str | None:
    """Which library an import comes from, by its library ordinal (already sign-extended)."""
    if 1 <= ordinal <= len(layout.dylibs):
        return layout.dylibs[ordinal - 1].path
    return {MAIN_EXECUTABLE: "the main executable",
            FLAT_LOOKUP: "any image in the process (flat lookup)", WEAK_LOOKUP: "any image (weak lookup)"}.get(ordinal)


# --------------------------------------------------------------------------------- symbol table


class SymbolTable:
    """The ``LC_SYMTAB`` (and ``LC_DYSYMTAB``) tables of one slice, read entry by entry on demand."""

    def __init__(self, buf: Any, layout: SliceLayout, path: str | None, notes: list[str]) -> None:
        st = layout.symtab
        assert st is not None
        self.buf, self.layout, self.path = buf, layout, path
        self.entry = 16 if layout.is64 else 12
        self.sym0 = layout.start + st.symoff
        self.str0 = layout.start + st.stroff
        self.strsize = st.strsize
        self.nsyms = st.nsyms
        self.usable = st.nsyms <= MACHO_MAX_SYMBOLS
        if not self.usable:
            notes.append(f"engine detection: the symbol table holds {st.nsyms} symbols, more than the limit of "
                         f"{MACHO_MAX_SYMBOLS}; it was not searched")
        self.ranges: dict[str, tuple[int, int]] = {}
        dys = layout.dysymtab
        if dys is not None:
            for what, first, count, at in (("local", dys.ilocalsym, dys.nlocalsym, 8),
                                           ("extdef", dys.iextdefsym, dys.nextdefsym, 16),
                                           ("undef", dys.iundefsym, dys.nundefsym, 24)):
                if first + count > st.nsyms:
                    raise MachOFormatError(f"LC_DYSYMTAB's {what} symbols {first}..{first + count} lie past the "
                                           f"{st.nsyms} symbols of LC_SYMTAB", path=path, offset=dys.at + at)
                self.ranges[what] = (first, count)

    def _entry(self, index: int) -> tuple[int, int, int]:
        """``(n_strx, n_type, n_desc)`` of symbol ``index``."""
        at = self.sym0 + index * self.entry
        strx, ntype, _sect, desc = struct.unpack(self.layout.order + "IBBH", bytes(self.buf[at:at + 8]))
        return strx, ntype, desc

    def name(self, index: int, strx: int | None = None) -> bytes:
        if strx is None:
            strx = self._entry(index)[0]
        if strx >= self.strsize:
            raise MachOFormatError(f"symbol {index} names string offset {strx}, past the {self.strsize}-byte string "
                                   "table", path=self.path, offset=self.sym0 + index * self.entry)
        return cstring(self.buf, self.str0 + strx, self.str0 + self.strsize)

    def imports(self, notes: list[str]) -> Iterator[tuple[bytes, int]]:
        """``(name, library ordinal)`` of each undefined external symbol (the undef range when LC_DYSYMTAB says it)."""
        if not self.usable:
            return
        first, count = self.ranges.get("undef", (0, self.nsyms))  # without LC_DYSYMTAB: every symbol
        if count > ENGINE_MAX_IMPORTS:
            notes.append(f"engine detection: only the first {ENGINE_MAX_IMPORTS} of {count} symbols were searched "
                         "for imports")
            count = ENGINE_MAX_IMPORTS
        raw = bytes(self.buf[self.sym0 + first * self.entry:self.sym0 + (first + count) * self.entry])
        fmt = self.layout.order + ("IBBHQ" if self.layout.is64 else "IBBHI")
        for i, (strx, ntype, _sect, desc, _value) in enumerate(struct.iter_unpack(fmt, raw)):
            if ntype & N_STAB or (ntype & N_TYPE) != N_UNDF or not ntype & N_EXT:
                continue
            ordinal = (desc >> 8) & 0xFF
            yield self.name(first + i, strx), ordinal - 0x100 if ordinal >= 0xFD else ordinal

    def export_with_prefix(self, prefix: bytes) -> bytes | None:
        """A defined external symbol starting with ``prefix``, by binary search of the (sorted) extdef range."""
        if not self.usable or "extdef" not in self.ranges:
            return None
        lo, count = self.ranges["extdef"]
        hi = lo + count
        while lo < hi:  # first name >= prefix
            mid = (lo + hi) // 2
            if self.name(mid)[:len(prefix)] < prefix:
                lo = mid + 1
            else:
                hi = mid
        first, count = self.ranges["extdef"]
        if lo < first + count:
            candidate = self.name(lo)
            if candidate.startswith(prefix):
                return candidate
        return None

    def any_name_with_prefix(self, prefixes: list[bytes], notes: list[str]) -> dict[bytes, bytes]:
        """For each prefix, the first name in the string table that starts with it (locals included).

        One regular-expression pass finds the leftmost name that starts with any prefix still
        wanted; the search resumes there without the prefix found, so the table is read once
        however many prefixes there are (a ``find`` per prefix would read it once per prefix).
        """
        if not self.usable or not prefixes:
            return {}
        end = self.str0 + min(self.strsize, ENGINE_MAX_STRTAB_SCAN)
        if self.strsize > ENGINE_MAX_STRTAB_SCAN:
            notes.append(f"engine detection: only the first {ENGINE_MAX_STRTAB_SCAN} of {self.strsize} bytes of the "
                         "string table were searched")
        found: dict[bytes, bytes] = {}
        # a name at offset 0 has no NUL before it; read no further than the table (what follows may not be kept)
        head = bytes(self.buf[self.str0:self.str0 + min(MACHO_MAX_SYMBOL_NAME, self.strsize)])
        for prefix in prefixes:
            if head.startswith(prefix):
                found[prefix] = cstring(self.buf, self.str0, self.str0 + self.strsize)
        # regular expressions need the buffer protocol: a member kept in parts (SparseView) lends its table as bytes
        try:
            memoryview(self.buf)
            hay, base = self.buf, 0
        except TypeError:
            hay, base = bytes(self.buf[self.str0:end]), self.str0
        pos = self.str0
        wanted = [p for p in prefixes if p not in found]
        while wanted:
            pattern = re.compile(b"\\0(" + b"|".join(re.escape(p) for p in wanted) + b")")
            match = pattern.search(hay, pos - base, end - base)
            if match is None:
                break
            prefix = match.group(1)
            found[prefix] = cstring(self.buf, base + match.start() + 1, self.str0 + self.strsize)
            wanted.remove(prefix)
            pos = base + match.start()
        return found


# ---------------------------------------------------------------------------------- export trie


def uleb128(buf: Any, pos: int, end: int, what: str, path: str | None) -> tuple[int, int]:
    """``(value, next position)`` of the unsigned LEB128 at ``pos`` (Go's uvarint is the same encoding)."""
    value = shift = 0
    start = pos
    while True:
        if pos >= end:
            raise MachOFormatError(f"{what}: ULEB128 runs past the end", path=path, offset=start)
        byte = buf[pos]
        pos += 1
        if shift < 64:
            value |= (byte & 0x7F) << shift
        elif byte & 0x7F:
            raise MachOFormatError(f"{what}: ULEB128 does not fit 64 bits", path=path, offset=start)
        if byte < 0x80:
            return value, pos
        shift += 7


def export_trie_lookup(buf: Any, layout: SliceLayout, trie: Range, prefix: bytes, path: str | None) -> bytes | None:
    """An exported name starting with ``prefix``, walking only the trie edges that agree with it.

    Each node: ULEB terminal size, its export info, a child count byte, then per child a
    NUL-terminated edge label and the ULEB offset of the child (from the trie's start). A node
    seen twice in one walk is a cycle; a walk longer than :data:`ENGINE_MAX_TRIE_STEPS` nodes or a
    name longer than :data:`MACHO_MAX_SYMBOL_NAME` is a limit.
    """
    base = layout.start + trie.offset
    end = base + trie.size
    node = 0
    walked = b""
    seen: set[int] = set()
    for _step in range(ENGINE_MAX_TRIE_STEPS):
        if node in seen:
            raise MachOFormatError(f"export trie loops back to node {node}", path=path, offset=base + node)
        seen.add(node)
        if node >= trie.size:
            raise MachOFormatError(f"export trie child offset {node} lies past the {trie.size}-byte trie", path=path,
                                   offset=trie.at)
        terminal, pos = uleb128(buf, base + node, end, "export trie node", path)
        if terminal > end - pos:
            raise MachOFormatError(f"export trie node's terminal info of {terminal} bytes runs past the trie",
                                   path=path, offset=base + node)
        if len(walked) >= len(prefix) and terminal:
            return walked
        pos += terminal
        if pos >= end:
            raise MachOFormatError("export trie node has no child count", path=path, offset=pos)
        children = buf[pos]
        pos += 1
        need = prefix[len(walked):]
        for _ in range(children):
            nul = find(buf, b"\0", pos, min(end, pos + MACHO_MAX_SYMBOL_NAME + 1))
            if nul < 0:
                raise MachOFormatError("export trie edge label has no terminating NUL within the trie or the name "
                                       f"limit of {MACHO_MAX_SYMBOL_NAME} bytes", path=path, offset=pos)
            label = bytes(buf[pos:nul])
            child, pos = uleb128(buf, nul + 1, end, "export trie edge", path)
            if label.startswith(need) or need.startswith(label):
                walked += label
                if len(walked) > MACHO_MAX_SYMBOL_NAME:
                    raise MachOFormatError(f"export trie name longer than {MACHO_MAX_SYMBOL_NAME} bytes", path=path,
                                           offset=nul, category=LIMIT)
                node = child
                break
        else:
            return None
    raise MachOFormatError(f"export trie walk took more than {ENGINE_MAX_TRIE_STEPS} nodes", path=path, offset=base,
                           category=LIMIT)


# ---------------------------------------------------------------------------- chained fixups


def chained_imports(buf: Any, layout: SliceLayout, fixups: Range, path: str | None,
                    notes: list[str]) -> Iterator[tuple[bytes, int]]:
    """``(name, library ordinal)`` of each import in ``LC_DYLD_CHAINED_FIXUPS`` (dyld_chained_fixups_header)."""
    base = layout.start + fixups.offset
    if fixups.size < 28:
        raise MachOFormatError(f"chained fixups header needs 28 bytes, the blob has {fixups.size}", path=path,
                               offset=fixups.at)
    order = layout.order
    _version, _starts, imports_off, symbols_off, count, imports_format, symbols_format = struct.unpack(
        order + "7I", bytes(buf[base:base + 28]))
    entry = _CHAINED_IMPORT_SIZES.get(imports_format)
    if entry is None:
        raise MachOFormatError(f"chained fixups imports_format {imports_format} is not 1, 2 or 3", path=path,
                               offset=base + 20)
    if imports_off + count * entry > fixups.size:
        raise MachOFormatError(f"chained fixups' {count} imports ({count * entry} bytes at {imports_off}) run past the "
                               f"{fixups.size}-byte blob", path=path, offset=base + 8)
    if symbols_off > fixups.size:
        raise MachOFormatError(f"chained fixups' symbol names at {symbols_off} lie past the {fixups.size}-byte blob",
                               path=path, offset=base + 12)
    if symbols_format != 0:
        notes.append(f"engine detection: chained-fixup import names are compressed (symbols_format {symbols_format}); "
                     "not searched")
        return
    if count > ENGINE_MAX_IMPORTS:
        notes.append(f"engine detection: only the first {ENGINE_MAX_IMPORTS} of {count} chained-fixup imports were "
                     "searched")
        count = ENGINE_MAX_IMPORTS
    pool, pool_end = base + symbols_off, base + fixups.size
    raw = bytes(buf[base + imports_off:base + imports_off + count * entry])
    for i in range(count):
        if imports_format == 3:
            (word,) = struct.unpack_from(order + "Q", raw, i * entry)
            ordinal, name_off, width = word & 0xFFFF, word >> 32, 16
        else:
            (word,) = struct.unpack_from(order + "I", raw, i * entry)
            ordinal, name_off, width = word & 0xFF, word >> 9, 8
        if ordinal >= (1 << width) - 3:
            ordinal -= 1 << width
        if pool + name_off >= pool_end:
            raise MachOFormatError(f"chained fixups import {i} names offset {name_off}, past the symbol names",
                                   path=path, offset=base + imports_off + i * entry)
        yield cstring(buf, pool + name_off, pool_end), ordinal
