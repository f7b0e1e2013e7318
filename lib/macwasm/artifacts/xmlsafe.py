"""XML of a pkg (the xar TOC, ``Distribution``, ``PackageInfo``) parsed with expat and nothing expanded.

These documents come from whoever built the package. The parser refuses a DOCTYPE outright (no
entity can then be declared: no billion laughs, no external entity, no external DTD), caps the
element count and the nesting, and builds a small :class:`Element` tree; the standard library's
``xml.etree`` is not used because it expands internal entities.
"""

from __future__ import annotations

import xml.parsers.expat as expat
from dataclasses import dataclass, field

from macwasm.errors import LIMIT, ArtifactError
from macwasm.limits import ARTIFACT_MAX_XML_DEPTH, ARTIFACT_MAX_XML_ELEMENTS


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)
    offset: int = 0  # of the start tag in the document

    @property
    def text(self) -> str:
        return "".join(self.text_parts).strip()

    def find(self, tag: str) -> Element | None:
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list[Element]:
        return [c for c in self.children if c.tag == tag]

    def findtext(self, tag: str) -> str | None:
        found = self.find(tag)
        return found.text if found is not None else None


class _Stop(Exception):
    def __init__(self, reason: str, category: str | None = None) -> None:
        self.reason = reason
        self.category = category


def parse_xml(data: bytes, *, path: str, what: str, max_elements: int = ARTIFACT_MAX_XML_ELEMENTS,
              max_depth: int = ARTIFACT_MAX_XML_DEPTH) -> Element:
    """The document's root element; :class:`ArtifactError` (with the byte offset) for anything refused."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Element] = []
    root: list[Element] = []
    count = 0

    def doctype(*_args: object) -> None:
        raise _Stop("a DOCTYPE is not allowed (it could declare entities)")

    def entity(*_args: object) -> None:
        raise _Stop("an entity declaration is not allowed")

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > max_elements:
            raise _Stop(f"more than {max_elements} elements", LIMIT)
        if len(stack) >= max_depth:
            raise _Stop(f"elements nest more than {max_depth} levels deep", LIMIT)
        element = Element(tag, dict(attrs), offset=parser.CurrentByteIndex)
        if stack:
            stack[-1].children.append(element)
        else:
            root.append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack:
            stack[-1].text_parts.append(text)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = lambda *_a: 0
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(bytes(data), True)
    except _Stop as stop:
        raise ArtifactError(f"{what}: {stop.reason}", path=path, offset=max(parser.CurrentByteIndex, 0),
                            category=stop.category) from None
    except expat.ExpatError as exc:
        raise ArtifactError(f"{what} is not well-formed XML: {expat.ErrorString(exc.code)} (line {exc.lineno})",
                            path=path, offset=max(parser.CurrentByteIndex, 0)) from None
    if not root:
        raise ArtifactError(f"{what} holds no XML element", path=path, offset=0)
    return root[0]
