"""MkDocs hooks of the site (``mkdocs.yml``: ``hooks``): the generated pages and the navigation.

MkDocs reads the hand-written pages from ``docs/``; these hooks add the pages of
:mod:`site_pages` (notebooks, rules, runtimes) as generated files, build the navigation in reading
order from them, fill the live blocks of the hand-written pages, and set the site's address from
:data:`macwasm.DOCS_URL` (written once, in the package).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import site_pages  # scripts/ is not a package: found through the path set above

from macwasm import DOCS_URL

_generated: list[site_pages.Page] = []
#: hand-written pages after the generated sections, in this order: (source, title)
STATIC_PAGES = [("evidence.md", "Evidence grades")]


def on_config(config: Any) -> Any:
    """Generate the pages once per build and put them in the navigation."""
    _generated[:] = site_pages.generated_pages()
    config["site_url"] = DOCS_URL
    config["nav"] = site_pages.navigation(_generated, STATIC_PAGES)
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for page in _generated:
        files.append(File.generated(config, page.src_uri, content=page.content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return site_pages.fill_live_blocks(markdown, page.file.src_uri)
