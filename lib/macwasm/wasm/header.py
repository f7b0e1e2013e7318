"""The first 8 bytes: magic, version, and the component layer; and the words ``file`` 5.44 uses for them.

A core module's header is ``\\0asm`` + u32 version 1. A component reuses the magic and splits the
same 4 bytes into a 16-bit pre-standard version (0x0d today) and a 16-bit layer (1), so ``file``,
which reads one little-endian u32, prints ``version 0x1000d`` for a component.

``description`` imitates the magic rule of ``file`` 5.44 for every input that starts with the wasm
magic (the rule prints the version only when the *signed* u32 is 1, "(MVP)", or greater than 1)
and for the empty and one-byte files ("empty", "very short file (no magic)"). For anything else
``file`` runs hundreds of other rules; we do not imitate them and give ``None``.

Formats: the core preamble (https://webassembly.github.io/spec/core/binary/modules.html#binary-module)
and the component preamble (https://github.com/WebAssembly/component-model/blob/main/design/mvp/Binary.md).
"""

from __future__ import annotations

from macwasm.wasm.model import COMPONENT, CORE_MODULE, NOT_WASM, UNKNOWN_VERSION, HeaderInfo

MAGIC = b"\x00asm"
CORE_VERSION = 1
COMPONENT_VERSION = 0x0D  # component-model Binary.md: pre-standard version, bumped as the proposal changes
COMPONENT_LAYER = 1
_FILE_PREFIX = "WebAssembly (wasm) binary module"


def file_description(first8: bytes) -> str | None:
    """What ``file -b`` 5.44 prints for a file starting with these bytes (None: not imitated)."""
    if not first8:
        return "empty"
    if len(first8) == 1:
        return "very short file (no magic)"
    if first8[:4] != MAGIC:
        return None
    if len(first8) < 8:
        return _FILE_PREFIX
    signed = int.from_bytes(first8[4:8], "little", signed=True)
    if signed == 1:
        return f"{_FILE_PREFIX} version 0x1 (MVP)"
    if signed > 1:
        return f"{_FILE_PREFIX} version {signed:#x}"
    return _FILE_PREFIX


def classify_header(first8: bytes) -> HeaderInfo:
    """Classify by the first 8 bytes only (pass at least 8 bytes when the file has them)."""
    first8 = bytes(first8[:8])
    description = file_description(first8)
    if first8[:4] != MAGIC:
        return HeaderInfo(NOT_WASM, None, None, description)
    if len(first8) < 8:
        return HeaderInfo(UNKNOWN_VERSION, None, None, description)
    version = int.from_bytes(first8[4:8], "little")
    high = version >> 16
    if version == CORE_VERSION:
        return HeaderInfo(CORE_MODULE, version, None, description)
    if high == COMPONENT_LAYER and version & 0xFFFF == COMPONENT_VERSION:
        return HeaderInfo(COMPONENT, version, high, description)
    # an unknown version: a non-zero high half is reported as a layer (e.g. a newer component version)
    return HeaderInfo(UNKNOWN_VERSION, version, high or None, description)
