"""Property tests: any bytes give a ``WasmInfo`` or a ``WasmFormatError``, never another exception.

Inputs: random bytes (with and without the wasm header), and valid sample modules mutated the way
broken files are: a LEB128 continuation bit flipped, a size stretched, the file truncated at every
offset, sections duplicated or swapped, a byte overwritten.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from macwasm.wasm import KINDS, WasmFormatError, inspect_bytes

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted(p for p in (REPO / "data" / "modules").glob("*.wasm") if p.read_bytes()[:4] == b"\x00asm")
SEEDS = [p.read_bytes() for p in SAMPLES]
CORE = b"\x00asm\x01\x00\x00\x00"
COMPONENT = b"\x00asm\x0d\x00\x01\x00"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(data: bytes) -> None:
    """The contract: a result with a known kind, or our error with an offset inside (or at the end of) the input."""
    try:
        info = inspect_bytes(data)
    except WasmFormatError as err:
        assert err.offset is None or 0 <= err.offset <= len(data), (err.offset, len(data))
        assert err.info.well_formed is False and err.info.error
        err.info.to_dict()
        return
    assert info.kind in KINDS
    info.to_dict()


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(data):
    check(data)


@SETTINGS
@given(st.sampled_from([CORE, COMPONENT]), st.binary(max_size=300))
def test_random_bytes_after_a_valid_header(header, body):
    check(header + body)


def _sections(data: bytes) -> list[bytes]:
    """Split a well-formed module into raw sections (id + size + payload)."""
    out, pos = [], 8
    while pos < len(data):
        start = pos
        pos += 1
        size = shift = 0
        while True:
            b = data[pos]
            pos += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        pos += size
        out.append(data[start:pos])
    return out


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SAMPLES])
def test_truncation_at_every_offset(seed):
    for cut in range(len(seed) + 1):
        check(seed[:cut])


@SETTINGS
@given(st.sampled_from(SEEDS), st.data())
def test_flip_a_leb128_continuation_bit_or_overwrite_a_byte(seed, data):
    pos = data.draw(st.integers(0, len(seed) - 1))
    mutated = bytearray(seed)
    if data.draw(st.booleans()):
        mutated[pos] ^= 0x80  # continuation bit: lengths and counts suddenly run on
    else:
        mutated[pos] = data.draw(st.integers(0, 255))
    check(bytes(mutated))


@SETTINGS
@given(st.sampled_from(SEEDS), st.data())
def test_stretch_a_section_size(seed, data):
    sections = _sections(seed)
    if not sections:
        return
    i = data.draw(st.integers(0, len(sections) - 1))
    sec = sections[i]
    extra = data.draw(st.sampled_from([1, 2, 127, 128, 2**20, 2**32 - 1]))
    stretched = bytes([sec[0]]) + bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) if extra == 2**32 - 1 else None
    if stretched is None:
        # re-encode the size field bigger than the payload
        size = len(sec) - 2 + extra  # approximation: works for 1-byte size fields, harmless otherwise
        enc = bytearray()
        while True:
            b = size & 0x7F
            size >>= 7
            enc.append(b | 0x80 if size else b)
            if not size:
                break
        stretched = bytes([sec[0]]) + bytes(enc) + sec[2:]
    else:
        stretched += sec[2:]
    check(seed[:8] + b"".join(sections[:i]) + stretched + b"".join(sections[i + 1:]))


@SETTINGS
@given(st.sampled_from(SEEDS), st.data())
def test_duplicate_and_reorder_sections(seed, data):
    sections = _sections(seed)
    if len(sections) < 2:
        return
    order = data.draw(st.permutations(list(range(len(sections)))))
    dup = data.draw(st.integers(0, len(sections) - 1))
    check(seed[:8] + b"".join(sections[i] for i in order))
    check(seed[:8] + b"".join(sections) + sections[dup])
