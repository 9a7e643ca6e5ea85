"""HTML export of an executed notebook as a readable report: code hidden, provenance stated on top."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cnfs.provenance import SYNTHETIC_WARNING

TEMPLATE_NAME = "cnfs_report.html.j2"
#: Folder of the render cache where the report templates' compiled code is kept (jinja's bytecode cache).
TEMPLATE_CACHE = "templates"

# Extends nbconvert's lab template: no CDN script unless the page needs it, a header before <main>.
TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}
{%- if resources.cnfs_needs_mathjax -%}{{ super() }}{%- endif -%}
{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}
{%- if resources.cnfs_needs_mermaid -%}{{ super() }}{%- endif -%}
{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}
<style>{{ resources.cnfs_css }}</style>
{% endblock extra_css %}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<input type="checkbox" id="cnfs-show-code" class="cnfs-toggle" aria-label="Afficher le code">
{{ resources.cnfs_header }}
<main>
{%- endblock body_header -%}
"""

CSS = """
.cnfs-toggle { position: absolute; opacity: 0; pointer-events: none; }
#cnfs-show-code:not(:checked) ~ main .jp-CodeCell .jp-Cell-inputWrapper,
#cnfs-show-code:not(:checked) ~ main .jp-OutputPrompt,
#cnfs-show-code:not(:checked) ~ main .jp-InputPrompt { display: none; }
#cnfs-show-code:not(:checked) ~ main .jp-OutputArea-child { display: block; }
#cnfs-show-code:checked ~ .cnfs-header .cnfs-show { display: none; }
#cnfs-show-code:not(:checked) ~ .cnfs-header .cnfs-hide { display: none; }
.cnfs-header { font-family: system-ui, sans-serif; max-width: 60rem; margin: 1rem auto 1.5rem;
  padding: 0 var(--jp-notebook-padding, 10px); line-height: 1.45; color: #1d1d1d; }
.cnfs-header h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
.cnfs-banner { background: #fff3cd; border: 2px solid #d39e00; color: #533f03; padding: .75rem 1rem;
  border-radius: 6px; font-weight: 600; margin: .75rem 0; }
.cnfs-meta { border-collapse: collapse; font-size: .9rem; margin: .5rem 0; }
.cnfs-meta th { text-align: left; padding: .15rem 1rem .15rem 0; vertical-align: top; font-weight: 600; }
.cnfs-meta td { padding: .15rem 0; font-family: ui-monospace, monospace; word-break: break-all; }
.cnfs-facts { display: flex; flex-wrap: wrap; gap: .25rem 2rem; margin: .5rem 0; }
.cnfs-facts dt { font-size: .8rem; color: #555; } .cnfs-facts dd { margin: 0; font-weight: 600; }
.cnfs-details summary { cursor: pointer; color: #0645ad; margin: .5rem 0; }
.cnfs-nb-header { display: none; }
.cnfs-actions { font-size: .9rem; margin-top: .5rem; }
.cnfs-actions label { cursor: pointer; color: #0645ad; text-decoration: underline; margin-right: 1.5rem; }
.cnfs-actions a { margin-right: 1.5rem; }
@media print { .cnfs-actions { display: none; } }
"""


def notebook_title(nb: Any, fallback: str) -> str:
    """First markdown heading of the notebook, else the fallback."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip() or fallback
    return fallback


HEADER_MIME = "application/vnd.cnfs.header+json"  # the facts cnfs.notebook.Report.header() states


def _row(name: str, value: Any) -> str:
    """One row of the technical details table, escaped."""
    shown = "aucun (jumeau synthétique)" if value is None else str(value)
    return f"<tr><th>{html.escape(name)}</th><td>{html.escape(shown)}</td></tr>"


def notebook_facts(nb: Any) -> dict[str, Any]:
    """The facts the notebook's own header stated (vague, données, répondants…), if it has one."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            if HEADER_MIME in data:
                return dict(data[HEADER_MIME])
    return {}


#: The notebooks' parameters and the data's provenance fields, in French (the code's name in brackets).
PARAMETER_LABELS = {
    "wave": "vague",
    "data_path": "données",
    "output_dir": "dossier de sortie",
    "min_count": "secret statistique (effectif minimal)",
    "weighting": "pondération",
}
PROVENANCE_LABELS = {
    "synthetic": "données synthétiques",
    "generator": "générateur",
    "generator_version": "version du générateur",
    "seed": "graine",
    "respondents": "répondants",
    "imported_by": "importé par",
    "imported_at": "importé le",
    "excluded_incomplete": "réponses incomplètes écartées",
}
PROVENANCE_HIDDEN = {"warning"}  # the synthetic warning is the banner above


