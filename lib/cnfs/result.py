"""The pieces every report result shares: ``Result`` (what a notebook cell shows), the header, the
notes and names common to the sections."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cnfs.status import STYLE

WAVE_NOTE = (
    "Les chiffres publiés portent sur les deux vagues réunies : sur une seule vague, un écart au chiffre "
    "publié est attendu et ne signale pas une erreur."
)
STATUS_STYLE = STYLE  # one status vocabulary (cnfs.status)
#: How a reader sees a test withheld by disclosure control (a group under the threshold).
WITHHELD_TEST = "Masqué (secret statistique)"
META_DIR = "meta"  # tables/meta/<name>.json: title, base, n and notes of each CSV, for the spreadsheet
HEADER_MIME = "application/vnd.cnfs.header+json"  # read by cnfs.render.export for the report header


def _subgroup_site_mode(df: pd.DataFrame) -> pd.Series:
    from cnfs.subgroups import site_mode

    return site_mode(df)


#: Subgroups derived from answers, usable as ``by=`` by name.
DERIVED_SUBGROUPS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {"site_mode": _subgroup_site_mode}
BY_TITLES = {"site_mode": "Nombre de sites", "wave": "Vague"}
BY_PHRASES = {"site_mode": "le nombre de sites (mono-site / multi-sites)", "wave": "la vague"}


@dataclass
class Result:
    """A cell's output: title, French table, optional chart and caption; ``data`` is the tidy table."""

    title: str
    data: pd.DataFrame
    table: pd.DataFrame | None = None
    caption: str = ""
    png: bytes | None = None
    notes: list[str] = field(default_factory=list)
    styler: Any = None

    def _repr_html_(self) -> str:
        parts = ['<div class="cnfs-result">', f"<h4>{html.escape(self.title)}</h4>"]
        if self.styler is not None:
            parts.append(self.styler.to_html())
        elif self.table is not None:
            parts.append(self.table.to_html(escape=True, border=0, classes="cnfs-table"))
        if self.png:
            b64 = base64.b64encode(self.png).decode()
            stop = "" if self.title.rstrip().endswith(("?", "!", ".", "…", ":")) else "."
            alt = html.escape(f"{self.title.rstrip()}{stop} {self.caption}".strip())
            parts.append(f'<img alt="{alt}" style="max-width:100%" src="data:image/png;base64,{b64}"/>')
        elif self.caption:  # a chart states its base itself: the caption is written once
            parts.append(f"<p><em>{html.escape(self.caption)}</em></p>")
        parts += [f"<p><em>{html.escape(line)}</em></p>" for line in self.notes if line]
        return "\n".join(parts + ["</div>"])

    def __repr__(self) -> str:
        body = (self.table if self.table is not None else self.data).to_string()
        return "\n".join([self.title, body, self.caption, *self.notes]).strip()


@dataclass
class _Header:
    """Banner and four facts for JupyterLab; the HTML report shows its own header, so this one hides there."""

    html_text: str
    text: str
    facts: dict[str, Any] = field(default_factory=dict)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/html": f'<div class="cnfs-nb-header">{self.html_text}</div>',
            "text/plain": self.text,
            HEADER_MIME: self.facts,
        }

    def __repr__(self) -> str:
        return self.text
