"""Realistic exports of the synthetic twin's respondents, written the way survey tools write them.

Each writer takes the twin's coded frame (codes, 0/1 ticks, integers, ISO dates; "" where not asked)
and writes one format with another library (pandas/openpyxl, pyreadstat, gzip, zipfile), so that the
loader's result can be compared with the twin's own CSV.
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from cnfs.codebook import Codebook

LIMESURVEY_TIME = " 10:{:02d}:00"


def _multi_columns(cb: Codebook) -> dict[str, tuple[str, int]]:
    """q__code -> (question id, 1-based option position)."""
    out = {}
    for q in cb.questions.values():
        if q.type == "multi":
            for i, o in enumerate(q.options, 1):
                out[f"{q.id}__{o.code}"] = (q.id, i)
    return out


def with_labels(raw: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Single choices as their French labels instead of codes."""
    out = raw.copy()
    for q in cb.questions.values():
        if q.type == "single":
            out[q.id] = out[q.id].map(lambda v, q=q: q.label_of(v) if v else "")
    return out


def ticks_as(raw: pd.DataFrame, cb: Codebook, yes: str, no: str) -> pd.DataFrame:
    out = raw.copy()
    for c in _multi_columns(cb):
        out[c] = out[c].map({"1": yes, "0": no, "": ""})
    return out


def csv_variants(raw: pd.DataFrame, cb: Codebook, d: Path) -> dict[str, Path]:
    """Text exports: gzip, zip, Excel's semicolon CSV in Windows-1252, UTF-8 with BOM, tab, pipe, R's write.csv."""
    files: dict[str, Path] = {}
    plain = raw.to_csv(index=False, lineterminator="\n")
    files["csv.gz"] = d / "export.csv.gz"
    files["csv.gz"].write_bytes(gzip.compress(plain.encode("utf-8")))
    files["zip"] = d / "export.zip"
    with zipfile.ZipFile(files["zip"], "w") as z:
        z.writestr("export.csv", plain)
    excel = with_labels(raw, cb)
    dates = pd.to_datetime(excel[cb.date_column])
    excel[cb.date_column] = dates.dt.strftime("%d/%m/%Y")
    for q in cb.questions.values():
        if q.type == "slider100":
            excel[q.id] = excel[q.id].map(lambda v: f"{v},0" if v else "")
    files["excel-cp1252"] = d / "export_excel.csv"
    files["excel-cp1252"].write_bytes(excel.to_csv(index=False, sep=";", lineterminator="\r\n").encode("cp1252"))
    files["utf8-bom-semicolon"] = d / "export_bom.csv"
    files["utf8-bom-semicolon"].write_bytes(b"\xef\xbb\xbf" + raw.to_csv(index=False, sep=";").encode("utf-8"))
    files["tab"] = d / "export.tsv"
    files["tab"].write_text(raw.to_csv(index=False, sep="\t"), encoding="utf-8")
    files["pipe"] = d / "export_pipe.txt"
    files["pipe"].write_text(raw.to_csv(index=False, sep="|"), encoding="utf-8")
    r = raw.replace("", "NA")
    r.index = range(1, len(r) + 1)
    files["r-write.csv"] = d / "export_r.csv"
    files["r-write.csv"].write_text(r.to_csv(index=True, quoting=1, index_label=""), encoding="utf-8")
    return files


def xlsx(raw: pd.DataFrame, cb: Codebook, path: Path) -> Path:
    """An Excel workbook: labels, Oui/Non ticks, real dates and numbers, the data on a second sheet."""
    df = ticks_as(with_labels(raw, cb), cb, "Oui", "Non")
    df = df.replace("", np.nan)
    df[cb.date_column] = pd.to_datetime(df[cb.date_column])
    for q in cb.questions.values():
        if q.type in ("scale10", "slider100", "number"):
            df[q.id] = pd.to_numeric(df[q.id])
    with pd.ExcelWriter(path, engine="openpyxl") as w:
        pd.DataFrame({"Notice": ["Export de l'enquête"]}).to_excel(w, sheet_name="Lisez-moi", index=False)
        df.to_excel(w, sheet_name="Réponses", index=False)
    return path


def _numeric_with_labels(raw: pd.DataFrame, cb: Codebook, rename) -> tuple[pd.DataFrame, dict, dict]:  # noqa: ANN001
    df: dict[str, pd.Series] = {}
    labels: dict[str, dict[int, str]] = {}
    for col in raw.columns:
        name = rename(col)
        if col == cb.date_column:
            df[name] = pd.to_datetime(raw[col])
        elif col in (cb.id_column,) or (col in cb.questions and cb[col].type == "text"):
            df[name] = raw[col]
        elif col == cb.wave_column:
            df[name] = pd.to_numeric(raw[col]).astype(float)
        elif col in cb.questions and cb[col].type == "single":
            q = cb[col]
            codes = {c: i for i, c in enumerate(q.codes, 1)}
            df[name] = raw[col].map(lambda v, codes=codes: float(codes[v]) if v else np.nan)
            labels[name] = {i: o.label for i, o in enumerate(q.options, 1)}
        else:
            df[name] = pd.to_numeric(raw[col].replace("", np.nan)).astype(float)
    return pd.DataFrame(df, index=raw.index), labels, {}


