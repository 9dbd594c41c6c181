"""A person's view: a real JupyterLab in Debian's Chromium runs the explorer, and a deck opens
offline.

The test starts JupyterLab on 127.0.0.1 (a free port, a token, temporary config/data/runtime
folders, no news or update checks) on a small notebook it writes, drives it with Playwright
(Python) and Debian's /usr/bin/chromium, and saves screenshots under screenshots/ (git-ignored).
The notebook holds the explorer, the statistics explorer and a cell that answers mid-run.
Where Chromium or Playwright cannot be had the tests are skipped, with the reason.
`make test` installs Chromium first when it is missing and the user is root
(scripts/install_chromium.sh).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "screenshots"
EXPLORER_CELL = """\
from nst_teach.widgets import explore

explorer = explore(size=96, max_evals=40, preview_every=2)
explorer"""
STATS_CELL = """\
from nst_teach.widgets import stats_explorer

stats_explorer()"""
CLOCK_CELL = """\
import time

print("the kernel answered at", time.strftime("%H:%M:%S"))"""


def _why_no_browser() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed: pip install -e '.[dev]'"
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} is missing: as root, `apt-get install chromium` "
                "(make test does it when it can)")
    return None


# JupyterLab in Chromium end to end: make test runs it, make unit leaves it out (slow)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(_why_no_browser() is not None, reason=str(_why_no_browser()))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def explorer_notebook(folder: Path) -> Path:
    """A small notebook of our own: the explorer, the statistics explorer and a cell that answers.

    Always this one, not notebook 07 (nbval runs that): the checks of a responsive kernel, a
    preview that changes mid-run and the statistics explorer need its last two cells.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# The explorers"),
                nbformat.v4.new_code_cell(EXPLORER_CELL),
                nbformat.v4.new_code_cell(STATS_CELL), nbformat.v4.new_code_cell(CLOCK_CELL)]
    path = folder / "explorer.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a temporary folder; yields (base_url, token, notebook path)."""
    home = tmp_path_factory.mktemp("lab")
    work = home / "work"
    work.mkdir()
    notebook = explorer_notebook(work)
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ, NST_TEACH_FAST="1", NST_TEACH_OFFLINE="1",
               MPLBACKEND="module://matplotlib_inline.backend_inline",
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               CUDA_VISIBLE_DEVICES="")
    port, token = free_port(), secrets.token_hex(16)
    log = (home / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
         f"--ServerApp.root_dir={work}", "--LabApp.news_url=None",
         "--LabApp.expose_app_in_browser=True",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status_url = f"{base}/api/status?token={token}"
                with urllib.request.urlopen(status_url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{(home / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield base, token, notebook
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(chromium):
    """Chromium, launched once per session by conftest (shared with test_slides_fit.py)."""
    return chromium


def image_digest(page, selector: str) -> str:
    """sha256 of the bytes behind an <img> (ipywidgets gives it a blob: URL that changes on every
    update)."""
    data = page.evaluate(
        """async (selector) => {
            const img = document.querySelector(selector);
            if (!img || !img.src) return null;
            const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
            return Array.from(bytes);
        }""",
        selector,
    )
    assert data, f"no picture in {selector}"
    return hashlib.sha256(bytes(data)).hexdigest()


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=False)
    return path


def test_explorer_runs_in_jupyterlab(lab, browser):
    base, token, notebook = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/lab/tree/{notebook.name}?token={token}", wait_until="domcontentloaded")
    page.wait_for_function(
        "() => window.jupyterapp && document.querySelector('.jp-Notebook') && "
        "window.jupyterapp.shell.currentWidget && "
        "window.jupyterapp.shell.currentWidget.sessionContext "
        "&& window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=60_000)
    page.evaluate("async () => { const w = window.jupyterapp.shell.currentWidget; "
                  "await w.sessionContext.ready; }")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

    explorer = page.locator(".nst-explorer")
    explorer.wait_for(state="visible", timeout=120_000)
    run = page.locator(".nst-run")
    assert run.is_visible() and page.locator(".nst-stop").is_disabled()
    assert page.locator(".nst-ratio").is_visible()  # the beta/alpha log slider
    sliders = ".nst-explorer .widget-slider, .nst-explorer .slider-container"
    assert page.locator(sliders).count() >= 3
    assert page.locator(".nst-progress").is_visible()
    assert page.locator(".nst-explorer input[type=checkbox]").count() >= 10  # the layer boxes
    page.wait_for_function(
        "() => { const i = document.querySelector('.nst-preview'); return i && i.src; }",
        timeout=30_000)
    before = image_digest(page, ".nst-preview")
    explorer.scroll_into_view_if_needed()
    shot(page, "explorer_before_run.png")

    run.click()
    page.wait_for_function(
        "() => /Running|Done/.test(document.querySelector('.nst-status').innerText)",
        timeout=60_000)
    own_notebook = notebook.name == "explorer.ipynb"
    assert own_notebook, notebook  # every check below runs: explorer_notebook always writes it
    if own_notebook:
        # the notebook stays responsive: another cell runs while the style transfer does
        page.locator(".jp-CodeCell").nth(2).click()
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
        page.wait_for_function(
            "() => document.body.innerText.includes('the kernel answered at')", timeout=30_000)
        running_meanwhile = "Running" in page.locator(".nst-status").inner_text()
        # the live preview: a picture from the middle of the run (40 evaluations, every 2nd shown)
        page.wait_for_function(
            "() => /Running: evaluation ([4-9]|[1-9][0-9])/"
            ".test(document.querySelector('.nst-status').innerText)",
            timeout=60_000)
        during = image_digest(page, ".nst-preview")
        done_already = "Done" in page.locator(".nst-status").inner_text()
        explorer.scroll_into_view_if_needed()
        shot(page, "explorer_running.png")
    page.wait_for_function(
        "() => document.querySelector('.nst-status').innerText.includes('Done')",
        timeout=120_000)
    page.wait_for_timeout(300)  # the last picture message
    after = image_digest(page, ".nst-preview")
    explorer.scroll_into_view_if_needed()
    shot(page, "explorer_after_run.png")

    if own_notebook:
        assert during != before and not done_already, "the preview did not change during the run"
    assert after != before, "the preview did not change"
    width = page.evaluate("() => document.querySelector('.nst-progress .progress-bar').style.width")
    assert width == "100%", f"the progress bar shows {width}"
    if own_notebook:
        assert running_meanwhile, (
            "the other cell waited for the run: the notebook was not responsive")
        stats = page.locator(".nst-stats-explorer")
        stats.scroll_into_view_if_needed()
        assert stats.locator("img").count() == 1 and (
            stats.locator(".widget-slider, .slider-container").count() >= 3)
        shot(page, "stats_explorer.png")
    assert not errors, errors
    page.close()


def test_exported_deck_opens_offline_with_math(browser, slide_decks):
    deck = slide_decks[1]["01_covariance.slides.html"]  # exported as `make slides` does
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(deck.as_uri() + "#/1")
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 "
                           "&& MathJax.Hub.getAllJax().length > 0", timeout=30_000)
    page.wait_for_timeout(500)
    shot(page, "slides_01_covariance.png")
    assert page.evaluate("() => Reveal.getTotalSlides()") > 3
    assert "Math Processing Error" not in page.inner_text("body")
    elsewhere = [url for url in requests
                 if not url.startswith(("file:", "data:", "blob:", "about:"))]
    assert not elsewhere, f"the deck asked for {elsewhere}"
    with contextlib.suppress(Exception):
        page.close()
