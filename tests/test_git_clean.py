"""Running and saving a notebook in JupyterLab leaves git clean: git stores notebooks through the clean
filter of .gitattributes (tools/git-nbclean.sh, installed by `make venv`), the committed notebooks are
already in that form, and a notebook saved with outputs comes out of the filter as committed."""

from __future__ import annotations

import copy
import subprocess

import nbformat
import pytest
from cnfs import paths
from gitclean import FILTER, clean, committed, filter_installed

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _git(*args: str, stdin: bytes | None = None) -> str:
    return subprocess.run(["git", *args], cwd=paths.ROOT, input=stdin, capture_output=True, check=True).stdout.decode()


def test_attributes_name_the_filter_and_make_installs_it():
    attrs = (paths.ROOT / ".gitattributes").read_text()
    assert "*.ipynb filter=nbstripout" in attrs
    make = (paths.ROOT / "Makefile").read_text()
    assert f'filter.nbstripout.clean "sh {FILTER.relative_to(paths.ROOT)}"' in make
    assert "venv: $(STAMP) git-filter" in make


def lab_save(nb_text: str) -> str:
    """The notebook as JupyterLab saves it after a run: outputs, counts, timings, trusted signature."""
    nb = nbformat.reads(nb_text, as_version=4)
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = i + 1
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text=f"résultat {i}\n"),
            nbformat.v4.new_output("display_data", data={"text/plain": "x", "image/png": "iVBOR"}),
        ]
        cell.metadata["execution"] = {"iopub.execute_input": "2026-11-28T22:15:00.000Z"}
        cell.metadata["scrolled"] = True
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nbformat.writes(nb) + "\n"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_what_the_filter_gives(path):
    text = path.read_text(encoding="utf-8")
    assert clean(text) == text, f"{path.name}: not in committed form; `make venv` installs the git filter"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_saved_after_a_run_cleans_to_the_committed_file(path):
    original = path.read_text(encoding="utf-8")
    saved = lab_save(original)
    assert saved != original
    assert clean(saved) == original


@pytest.mark.skipif(not filter_installed(), reason="filtre git non installé dans ce clone (`make venv` l'installe)")
def test_git_itself_would_commit_no_change_after_a_lab_save():
    path = paths.NOTEBOOKS / "02_profil.ipynb"
    rel = path.relative_to(paths.ROOT).as_posix()
    saved = lab_save(path.read_text(encoding="utf-8")).encode()
    # hash-object --path applies the path's filters as `git add` would, without writing anything
    assert _git("hash-object", f"--path={rel}", "--stdin", stdin=saved).strip() == _git("rev-parse", f":{rel}").strip()


def test_committed_reads_the_filtered_form(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)]
    nb.cells[0].execution_count = 1
    p = tmp_path / "x.ipynb"
    p.write_text(nbformat.writes(copy.deepcopy(nb)))
    got = committed(p)
    assert got.cells[0].outputs == [] and got.cells[0].execution_count is None
