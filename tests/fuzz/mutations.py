"""Structure-aware mutations shared by the hypothesis pass and the seed corpus.

Random bytes rarely get past a magic number, so most fuzz inputs start from a valid seed and break
it the way real files break: a LEB128 whose continuation bit is flipped, a size field stretched past
the end, a truncation at any offset, a chunk duplicated or moved.
"""

from __future__ import annotations

import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: where each target's valid seeds live (small files; missing folders are simply empty)
SEED_DIRS: dict[str, list[str]] = {
    "wasm": ["data/modules", "tests/fuzz/corpus/wasm"],
    "plist": ["tests/fixtures/plists", "tests/fuzz/corpus/plist"],
    "codesign_text": ["tests/fixtures/plists", "tests/fuzz/corpus/codesign_text"],
    "profile": ["tests/fixtures/profiles", "tests/fuzz/corpus/profile"],
    "macho": ["tests/fixtures/macho", "tests/fixtures/macho-engines", "tests/fuzz/corpus/macho"],
    "der": ["tests/fixtures/der", "tests/fuzz/corpus/der"],
    "explain": ["data/samples/logs", "tests/fuzz/corpus/explain"],
    "xcode": ["tests/fixtures/xcode", "tests/fuzz/corpus/xcode"],
}

MAX_SEED_SIZE = 256 * 1024


def seeds(target: str) -> list[bytes]:
    out: list[bytes] = []
    for folder in SEED_DIRS.get(target, []):
        root = REPO / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_SEED_SIZE:
                out.append(path.read_bytes())
    return out


def flip_leb128_continuation(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    buf = bytearray(data)
    i = rng.randrange(len(buf))
    buf[i] ^= 0x80
    return bytes(buf)


def stretch_size(data: bytes, rng: random.Random) -> bytes:
    """Replace a byte with a large LEB128-ish or big-endian length, as a hostile size field would."""
    if not data:
        return data
    i = rng.randrange(len(data))
    big = rng.choice([b"\xff\xff\xff\xff\x0f", b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", b"\x7f\xff\xff\xff",
                      b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"])
    return data[:i] + big + data[i + len(big):]


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)] if data else data


def duplicate_chunk(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 2:
        return data + data
    a = rng.randrange(len(data))
    b = rng.randrange(a, min(len(data), a + 64) + 1)
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[a:b] + data[at:]


def move_chunk(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 4:
        return data[::-1]
    a = rng.randrange(len(data))
    b = rng.randrange(a, min(len(data), a + 64) + 1)
    rest = data[:a] + data[b:]
    at = rng.randrange(len(rest) + 1)
    return rest[:at] + data[a:b] + rest[at:]


def flip_byte(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    buf = bytearray(data)
    buf[rng.randrange(len(buf))] = rng.randrange(256)
    return bytes(buf)


MUTATORS = [flip_leb128_continuation, stretch_size, truncate, duplicate_chunk, move_chunk, flip_byte]


def mutate(data: bytes, rng: random.Random, rounds: int = 3) -> bytes:
    for _ in range(rng.randint(1, rounds)):
        data = rng.choice(MUTATORS)(data, rng)
    return data