def spss(raw: pd.DataFrame, cb: Codebook, path: Path) -> Path:
    """SPSS .sav (or compressed .zsav): numeric codes 1..k with the option labels as value labels, dates as dates."""
    import pyreadstat

    df, labels, _ = _numeric_with_labels(raw, cb, lambda c: c)
    pyreadstat.write_sav(df, str(path), variable_value_labels=labels, compress=path.suffix == ".zsav")
    return path


def stata_pandas(raw: pd.DataFrame, cb: Codebook, path: Path) -> Path:
    """Stata .dta written by pandas (format 118), value labels on the choices, options named qSQ001…"""
    multi = _multi_columns(cb)
    rename = lambda c: f"{multi[c][0]}SQ{multi[c][1]:03d}" if c in multi else c  # noqa: E731
    df, labels, _ = _numeric_with_labels(raw, cb, rename)
    df.to_stata(
        path,
        write_index=False,
        version=118,
        value_labels={c: {float(k): v for k, v in m.items()} for c, m in labels.items()},
    )
    return path


def stata(raw: pd.DataFrame, cb: Codebook, path: Path) -> Path:
    """Stata .dta: value labels; multi-select options named q_SQ001… (Stata names are at most 32 characters)."""
    import pyreadstat

    multi = _multi_columns(cb)
    rename = lambda c: f"{multi[c][0]}_SQ{multi[c][1]:03d}" if c in multi else c  # noqa: E731
    df, labels, _ = _numeric_with_labels(raw, cb, rename)
    pyreadstat.write_dta(df, str(path), variable_value_labels=labels)
    return path


def parquet_natural(raw: pd.DataFrame, cb: Codebook, path: Path) -> Path:
    """Parquet with natural dtypes: booleans for ticks, floats with NaN for numbers, datetimes, labels."""
    df = with_labels(raw, cb).replace("", None)
    for col in df.columns:
        if col in _multi_columns(cb):
            df[col] = df[col].map({"1": True, "0": False}).astype("boolean")
        elif col == cb.date_column:
            df[col] = pd.to_datetime(df[col])
        elif col in cb.questions and cb[col].type in ("scale10", "slider100", "number"):
            df[col] = pd.to_numeric(df[col]).astype(float)
    df.to_parquet(path)
    return path


def limesurvey(raw: pd.DataFrame, cb: Codebook, d: Path, incomplete: int = 0) -> list[Path]:
    """LimeSurvey results exports, one per wave: id, submitdate with a time, system columns, labels,
    question codes without underscores (LimeSurvey allows none), q[SQ001] = Y ticks, no wave column,
    sliders as 50.0000000000; ``incomplete`` unfinished responses (no submitdate) added to each file."""
    multi = _multi_columns(cb)
    groups = {qid: (g.id, i) for g in cb.groups.values() for i, qid in enumerate(g.items, 1)}
    paths = []
    for w, part in raw.groupby(cb.wave_column, sort=True):
        df = ticks_as(with_labels(part, cb), cb, "Y", "")
        out = pd.DataFrame(
            {
                "id": df[cb.id_column],
                "submitdate": df[cb.date_column] + [LIMESURVEY_TIME.format(i % 60) for i in range(len(df))],
                "lastpage": "12",
                "startlanguage": "fr",
                "seed": "123456",
            }
        )
        for col in raw.columns:
            if col in cb.meta_columns:
                continue
            if col in multi:
                name = f"{multi[col][0].replace('_', '')}[SQ{multi[col][1]:03d}]"
            elif col in groups:
                name = f"{groups[col][0]}[SQ{groups[col][1]:03d}]"
            else:
                name = col.replace("_", "")
            v = df[col]
            if col in cb.questions and cb[col].type == "slider100":
                v = v.map(lambda x: f"{x}.0000000000" if x else "")
            out[name] = v
        if incomplete:
            extra = out.head(incomplete).copy()
            extra["id"] = [f"INC-{w}-{i}" for i in range(incomplete)]
            extra["submitdate"] = ""
            extra.iloc[:, 6:] = ""
            out = pd.concat([out, extra], ignore_index=True)
        p = d / f"results-survey-vague{w}.csv"
        p.write_text(out.to_csv(index=False), encoding="utf-8")
        paths.append(p)
    return paths
