"""The site (``make site``): built once per run into a temporary folder, read as files, then in Chromium.

The build is the real one (``mkdocs build`` with the repository's ``mkdocs.yml``, strict: a broken
link in a markdown page fails it). The static tests read the built HTML: no page or stylesheet
loads anything from the network, every rule and runtime has its page at the address SARIF and the
CLI link to, and each page says what the terminal says. The browser test opens the site from
``file://`` in headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright, never a
downloaded browser), follows the navigation through every notebook page, checks that the charts
and a styled verdict table render, that search finds "allow-jit", and crawls every page to check
that every internal link (and anchor) resolves, recording every request the pages make. Screenshots
go to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from macwasm.policy.engine import evaluate
from macwasm.policy.examples import rule_examples
from macwasm.policy.tables import rules, runtimes
from macwasm.report.links import page_path, rule_source, rule_url, runtime_source
from macwasm.report.rule_doc import rule_doc
from macwasm.report.runtime_doc import runtime_doc

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: tags and attributes through which a page makes the browser fetch something
FETCHING = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"), ("video", "src"),
            ("audio", "src"), ("embed", "src"), ("object", "data"), ("input", "src")}
#: <link rel=...> values that fetch their href
FETCHING_LINK_RELS = {"stylesheet", "preload", "prefetch", "modulepreload", "icon", "manifest", "preconnect",
                      "dns-prefetch", "apple-touch-icon"}
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)

pytest.importorskip("mkdocs", reason="mkdocs is in the dev group (make install)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print(f"site built in {time.perf_counter() - start:.1f} s")
    return out


class _Page(HTMLParser):
    """What a built page fetches, links to and holds."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fetches: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        for (t, attr) in FETCHING:
            if tag == t and a.get(attr):
                self.fetches.append((tag, a[attr]))
        if tag == "link" and set(a.get("rel", "").lower().split()) & FETCHING_LINK_RELS:
            self.fetches.append((f"link rel={a['rel']}", a.get("href", "")))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def read_page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


# ---------------------------------------------------------------------------------------------- static

def test_nothing_is_fetched_from_the_network(site: Path) -> None:
    remote = [(p.relative_to(site), tag, url) for p in html_pages(site) for tag, url in read_page(p).fetches
              if REMOTE.match(url)]
    assert not remote, remote[:5]
    css_remote = [(p.relative_to(site), m.group(0)) for p in site.rglob("*.css")
                  for m in re.finditer(r"(?:url\(\s*['\"]?|@import\s+['\"]?)(?:https?:)?//[^)'\"\s]+",
                                       p.read_text(encoding="utf-8", errors="replace"))]
    assert not css_remote, css_remote[:5]


def test_every_rule_and_runtime_has_its_page_where_the_links_point(site: Path) -> None:
    for rule_id in rules():
        path = site / page_path(rule_source(rule_id))
        assert path.is_file(), rule_id
        assert rule_url(rule_id).endswith("/" + page_path(rule_source(rule_id)))
    for name in runtimes():
        assert (site / page_path(runtime_source(name))).is_file(), name
    assert (site / "rules" / "index.html").is_file() and (site / "runtimes" / "index.html").is_file()


@pytest.mark.parametrize("rule_id", ["MW101", "MW110", "MW146", "MW180"])
def test_a_rule_page_says_what_the_terminal_says(site: Path, rule_id: str) -> None:
    page = read_page(site / page_path(rule_source(rule_id))).visible
    doc = rule_doc(rule_id)
    assert doc.title in page
    assert " ".join(rules()[rule_id].why.split()) in page and " ".join(rules()[rule_id].checks.split()) in page
    fires = evaluate(rule_examples()[rule_id]["fires"].target)
    for finding in (f for f in fires.findings if f.rule_id == rule_id):
        assert " ".join(finding.message.split()) in page  # evaluated at build time, as the engine says now


def test_a_runtime_page_holds_its_verdicts_and_evidence(site: Path) -> None:
    path = site / page_path(runtime_source("wasmtime"))
    page = read_page(path)
    assert runtime_doc("wasmtime").title in page.visible
    assert "endpoint-security-extension" in page.visible and "MW114" in page.visible
    assert any(link.startswith("https://github.com/bytecodealliance/wasmtime/blob/") for link in page.links)


