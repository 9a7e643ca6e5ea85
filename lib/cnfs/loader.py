"""Load the survey (real export or synthetic twin), validated against the codebook.

``load_survey()`` returns typed data: French-labelled categoricals for choices, nullable booleans
for multi-select ticks, nullable integers for scales and numbers. Every problem of a bad file is
reported at once, naming the file, the column, the first offending rows and what was expected.
The input file is only ever read; the parsed form is cached beside the project data.
"""
from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from cnfs import paths
from cnfs.codebook import MULTI_SEP, NUMERIC_TYPES, Codebook, Question, load_codebook
from cnfs.provenance import SYNTHETIC_WARNING, is_synthetic, read_provenance, sha256_file

LOADER_VERSION = "1"
MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class Problem:
    """One validation failure: where it is, what was expected, what was found."""

    file: str
    column: str
    rows: tuple[int, ...]
    expected: str
    found: str = ""

    def __str__(self) -> str:
        where = f"{self.file}, column {self.column!r}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:MAX_ROWS_SHOWN])
            more = f" and {len(self.rows) - MAX_ROWS_SHOWN} more" if len(self.rows) > MAX_ROWS_SHOWN else ""
            where += f", rows {shown}{more}"
        found = f"; found {self.found}" if self.found else ""
        return f"{where}: expected {self.expected}{found}"


class SurveyValidationError(ValueError):
    """The survey file does not match the codebook; ``problems`` lists every failure."""

    def __init__(self, path: str | Path, problems: list[Problem]):
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{path}: {len(problems)} problem(s) against the codebook "
            f"(rows are 1-based data rows, header excluded):\n{lines}"
        )


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

    def __iter__(self) -> Iterator[Any]:
        yield self.data
        yield self.codebook


# ---------------------------------------------------------------- reading
def resolve_data_path(path: str | Path | None = None) -> Path:
    """The survey file to read: the given one, or the synthetic twin (generated on first use)."""
    if path is None:
        from cnfs.synth import ensure_synthetic

        return ensure_synthetic()
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"survey file not found: {p}")
    if p.suffix.lower() not in (".csv", ".parquet"):
        raise ValueError(f"{p}: unsupported format {p.suffix!r}; expected a .csv or .parquet export")
    return p


def read_raw(path: str | Path) -> pd.DataFrame:
    """The file's cells as text (empty cells as NA), exactly as exported."""
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        df = pd.read_parquet(p)
        return pd.DataFrame({c: _as_text(df[c]) for c in df.columns}, index=pd.RangeIndex(len(df)))
    df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
    df = df.apply(lambda s: s.str.strip())
    return df.mask(df == "").astype("string")


def _as_text(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s):
        return s.map(lambda x: pd.NA if pd.isna(x) else (str(int(x)) if float(x).is_integer() else str(x))).astype("string")
    out = s.astype("string").str.strip()
    return out.mask(out == "")


# ---------------------------------------------------------------- validation
def _rows(mask: pd.Series) -> tuple[int, ...]:
    return tuple(int(i) + 1 for i in mask.index[mask.fillna(False).to_numpy(dtype=bool)])


def _asked(raw: pd.DataFrame, q: Question, codebook: Codebook) -> pd.Series:
    """Rows to whom the question was put: its universe and its waves."""
    m = raw[codebook.wave_column].isin(list(q.waves)).fillna(False)
    if q.universe is not None:
        m &= q.universe.mask(raw) if q.universe.question in raw else False
    return m.astype(bool)


def validate(raw: pd.DataFrame, codebook: Codebook, source: str = "survey") -> list[Problem]:
    """Every way the raw file departs from the codebook (empty list when it conforms)."""
    out: list[Problem] = []
    expected_cols = codebook.data_columns()
    missing = [c for c in expected_cols if c not in raw.columns]
    for c in missing:
        out.append(Problem(source, c, (), "this column (from the codebook)", "no such column"))
    for c in raw.columns:
        if c not in expected_cols:
            out.append(Problem(source, c, (), "only codebook columns", "an unknown column"))
    idc, wc, dc = codebook.id_column, codebook.wave_column, codebook.date_column
    if idc in raw:
        ids = raw[idc]
        out += _check(source, idc, ids.isna(), "a respondent id in every row", "empty ids")
        dup = ids.duplicated(keep=False) & ids.notna()
        out += _check(source, idc, dup, "unique respondent ids", "duplicates " + ", ".join(sorted(set(ids[dup].astype(str)))[:5]))
    if wc in raw:
        bad = ~raw[wc].isin(codebook.waves).fillna(False)
        out += _check(source, wc, bad, f"a wave among {codebook.waves} (add new waves to the codebook's meta.waves)", _values(raw[wc], bad))
    if dc in raw:
        parsed = pd.to_datetime(raw[dc], errors="coerce", format="ISO8601")
        out += _check(source, dc, parsed.isna(), "an ISO date (YYYY-MM-DD)", _values(raw[dc], parsed.isna()))
    if wc not in raw:
        return out
    for q in codebook.questions.values():
        if any(c not in raw for c in q.columns):
            continue
        if q.universe is not None and q.universe.question not in raw:
            continue
        out += _check_question(raw, q, codebook, source)
    return out


def _check(source: str, column: str, mask: pd.Series, expected: str, found: str) -> list[Problem]:
    rows = _rows(mask)
    return [Problem(source, column, rows, expected, found)] if rows else []


def _values(s: pd.Series, mask: pd.Series) -> str:
    vals = sorted(set(s[mask.fillna(False).to_numpy(dtype=bool)].fillna("<empty>").astype(str)))
    return "values " + ", ".join(repr(v) for v in vals[:5])


