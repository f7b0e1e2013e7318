"""Where each rule's and each runtime's page is, in the built site and on the published one.

One place for the site's layout: the site generator (``scripts/site_pages.py``) writes the pages at
these paths, and SARIF's ``helpUri``, the CLI's ``see:`` lines and the pages' own cross-links are
made from them, so a link can never point where no page is.
"""

from __future__ import annotations

import posixpath

from macwasm import DOCS_URL

RULES_DIR = "rules"
RUNTIMES_DIR = "runtimes"
NOTEBOOKS_DIR = "notebooks"
RULES_INDEX = f"{RULES_DIR}/index.md"
RUNTIMES_INDEX = f"{RUNTIMES_DIR}/index.md"
#: the hand-written page on evidence grades (docs/evidence.md), one anchor per grade
EVIDENCE_SOURCE = "evidence.md"
#: the site is built with ``use_directory_urls: false`` (it must work from file://): a page is a file
PAGE_SUFFIX = ".html"


def rule_source(rule_id: str) -> str:
    """The generated markdown source of a rule's page, relative to the docs folder."""
    return f"{RULES_DIR}/{rule_id}.md"


def runtime_source(runtime: str) -> str:
    return f"{RUNTIMES_DIR}/{runtime}.md"


def page_path(source: str) -> str:
    """The built page of a markdown source (``rules/MW101.md`` -> ``rules/MW101.html``)."""
    return source.removesuffix(".md") + PAGE_SUFFIX


def rule_url(rule_id: str) -> str:
    """The published page of a rule (what SARIF and the CLI link to)."""
    return DOCS_URL + page_path(rule_source(rule_id))


def runtime_url(runtime: str) -> str:
    return DOCS_URL + page_path(runtime_source(runtime))


def page_link(here: str, target: str) -> str:
    """A relative link from the markdown source ``here`` to the source ``target`` (MkDocs resolves it)."""
    return posixpath.relpath(target, posixpath.dirname(here) or ".")