def test_every_notebook_is_a_page_with_its_charts(site: Path) -> None:
    import nbformat

    assert NOTEBOOKS, "no notebook to build from"
    for nb_path in NOTEBOOKS:
        page = site / "notebooks" / f"{nb_path.stem}.html"
        assert page.is_file(), nb_path.name
        images = [src for tag, src in read_page(page).fetches if tag == "img"]
        stored = sum("image/png" in out.get("data", {})
                     for cell in nbformat.read(nb_path, as_version=4).cells for out in cell.get("outputs", []))
        assert len([s for s in images if "_files/" in s]) == stored, nb_path.name
        for src in images:
            assert (page.parent / unquote(src)).is_file(), (nb_path.name, src)


def test_the_landing_page_answers_the_forum_question(site: Path) -> None:
    text = (site / "index.html").read_text(encoding="utf-8")
    page = read_page(site / "index.html").visible
    assert 'class="macwasm-verdict"' in text  # the checker's findings and the advisor's plan, styled
    assert "Hardened Runtime relaxation entitlements disallowed on System Extensions" in page
    assert "allow-jit" in page and "Contents/Resources" in page and "verdict fail" in page


# ---------------------------------------------------------------------------------------------- browser

def _launch(pw):
    return pw.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--allow-file-access-from-files"],
    )


