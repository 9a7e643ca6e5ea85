"""Notebook-friendly renderings of the qualitative tables (Markdown shown as such by Jupyter)."""
from __future__ import annotations

import pandas as pd


class MarkdownText(str):
    """A string that Jupyter renders as Markdown."""

    def _repr_markdown_(self) -> str:
        return str(self)


def verbatims_markdown(verbatims: pd.DataFrame) -> MarkdownText:
    """Verbatims grouped under one heading per theme (input: ``verbatims_by_theme``)."""
    parts: list[str] = []
    for theme, group in verbatims.groupby("Thème", sort=False):
        parts.append(f"#### {theme} ({len(group)} verbatim{'s' if len(group) > 1 else ''})")
        for r in group.itertuples(index=False):
            quote = str(r.Verbatim).replace("\n", "  \n> ")
            parts.append(f"> « {quote} »  \n> — {r.Locuteur}, {r.Structure}, territoire {r.Territoire} ({r.Extrait})")
    return MarkdownText("\n\n".join(parts))
