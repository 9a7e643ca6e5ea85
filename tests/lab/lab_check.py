"""Real-browser check (`make test-lab`, not part of `make test`): JupyterLab started on 127.0.0.1 with a
token, a section notebook opened in headless Chromium (Debian's package, driven by Playwright with
``executable_path``: no browser is ever downloaded), all cells run and the notebook saved; no error
output, the synthetic-data banner visible, a screenshot written to outputs/test-lab/; the saved notebook
goes through git's clean filter back to what was opened; everything started here is stopped."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a copy of the notebook (writing its outputs under tmp_path), stopped afterwards."""
    work = tmp_path / "carnets"
    work.mkdir()
    nb = nbformat.read(paths.NOTEBOOKS / NOTEBOOK, as_version=4)
    params = next(c for c in nb.cells if c.cell_type == "code")
    params.source = params.source.replace("output_dir = None", f"output_dir = {str(tmp_path / 'sorties')!r}")
    nbformat.write(nb, work / NOTEBOOK)
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


def test_notebook_runs_in_jupyterlab(lab):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(paths.ROOT / "tests"))
    from gitclean import clean

    base, token, work = lab
    path = work / NOTEBOOK
    opened = path.read_text(encoding="utf-8")
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} absent : apt-get install chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
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
            banner = page.get_by_role("alert").filter(has_text="SYNTHÉTIQUES").first
            banner.scroll_into_view_if_needed()
            assert banner.is_visible()
            traceback = page.locator(".jp-OutputArea-output", has_text="Traceback")
            assert traceback.count() == 0
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "02_profil.png"))
            before = path.stat().st_mtime
            page.keyboard.press("Control+s")
            deadline = time.time() + 30
            while path.stat().st_mtime == before and time.time() < deadline:
                time.sleep(0.2)
        except BaseException:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "echec.png"), full_page=True)
            print((work.parent / "jupyterlab.log").read_text()[-5000:])
            raise
        finally:
            browser.close()
    saved = nbformat.read(path, as_version=4)
    code = [c for c in saved.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "not every cell ran"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    assert all(c.outputs for c in code[1:])  # Lab saved the outputs (the parameters cell shows none)…
    assert clean(path.read_text(encoding="utf-8")) == clean(opened)  # …and git would commit none of them
