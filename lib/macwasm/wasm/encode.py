"""The few wasm encoders that the sample builders (``scripts/``) and the tests share.

macwasm only reads wasm; these exist so that every byte-built sample and test input is written by
one implementation of LEB128, names and section framing, the inverse of ``macwasm.wasm.reader``.
Encodings: https://webassembly.github.io/spec/core/binary/conventions.html
"""

from __future__ import annotations


def uleb(n: int) -> bytes:
    """Unsigned LEB128, shortest form."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def name(text: str) -> bytes:
    raw = text.encode("utf-8")
    return uleb(len(raw)) + raw


def vec(items: list[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + uleb(len(payload)) + payload


def custom_section(section_name: str, payload: bytes) -> bytes:
    return section(0, name(section_name) + payload)