def _labelled(name: str, labels: Mapping[str, str]) -> str:
    """A field's French label with the code's name in brackets (what a notebook or a file calls it)."""
    return f"{labels[name]} ({name})" if name in labels else name


def _shown(name: str, value: Any) -> Any:
    """A parameter value as a reader sees it: paths relative to the project."""
    from cnfs.formatting import display_path

    if isinstance(value, bool):
        return "oui" if value else "non"
    if name.endswith("_at") and isinstance(value, str):
        from cnfs.formatting import fmt_date

        return fmt_date(value)  # « 29 novembre 2026 à 4 h 13 »; an unreadable date as it is
    if isinstance(value, str) and ("/" in value or name.endswith(("_path", "_dir"))):
        return display_path(value)
    return value


def header_html(title: str, context: Mapping[str, Any], facts: Mapping[str, Any] | None = None) -> str:
    """The report header: the title once, the synthetic banner, four facts (vague, données, n, date), then
    the full provenance (parameters, hashes, versions, cache key) collapsed in « Détails techniques »."""
    import platform

    from cnfs.formatting import display_path, fmt_date, fmt_duration, fmt_num
    from cnfs.render.plan import wave_label

    facts = dict(facts or {})
    params: Mapping[str, Any] = context.get("parameters", {})
    wave = str(params.get("wave", facts.get("wave", "")))
    synthetic = bool(context.get("synthetic"))
    shown_facts = [
        ("Vague", facts.get("Vague") or (wave_label(wave) if wave else "–")),
        (
            "Données",
            facts.get("Données") or ("jumeau synthétique" if synthetic else display_path(context.get("data_file"))),
        ),
        ("Répondants", facts.get("Répondants") or (fmt_num(facts["n"]) if "n" in facts else "–")),
        ("Date", fmt_date(context.get("executed_at")) if context.get("executed_at") else facts.get("Date", "–")),
    ]
    parts = ['<header class="cnfs-header">', f"<h1>{html.escape(title)}</h1>"]
    if synthetic:
        parts.append(f'<div class="cnfs-banner" role="alert">⚠ {html.escape(SYNTHETIC_WARNING)}</div>')
    parts.append(
        '<dl class="cnfs-facts">'
        + "".join(f"<div><dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd></div>" for k, v in shown_facts)
        + "</dl>"
    )
    rows = ["<tr><th colspan=2>Paramètres</th></tr>"]
    rows += [_row(_labelled(name, PARAMETER_LABELS), _shown(name, value)) for name, value in params.items()]
    rows.append("<tr><th colspan=2>Données</th></tr>")
    rows.append(_row("fichier", display_path(context.get("data_file"))))
    rows.append(_row("empreinte SHA-256", context.get("data_sha256")))
    rows.append(_row("nature", "données synthétiques" if synthetic else "données d'enquête"))
    for name, value in (context.get("provenance") or {}).items():
        if name not in PROVENANCE_HIDDEN:
            rows.append(_row(_labelled(name, PROVENANCE_LABELS), _shown(name, value)))
    rows.append("<tr><th colspan=2>Exécution</th></tr>")
    duration = context.get("duration")
    for label, value in (
        ("notebook", context.get("notebook")),
        ("exécuté le", fmt_date(context.get("executed_at")) if context.get("executed_at") else None),
        ("durée", fmt_duration(duration) if isinstance(duration, (int, float)) else duration),
        ("Python", platform.python_version()),
        ("clé de cache", context.get("cache_key")),
    ):
        if value is not None:
            rows.append(_row(label, value))
    parts.append(
        '<details class="cnfs-details"><summary>Détails techniques</summary>'
        f'<table class="cnfs-meta"><tbody>{"".join(rows)}</tbody></table></details>'
    )
    ipynb = context.get("ipynb_name")
    parts.append('<div class="cnfs-actions">')
    parts.append(
        '<label for="cnfs-show-code"><span class="cnfs-show">Afficher le code</span>'
        '<span class="cnfs-hide">Masquer le code</span></label>'
    )
    if ipynb:
        parts.append(f'<a href="{html.escape(ipynb)}" download>Notebook exécuté complet ({html.escape(ipynb)})</a>')
    parts.append('<a href="../index.html">Index des rapports</a>')
    parts.append("</div></header>")
    return "\n".join(parts)


