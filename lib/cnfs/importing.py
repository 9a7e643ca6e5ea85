"""``cnfs import``: several exports (one per wave, say) -> one normalised Parquet with its provenance.

The Parquet holds the codebook's columns as text codes (like the twin's) and, in its metadata, each
source file's SHA-256, the reader and options used, what was dropped and why, and the mapping's hash.
Every file is validated first; nothing is written unless all of them conform.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from cnfs import readers
from cnfs.atomic import write_bytes as atomic_write_bytes
from cnfs.codebook import Codebook, load_codebook
from cnfs.errors import InputError, Problem, SurveyValidationError
from cnfs.mapping import Mapping, load_mapping
from cnfs.provenance import SYNTHETIC_WARNING, ids_look_synthetic, read_provenance


def import_exports(
    paths: list[str | Path],
    output: str | Path,
    codebook: Codebook | None = None,
    mapping: str | Path | Mapping | None = None,
    wave: str | None = None,
    exclude_incomplete: bool = False,
    sheet: str | None = None,
) -> dict[str, Any]:
    """Normalise, validate and combine the exports into ``output`` (.parquet); returns its provenance."""
    from cnfs.loader import prepare

    codebook = codebook or load_codebook()
    out = Path(output)
    if out.suffix.lower() != ".parquet":
        raise InputError(
            out, "la sortie de cnfs import est un fichier .parquet", "par exemple : -o data/raw/enquete.parquet"
        )
    sources = [readers.check_path(p) for p in paths]
    if any(out.resolve() == s.resolve() for s in sources):
        raise InputError(
            out,
            "la sortie écraserait un des fichiers importés",
            "choisissez un autre nom de sortie (les exports restent intacts)",
        )
    maps = load_mapping(mapping, codebook)
    frames, records, problems = [], [], []
    for s in sources:
        try:
            coded, _norm, record = prepare(s, codebook, maps, wave, exclude_incomplete, sheet)
        except SurveyValidationError as e:
            problems += e.problems
            continue
        prov = read_provenance(s) if s.suffix.lower() in (".csv", ".parquet") else {}
        record["synthetic"] = bool(prov.get("synthetic")) or ids_look_synthetic(coded[codebook.id_column])
        frames.append(coded.assign(_source=str(s)))
        records.append(record)
    if problems:
        raise SurveyValidationError(", ".join(str(s) for s in sources), problems)
    combined = pd.concat(frames, ignore_index=True)
    problems = _duplicates_across_files(combined, codebook)
    if problems:
        raise SurveyValidationError(", ".join(str(s) for s in sources), problems)
    combined = combined.drop(columns="_source")
    synthetic = all(r["synthetic"] for r in records)
    prov: dict[str, Any] = {
        "synthetic": synthetic,
        **({"warning": SYNTHETIC_WARNING} if synthetic else {}),
        "imported_by": "cnfs import",
        "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sources": records,
        "mapping": {"file": str(maps.path) if maps.path else None, "sha256": maps.sha256},
        "excluded_incomplete": sum(int(r["dropped"].get("incomplete", 0)) for r in records),
        "respondents": int(len(combined)),
    }
    _write(combined, codebook, out, prov)
    return prov


def _duplicates_across_files(df: pd.DataFrame, codebook: Codebook) -> list[Problem]:
    """The same id twice in one wave, from two different files (within a file the validator caught it)."""
    idc, wc = codebook.id_column, codebook.wave_column
    dup = df.duplicated(subset=[idc, wc], keep=False)
    if not dup.any():
        return []
    files = ", ".join(sorted(set(df.loc[dup, "_source"])))
    ids = ", ".join(sorted(set(df.loc[dup, idc].astype(str)))[:5])
    return [
        Problem(
            files, idc, (), "des identifiants uniques dans une vague, d'un fichier importé à l'autre", f"doublons {ids}"
        )
    ]


def _write(df: pd.DataFrame, codebook: Codebook, out: Path, prov: dict[str, Any]) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df[codebook.data_columns()].astype("string"), preserve_index=False)
    table = table.replace_schema_metadata(
        {
            **(table.schema.metadata or {}),
            b"cnfs_provenance": json.dumps(prov, ensure_ascii=False, default=str).encode(),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    try:
        atomic_write_bytes(out, buf.getvalue())
    except OSError as e:
        raise InputError(
            out, f"écriture impossible ({e.strerror or e})", "vérifiez le dossier de sortie et ses droits"
        ) from None
