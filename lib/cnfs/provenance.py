"""Provenance of data files: content hashes, and the sidecar that marks a file as synthetic."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

SYNTHETIC_WARNING = (
    "Données SYNTHÉTIQUES : générées par cnfs.synth à partir du codebook, des chiffres publiés et "
    "d'hypothèses explicites. Elles imitent l'enquête mais ne sont pas des réponses réelles : "
    "aucun résultat calculé sur ces données n'est un constat."
)


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sidecar_path(data_path: str | Path) -> Path:
    """``survey.csv`` -> ``survey.provenance.json`` beside it."""
    p = Path(data_path)
    return p.with_name(p.stem + ".provenance.json")


def read_provenance(data_path: str | Path) -> dict[str, Any]:
    """The provenance recorded beside a data file (or in Parquet metadata); {} when none."""
    side = sidecar_path(data_path)
    if side.exists():
        return json.loads(side.read_text(encoding="utf-8"))
    if Path(data_path).suffix == ".parquet":
        import pyarrow.parquet as pq

        meta = pq.read_schema(data_path).metadata or {}
        raw = meta.get(b"cnfs_provenance")
        if raw:
            return json.loads(raw.decode("utf-8"))
    return {}


SYNTHETIC_ID_PREFIX = "SYN-"


def is_synthetic(data_path: str | Path) -> bool:
    """Synthetic when its provenance says so, its name says so, or its ids are the twin's (a copy without sidecar)."""
    p = Path(data_path)
    if read_provenance(p).get("synthetic", False) or "synth" in p.name.lower():
        return True
    return _first_id(p).startswith(SYNTHETIC_ID_PREFIX)


def _first_id(path: Path, column: str = "respondent_id") -> str:
    """The first respondent id of a CSV or Parquet export ('' when unreadable), read cheaply."""
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            col = pq.read_table(path, columns=[column]).column(0)
            return str(col[0]) if len(col) else ""
        import csv

        with open(path, newline="", encoding="utf-8") as f:
            rows = csv.reader(f)
            header = next(rows)
            return next(rows)[header.index(column)]
    except (OSError, ValueError, KeyError, StopIteration, IndexError):
        return ""
