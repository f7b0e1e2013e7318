"""The evidence cells of the fact tables: their forms, and a link a reader can follow.

A fact that drives a verdict must say where it was read. Three forms are accepted, several per
cell separated by `` ; `` (the first is the main one):

- ``owner/repo@commit:path:line`` (or ``:line-line``): a line of a public repository's source, at
  the commit that was read (grade ``code``);
- ``owner/repo@commit:path``: a whole file, e.g. a shipping product's entitlements (``observed``);
- an ``https://`` URL: Apple's documents, a DTS forum answer, an issue or pull request;
- ``runtime_facts:<runtime>``: the same fact of another row (an ``inferred`` fact that follows from it).

A code item may end in ``:<symbol>`` instead of a line number, where only the function's name could be read.

:func:`evidence_url` turns the first two into GitHub links, so notebooks, the site and SARIF can
show a "why we believe this" link beside every fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REPO_ITEM = re.compile(
    r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)@(?P<commit>[0-9a-f]{7,40})"
    r"(?::(?P<path>[^:\s]+))?(?::(?:(?P<first>\d+)(?:-(?P<last>\d+))?|(?P<symbol>[A-Za-z_][\w~]*)))?$"
)
_URL = re.compile(r"^https?://\S+$")
_CROSS_REF = re.compile(r"^runtime_facts:(?P<runtime>[\w.-]+)$")


@dataclass(frozen=True)
class EvidenceItem:
    """One piece of evidence: a source line or file at a commit, or a URL."""

    text: str
    repo: str | None = None
    commit: str | None = None
    path: str | None = None
    first_line: int | None = None
    last_line: int | None = None
    symbol: str | None = None
    same_as: str | None = None  # runtime_facts:<runtime>: the other row this one follows from

    @property
    def is_code_line(self) -> bool:
        return self.repo is not None and self.path is not None and self.first_line is not None

    @property
    def url(self) -> str:
        if self.same_as is not None:
            return ""
        if self.repo is None:
            return self.text
        base = f"https://github.com/{self.repo}"
        if self.path is None:
            return f"{base}/tree/{self.commit}"
        url = f"{base}/blob/{self.commit}/{self.path}"
        if self.first_line is not None:
            url += f"#L{self.first_line}"
            if self.last_line is not None:
                url += f"-L{self.last_line}"
        return url


def parse_item(text: str) -> EvidenceItem | None:
    """One evidence item, or None when it is in none of the accepted forms."""
    text = text.strip()
    if _URL.match(text):
        return EvidenceItem(text)
    ref = _CROSS_REF.match(text)
    if ref:
        return EvidenceItem(text, same_as=ref["runtime"])
    m = _REPO_ITEM.match(text)
    if not m:
        return None
    first = int(m["first"]) if m["first"] else None
    last = int(m["last"]) if m["last"] else None
    return EvidenceItem(text, repo=m["repo"], commit=m["commit"], path=m["path"], first_line=first, last_line=last,
                        symbol=m["symbol"])


def split_cell(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(" ; ") if part.strip()]


def parse_cell(cell: str) -> tuple[list[EvidenceItem], list[str]]:
    """(the items understood, the parts that are in no accepted form)."""
    items, bad = [], []
    for part in split_cell(cell):
        item = parse_item(part)
        if item is None:
            bad.append(part)
        else:
            items.append(item)
    return items, bad


def evidence_url(cell: str) -> str:
    """A link for the cell's first item a browser can open ("" when it has none)."""
    items, _ = parse_cell(cell)
    return next((item.url for item in items if item.url), "")
