"""outputs/index.html: every report with its wave, status, duration and the reproduction summary."""

from __future__ import annotations

import csv
import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnfs import paths
from cnfs.formatting import display_path
from cnfs.provenance import SYNTHETIC_WARNING
from cnfs.render import manifest
from cnfs.render.plan import WEIGHTED_SUFFIX, wave_label, wave_sort_key
from cnfs.status import RECOMPUTED, REPRODUCED, TRANSCRIBED, TRANSCRIPTION

REPRODUCTION_TABLE = Path("tables") / "reproduction.csv"


@dataclass(frozen=True)
class Reproduction:
    """Published figures reproduced for one wave, per publication; transcription checks counted apart."""

    reproduced: int
    total: int
    transcribed: int = 0
    transcription_checks: int = 0
    full_study: tuple[int, int] = (0, 0)

    def sentence(self) -> str:
        """French summary, e.g. '12 chiffres publiés reproduits sur 15 (article intermédiaire) ; …'."""
        noun = "chiffre publié reproduit" if self.reproduced <= 1 else "chiffres publiés reproduits"
        out = f"{self.reproduced} {noun} sur {self.total} (article intermédiaire)"
        if self.full_study[1]:
            out += f" ; étude complète : {self.full_study[0]} sur {self.full_study[1]}"
        if self.transcription_checks:
            out += f" ; transcriptions vérifiées : {self.transcribed} sur {self.transcription_checks}"
        return out


def reproduction_summary(wave_dir: Path) -> Reproduction | None:
    """Read tables/reproduction.csv of a wave folder, if the reproduction notebook wrote one."""
    path = wave_dir / REPRODUCTION_TABLE
    if not path.is_file():
        return None
    n = {"interim": [0, 0], "full_study": [0, 0], "transcription": [0, 0]}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            status = (row.get("status") or "").strip().lower()
            if status in TRANSCRIPTION:
                key = "transcription"
            elif status in RECOMPUTED:
                key = "full_study" if row.get("publication") == "full_study" else "interim"
            else:
                continue
            n[key][0] += status in (REPRODUCED, TRANSCRIBED)
            n[key][1] += 1
    return Reproduction(*n["interim"], *n["transcription"], full_study=tuple(n["full_study"]))  # type: ignore[arg-type]


def _status_cell(entry: dict[str, Any], has_html: bool) -> str:
    """Status text of one report row."""
    if entry.get("status") == "ok":
        return '<span class="ok">réussi</span>'
    err = entry.get("error") or {}
    what = html.escape(f"{err.get('ename', 'Erreur')}: {err.get('evalue', '')}"[:160])
    kept = " — rapport précédent conservé" if has_html else ""
    return f'<span class="failed">échec{kept}</span><br><small>{what}</small>'


def _title(entry: dict[str, Any]) -> str:
    """The notebook's first heading (its section title), else its file name."""
    import json

    from cnfs.render.fingerprint import absolute

    path = absolute(str(entry.get("notebook", "")))  # stored relative to the project
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return str(entry.get("stem"))
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", [])).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return str(entry.get("stem"))


def _link(href: str, text: str, extra: str = "") -> str:
    return f'<a href="{html.escape(href)}"{extra}>{html.escape(text)}</a>'


