"""The three custom sections users ask about: ``name``, ``producers`` and ``target_features``.

The spec says engines must not reject a module because a custom section's *content* is broken, so
neither do we: a broken ``name`` or ``producers`` section becomes a note on the result (with its
offset) and the module stays well-formed. Only the section's own name must be valid UTF-8; that is
checked by the walker.

Formats: the ``name`` section is the core specification's appendix
(https://webassembly.github.io/spec/core/appendix/custom.html#name-section); ``producers`` and
``target_features`` are the tool conventions'
(https://github.com/WebAssembly/tool-conventions/blob/main/ProducersSection.md,
https://github.com/WebAssembly/tool-conventions/blob/main/Linking.md#target-features-section).
"""

from __future__ import annotations

from macwasm.errors import WasmFormatError
from macwasm.limits import WASM_MAX_NAME_ENTRIES, WASM_MAX_PRODUCERS_FIELDS
from macwasm.wasm.model import Producer, WasmInfo
from macwasm.wasm.reader import Data, Reader

PRODUCERS_FIELDS = ("language", "processed-by", "sdk")
_FEATURE_PREFIXES = {0x2B: "+", 0x2D: "-", 0x3D: "="}


def read_custom_section(name: str, data: Data, start: int, end: int, info: WasmInfo, *,
                        features_only: bool = False) -> None:
    readers = {"target_features": _read_target_features}
    if not features_only:
        readers.update({"name": _read_name, "producers": _read_producers})
    reader = readers.get(name)
    if reader is None:
        return
    try:
        reader(Reader(data, start, end), info)
    except WasmFormatError as err:
        info.custom_notes.append(f"custom section {name!r} not read: {err.message}")


def _read_name(r: Reader, info: WasmInfo) -> None:
    while not r.at_end():
        sub_id = r.byte("name subsection id")
        size = r.u32("name subsection size")
        if size > r.end - r.pos:
            raise r.fail(f"name subsection {sub_id} of {size} bytes runs past the section")
        sub = Reader(r.data, r.pos, r.pos + size)
        r.pos += size
        if sub_id == 0:
            info.module_name = sub.name("module name")
        elif sub_id == 1:
            info.function_names = sub.count("function name", WASM_MAX_NAME_ENTRIES, 2)


def _read_producers(r: Reader, info: WasmInfo) -> None:
    producers: dict[str, list[Producer]] = {}
    for _ in range(r.count("producers field", WASM_MAX_PRODUCERS_FIELDS, 2)):
        field_name = r.name("producers field name")
        values = [Producer(r.name("producer name"), r.name("producer version"))
                  for _ in range(r.count("producers value", WASM_MAX_PRODUCERS_FIELDS, 2))]
        producers.setdefault(field_name, []).extend(values)
    r.expect_end("the producers section")
    info.producers = producers


def _read_target_features(r: Reader, info: WasmInfo) -> None:
    features = []
    for _ in range(r.count("target feature", WASM_MAX_PRODUCERS_FIELDS, 2)):
        at = r.pos
        prefix = r.byte("feature prefix")
        if prefix not in _FEATURE_PREFIXES:
            raise r.fail(f"feature prefix 0x{prefix:02x} is none of '+', '-', '='", at)
        features.append(_FEATURE_PREFIXES[prefix] + r.name("feature name"))
    r.expect_end("the target_features section")
    for feature in features:
        if feature not in info.target_features:
            info.target_features.append(feature)
