"""Load the survey (real export in any common format, or the synthetic twin), validated against the codebook.

``load_survey()`` returns typed data: French-labelled categoricals for choices, nullable booleans
for multi-select ticks, nullable integers for scales and numbers. The export is read by
``cnfs.readers`` (CSV/XLSX/SPSS/Stata/Parquet), put in the codebook's shape by ``cnfs.normalise``
(and an optional mapping file), then validated here: every problem of a bad file is reported at
once, naming the file, the column, the first offending rows and what was expected, one root cause
once. The input file is only ever read; the parsed form is cached by content hash (``cnfs.cache``).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cnfs import cache, readers
from cnfs.codebook import MULTI_SEP, NUMERIC_TYPES, Codebook, Question, load_codebook
from cnfs.errors import (
    MAX_ROWS_SHOWN,
    ExportWarning,
    InputError,
    Problem,
    SurveyValidationError,
    problems_where,
    values_shown,
)
from cnfs.mapping import Mapping, load_mapping
from cnfs.normalise import Normalised, normalise, wave_periods
from cnfs.provenance import SYNTHETIC_WARNING, ids_look_synthetic, read_provenance, sha256_file

__all__ = [
    "Problem",
    "SurveyValidationError",
    "Survey",
    "load_survey",
    "prepare",
    "validate",
    "to_typed",
    "MAX_ROWS_SHOWN",
]

LOADER_VERSION = "2"


@dataclass(frozen=True)
class Survey:
    """Typed survey data with its codebook and where it came from (``df, codebook = survey``)."""

    data: pd.DataFrame
    codebook: Codebook
    path: Path
    wave: str = "all"
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def is_synthetic(self) -> bool:
        return bool(self.provenance.get("synthetic", False))

    @property
    def warning(self) -> str:
        return SYNTHETIC_WARNING if self.is_synthetic else ""

    @property
    def excluded_incomplete(self) -> int:
        """Incomplete responses (no submission date) left out, at import and at this load."""
        at_import = int(self.provenance.get("excluded_incomplete", 0) or 0)
        return at_import + int((self.provenance.get("load") or {}).get("dropped", {}).get("incomplete", 0))

    @property
    def warnings(self) -> list[str]:
        return list((self.provenance.get("load") or {}).get("warnings", []))

    def __iter__(self) -> Iterator[Any]:
        yield self.data
        yield self.codebook


# ---------------------------------------------------------------- reading
def resolve_data_path(path: str | Path | None = None) -> Path:
    """The survey file to read: the given one (checked: exists, a file, a supported format), or the twin."""
    if path is None:
        from cnfs.synth import ensure_synthetic

        return ensure_synthetic()
    return readers.check_path(path)


def read_raw(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
    """The file's cells as text (empty cells as NA), as exported, in any supported format."""
    return readers.read_table(path, sheet).data


# ---------------------------------------------------------------- validation


def _asked(raw: pd.DataFrame, q: Question, codebook: Codebook) -> pd.Series:
    """Rows to whom the question was put: its universe and its waves."""
    m = raw[codebook.wave_column].isin(list(q.waves)).fillna(False)
    if q.universe is not None:
        m &= q.universe.mask(raw) if q.universe.question in raw else False
    return m.astype(bool)


