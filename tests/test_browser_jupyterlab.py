"""JupyterLab is how people use the knowledge base: open ``00_start_here`` in a real browser.

Starts JupyterLab on a free loopback port (token-protected), opens the notebook in headless
Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright; never a downloaded browser), runs
all cells from the Run menu and checks that the advisor's verdict table rendered. The notebooks
are served from a temporary copy so JupyterLab's autosave can never touch the repository. A
screenshot is kept in ``tests/artifacts/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "00_start_here.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements.txt")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {timeout} s")


@pytest.fixture
def lab_root(tmp_path: Path) -> Path:
    """A copy of notebooks/ beside a link to data/, as the notebooks expect (``../data``)."""
    root = tmp_path / "kb"
    shutil.copytree(REPO / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (root / "data").symlink_to(REPO / "data")
    return root


@pytest.fixture
def jupyterlab(lab_root: Path, tmp_path: Path):
    if not CHROMIUM.exists():
        if sys.platform != "linux" or shutil.which("apt-get") is None:
            pytest.skip("Debian's chromium is the browser driven here; none on this machine (not Debian)")
        pytest.fail("Debian's chromium is missing: scripts/install-system-deps.sh installs it")
    port, token = _free_port(), os.urandom(16).hex()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
    }
    log = open(tmp_path / "jupyterlab.log", "w")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={lab_root}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/api/status?token={token}", proc)
        yield f"http://127.0.0.1:{port}", token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_start_here_runs_in_jupyterlab_and_renders_the_advisor_verdict(jupyterlab):
    base, token = jupyterlab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/notebooks/{NOTEBOOK}?token={token}")
            page.wait_for_selector(".jp-Notebook", timeout=90_000)
            # kernel started: JupyterLab renders the kernel status twice (toolbar and status bar), and
            # one of them may be hidden, so wait for a visible one
            page.locator("text=Idle >> visible=true").first.wait_for(timeout=90_000)
            # the notebook is stored with its outputs (nbval compares them): clear them first, so the
            # table found below can only come from this run
            page.get_by_role("menuitem", name="Edit", exact=True).click(timeout=20_000)
            page.get_by_text("Clear Outputs of All Cells", exact=True).click(timeout=20_000)
            page.wait_for_selector("table.macwasm-verdict", state="detached", timeout=20_000)
            page.get_by_role("menuitem", name="Run", exact=True).click(timeout=20_000)
            page.get_by_text("Run All Cells", exact=True).click(timeout=20_000)
            # the advisor's answer inside the widget's output area: only a live kernel with the widget
            # front end renders it (cells outside the viewport may be virtualised, hence "attached")
            table = page.wait_for_selector(".widget-output table.macwasm-verdict", state="attached",
                                           timeout=120_000)
            table.scroll_into_view_if_needed()
            text = table.text_content() or ""
            page.screenshot(path=str(ARTIFACTS / "00_start_here.png"), full_page=False)
            errors = page.query_selector_all(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            tracebacks = [e.inner_text() for e in errors if "Traceback" in e.inner_text()]
        finally:
            browser.close()
    assert "verdict" in text.lower()
    assert any(word in text for word in ("pass", "warn", "fail")), text
    assert not tracebacks, tracebacks[0]
