"""Which instruction families a module's function bodies use, read by decoding every instruction.

Asked for one question the declarations cannot answer: whether a module that uses exception
handling uses the *legacy* instructions (``try``, ``catch``, ``rethrow``, ``delegate``,
``catch_all``; what Emscripten's ``-fwasm-exceptions`` and Pyodide emit) or the current ones
(``try_table``, ``throw_ref``). Runtimes differ: wasmtime loads only the current ones (its
``wasm_legacy_exceptions`` switch is a hidden test-suite option), WAMR's interpreter only the
legacy ones, V8 and JavaScriptCore both.

The decoder knows the immediates of the MVP, the 0xFC (saturating, bulk memory, tables, wide
arithmetic), 0xFD (SIMD, relaxed SIMD), 0xFE (threads) and 0xFB (GC) instructions and both
exception-handling proposals. It never raises: an opcode it does not know, or an immediate that
runs past its body, gives ``None`` ("not known"), and the caller keeps the declarations' answer.
This module is the reference; ``_speedups.scan_instructions`` does the same in C for large modules.
"""

from __future__ import annotations

from dataclasses import dataclass

from macwasm.wasm.reader import Data

LEGACY_EH = 1  # try 0x06, catch 0x07, rethrow 0x09, delegate 0x18, catch_all 0x19
CURRENT_EH = 2  # try_table 0x1F, throw_ref 0x0A
ATOMICS = 4  # the 0xFE prefix
SIMD_OPS = 8  # the 0xFD prefix

_LEGACY = frozenset((0x06, 0x07, 0x09, 0x18, 0x19))
_NO_IMMEDIATE = frozenset((0x00, 0x01, 0x05, 0x0A, 0x0B, 0x0F, 0x19, 0x1A, 0x1B, 0xD1, 0xD3, 0xD4,
                           *range(0x45, 0xC5)))
_ONE_INDEX = frozenset((0x07, 0x08, 0x09, 0x0C, 0x0D, 0x10, 0x12, 0x14, 0x15, 0x18, *range(0x20, 0x27),
                        0x3F, 0x40, 0x41, 0x42, 0xD2, 0xD5, 0xD6))
_BLOCK = frozenset((0x02, 0x03, 0x04, 0x06))
#: one-byte value and heap types (numeric, vector, abstract heap types) and the empty block type
_SHORT_TYPES = frozenset((0x40, 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F, 0x6E, 0x6D, 0x6C, 0x6B, 0x6A, 0x71,
                          0x72, 0x73, 0x69, 0x74, 0x68, 0x75))
_REF_NULL, _REF, _EXACT = 0x63, 0x64, 0x62
#: 0xFB (GC) sub-opcodes -> how many index immediates; heap-type forms are handled apart
_GC_INDICES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 2, 5: 2, 6: 1, 7: 1, 8: 2, 9: 2, 10: 2, 11: 1, 12: 1, 13: 1, 14: 1, 15: 0,
               16: 1, 17: 2, 18: 2, 19: 2, 26: 0, 27: 0, 28: 0, 29: 0, 30: 0}
#: 0xFC sub-opcodes -> index immediates
_MISC_INDICES = {0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 2, 9: 1, 10: 2, 11: 1, 12: 2, 13: 1, 14: 2,
                 15: 1, 16: 1, 17: 1, 19: 0, 20: 0, 21: 0, 22: 0}
_SIMD_LAST = 0x113  # relaxed SIMD ends at 0x113


class _Unknown(Exception):
    """Something the decoder does not know: the answer is 'not known', never an error."""


@dataclass(frozen=True)
class InstructionFlags:
    legacy_eh: bool
    current_eh: bool
    atomics: bool
    simd: bool

    @classmethod
    def of(cls, bits: int) -> InstructionFlags:
        return cls(bool(bits & LEGACY_EH), bool(bits & CURRENT_EH), bool(bits & ATOMICS), bool(bits & SIMD_OPS))


def scan_instructions(data: Data, pos: int, end: int, count: int, stop: int = 0) -> int | None:
    """The flag bits of ``count`` function bodies starting at ``data[pos]`` (a code section after its count).

    None when a body holds an opcode this decoder does not know or does not decode to its end. It
    returns after the first body whose bits meet ``stop`` (0: it reads every body).
    """
    buf = data if isinstance(data, bytes) else memoryview(data).cast("B")
    bits = 0
    try:
        for _ in range(count):
            size, pos = _leb(buf, pos, end)
            body_end = pos + size
            if body_end > end:
                return None
            bits |= _body(buf, pos, body_end)
            pos = body_end
            if bits & stop:
                break
    except _Unknown:
        return None
    return bits