def validate(raw: pd.DataFrame, codebook: Codebook, source: str = "survey") -> list[Problem]:
    """Every way the codebook-shaped file departs from the codebook (empty list when it conforms).

    One root cause is reported once: rows with an unknown wave, or whose answer to a filter question
    is itself wrong, are not checked again against the universes that depend on it.
    """
    out: list[Problem] = []
    for c in codebook.data_columns():
        if c not in raw.columns:
            out.append(Problem(source, c, (), "cette colonne (du codebook)", "colonne absente"))
    idc, wc, dc = codebook.id_column, codebook.wave_column, codebook.date_column
    bad_wave = pd.Series(False, index=raw.index)
    if idc in raw:
        ids = raw[idc]
        out += problems_where(
            source, idc, ids.isna(), "un identifiant de répondant à chaque ligne", "identifiants vides"
        )
        key = [idc, wc] if wc in raw else [idc]
        dup = raw.duplicated(subset=key, keep=False) & ids.notna()
        out += problems_where(
            source,
            idc,
            dup,
            "des identifiants uniques dans une vague (le même identifiant dans deux vagues est un conseiller qui a répondu deux fois)",
            "doublons " + ", ".join(sorted(set(ids[dup].astype(str)))[:5]),
        )
    if wc in raw:
        bad_wave = ~raw[wc].isin(codebook.waves).fillna(False)
        out += problems_where(
            source,
            wc,
            bad_wave,
            f"une vague parmi {codebook.waves} (une nouvelle vague s'ajoute à meta.waves du codebook)",
            values_shown(raw[wc], bad_wave),
        )
    if dc in raw:
        parsed = pd.to_datetime(raw[dc], errors="coerce", format="ISO8601")
        out += problems_where(
            source,
            dc,
            parsed.isna(),
            "une date (AAAA-MM-JJ, avec ou sans heure, ou jj/mm/aaaa)",
            values_shown(raw[dc], parsed.isna()),
        )
        if wc in raw:
            out += _check_periods(raw, parsed, bad_wave, codebook, source)
    if wc not in raw:
        return out
    invalid: dict[str, pd.Series] = {}
    unsure: dict[str, pd.Series] = {}
    found: dict[str, list[Problem]] = {}
    for qid in codebook.dependency_order():
        q = codebook.questions[qid]
        everyone = pd.Series(True, index=raw.index)
        if any(c not in raw for c in q.columns) or (q.universe is not None and q.universe.question not in raw):
            invalid[qid] = unsure[qid] = everyone
            continue
        skip = bad_wave.copy()
        if q.universe is not None:
            skip |= invalid[q.universe.question] | unsure[q.universe.question]
        found[qid], invalid[qid] = _check_question(raw, q, codebook, source, skip)
        unsure[qid] = skip
    for qid in codebook.questions:
        out += found.get(qid, [])
    return out


def _check_periods(
    raw: pd.DataFrame, parsed: pd.Series, bad_wave: pd.Series, codebook: Codebook, source: str
) -> list[Problem]:
    """Submission dates outside their wave's period (widened by meta.wave_period_tolerance_days)."""
    out: list[Problem] = []
    periods = codebook.meta.get("wave_periods") or {}
    tol = int(codebook.meta.get("wave_period_tolerance_days", 0) or 0)
    for w, (lo, hi) in wave_periods(codebook).items():
        rows = (raw[codebook.wave_column] == w).fillna(False) & ~bad_wave & parsed.notna()
        outside = rows & ((parsed < lo) | (parsed > hi))
        p = periods[w]
        out += problems_where(
            source,
            codebook.date_column,
            outside,
            f"une date de soumission dans la période de la vague {w}, du {p['start']} au {p['end']} (± {tol} jours ; meta.wave_periods)",
            values_shown(raw[codebook.date_column], outside),
        )
    return out


