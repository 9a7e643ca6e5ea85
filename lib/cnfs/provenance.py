"""Provenance of data files: content hashes, and the sidecar that marks a file as synthetic."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

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
    if Path(data_path).suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            meta = pq.read_schema(data_path).metadata or {}
        except Exception:  # not a Parquet file: the reader says so, with the file's name
            return {}
        raw = meta.get(b"cnfs_provenance")
        if raw:
            return json.loads(raw.decode("utf-8"))
    return {}


SYNTHETIC_ID_PREFIX = "SYN-"
SYNTHETIC_ID = re.compile(r"^SYN-\d{5}$")


def ids_look_synthetic(ids: pd.Series) -> bool:
    """True when every respondent id follows the twin's scheme (SYN-00001…): a copy of the twin without its sidecar."""
    vals = ids.dropna().astype(str)
    return bool(len(vals)) and bool(vals.str.fullmatch(SYNTHETIC_ID).all())


def is_synthetic(data_path: str | Path) -> bool:
    """Synthetic when its provenance says so or its ids are the twin's; never decided from the file name."""
    p = Path(data_path)
    try:
        if read_provenance(p).get("synthetic", False):
            return True
    except (OSError, ValueError):
        return False
    return _ids_of(p)


def _ids_of(path: Path, column: str = "respondent_id") -> bool:
    """Whether the file's respondent ids are the twin's (False when unreadable or absent)."""
    try:
        if path.suffix.lower() == ".parquet":
            import pandas as pd
            import pyarrow.parquet as pq

            return ids_look_synthetic(pd.Series(pq.read_table(path, columns=[column]).column(0).to_pylist()))
        from cnfs.readers import read_table

        data = read_table(path).data
        return column in data and ids_look_synthetic(data[column])
    except Exception:  # unreadable files are reported by the loader, not here
        return False
