"""Notebook 08 follows the conventions: literal parameters cell, no logic, no outputs committed."""
from __future__ import annotations

import ast

import nbformat

from cnfs import paths

NOTEBOOK = paths.NOTEBOOKS / "08_etude_qualitative.ipynb"


def test_notebook_conventions():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["cnfs"]["wave_independent"] is True
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    params = ast.parse(code[0].source)
    assert all(isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant) for s in params.body)
    assert {t.id for s in params.body for t in s.targets} >= {"wave", "data_path", "output_dir"}
    for cell in code:
        tree = ast.parse(cell.source)
        assert not any(isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Assert)) for n in ast.walk(tree))
        assert not cell.get("outputs") and cell.get("execution_count") is None