def scrub_paths(nb: Any, root: Path | None = None) -> Any:
    """Replace the project's absolute path by relative ones in every cell source and output (in place).

    The injected output folder and data file become relative to the notebooks folder, wherever they are,
    so the executed notebook still runs from there; any other mention of the checkout loses its prefix.
    """
    import os

    from cnfs import paths

    root = Path(root or paths.ROOT)
    prefix = str(root)

    def rel(text: str) -> str:
        return text.replace(prefix + os.sep, "").replace(prefix, ".") if prefix in text else text

    def walk(obj: Any) -> Any:
        if isinstance(obj, str):
            return rel(obj)
        if isinstance(obj, list):
            return [walk(x) for x in obj]
        if isinstance(obj, dict):
            return obj.__class__({k: walk(v) for k, v in obj.items()})
        return obj

    record = nb.metadata.get("papermill", {})  # papermill records the input and output paths, and parameters
    for key in ("input_path", "output_path"):
        if isinstance(record.get(key), str) and os.path.isabs(record[key]):
            record[key] = os.path.relpath(record[key], paths.NOTEBOOKS)
    parameters = record.get("parameters", {})
    for key, value in parameters.items():
        if isinstance(value, str) and os.path.isabs(value):
            parameters[key] = os.path.relpath(value, paths.NOTEBOOKS)
    nb.metadata = walk(nb.metadata)
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            for folder in sorted(set(_abs_paths(cell.source)), key=len, reverse=True):
                cell.source = cell.source.replace(folder, os.path.relpath(folder, paths.NOTEBOOKS))
        cell.source = rel(cell.source)
        if cell.cell_type == "code":
            cell.outputs = walk(cell.outputs)
    return nb


def _abs_paths(source: str) -> list[str]:
    """Quoted absolute paths in a parameters cell, in or out of the project (data or outputs elsewhere)."""
    import re

    return re.findall(r"['\"](/[^'\"]*)['\"]", source)


def _markdown_text(nb: Any) -> str:
    """All markdown sources, to decide which optional scripts a page needs."""
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


ALT_MISSING = "No description has been provided for this image"  # nbconvert's own wording
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)", re.IGNORECASE)
_TAG = re.compile(r"(<[^>]*>)")
_APOSTROPHE = re.compile(r"&#(?:39|x27);", re.IGNORECASE)
_DOUBLE_QUOTED = re.compile(r'"[^"]*"')
_FOCUSABLE = re.compile(
    r'<div class="(?:[^"]*\s)?jp-(?:Cell-inputWrapper|OutputArea-output)(?:\s[^"]*)?"(?![^>]*\btabindex=)'
)


def accessible(page: str) -> str:
    """What nbconvert's HTMLExporter does after rendering its template (an alt text on images that have none;
    inputs and outputs focusable), on the text instead of a BeautifulSoup tree (0.5 s per report)."""
    page = _IMG_WITHOUT_ALT.sub(f'<img alt="{ALT_MISSING}"', page)
    page = _FOCUSABLE.sub(lambda m: m.group(0) + ' tabindex="0"', page)
    # An apostrophe written as it is, as the tree's serialisation wrote it (in text and in double-quoted
    # attribute values, where it needs no escape; single-quoted values are left alone).
    parts = _TAG.split(page)
    for i, part in enumerate(parts):
        if i % 2 == 0:
            parts[i] = _APOSTROPHE.sub("'", part)
        elif "&#" in part:
            parts[i] = _DOUBLE_QUOTED.sub(lambda m: _APOSTROPHE.sub("'", m.group(0)), part)
    return "".join(parts)


#: The only markup pygments writes when it highlights code: div, pre and span tags with at most a class.
_HIGHLIGHT_TAG = re.compile(r'</?(?:div|pre|span)(?: class="[\w -]*")?>')
_ANY_TAG = re.compile(r"<[^>]*>")
_OTHER_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|quot|#39|#x27);)")


def clean_html(markup: str) -> str:
    """nbconvert's ``clean_html`` (bleach), except for markup made only of highlighted code (pygments' tags,
    escaped text), which bleach returns unchanged after re-parsing it: that re-parse of every code cell was
    40 % of a report's export."""
    from nbconvert.filters.strings import clean_html as bleach_clean

    text = _ANY_TAG.sub("", markup)
    highlighted_only = (
        all(_HIGHLIGHT_TAG.fullmatch(tag) for tag in _ANY_TAG.findall(markup))
        and "<" not in text
        and ">" not in text
        and not _OTHER_ENTITY.search(markup)
        and "<pre>\n" not in markup  # a parser drops a newline right after <pre>
    )
    return markup if highlighted_only else bleach_clean(markup)