def _check_question(
    raw: pd.DataFrame, q: Question, codebook: Codebook, source: str, skip: pd.Series
) -> tuple[list[Problem], pd.Series]:
    """Problems of one question on the rows not skipped, and the rows where its answer is wrong."""
    out: list[Problem] = []
    ok = ~skip.fillna(False).astype(bool)
    asked = _asked(raw, q, codebook)
    who = codebook.base_label(q.id)
    wrong = pd.Series(False, index=raw.index)

    def check(col: str, mask: pd.Series, expected: str, found: str) -> None:
        nonlocal wrong
        mask = mask.fillna(False).astype(bool) & ok
        wrong |= mask
        out.extend(problems_where(source, col, mask, expected, found))

    for col in q.columns:
        s = raw[col]
        check(col, s.notna() & ~asked, f"aucune réponse hors du champ de la question ({who})", "une réponse")
        if q.type != "multi":
            check(col, s.isna() & asked, f"une réponse (question obligatoire pour : {who})", "une cellule vide")
        present = s.notna()
        if q.type == "single":
            bad = present & ~s.isin(q.codes).fillna(False)
            labels = ", ".join(f"{o.code} ({o.label})" for o in q.options)
            check(col, bad, f"un code ou un libellé d'option parmi {labels}", values_shown(s, bad))
        elif q.type == "multi":
            bad = present & ~s.isin(["0", "1"]).fillna(False)
            check(col, bad, "une coche (1, Y, Oui, x, True) ou son absence (0, N, Non, vide)", values_shown(s, bad))
            check(col, s.isna() & asked, f"coché ou non (question obligatoire pour : {who})", "une cellule vide")
        elif q.type in NUMERIC_TYPES:
            num = pd.to_numeric(s, errors="coerce")
            not_int = present & (num.isna() | (num % 1 != 0))
            check(col, not_int, "un nombre entier", values_shown(s, not_int))
            lo, hi = q.bounds  # type: ignore[misc]
            out_of = present & ~not_int & ((num < lo) | (num > hi))
            check(col, out_of, f"une valeur de {lo} à {hi}", values_shown(s, out_of))
    if q.type == "multi":
        ticks = raw[q.columns].apply(pd.to_numeric, errors="coerce")
        none = asked & (ticks.fillna(0).sum(axis=1) == 0) & ticks.notna().all(axis=1)
        check(f"{q.id}{MULTI_SEP}*", none, "au moins une option cochée (question obligatoire)", "aucune coche")
    if q.sum_max_with and q.sum_max_with in raw:
        total = pd.to_numeric(raw[q.id], errors="coerce") + pd.to_numeric(raw[q.sum_max_with], errors="coerce")
        check(
            q.id,
            total > 100,
            f"{q.id} + {q.sum_max_with} au plus 100",
            values_shown(total.astype("string"), total > 100),
        )
    return out, wrong