def _site_file(url: str, site: Path) -> Path | None:
    """The file a ``file://`` URL of the site names (None: not a file of the site)."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    path = Path(unquote(parts.path))
    return path if path.is_relative_to(site) else None


@pytest.mark.browser
def test_the_site_works_from_file_urls_in_chromium(site: Path) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev group")
    if not CHROMIUM.exists():
        if sys.platform != "linux":
            pytest.skip("Debian's chromium is the browser driven here; none on this machine (not Debian)")
        pytest.fail("Debian's chromium is missing: scripts/install-system-deps.sh installs it")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = (site / "index.html").as_uri()
    requests: list[str] = []
    errors: list[str] = []
    with playwright_api.sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))

            # the landing page, then every notebook page by the navigation's "next" link, in reading order
            page.goto(home)
            page.screenshot(path=str(ARTIFACTS / "site-landing.png"))
            page.locator("nav.md-nav--primary a.md-nav__link[href$='00_start_here.html']").first.click()
            visited = []
            while "/notebooks/" in page.url:
                visited.append(Path(urlsplit(page.url).path).stem)
                for img in page.locator("article img").all():  # every chart decoded
                    img.scroll_into_view_if_needed()
                    assert img.evaluate("i => i.complete && i.naturalWidth > 0"), (page.url, img.get_attribute("src"))
                nxt = page.locator("a.md-footer__link--next")
                if not nxt.count():
                    break
                nxt.click()
                page.wait_for_load_state()
            assert visited == [p.stem for p in NOTEBOOKS]

            # a chart and a styled verdict table, as a reader sees them
            chart_page = next(p.stem for p in NOTEBOOKS if "image/png" in p.read_text())
            page.goto((site / "notebooks" / f"{chart_page}.html").as_uri())
            chart = page.locator("article img[src*='_files/']").first
            chart.scroll_into_view_if_needed()
            assert chart.evaluate("i => i.naturalWidth") > 200
            page.screenshot(path=str(ARTIFACTS / "site-chart.png"))
            page.goto((site / "notebooks" / f"{NOTEBOOKS[0].stem}.html").as_uri())
            table = page.locator("table.macwasm-verdict").first
            table.scroll_into_view_if_needed()
            assert table.is_visible()
            colours = table.evaluate("t => [...t.querySelectorAll('td')].map(c => getComputedStyle(c).backgroundColor)")
            assert {"rgb(200, 230, 201)", "rgb(255, 205, 210)"} & set(colours), colours  # pass / fail cells coloured
            page.screenshot(path=str(ARTIFACTS / "site-verdict-table.png"))

            # search, from file:// (the offline plugin's inlined index, the vendored worker shim)
            page.goto(home)
            page.locator("input.md-search__input").click()
            page.keyboard.type("allow-jit")  # as a reader types it (the theme reacts to key events)
            page.wait_for_selector(".md-search-result__item", timeout=20_000)
            found_pages = page.eval_on_selector_all(".md-search-result__item a.md-search-result__link",
                                                    "links => links.map(a => a.href)")
            assert found_pages
            first = _site_file(found_pages[0], site)
            assert first is not None and "allow-jit" in first.read_text(encoding="utf-8"), found_pages[0]
            page.screenshot(path=str(ARTIFACTS / "site-search.png"))

            # every page, every internal link: the file exists, and so does the anchor it names
            ids: dict[Path, set[str]] = {}
            links: list[tuple[Path, str]] = []
            queue, seen = [site / "index.html"], {site / "index.html"}
            while queue:
                path = queue.pop()
                page.goto(path.as_uri(), wait_until="domcontentloaded")  # ids and links are there by then
                found = page.evaluate("() => ({ids: [...document.querySelectorAll('[id]')].map(e => e.id),"
                                      " links: [...document.querySelectorAll('a[href]')].map(a => a.href)})")
                ids[path] = set(found["ids"])
                for href in found["links"]:
                    target = _site_file(href, site)
                    if target is None:
                        continue
                    links.append((path, href))
                    if target.suffix == ".html" and target.is_file() and target not in seen:
                        seen.add(target)
                        queue.append(target)
            for path in (site / "rules" / "MW101.html", site / "runtimes" / "wasmtime.html"):
                page.goto(path.as_uri())
                page.screenshot(path=str(ARTIFACTS / f"site-{path.parent.name}-{path.stem}.png"))
        finally:
            browser.close()
    broken = []
    for source, href in links:
        target = _site_file(href, site)
        assert target is not None
        fragment = unquote(urlsplit(href).fragment)
        anchor_missing = bool(fragment) and target.suffix == ".html" and fragment not in ids.get(target, set())
        if not target.exists() or anchor_missing:
            broken.append((source.relative_to(site), href))
    assert not broken, broken[:10]
    assert len(seen) >= len(rules()) + len(runtimes()) + len(NOTEBOOKS)  # the crawl reached every page
    assert {p for p in html_pages(site) if p.name != "404.html"} <= seen
    remote = [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert not remote, remote[:10]
    assert not errors, errors[:5]


# ---------------------------------------------------------------------------------------------- generator

def _site_pages():
    sys.path.insert(0, str(REPO / "scripts"))
    import site_pages

    return site_pages


def test_notebook_links_become_site_links_or_repository_links() -> None:
    sp = _site_pages()
    pages = {"notebooks/01_x.md", "notebooks/02_y.md", "index.md"}
    here = "notebooks/00_start_here.md"
    assert sp.rewrite_link("01_x.ipynb", here, pages) == "01_x.md"
    assert sp.rewrite_link("02_y.ipynb#2-where", here, pages) == "02_y.md#2-where"
    assert sp.rewrite_link("../data/rules.csv", here, pages) == sp.repo_url("data/rules.csv")
    assert sp.rewrite_link("../tests/fixtures/plists/a.entitlements#L3", here, pages) == \
        sp.repo_url("tests/fixtures/plists/a.entitlements") + "#L3"
    for kept in ("https://developer.apple.com/x", "#sources", "mailto:x@example.org"):
        assert sp.rewrite_link(kept, here, pages) == kept
    text = "See [the map](01_x.ipynb) and [the table](../data/rules.csv)."
    table = sp.repo_url("data/rules.csv")
    assert sp.rewrite_links(text, here, pages) == f"See [the map](01_x.md) and [the table]({table})."


def test_an_unknown_live_block_or_a_lying_example_stops_the_build(tmp_path: Path, monkeypatch) -> None:
    import shutil

    sp = _site_pages()
    with pytest.raises(sp.SiteError, match="no live block 'nope'"):
        sp.fill_live_blocks("# T\n\n<!-- macwasm:nope -->\n", "index.md")
    for table in (REPO / "data").glob("*.csv"):
        shutil.copy(table, tmp_path / table.name)
    path = tmp_path / "rule_examples.csv"
    lines = path.read_text().splitlines(keepends=True)
    fires = next(line for line in lines if line.startswith("MW124,fires,"))
    path.write_text("".join(fires.replace("MW124,fires,", "MW124,quiet,") if line.startswith("MW124,quiet,")
                            else line for line in lines))
    monkeypatch.setenv("MACWASM_DATA", str(tmp_path))
    with pytest.raises(sp.SiteError, match=r"the examples of MW124 do not show what they should: line \d+ \(quiet\)"):
        sp.rule_pages()


def test_widget_views_become_a_note_and_nbval_markers_go(tmp_path: Path) -> None:
    import nbformat
    from nbformat import v4

    sp = _site_pages()
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell("# A title\n\nRead [the next one](01_x.ipynb)."),
        v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\npanel()", outputs=[v4.new_output(
            "display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "abc"},
                                  "text/plain": "VBox(...)"})]),
    ])
    path = tmp_path / "00_t.ipynb"
    nbformat.write(nb, path)
    (page,) = sp.notebook_pages([path], {"notebooks/00_t.md", "notebooks/01_x.md"})
    assert page.src_uri == "notebooks/00_t.md" and page.title == "A title"
    assert page.content.startswith('---\ntitle: "A title"\n---')
    assert "NBVAL" not in page.content and "VBox" not in page.content and sp.WIDGET_NOTE in page.content
    assert "[the next one](01_x.md)" in page.content
