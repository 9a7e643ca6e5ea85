"""The report's HTML export: nbconvert's accessibility pass (alt text, focusable cells) done on the text,
giving the same document as nbconvert's BeautifulSoup pass."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup
from cnfs.render import export

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("x = 1\nx")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="bonjour\n"),
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        nbformat.v4.new_output(
            "execute_result",
            data={"text/html": "<table><tr><td>1&nbsp;%</td></tr></table><img src='x.png'>", "text/plain": "1"},
            execution_count=1,
        ),
    ]
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            '# Titre\n\nTexte & <img src="a.png"> et <img alt="déjà l\'image" src="b.png"> d\'un rapport'
        ),
        code,
        nbformat.v4.new_code_cell("y = 2"),
    ]
    return nb


def test_export_matches_nbconvert_accessibility_pass(tmp_path: Path) -> None:
    from nbconvert import HTMLExporter

    nb = _notebook()
    context = {"parameters": {"wave": "1"}, "title": "t", "synthetic": True, "ipynb_name": "t.ipynb"}
    page = export.export_html(nb, tmp_path / "t.html", context).read_text(encoding="utf-8")

    stripped = export._without_first_title(nb)
    resources = {
        "metadata": {"name": "Titre", "path": tmp_path.name},
        "cnfs_header": export.header_html("Titre", context, export.notebook_facts(stripped)),
        "cnfs_css": export.CSS,
        "cnfs_needs_mathjax": False,
        "cnfs_needs_mermaid": False,
    }
    reference, _ = HTMLExporter.from_notebook_node(export._EXPORTER, stripped, resources=resources)  # stock pass
    ours = BeautifulSoup(page, "html.parser")
    assert str(ours) == str(BeautifulSoup(reference, "html.parser"))
    assert all(img.get("alt") for img in ours.select("img"))
    assert ours.select_one('img[alt="déjà l\'image"]') is not None
    assert "d'un rapport" in page and "Vague" in page  # apostrophes written as such, as before
    assert len(ours.select('div.jp-Cell-inputWrapper[tabindex="0"]')) == 3  # markdown cells too
    assert len(ours.select('div.jp-OutputArea-output[tabindex="0"]')) == 3
