"""A bounded cursor over wasm bytes: LEB128 by the spec's rules, names, and errors with absolute offsets.

Every read checks the end of the *current* range (a section, or the whole file) before touching a
byte, so a size that lies is reported where it lies instead of surfacing as an ``IndexError`` three
calls later. Offsets in errors are absolute file offsets, because that is what a user opens in a hex
viewer; nested modules inside components therefore keep the offsets of the outer file.
"""

from __future__ import annotations

import mmap

from macwasm.errors import LIMIT, WasmFormatError
from macwasm.limits import (
    WASM_MAX_LEB128_BYTES_U32,
    WASM_MAX_LEB128_BYTES_U64,
    WASM_MAX_SECTIONS,
    WASM_MAX_STRING_SIZE,
)

#: what the readers walk: the file's bytes, or its read-only mapping (indexing and slicing alike)
Data = bytes | mmap.mmap


class Reader:
    """Reads ``data[pos:end]``; ``data`` is ``bytes`` or a read-only ``mmap`` (never copied whole)."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: Data, pos: int, end: int) -> None:
        self.data = data
        self.pos = pos
        self.end = end

    # -- errors -------------------------------------------------------------------------------
    def fail(self, reason: str, offset: int | None = None) -> WasmFormatError:
        return WasmFormatError(reason, offset=self.pos if offset is None else offset)

    def eof(self, what: str) -> WasmFormatError:
        """The range ended inside ``what``: at the end of the file this is a truncated file."""
        return WasmFormatError(f"unexpected end of section or function while reading {what}", offset=self.pos)

    # -- primitives ---------------------------------------------------------------------------
    def at_end(self) -> bool:
        return self.pos >= self.end

    def byte(self, what: str = "a byte") -> int:
        pos = self.pos
        if pos >= self.end:
            raise self.eof(what)
        self.pos = pos + 1
        return self.data[pos]

    def skip(self, n: int, what: str) -> None:
        if n > self.end - self.pos:
            raise self.eof(what)
        self.pos += n

    def u32(self, what: str = "an integer") -> int:
        """Unsigned LEB128, at most 5 bytes, the unused high bits of the 5th byte zero."""
        pos = self.pos
        if pos >= self.end:
            raise self.eof(what)
        b = self.data[pos]
        if b < 0x80:  # the common case: one byte
            self.pos = pos + 1
            return b
        return self._uleb(32, what)

    def u64(self, what: str = "an integer") -> int:
        return self._uleb(64, what)

    def _uleb(self, bits: int, what: str) -> int:
        start = self.pos
        max_bytes = WASM_MAX_LEB128_BYTES_U32 if bits == 32 else WASM_MAX_LEB128_BYTES_U64  # ceil(bits / 7)
        result = 0
        shift = 0
        data = self.data
        for i in range(max_bytes):
            pos = start + i
            if pos >= self.end:
                self.pos = pos
                raise self.eof(what)
            b = data[pos]
            if i == max_bytes - 1:
                if b & 0x80:
                    raise WasmFormatError(f"integer representation too long ({what})", offset=pos)
                unused = bits - 7 * i  # bits the last byte may still carry
                if b >> unused:
                    raise WasmFormatError(f"integer too large ({what})", offset=pos)
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                self.pos = pos + 1
                return result
            shift += 7
        raise AssertionError("unreachable")  # pragma: no cover

    def sleb(self, bits: int, what: str = "a signed integer") -> int:
        """Signed LEB128 (s32, s33, s64): length and sign-extension bits checked like ``_uleb``."""
        start = self.pos
        max_bytes = (bits + 6) // 7
        result = 0
        shift = 0
        data = self.data
        for i in range(max_bytes):
            pos = start + i
            if pos >= self.end:
                self.pos = pos
                raise self.eof(what)
            b = data[pos]
            if i == max_bytes - 1:
                if b & 0x80:
                    raise WasmFormatError(f"integer representation too long ({what})", offset=pos)
                used = bits - 7 * i  # value bits in the last byte; the rest must copy the sign
                sign_and_unused = b >> (used - 1) & 0x7F
                if sign_and_unused not in (0, 0x7F >> (used - 1)):
                    raise WasmFormatError(f"integer too large ({what})", offset=pos)
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                self.pos = pos + 1
                if b & 0x40:
                    result -= 1 << shift
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def count(self, what: str, cap: int, min_entry_size: int = 1) -> int:
        """A vector length, checked against the cap and against the bytes left BEFORE anything is allocated."""
        at = self.pos
        n = self.u32(f"{what} count")
        if n > cap:
            raise WasmFormatError(f"{what} count {n} exceeds the limit of {cap}", offset=at, category=LIMIT)
        if n * min_entry_size > self.end - self.pos:
            raise WasmFormatError(f"{what} count {n} does not fit in the remaining {self.end - self.pos} bytes "
                                  "(unexpected end)", offset=at)
        return n

    def name(self, what: str = "a name") -> str:
        """A length-prefixed UTF-8 name; malformed UTF-8 is an error at the name's first byte."""
        at = self.pos
        n = self.u32(f"{what} length")
        if n > WASM_MAX_STRING_SIZE:
            raise WasmFormatError(f"{what} is {n} bytes, above the limit of {WASM_MAX_STRING_SIZE}",
                                  offset=at, category=LIMIT)
        start = self.pos
        if n > self.end - start:
            raise WasmFormatError(f"length out of bounds: {what} of {n} bytes runs past the end of its section",
                                  offset=at)
        self.pos = start + n
        raw = self.data[start:start + n]
        try:
            return raw.decode("utf-8") if isinstance(raw, bytes) else bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WasmFormatError(f"malformed UTF-8 encoding in {what}", offset=start + exc.start) from None

    def section(self, names: dict[int, str], container: str, seen: int) -> tuple[int, int, int, Reader]:
        """The next section's header, checked: ``(id, offset, size, reader over its body)``.

        Core modules and components frame sections the same way (id byte, u32 size) and differ only
        in the ids they know, so both walks read the frame here; the cursor moves past the body.
        """
        if seen >= WASM_MAX_SECTIONS:
            raise WasmFormatError(f"more than {WASM_MAX_SECTIONS} sections", offset=self.pos, category=LIMIT)
        sec_offset = self.pos
        sec_id = self.byte("section id")
        if sec_id not in names:
            raise WasmFormatError(f"malformed section id {sec_id}", offset=sec_offset)
        size = self.u32("section size")
        body = self.pos
        if size > self.end - body:
            raise WasmFormatError(f"length out of bounds: section {names[sec_id]} of {size} bytes runs "
                                  f"{size - (self.end - body)} bytes past the end of the {container}", offset=body)
        self.pos = body + size
        return sec_id, sec_offset, size, Reader(self.data, body, body + size)

    def expect_end(self, what: str) -> None:
        if self.pos != self.end:
            raise WasmFormatError(f"section size mismatch: {self.end - self.pos} bytes left over at the end of {what}",
                                  offset=self.pos)
