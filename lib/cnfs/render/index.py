"""outputs/index.html: every report with its wave, status, duration and the reproduction summary."""
from __future__ import annotations

import csv
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from cnfs.provenance import SYNTHETIC_WARNING
from cnfs.status import RECOMPUTED, REPRODUCED, TRANSCRIBED, TRANSCRIPTION
from cnfs.render import manifest
from cnfs.render.plan import WEIGHTED_SUFFIX, wave_label, wave_sort_key

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
        """French summary, e.g. '12 figures reproduites sur 15 (article intermédiaire) ; 3 transcrits sur 3'."""
        noun = "figure reproduite" if self.reproduced <= 1 else "figures reproduites"
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


def build_index(output_root: Path, rows: Iterable[dict[str, Any]] | None = None) -> str:
    """HTML of the index page, built from the stored manifests."""
    entries = list(manifest.iter_all(output_root) if rows is None else rows)
    by_wave: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        by_wave.setdefault(str(e.get("wave_folder", e.get("wave"))), []).append(e)
    synthetic = any(e.get("synthetic") for e in entries)
    out = [
        "<!DOCTYPE html>",
        '<html lang="fr"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>CnFS — rapports</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1d1d1d}"
        "table{border-collapse:collapse;width:100%;margin:.5rem 0 2rem}th,td{text-align:left;padding:.35rem .6rem;"
        "border-bottom:1px solid #ddd;vertical-align:top}.ok{color:#1a7f37}.failed{color:#b42318;font-weight:600}"
        ".banner{background:#fff3cd;border:2px solid #d39e00;color:#533f03;padding:.75rem 1rem;border-radius:6px;"
        "font-weight:600}.repro{font-size:1.1rem;font-weight:600}small{color:#555}</style>",
        "</head><body>",
        "<h1>CnFS — rapports par vague</h1>",
    ]
    if synthetic:
        out.append(
            f'<p class="banner">⚠ {html.escape(SYNTHETIC_WARNING)}</p>'
        )
    if not entries:
        out.append("<p>Aucun rapport n'a encore été produit.</p>")
    for key in sorted(by_wave, key=lambda k: (wave_sort_key(str(by_wave[k][0].get("wave"))), k)):
        wave_entries = sorted(by_wave[key], key=lambda e: str(e.get("stem")))
        wave = str(wave_entries[0].get("wave"))
        folder = Path(key)
        wave_dir = output_root / folder
        weighted = " — pondéré (calage sur data/population.yaml)" if key.endswith(WEIGHTED_SUFFIX) else ""
        out.append(f"<h2>{html.escape(wave_label(wave).capitalize() + weighted)} <small>({html.escape(folder.as_posix())}/)</small></h2>")
        from cnfs.tabbook_files import tabbook_files

        books = tabbook_files(wave_dir)
        if books:
            out.append("<p>Tableaux croisés (toutes les questions selon les variables de ventilation) : " + " · ".join(
                f'<a href="{html.escape(folder.as_posix())}/{html.escape(p.name)}">{html.escape(label)}</a>' for label, p in books) + "</p>")
        repro = reproduction_summary(wave_dir)
        if repro is not None:
            out.append(f'<p class="repro">{html.escape(repro.sentence())}</p>')
            if wave != "all":
                out.append(
                    "<p><small>Les chiffres publiés portent sur les deux vagues réunies : sur une seule vague, "
                    "un écart au chiffre publié est attendu.</small></p>"
                )
        out.append("<table><thead><tr><th>Rapport</th><th>Statut</th><th>Durée</th><th>Exécuté le</th></tr></thead><tbody>")
        for e in wave_entries:
            stem = str(e.get("stem"))
            has_html = (wave_dir / f"{stem}.html").is_file()
            links = []
            if has_html:
                links.append(f'<a href="{html.escape(folder.as_posix())}/{html.escape(stem)}.html">{html.escape(stem)}</a>')
            else:
                links.append(html.escape(stem))
            if (wave_dir / f"{stem}.ipynb").is_file():
                links.append(f'<small><a href="{html.escape(folder.as_posix())}/{html.escape(stem)}.ipynb">.ipynb</a></small>')
            if (wave_dir / f"{stem}.failed.ipynb").is_file():
                links.append(
                    f'<small><a href="{html.escape(folder.as_posix())}/{html.escape(stem)}.failed.ipynb">'
                    "notebook en échec</a></small>"
                )
            last = e.get("last_attempt") or {}
            duration = last.get("duration")
            dur = f"{duration:.1f} s" if isinstance(duration, (int, float)) else "—"
            out.append(
                f"<tr><td>{' '.join(links)}</td><td>{_status_cell(e, has_html)}</td>"
                f"<td>{dur}</td><td>{html.escape(str(last.get('executed_at', '—')))}</td></tr>"
            )
        out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out)


def write_index(output_root: Path) -> Path:
    """Rebuild outputs/index.html atomically from the manifests."""
    path = output_root / "index.html"
    manifest.atomic_write_text(path, build_index(output_root))
    return path
