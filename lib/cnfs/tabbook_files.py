"""The tab book files of a wave folder, for the index, without importing pandas (a no-op ``cnfs render``
stays light); the computation lives in ``cnfs.tabbook``, the render step in ``cnfs.render.tasks``."""

from __future__ import annotations

from pathlib import Path

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