def _check_question(raw: pd.DataFrame, q: Question, codebook: Codebook, source: str) -> list[Problem]:
    out: list[Problem] = []
    asked = _asked(raw, q, codebook)
    who = codebook.base_label(q.id)
    for col in q.columns:
        s = raw[col]
        out += _check(source, col, s.notna() & ~asked, f"no answer outside the universe ({who})", "an answer")
        if q.type != "multi":
            out += _check(source, col, s.isna() & asked, f"an answer (mandatory question, asked of: {who})", "an empty cell")
        present = s.notna()
        if q.type == "single":
            bad = present & ~s.isin(q.codes).fillna(False)
            out += _check(source, col, bad, f"an option code among {q.codes}", _values(s, bad))
        elif q.type == "multi":
            bad = present & ~s.isin(["0", "1"]).fillna(False)
            out += _check(source, col, bad, "0 or 1 (option ticked or not)", _values(s, bad))
            out += _check(source, col, s.isna() & asked, f"0 or 1 (mandatory question, asked of: {who})", "an empty cell")
        elif q.type in NUMERIC_TYPES:
            num = pd.to_numeric(s, errors="coerce")
            not_int = present & (num.isna() | (num % 1 != 0))
            out += _check(source, col, not_int, "a whole number", _values(s, not_int))
            lo, hi = q.bounds  # type: ignore[misc]
            out_of = present & ~not_int & ((num < lo) | (num > hi))
            out += _check(source, col, out_of, f"a value from {lo} to {hi}", _values(s, out_of))
    if q.type == "multi":
        ticks = raw[q.columns].apply(pd.to_numeric, errors="coerce")
        none = asked & (ticks.fillna(0).sum(axis=1) == 0) & ticks.notna().all(axis=1)
        out += _check(source, f"{q.id}{MULTI_SEP}*", none, "at least one option ticked (mandatory question)", "no tick")
    if q.sum_max_with and q.sum_max_with in raw:
        total = pd.to_numeric(raw[q.id], errors="coerce") + pd.to_numeric(raw[q.sum_max_with], errors="coerce")
        out += _check(source, q.id, total > 100, f"{q.id} + {q.sum_max_with} at most 100", _values(total.astype("string"), total > 100))
    return out


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


# ---------------------------------------------------------------- cache
def _cache_key(path: Path, codebook: Codebook) -> str:
    st = path.stat()
    cb = sha256_file(codebook.path) if codebook.path else "inline"
    raw = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{cb}|{LOADER_VERSION}|{pd.__version__}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _load_typed(path: Path, codebook: Codebook, use_cache: bool) -> pd.DataFrame:
    cache = paths.CACHE_DIR / f"survey-{_cache_key(path, codebook)}.parquet"
    if use_cache and cache.exists():
        try:
            return pd.read_parquet(cache)
        except (OSError, ValueError, ImportError) as exc:  # a damaged cache is rebuilt, never trusted
            warnings.warn(f"{cache}: unreadable cache ignored and rebuilt ({exc})", stacklevel=2)
    raw = read_raw(path)
    problems = validate(raw, codebook, str(path))
    if problems:
        raise SurveyValidationError(path, problems)
    typed = to_typed(raw, codebook)
    if use_cache:
        _write_cache(typed, cache)
    return typed


def _write_cache(df: pd.DataFrame, cache: Path) -> None:
    import io

    from cnfs.atomic import write_bytes as atomic_write_bytes

    try:
        buf = io.BytesIO()
        df.to_parquet(buf)
        atomic_write_bytes(cache, buf.getvalue())
        for old in cache.parent.glob("survey-*.parquet"):
            if old != cache and old.stat().st_mtime < cache.stat().st_mtime - 3600:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only project still loads, just without the cache


def load_survey(
    path: str | Path | None = None,
    wave: str = "all",
    codebook: Codebook | None = None,
    use_cache: bool = True,
) -> Survey:
    """Typed, validated survey data for one wave (or ``"all"``); the synthetic twin when path is None."""
    codebook = codebook or load_codebook()
    p = resolve_data_path(path)
    df = _load_typed(p, codebook, use_cache)
    wave = str(wave)
    if wave != "all":
        present = [str(w) for w in df[codebook.wave_column].dropna().unique()]
        if wave not in present:
            raise ValueError(f"{p}: wave {wave!r} is not in the data; waves present: {sorted(present)} or 'all'")
        df = df[df[codebook.wave_column] == wave].reset_index(drop=True)
    return Survey(df, codebook, p, wave, _provenance(p))


def _provenance(path: Path) -> dict[str, Any]:
    """What the file says about itself; a copy of the twin that lost its sidecar is still flagged synthetic."""
    prov = read_provenance(path)
    if not prov.get("synthetic") and is_synthetic(path):
        prov = {**prov, "synthetic": True, "warning": SYNTHETIC_WARNING, "detected_by": "nom du fichier ou identifiants SYN-"}
    return prov


def available_waves(path: str | Path | None = None) -> list[str]:
    """The waves present in the data file, in codebook order (without reading all the columns twice)."""
    codebook = load_codebook()
    p = resolve_data_path(path)
    if p.suffix.lower() == ".parquet":
        col = pd.read_parquet(p, columns=[codebook.wave_column])[codebook.wave_column]
    else:
        col = pd.read_csv(p, usecols=[codebook.wave_column], dtype=str)[codebook.wave_column]
    present = set(col.dropna().astype(str).str.strip())
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
