"""HTML export of an executed notebook as a readable report: code hidden, provenance stated on top."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Mapping

from cnfs.provenance import SYNTHETIC_WARNING

TEMPLATE_NAME = "cnfs_report.html.j2"

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


def _row(name: str, value: Any) -> str:
    """One row of the metadata table, escaped."""
    shown = "None (jumeau synthétique)" if value is None else str(value)
    return f"<tr><th>{html.escape(name)}</th><td>{html.escape(shown)}</td></tr>"


def header_html(title: str, context: Mapping[str, Any]) -> str:
    """The report header: title, synthetic banner, parameters, data provenance, links."""
    params: Mapping[str, Any] = context.get("parameters", {})
    parts = ['<header class="cnfs-header">', f"<h1>{html.escape(title)}</h1>"]
    if context.get("synthetic"):
        parts.append(f'<div class="cnfs-banner" role="alert">⚠ {html.escape(SYNTHETIC_WARNING)}</div>')
    parts.append('<table class="cnfs-meta"><tbody>')
    parts.append("<tr><th colspan=2>Paramètres</th></tr>")
    for name, value in params.items():
        parts.append(_row(name, value))
    parts.append("<tr><th colspan=2>Données</th></tr>")
    parts.append(_row("fichier", context.get("data_file")))
    parts.append(_row("sha256", context.get("data_sha256")))
    parts.append(_row("nature", "données synthétiques" if context.get("synthetic") else "données d'enquête"))
    for name, value in (context.get("provenance") or {}).items():
        parts.append(_row(f"provenance · {name}", value))
    parts.append("<tr><th colspan=2>Exécution</th></tr>")
    for name, label in (("notebook", "notebook"), ("executed_at", "exécuté le"), ("duration", "durée"),
                        ("python", "interpréteur"), ("cache_key", "clé de cache")):
        if context.get(name) is not None:
            parts.append(_row(label, context[name]))
    parts.append("</tbody></table>")
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


def _markdown_text(nb: Any) -> str:
    """All markdown sources, to decide which optional scripts a page needs."""
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _exporter() -> Any:
    """An HTMLExporter on the lab template with the report template added."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({TEMPLATE_NAME: TEMPLATE})])
    exporter.template_file = TEMPLATE_NAME
    exporter.embed_images = True
    return exporter


_EXPORTER: Any = None


def prepare() -> None:
    """Build the exporter now (in the parent, so forked workers inherit it ready)."""
    global _EXPORTER
    if _EXPORTER is None:
        _EXPORTER = _exporter()


def export_html(nb: Any, dest: Path, context: Mapping[str, Any]) -> Path:
    """Write the report HTML for an executed notebook to dest (in-process, no CLI start-up)."""
    prepare()
    title = notebook_title(nb, str(context.get("title") or dest.stem))
    md = _markdown_text(nb)
    resources = {
        "metadata": {"name": title, "path": str(dest.parent)},
        "cnfs_header": header_html(title, context),
        "cnfs_css": CSS,
        "cnfs_needs_mathjax": "$" in md or "\\(" in md,
        "cnfs_needs_mermaid": "```mermaid" in md,
    }
    body, _ = _EXPORTER.from_notebook_node(nb, resources=resources)
    dest.write_text(body, encoding="utf-8")
    return dest