def _leb(buf: bytes | memoryview, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(10):
        if pos >= end:
            raise _Unknown
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
    raise _Unknown


def _skip(buf: bytes | memoryview, pos: int, end: int, n: int = 1) -> int:
    for _ in range(n):
        _, pos = _leb(buf, pos, end)
    return pos


def _heap_type(buf: bytes | memoryview, pos: int, end: int) -> int:
    if pos >= end:
        raise _Unknown
    if buf[pos] in _SHORT_TYPES:
        return pos + 1
    if buf[pos] == _EXACT:
        pos += 1
    return _skip(buf, pos, end)


def _value_type(buf: bytes | memoryview, pos: int, end: int) -> int:
    if pos >= end:
        raise _Unknown
    b = buf[pos]
    if b in _SHORT_TYPES:
        return pos + 1
    if b in (_REF, _REF_NULL):
        return _heap_type(buf, pos + 1, end)
    raise _Unknown


def _block_type(buf: bytes | memoryview, pos: int, end: int) -> int:
    """A value type, the empty type (0x40), or else a type index (s33)."""
    if pos < end and (buf[pos] in _SHORT_TYPES or buf[pos] in (_REF, _REF_NULL)):
        return _value_type(buf, pos, end)
    return _skip(buf, pos, end)


def _memarg(buf: bytes | memoryview, pos: int, end: int) -> int:
    align, pos = _leb(buf, pos, end)
    if align & 0x40:  # multi-memory: a memory index follows
        pos = _skip(buf, pos, end)
    return _skip(buf, pos, end)  # offset


def _body(buf: bytes | memoryview, pos: int, end: int) -> int:
    groups, pos = _leb(buf, pos, end)
    for _ in range(groups):
        pos = _skip(buf, pos, end)
        pos = _value_type(buf, pos, end)
    bits = 0
    while pos < end:
        op = buf[pos]
        pos += 1
        if op in _LEGACY:
            bits |= LEGACY_EH
        if op in _NO_IMMEDIATE:
            if op == 0x0A:
                bits |= CURRENT_EH
            continue
        if op in _ONE_INDEX:
            pos = _skip(buf, pos, end)
        elif op in _BLOCK:
            pos = _block_type(buf, pos, end)
        elif op in (0x11, 0x13):
            pos = _skip(buf, pos, end, 2)
        elif op == 0x0E:
            n, pos = _leb(buf, pos, end)
            pos = _skip(buf, pos, end, n + 1)
        elif op == 0x1C:
            n, pos = _leb(buf, pos, end)
            for _ in range(n):
                pos = _value_type(buf, pos, end)
        elif op == 0x1F:
            bits |= CURRENT_EH
            pos = _block_type(buf, pos, end)
            n, pos = _leb(buf, pos, end)
            for _ in range(n):
                if pos >= end:
                    raise _Unknown
                kind = buf[pos]
                pos += 1
                if kind > 3:
                    raise _Unknown
                pos = _skip(buf, pos, end, 2 if kind < 2 else 1)
        elif 0x28 <= op <= 0x3E:
            pos = _memarg(buf, pos, end)
        elif op == 0x43:
            pos += 4
        elif op == 0x44:
            pos += 8
        elif op == 0xD0:
            pos = _heap_type(buf, pos, end)
        elif op == 0xFB:
            pos = _gc(buf, pos, end)
        elif op == 0xFC:
            sub, pos = _leb(buf, pos, end)
            if sub not in _MISC_INDICES:
                raise _Unknown
            pos = _skip(buf, pos, end, _MISC_INDICES[sub])
        elif op == 0xFD:
            bits |= SIMD_OPS
            pos = _simd(buf, pos, end)
        elif op == 0xFE:
            bits |= ATOMICS
            pos = _atomic(buf, pos, end)
        else:
            raise _Unknown
    if pos != end:
        raise _Unknown
    return bits


def _gc(buf: bytes | memoryview, pos: int, end: int) -> int:
    sub, pos = _leb(buf, pos, end)
    if sub in _GC_INDICES:
        return _skip(buf, pos, end, _GC_INDICES[sub])
    if sub in (20, 21, 22, 23):  # ref.test, ref.cast (null): a heap type
        return _heap_type(buf, pos, end)
    if sub in (24, 25):  # br_on_cast(_fail): flags, label, two heap types
        pos = _skip(buf, pos + 1, end)
        return _heap_type(buf, _heap_type(buf, pos, end), end)
    raise _Unknown


def _simd(buf: bytes | memoryview, pos: int, end: int) -> int:
    sub, pos = _leb(buf, pos, end)
    if sub <= 11 or sub in (92, 93):
        return _memarg(buf, pos, end)
    if sub in (12, 13):  # v128.const, i8x16.shuffle
        return pos + 16
    if 21 <= sub <= 34:  # extract_lane / replace_lane
        return pos + 1
    if 84 <= sub <= 91:  # load/store lane
        return _memarg(buf, pos, end) + 1
    if sub > _SIMD_LAST:
        raise _Unknown
    return pos


def _atomic(buf: bytes | memoryview, pos: int, end: int) -> int:
    sub, pos = _leb(buf, pos, end)
    if sub == 0x03:  # atomic.fence: one reserved byte
        return pos + 1
    if sub <= 0x02 or 0x10 <= sub <= 0x4E:
        return _memarg(buf, pos, end)
    raise _Unknown