def build_index(output_root: Path, rows: Iterable[dict[str, Any]] | None = None) -> str:
    """HTML of the index page, built from the stored manifests: per wave, its reproduction summary,
    spreadsheet, and each report with its section title, status, date, duration and tables."""
    from cnfs.formatting import fmt_date, fmt_duration
    from cnfs.spreadsheet import workbook_name

    entries = list(manifest.iter_all(output_root) if rows is None else rows)
    by_wave: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        by_wave.setdefault(str(e.get("wave_folder", e.get("wave"))), []).append(e)
    synthetic = any(e.get("synthetic") for e in entries)
    out = [
        "<!DOCTYPE html>",
        '<html lang="fr"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>CnFS — rapports par vague</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1d1d1d}"
        "table{border-collapse:collapse;width:100%;margin:.5rem 0 2rem}th,td{text-align:left;padding:.35rem .6rem;"
        "border-bottom:1px solid #ddd;vertical-align:top}.ok{color:#1a7f37}.failed{color:#b42318;font-weight:600}"
        ".banner{background:#fff3cd;border:2px solid #d39e00;color:#533f03;padding:.75rem 1rem;border-radius:6px;"
        "font-weight:600}.repro{font-size:1.1rem;font-weight:600}small{color:#555}nav a{margin-right:1.5rem}"
        "details summary{cursor:pointer;color:#0645ad}</style>",
        "</head><body>",
        "<h1>CnFS — rapports par vague</h1>",
    ]
    if synthetic:
        out.append(f'<p class="banner">⚠ {html.escape(SYNTHETIC_WARNING)}</p>')
    if not entries:
        out.append("<p>Aucun rapport n'a encore été produit.</p>")
    keys = sorted(by_wave, key=lambda k: (wave_sort_key(str(by_wave[k][0].get("wave"))), k))

    def heading(key: str) -> str:
        wave = str(by_wave[key][0].get("wave"))
        shown = display_path(paths.population_file())
        weighted = f" — pondéré (calage sur {shown})" if key.endswith(WEIGHTED_SUFFIX) else ""
        return wave_label(wave).capitalize() + weighted

    if len(keys) > 1:
        out.append(
            "<nav>" + "".join(f'<a href="#{html.escape(k)}">{html.escape(heading(k))}</a>' for k in keys) + "</nav>"
        )
    for key in keys:
        wave_entries = sorted(by_wave[key], key=lambda e: str(e.get("stem")))
        wave = str(wave_entries[0].get("wave"))
        folder = Path(key)
        base = folder.as_posix()
        wave_dir = output_root / folder
        out.append(f'<h2 id="{html.escape(key)}">{html.escape(heading(key))}</h2>')
        from cnfs.tabbook_files import tabbook_files

        books = tabbook_files(wave_dir)
        if books:
            out.append(
                "<p>Tableaux croisés (toutes les questions selon les variables de ventilation) : "
                + " · ".join(
                    f'<a href="{html.escape(base)}/{html.escape(p.name)}">{html.escape(label)}</a>'
                    for label, p in books
                )
                + "</p>"
            )
        repro = reproduction_summary(wave_dir)
        if repro is not None:
            out.append(f'<p class="repro">{html.escape(repro.sentence())}</p>')
            if wave != "all":
                out.append(
                    "<p><small>Les chiffres publiés portent sur les deux vagues réunies : sur une seule vague, "
                    "un écart au chiffre publié est attendu.</small></p>"
                )
        book = workbook_name(wave_dir)
        if (wave_dir / book).is_file():
            out.append(f"<p>Tous les tableaux de la vague dans un classeur : {_link(f'{base}/{book}', book)}</p>")
        out.append(
            "<table><thead><tr><th>Rapport</th><th>Statut</th><th>Exécuté le</th><th>Durée</th>"
            "<th>Tableaux (CSV)</th></tr></thead><tbody>"
        )
        for e in wave_entries:
            stem = str(e.get("stem"))
            has_html = (wave_dir / f"{stem}.html").is_file()
            title = _title(e)
            cell = _link(f"{base}/{stem}.html", title) if has_html else html.escape(title)
            cell += f"<br><small>{html.escape(stem)}"
            if (wave_dir / f"{stem}.ipynb").is_file():
                cell += " · " + _link(f"{base}/{stem}.ipynb", "notebook exécuté")
            if (wave_dir / f"{stem}.failed.ipynb").is_file():
                cell += " · " + _link(f"{base}/{stem}.failed.ipynb", "notebook en échec")
            cell += "</small>"
            last = e.get("last_attempt") or {}
            duration = last.get("duration")
            dur = fmt_duration(duration) if isinstance(duration, (int, float)) else "—"
            when = fmt_date(last.get("executed_at")) if last.get("executed_at") else "—"
            csvs = [f for f in e.get("files", []) if str(f).startswith("tables/") and str(f).endswith(".csv")]
            tables = "—"
            if csvs:
                links = "<br>".join(_link(f"{base}/{f}", Path(f).stem) for f in csvs)
                tables = (
                    f"<details><summary>{len(csvs)} tableau{'x' if len(csvs) > 1 else ''}</summary>{links}</details>"
                )
            out.append(
                f"<tr><td>{cell}</td><td>{_status_cell(e, has_html)}</td><td>{when}</td><td>{dur}</td>"
                f"<td>{tables}</td></tr>"
            )
        out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out)


def write_index(output_root: Path) -> Path:
    """Write outputs/index.html atomically, from the manifests (spreadsheets are the render's own steps)."""
    path = output_root / "index.html"
    manifest.atomic_write_text(path, build_index(output_root))
    return path