# ---------------------------------------------------------------- typing
def to_typed(raw: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Validated raw text -> typed columns (labels, booleans, integers, dates)."""
    cols: dict[str, Any] = {
        codebook.id_column: raw[codebook.id_column].astype("string"),
        codebook.wave_column: pd.Categorical(raw[codebook.wave_column], categories=codebook.waves),
        codebook.date_column: pd.to_datetime(raw[codebook.date_column], format="ISO8601"),
    }
    for q in codebook.questions.values():
        if q.type == "single":
            labels = [o.label for o in q.options]
            mapped = raw[q.id].map(dict(zip(q.codes, labels)), na_action="ignore")
            cols[q.id] = pd.Categorical(mapped, categories=labels, ordered=q.ordered)
        elif q.type == "multi":
            for c in q.columns:
                cols[c] = raw[c].map({"0": False, "1": True}, na_action="ignore").astype("boolean")
        elif q.type in NUMERIC_TYPES:
            cols[q.id] = pd.to_numeric(raw[q.id]).astype("Int64")
        else:
            cols[q.id] = raw[q.id].astype("string")
    return pd.DataFrame(cols, index=raw.index)


# ---------------------------------------------------------------- one export, end to end
def prepare(
    path: str | Path,
    codebook: Codebook,
    mapping: Mapping | None = None,
    wave: str | None = None,
    exclude_incomplete: bool = False,
    sheet: str | None = None,
    data: bytes | None = None,
) -> tuple[pd.DataFrame, Normalised, dict[str, Any]]:
    """Read, normalise and validate one export: (codebook-shaped text frame, normalisation, read record).

    Raises InputError (SurveyValidationError for problems against the codebook), always naming the file.
    """
    p = readers.check_path(path)
    data = readers.read_bytes(p) if data is None else data
    mapping = mapping or load_mapping(None, codebook)
    try:
        table = readers.read_table(p, sheet, data)
        norm = normalise(table.data, codebook, mapping, wave, exclude_incomplete, str(p))
        coded = norm.data
        problems = norm.problems + validate(coded[~norm.flagged], codebook, str(p))
    except InputError:
        raise
    except Exception as e:  # whatever the file's content trips, it is reported as the file's problem
        raise InputError(
            p,
            f"contenu inattendu ({type(e).__name__}: {e})",
            "relancez avec --debug et signalez-le si le fichier vous semble correct",
        ) from e
    if problems:
        raise SurveyValidationError(p, problems)
    record = {
        "file": str(p),
        "sha256": hashlib.sha256(data).hexdigest(),
        "reader": table.reader,
        "options": {
            **table.options,
            "sheet": table.options.get("sheet", sheet),
            "exclude_incomplete": exclude_incomplete,
        },
        "rows": int(len(coded)),
        **norm.report(),
    }
    return coded.reset_index(drop=True), norm, record


def _load_typed(
    p: Path,
    codebook: Codebook,
    mapping: Mapping,
    wave: str | None,
    exclude_incomplete: bool,
    sheet: str | None,
    use_cache: bool,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    data = readers.read_bytes(p)
    base = (
        hashlib.sha256(data).hexdigest(),
        sha256_file(codebook.path) if codebook.path else "inline",
        mapping.fingerprint,
        sheet,
        exclude_incomplete,
        LOADER_VERSION,
        pd.__version__,
    )
    if use_cache:
        hit = cache.get(cache.make_key(*base, None))
        if hit and (wave is None or hit[1].get("wave_from") in ("column", "mapping")):
            return hit
        if wave is not None:
            hit = cache.get(cache.make_key(*base, wave))
            if hit:
                return hit
    coded, norm, record = prepare(p, codebook, mapping, wave, exclude_incomplete, sheet, data)
    typed = to_typed(coded, codebook)
    if use_cache:
        used = wave if norm.wave_from == "argument" else None
        cache.put(cache.make_key(*base, used), typed, record)
    return typed, record


def load_survey(
    path: str | Path | None = None,
    wave: str = "all",
    codebook: Codebook | None = None,
    use_cache: bool = True,
    mapping: str | Path | Mapping | None = None,
    exclude_incomplete: bool = False,
    sheet: str | None = None,
) -> Survey:
    """Typed, validated survey data for one wave (or ``"all"``); the synthetic twin when path is None.

    Any supported export (CSV, XLSX, SPSS, Stata, Parquet) with an optional mapping file. ``wave``
    selects a wave; for an export without a wave column it is the wave of every row.
    """
    codebook = codebook or load_codebook()
    p = resolve_data_path(path)
    maps = load_mapping(mapping, codebook)
    wave = str(wave)
    df, record = _load_typed(p, codebook, maps, None if wave == "all" else wave, exclude_incomplete, sheet, use_cache)
    if wave != "all":
        present = [str(w) for w in df[codebook.wave_column].dropna().unique()]
        if wave not in present:
            raise InputError(
                p, f"wave {wave!r} absente des données ; vagues présentes : {sorted(present)}", "ou wave='all'"
            )
        df = df[df[codebook.wave_column] == wave].reset_index(drop=True)
    for w in record.get("warnings", []):
        warnings.warn(w, ExportWarning, stacklevel=2)
    return Survey(df, codebook, p, wave, _provenance(p, df, codebook, record))


def _provenance(path: Path, df: pd.DataFrame, codebook: Codebook, record: dict[str, Any]) -> dict[str, Any]:
    """What the file says about itself (sidecar or Parquet metadata), the twin's id scheme, and this read."""
    try:
        prov = read_provenance(path)
    except (OSError, ValueError):
        prov = {}
    if not prov.get("synthetic") and ids_look_synthetic(df[codebook.id_column]):
        prov = {
            **prov,
            "synthetic": True,
            "warning": SYNTHETIC_WARNING,
            "detected_by": "identifiants SYN- du jumeau synthétique",
        }
    return {**prov, "load": record}


def available_waves(path: str | Path | None = None) -> list[str]:
    """The waves present in the data file, in codebook order."""
    codebook = load_codebook()
    present = set(load_survey(path, codebook=codebook).data[codebook.wave_column].dropna().astype(str))
    known = [w for w in codebook.waves if w in present]
    return known + sorted(present - set(known))


def describe_source(survey: Survey) -> dict[str, Any]:
    """Provenance facts a report states at its top (file, hash, synthetic or not, wave, n)."""
    return {
        "fichier": str(survey.path),
        "sha256": sha256_file(survey.path)[:16],
        "synthetique": survey.is_synthetic,
        "graine": survey.provenance.get("seed"),
        "version_generateur": survey.provenance.get("generator_version"),
        "vague": survey.wave,
        "n": len(survey.data),
    }
