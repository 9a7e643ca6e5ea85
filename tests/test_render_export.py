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


def test_highlighted_code_skips_bleach_and_stays_identical(monkeypatch) -> None:
    """Every code cell of the project's notebooks, highlighted as the report shows it, comes out of the
    report's clean_html exactly as out of nbconvert's (bleach), without bleach being run."""
    from cnfs import paths
    from nbconvert.filters import strings
    from nbconvert.filters.highlight import Highlight2HTML

    highlight = Highlight2HTML(pygments_lexer="ipython3")
    sources = [
        cell.source
        for path in sorted(paths.NOTEBOOKS.glob("*.ipynb"))
        for cell in nbformat.read(path, as_version=4).cells
        if cell.cell_type == "code"
    ]
    assert len(sources) > 50
    highlighted = [highlight(source) for source in sources]
    expected = [strings.clean_html(markup) for markup in highlighted]

    def no_bleach(markup: str) -> str:
        raise AssertionError(f"bleach run on highlighted code: {markup[:80]}")

    monkeypatch.setattr(strings, "clean_html", no_bleach)
    assert [export.clean_html(markup) for markup in highlighted] == expected


def test_other_markup_still_goes_through_bleach() -> None:
    from nbconvert.filters.strings import clean_html as bleach_clean

    for markup in [
        "<script>alert(1)</script>",
        '<span onclick="alert(1)">x</span>',
        '<img src="x" onerror="alert(1)">',
        '<div class="highlight"><pre>\nx = 1</pre></div>',
        "a < b",
        "<span>a &nbsp; b</span>",
        '<a href="javascript:alert(1)">x</a>',
    ]:
        assert export.clean_html(markup) == bleach_clean(markup)
    assert "<script" not in export.clean_html('<span class="n">x</span><script>alert(1)</script>')


def test_title_removed_from_a_copy() -> None:
    nb = _notebook()
    stripped = export._without_first_title(nb)
    assert stripped.cells[0].source.startswith("Texte")
    assert nb.cells[0].source.startswith("# Titre")  # the executed notebook is left as it is
    assert stripped.cells[1] is nb.cells[1]  # the other cells are not copied (nbconvert copies the notebook)


def test_compiled_templates_are_kept_and_reused_unchanged(tmp_path: Path, monkeypatch) -> None:
    """The report templates' compiled code is kept in the render cache (jinja's bytecode cache): the next
    render's exporter loads it instead of compiling the templates again, and the page is the same."""
    import jinja2

    compiled: list[str | None] = []
    compile_ = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):  # type: ignore[no-untyped-def]
        compiled.append(name)
        return compile_(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    context = {"parameters": {"wave": "1"}, "title": "t", "synthetic": True, "ipynb_name": "t.ipynb"}
    cache, nb, pages = tmp_path / "cache", _notebook(), []
    for attempt in range(2):  # two renders: a fresh exporter each time, as each render process builds one
        monkeypatch.setattr(export, "_EXPORTER", None)
        export.prepare(cache)
        before = len(compiled)
        pages.append(export.export_html(nb, tmp_path / f"{attempt}.html", context).read_text("utf-8"))
        if attempt == 0:
            assert export.TEMPLATE_NAME in compiled[before:]  # compiled, and kept
            assert len(list(cache.iterdir())) == len(compiled) - before
        else:
            assert compiled[before:] == []  # every template loaded from the cache
    assert pages[0] == pages[1]
