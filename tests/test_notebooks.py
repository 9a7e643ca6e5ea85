"""Every notebook follows the conventions: literal parameters, no logic, no typed published value,
committed without outputs (except cells kept on purpose for nbval), and together they show every
published figure of the survey beside its computed value."""
from __future__ import annotations

import ast
import re

import nbformat
import pytest

from cnfs import paths
from cnfs.reference import load_published

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
LOGIC = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.For, ast.While, ast.Assert)
NUMBER_IN_TEXT = re.compile(r"\d+[.,]\d+|\b\d{2,}\b")


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_numbered_notebooks_exist():
    names = [p.name[:2] for p in NOTEBOOKS]
    assert names == ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_holds_only_literals(path):
    nb = nbformat.read(path, as_version=4)
    first = _code(nb)[0]
    assert first.metadata.get("tags") == ["parameters"]
    tree = ast.parse(first.source)
    assert all(isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant) for s in tree.body)
    names = {t.id for s in tree.body for t in s.targets}
    assert {"wave", "data_path", "output_dir"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_logic_and_no_typed_published_value(path):
    nb = nbformat.read(path, as_version=4)
    for cell in _code(nb)[1:]:
        tree = ast.parse(cell.source)
        logic = [type(n).__name__ for n in ast.walk(tree) if isinstance(n, LOGIC)]
        assert not logic, f"{path.name}: {logic} in a code cell:\n{cell.source}"
        allowed = {id(kw.value) for n in ast.walk(tree) if isinstance(n, ast.Call) for kw in n.keywords if kw.arg == "section"}
        for n in ast.walk(tree):
            if isinstance(n, ast.Constant) and id(n) not in allowed:
                assert not isinstance(n.value, (int, float)) or isinstance(n.value, bool), (
                    f"{path.name}: number {n.value!r} typed in a code cell (read it from the published-figures table)"
                )
                if isinstance(n.value, str):
                    assert not NUMBER_IN_TEXT.search(n.value), f"{path.name}: number in string {n.value!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_except_checked_cells(path):
    nb = nbformat.read(path, as_version=4)
    for cell in _code(nb):
        if "NBVAL_CHECK_OUTPUT" in cell.source:
            assert cell.outputs, f"{path.name}: a checked cell must keep its output"
        else:
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: outputs committed"


def test_no_repeated_blocks_within_a_notebook():
    for path in NOTEBOOKS:
        sources = [c.source for c in _code(nbformat.read(path, as_version=4)) if c.source.count("\n") >= 2]
        assert len(sources) == len(set(sources)), path.name


def test_every_survey_figure_is_shown_beside_its_computed_value():
    shown: set[str] = set()
    for path in NOTEBOOKS[:7]:
        for cell in _code(nbformat.read(path, as_version=4)):
            shown |= set(re.findall(r'"(S\d_[A-Za-z0-9_]+)"', cell.source))
    pub = load_published()
    survey = set(pub.loc[pub["id"].str.match(r"S[1-7]_"), "id"])
    assert survey - shown == set()
    assert shown - set(pub["id"]) == set()


def test_only_the_qualitative_notebook_is_wave_independent():
    flags = {p.name[:2]: nbformat.read(p, as_version=4).metadata.get("cnfs", {}).get("wave_independent", False) for p in NOTEBOOKS}
    assert [k for k, v in flags.items() if v] == ["08"]


def test_the_reproduction_notebook_checks_every_figure():
    nb = nbformat.read(paths.NOTEBOOKS / "09_reproduction.ipynb", as_version=4)
    src = "\n".join(c.source for c in _code(nb))
    assert "report.reproduction()" in src and "check_reproduced" in src
