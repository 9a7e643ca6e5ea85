"""Real-browser check (`make test-lab`, not part of `make test`): JupyterLab started on 127.0.0.1 with a
token, notebooks opened in headless Chromium (Debian's package, driven by Playwright with
``executable_path``: no browser is ever downloaded) and all their cells run:

- a section notebook: no error output, the synthetic-data banner visible, the notebook saved and its
  saved form going through git's clean filter back to what was opened;
- the explorer (notebook 10): a question chosen by its French wording and a breakdown chosen in the
  widgets, the displayed table changes to that question by that breakdown (title and column headers
  checked against the codebook and the banner file), no error output anywhere.

Screenshots are written to outputs/test-lab/; everything started here is stopped."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from cnfs import paths

CHROMIUM = os.environ.get("CNFS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOTEBOOK = "02_profil.ipynb"
EXPLORER = "10_exploration.ipynb"
SCREENSHOTS = paths.OUTPUTS / "test-lab"
RUN_TIMEOUT_MS = int(os.environ.get("CNFS_LAB_TIMEOUT", "300")) * 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback only
            return int(r.status)
    except OSError:
        return 0


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving copies of the notebooks (writing their outputs under a temporary folder), stopped afterwards."""
    tmp_path = tmp_path_factory.mktemp("lab")
    work = tmp_path / "carnets"
    work.mkdir()
    for name in (NOTEBOOK, EXPLORER):
        nb = nbformat.read(paths.NOTEBOOKS / name, as_version=4)
        params = next(c for c in nb.cells if c.cell_type == "code")
        assert "output_dir = None" in params.source, f"{name}: parameters cell without output_dir"
        params.source = params.source.replace("output_dir = None", f"output_dir = {str(tmp_path / 'sorties')!r}")
        nbformat.write(nb, work / name)
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    token, port = secrets.token_hex(16), _free_port()
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"),
    )
    log = open(tmp_path / "jupyterlab.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while _get(f"{base}/api/status?token={token}") != 200:
            assert proc.poll() is None, (tmp_path / "jupyterlab.log").read_text()
            assert time.time() < deadline, "JupyterLab did not start"
            time.sleep(0.5)
        yield base, token, work
    finally:
        req = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
        try:  # the server stops its kernels, then itself
            urllib.request.urlopen(req, timeout=10)  # noqa: S310 - loopback only
        except OSError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def _run_all(page, base: str, token: str, name: str) -> None:
    """Open a notebook in Lab, start its kernel, run all cells and wait until every code cell has run."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"{base}/lab/workspaces/{Path(name).stem}/tree/{name}?token={token}")  # a workspace of its own
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    try:  # Lab asks which kernel to start when the notebook names none it knows: the default one
        page.wait_for_selector(".jp-Dialog .jp-mod-accept", timeout=15_000)
        page.click(".jp-Dialog .jp-mod-accept")
    except PlaywrightTimeout:
        pass
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    page.wait_for_function(
        "() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];"
        " return p.length > 0 && p.every(x => /\\[\\d+\\]/.test(x.textContent)); }",
        timeout=RUN_TIMEOUT_MS,
    )


def _no_error_output(page) -> None:
    """No traceback in any output, the widgets' outputs included."""
    assert page.locator(".jp-OutputArea-output", has_text="Traceback").count() == 0
    stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    texts = [stderr.nth(i).inner_text() for i in range(stderr.count())]
    assert not [t for t in texts if "Error" in t], texts


@contextlib.contextmanager
def _browser_page(work: Path, height: int, failure: str) -> Iterator[Any]:
    """A page of headless Chromium; on any failure, a full-page screenshot (``failure``) and the server's log."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} absent : apt-get install chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": height})
            try:
                yield page
            except BaseException:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / failure), full_page=True)
                print((work.parent / "jupyterlab.log").read_text()[-5000:])
                raise
        finally:
            browser.close()


def test_notebook_runs_in_jupyterlab(lab):
    sys.path.insert(0, str(paths.ROOT / "tests"))
    from gitclean import clean

    base, token, work = lab
    path = work / NOTEBOOK
    opened = path.read_text(encoding="utf-8")
    with _browser_page(work, 1000, "echec.png") as page:
        _run_all(page, base, token, NOTEBOOK)
        banner = page.get_by_role("alert").filter(has_text="SYNTHÉTIQUES").first
        banner.scroll_into_view_if_needed()
        assert banner.is_visible()
        _no_error_output(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "02_profil.png"))
        before = path.stat().st_mtime
        page.keyboard.press("Control+s")
        deadline = time.time() + 30
        while path.stat().st_mtime == before and time.time() < deadline:
            time.sleep(0.2)
    saved = nbformat.read(path, as_version=4)
    code = [c for c in saved.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "not every cell ran"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    assert all(c.outputs for c in code[1:])  # Lab saved the outputs (the parameters cell shows none)…
    assert clean(path.read_text(encoding="utf-8")) == clean(opened)  # …and git would commit none of them


#: The explorer's choice in the browser: a question (by its French wording) and a breakdown.
QUESTION, BREAKDOWN = "main_place", "training_path"


def test_explorer_follows_the_widgets(lab):
    """Run notebook 10, pick a question by its wording and a breakdown: the explorer's table becomes that one."""
    from cnfs.codebook import load_codebook
    from cnfs.tabbook import letters, load_banners
    from playwright.sync_api import expect

    codebook = load_codebook()
    question = codebook[QUESTION]
    banner = next(b for b in load_banners(codebook) if b.id == BREAKDOWN)
    columns = [o.label for o in codebook[banner.question].options]
    base, token, work = lab
    with _browser_page(work, 1200, "echec_exploration.png") as page:
        _run_all(page, base, token, EXPLORER)
        explorer = page.locator(".jp-OutputArea-output .widget-vbox").first
        expect(explorer).to_be_visible(timeout=60_000)
        title = explorer.locator(".widget-output .cnfs-result h4").first
        table = explorer.locator(".widget-output table").first
        expect(title).to_be_visible(timeout=60_000)
        before_title, before_table = title.inner_text(), table.inner_text()
        assert question.label not in before_title and banner.label not in before_title  # a real change follows

        def pick(label: str, choice: str) -> None:
            box = explorer.locator(".widget-dropdown").filter(has=page.locator("label", has_text=label))
            box.locator("select").select_option(label=choice)

        pick("Question", question.wording)
        expect(title).to_contain_text(question.label, timeout=120_000)
        pick("Ventilation", banner.label)
        expect(title).to_contain_text(banner.label, timeout=120_000)
        headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
        for column, letter in zip(columns, letters(len(columns))):
            assert f"{column} ({letter})" in headers, headers
        assert "Ensemble" in headers and banner.label in headers
        rows = [r.strip() for r in table.locator("tbody th").all_inner_texts()]
        assert [o.label for o in question.options] == rows[: len(question.options)] and "Base (n)" in rows
        assert table.inner_text() != before_table
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        _no_error_output(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        explorer.evaluate("e => e.scrollIntoView({block: 'start'})")  # the widgets and the new table
        page.screenshot(path=str(SCREENSHOTS / "10_exploration.png"))