def _exporter(bytecode_dir: Path | None = None) -> Any:
    """An HTMLExporter on the lab template with the report template added; with ``bytecode_dir``, its templates'
    compiled code is kept there and reused while their sources are unchanged (jinja's bytecode cache)."""
    from jinja2 import DictLoader, FileSystemBytecodeCache
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter

    class ReportExporter(HTMLExporter):  # type: ignore[misc]
        """HTMLExporter without its BeautifulSoup pass, replaced by ``accessible``."""

        def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> tuple[str, Any]:
            from nbconvert.exporters.html import WidgetsDataTypeFilter
            from nbconvert.filters.highlight import Highlight2HTML

            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
            self.register_filter("highlight_code", highlight)
            self.register_filter("filter_data_type", data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return accessible(page), resources

    exporter = ReportExporter(template_name="lab", extra_loaders=[DictLoader({TEMPLATE_NAME: TEMPLATE})])
    exporter.template_file = TEMPLATE_NAME
    exporter.register_filter("clean_html", clean_html)
    exporter.optimistic_validation = True  # the notebook is validated once, after every preprocessor
    exporter.embed_images = True
    exporter.language_code = "fr"
    if bytecode_dir is not None:
        bytecode_dir.mkdir(parents=True, exist_ok=True)
        exporter.environment.bytecode_cache = FileSystemBytecodeCache(str(bytecode_dir))
    return exporter


_EXPORTER: Any = None


def prepare(bytecode_dir: Path | None = None) -> None:
    """Build the exporter now (in the parent, so forked workers inherit it ready), its compiled templates kept in
    ``bytecode_dir`` if given."""
    global _EXPORTER
    if _EXPORTER is None:
        _EXPORTER = _exporter(bytecode_dir)


def _without_first_title(nb: Any) -> Any:
    """The notebook without its first heading line, which the header already shows: a copy of the notebook
    and of that one cell (nbconvert copies the whole notebook before changing anything)."""
    import copy

    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            for i, line in enumerate(lines):
                if line.startswith("# "):
                    edited = copy.copy(cell)
                    edited.source = "\n".join(lines[:i] + lines[i + 1 :]).strip("\n")
                    nb = copy.copy(nb)
                    nb.cells = [*nb.cells[:index], edited, *nb.cells[index + 1 :]]
                    return nb
            return nb
    return nb


def export_html(nb: Any, dest: Path, context: Mapping[str, Any]) -> Path:
    """Write the report HTML for an executed notebook to dest (in-process, no CLI start-up)."""
    prepare()
    title = notebook_title(nb, str(context.get("title") or dest.stem))
    nb = _without_first_title(nb)
    md = _markdown_text(nb)
    resources = {
        "metadata": {"name": title, "path": dest.parent.name},
        "cnfs_header": header_html(title, context, notebook_facts(nb)),
        "cnfs_css": CSS,
        "cnfs_needs_mathjax": "$" in md or "\\(" in md,
        "cnfs_needs_mermaid": "```mermaid" in md,
    }
    body, _ = _EXPORTER.from_notebook_node(nb, resources=resources)
    dest.write_text(body, encoding="utf-8")
    return dest


def read_executed(path: Path) -> Any:
    """An executed notebook this render wrote (validated when it was written): parsed, not validated again."""
    import nbformat.v4

    return nbformat.v4.reads(path.read_text(encoding="utf-8"))


def warm(scratch: Path) -> None:
    """Import papermill and export a small notebook once, in a temporary folder under ``scratch``, so that
    every worker forked afterwards inherits papermill, the notebook validator and the HTML exporter's
    compiled templates, regular expressions and highlighters (0.7 s each otherwise)."""
    import base64
    import tempfile

    import nbformat
    import papermill  # noqa: F401

    prepare(scratch / TEMPLATE_CACHE)
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("x = 1\nx")
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x\n"),
        nbformat.v4.new_output(
            "display_data",
            data={"text/html": "<table><tr><td>1</td></tr></table>", "image/png": png, "text/plain": "1"},
        ),
        nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=1),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Titre\n\nTexte *en* **gras**, [lien](index.html)."), code]
    nbformat.validate(nb)  # builds the notebook schema validator papermill uses on every read and write
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        export_html(
            nb,
            Path(tmp) / "warm.html",
            {"parameters": {"wave": "all"}, "title": "warm", "synthetic": True, "ipynb_name": "warm.ipynb"},
        )
