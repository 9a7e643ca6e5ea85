"""The tab book files of a wave folder and the renderer's step that writes them, without importing pandas
(a no-op ``cnfs render`` stays light); the computation lives in ``cnfs.tabbook``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

TABBOOK_STEM = "tableaux_croises"


def tabbook_files(wave_dir: Path) -> list[tuple[str, Path]]:
    """(French label, path) of the tab book files present in a wave folder, for the index."""
    out = []
    for weighting, label in (("none", "tableaux croisés"), ("raking", "tableaux croisés pondérés")):
        stem = TABBOOK_STEM if weighting == "none" else f"{TABBOOK_STEM}_ponderes"
        for ext in ("html", "xlsx"):
            p = wave_dir / f"{stem}.{ext}"
            if p.is_file():
                out.append((f"{label} ({'page' if ext == 'html' else 'tableur'})", p))
    return out


def render_tabbooks(jobs: Sequence[Any], ran: set[str], stream: Any) -> bool:
    """``cnfs render``'s step: the tab book of every wave folder whose reports ran or that has none; False on failure."""
    ok = True
    folders: dict[str, Any] = {}
    for job in jobs:
        folders.setdefault(str(job.wave_dir), job)
    for folder, job in folders.items():
        wave = job.wave
        stale = any(j.ident in ran for j in jobs if str(j.wave_dir) == folder)
        if not stale and (Path(job.wave_dir) / f"{TABBOOK_STEM}.xlsx").is_file():
            continue
        try:
            from cnfs.tabbook import write_wave_tabbook

            written = write_wave_tabbook(job.wave_dir, wave, job.parameters.get("data_path"))
            print(f"Tableaux croisés : {len(written)} fichiers dans {Path(job.wave_dir).name}/", file=stream)
        except (OSError, ValueError, KeyError, TypeError, ImportError) as e:
            print(
                f"Tableaux croisés de {Path(job.wave_dir).name}/ : échec ({type(e).__name__} : {e}) ; "
                "les fichiers précédents sont conservés.",
                file=stream,
            )
            ok = False
    return ok
