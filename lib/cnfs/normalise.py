"""Codebook-driven normalisation: any export's text cells -> the codebook's columns and codes.

Rules (so that common exports need no mapping): header cells trimmed; columns matched by exact name,
by name ignoring case/accents/punctuation, by LimeSurvey's system names (``id``, ``submitdate``…) and
multi-select or battery forms ``q__code``, ``q[code]``, ``q[SQ001]`` (SQ order = codebook order);
single choices given as codes or labels (case, accents and spaces ignored); ticks ``Y``/``Oui``/``1``…
against empty/``N``/``Non``/``0``…; decimals ``50.0000000000`` and ``12,0``; dates in ISO, with a time,
dd/mm/yyyy or Excel serials; R's ``NA`` and row-name column; fully empty trailing rows dropped; the
wave from a column, the mapping, the caller, or the submission date within ``meta.wave_periods``.
What cannot be matched is reported (unknown columns as warnings, values left for the validator).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cnfs.codebook import MULTI_SEP, NUMERIC_TYPES, Codebook, Question
from cnfs.errors import InputError, Problem, problems_where, rows_of, values_shown
from cnfs.mapping import NO_MAPPING, Mapping

MISSING_TOKENS = {"NA", "#N/A", "N/A"}
TICKED = {"y", "yes", "oui", "1", "x", "true", "vrai", "coche", "selectionne"}
UNTICKED = {"n", "no", "non", "0", "false", "faux", "", "noncoche", "pascoche", "nonselectionne"}
YES_NO = {"oui", "non"}
#: LimeSurvey system columns: what each holds (a target column, or None to ignore it).
LIMESURVEY = {
    "id": "id",
    "submitdate": "date",
    "lastpage": None,
    "startlanguage": None,
    "seed": None,
    "startdate": None,
    "datestamp": None,
    "ipaddr": None,
    "refurl": None,
    "token": None,
}
META_ALIASES = {
    "id": ("identifiant", "respondent", "respondentid"),
    "wave": ("vague",),
    "date": ("datedesoumission", "submissiondate", "submitted"),
}
DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%Y/%m/%d")
EXCEL_SERIAL = (20000, 80000)  # 1954-10-03 .. 2119-01-10
_SQ = re.compile(r"^(?P<base>.+?)\s*(?:\[\s*(?P<sub>[^\]]+?)\s*\]|_{0,2}(?P<sq>SQ\d+))$", re.IGNORECASE)
_NUM = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def name_key(s: str) -> str:
    """A column name without case, accents or punctuation ('Structure_Sector' -> 'structuresector')."""
    s = unicodedata.normalize("NFKD", str(s))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[^0-9a-z]", "", s)


def value_key(s: str) -> str:
    """An answer without case, accents or spaces (labels typed by hand or exported with another case)."""
    s = unicodedata.normalize("NFKD", str(s).replace("’", "'").replace("\u00a0", " "))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    return re.sub(r"\s+", "", s)


@dataclass(frozen=True)
class ColumnMatch:
    """How one export column was matched: its codebook column (None when ignored/unknown) and how, in French."""

    column: str
    target: str | None
    how: str


@dataclass
class Normalised:
    """The export in the codebook's shape (text codes) and what the rules did to get there."""

    data: pd.DataFrame
    matches: list[ColumnMatch]
    problems: list[Problem] = field(default_factory=list)
    flagged: pd.Series | None = None  # rows already reported (not validated further)
    dropped: dict[str, int] = field(default_factory=dict)
    wave_from: str = "column"
    warnings: list[str] = field(default_factory=list)

    @property
    def unknown_columns(self) -> list[str]:
        return [m.column for m in self.matches if m.target is None and not m.how.startswith("ignorée")]

    def report(self) -> dict[str, Any]:
        """What a provenance record keeps: dropped rows, ignored/unknown columns, where the wave came from."""
        return {
            "dropped": dict(self.dropped),
            "wave_from": self.wave_from,
            "ignored_columns": {m.column: m.how for m in self.matches if m.target is None},
            "renamed_columns": {m.column: m.target for m in self.matches if m.target and m.column != m.target},
            "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------- columns
def _meta_role(codebook: Codebook) -> dict[str, str]:
    return {"id": codebook.id_column, "wave": codebook.wave_column, "date": codebook.date_column}


def _subquestion(
    owner: str, items: list[str], labels: list[str], sub: str, mapping: Mapping, kind: str
) -> tuple[str, str] | None:
    """(item or option, how) for a subquestion code: mapping, SQnnn by position, or by name."""
    if sub in mapping.subquestions.get(owner, {}):
        return mapping.subquestions[owner][sub], "sous-question (fichier de correspondance)"
    m = re.fullmatch(r"SQ0*(\d+)", sub, re.IGNORECASE)
    if m and 1 <= int(m.group(1)) <= len(items):
        n = int(m.group(1))
        return items[n - 1], f"sous-question {sub} = {n}{'re' if n == 1 else 'e'} {kind} du codebook"
    k = name_key(sub)
    hits = [it for it, lab in zip(items, labels) if name_key(it) == k or name_key(lab) == k]
    if not hits:
        hits = [it for it in items if name_key(it).endswith(k) and k]
    if len(hits) == 1:
        return hits[0], f"sous-question {sub!r} = {kind} {hits[0]!r}"
    return None


def _bracketed(column: str, codebook: Codebook, mapping: Mapping) -> tuple[str, str] | None:
    m = _SQ.match(column)
    if not m:
        return None
    base, sub = name_key(m.group("base")), (m.group("sub") or m.group("sq") or "").strip()
    for q in codebook.questions.values():
        if q.type == "multi" and name_key(q.id) == base:
            hit = _subquestion(q.id, q.codes, [o.label for o in q.options], sub, mapping, "option")
            if hit:
                return f"{q.id}{MULTI_SEP}{hit[0]}", hit[1]
    for g in codebook.groups.values():
        if name_key(g.id) == base:
            items = list(g.items)
            hit = _subquestion(g.id, items, [codebook[i].label for i in items], sub, mapping, "item")
            if hit:
                return hit
    return None


def match_columns(
    columns: list[str], codebook: Codebook, mapping: Mapping = NO_MAPPING, values: pd.DataFrame | None = None
) -> list[ColumnMatch]:
    """How each export column maps to the codebook (the rules above; the mapping file first)."""
    targets = codebook.data_columns()
    by_key: dict[str, list[str]] = {}
    for t in targets:
        by_key.setdefault(name_key(t), []).append(t)
    role = _meta_role(codebook)
    for r, aliases in META_ALIASES.items():
        for a in aliases:
            by_key.setdefault(a, []).append(role[r])
    present = set(columns)
    out: list[ColumnMatch] = []
    for i, col in enumerate(columns):
        low = col.casefold()
        if col in mapping.ignore:
            out.append(ColumnMatch(col, None, "ignorée (fichier de correspondance)"))
        elif col in mapping.columns:
            t = mapping.columns[col]
            out.append(
                ColumnMatch(col, t, "fichier de correspondance" if t else "à compléter (null dans la correspondance)")
            )
        elif col in targets:
            out.append(ColumnMatch(col, col, "nom exact"))
        elif low in LIMESURVEY:
            r = LIMESURVEY[low]
            if r is not None and role[r] not in present:
                out.append(ColumnMatch(col, role[r], f"colonne système LimeSurvey ({low})"))
            else:
                out.append(ColumnMatch(col, None, f"ignorée : colonne système LimeSurvey ({low})"))
        elif col == "" and (i == 0 or values is None or values.iloc[:, i].isna().all()):
            why = "noms de lignes (export R)" if i == 0 else "colonne vide sans nom"
            out.append(ColumnMatch(col, None, f"ignorée : {why}"))
        elif (hit := _bracketed(col, codebook, mapping)) is not None:
            out.append(ColumnMatch(col, hit[0], hit[1]))
        elif len(by_key.get(name_key(col), [])) == 1 and name_key(col):
            out.append(ColumnMatch(col, by_key[name_key(col)][0], "nom sans casse, accents ni ponctuation"))
        else:
            out.append(ColumnMatch(col, None, "aucune colonne du codebook ne correspond"))
    return out


# ---------------------------------------------------------------- values
def parse_dates(s: pd.Series) -> pd.Series:
    """Dates (ISO, with a time, dd/mm/yyyy, Excel serials) as ISO text; unparsed cells kept as they were."""
    text = s.astype("string")
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    for fmt in DATE_FORMATS:
        todo = parsed.isna() & text.notna()
        if not todo.any():
            break
        parsed = parsed.fillna(pd.to_datetime(text.where(todo), format=fmt, errors="coerce"))
    num = pd.to_numeric(text.where(parsed.isna() & text.notna()), errors="coerce")
    serial = num.between(*EXCEL_SERIAL)
    if serial.any():
        parsed = parsed.fillna(pd.to_datetime(num.where(serial), unit="D", origin="1899-12-30").dt.round("s"))
    day_only = parsed.dropna().eq(parsed.dropna().dt.normalize()).all()
    iso = parsed.dt.strftime("%Y-%m-%d" if day_only else "%Y-%m-%d %H:%M:%S").astype("string")
    return iso.fillna(text)


def _number(x: str) -> str:
    if not _NUM.fullmatch(x):
        return x
    v = float(x.replace(",", "."))
    return str(int(v)) if v.is_integer() else repr(v)


def _numbers(s: pd.Series) -> pd.Series:
    """'50.0000000000' -> '50', '12,0' -> '12', '12,5' -> '12.5'; anything else untouched."""
    t = s.astype("string")
    lookup = {u: _number(u) for u in t.dropna().unique()}
    if all(k == v for k, v in lookup.items()):
        return t
    return t.map(lookup, na_action="ignore").astype("string")


def _choices(s: pd.Series, q: Question, recode: dict[str, str]) -> pd.Series:
    """Codes for a single choice given as codes, labels (case/accents/spaces ignored) or mapping recodes."""
    table: dict[str, str] = {}
    for o in q.options:
        for k in (value_key(o.label), value_key(o.code)):
            table[k] = o.code if table.get(k, o.code) == o.code else "\0ambiguous"
    table = {k: v for k, v in table.items() if v != "\0ambiguous"}
    if set(q.codes) == YES_NO:  # a yes/no question exported as Y/N, 1/0, True/False
        table = {**{k: "oui" for k in TICKED}, **{k: "non" for k in UNTICKED if k}, **table}
    recode_keys = {value_key(k): v for k, v in recode.items()}

    def one(x: Any) -> Any:
        if pd.isna(x):
            return x
        if x in recode:
            return recode[x]
        if x in q.codes:
            return x
        k = value_key(x)
        return recode_keys.get(k) or table.get(k) or _number(x)

    uniq = s.dropna().unique()
    lookup = {u: one(u) for u in uniq}
    return s.map(lookup).astype("string")


def _ticks(s: pd.Series, recode: dict[str, str]) -> pd.Series:
    """'1'/'0' for ticked/unticked in any of the usual spellings; anything else untouched."""

    def one(x: Any) -> Any:
        if pd.isna(x):
            return x
        if x in recode:
            return recode[x]
        k = value_key(x)
        if k in TICKED or _is_number(k, 1):
            return "1"
        if k in UNTICKED or _is_number(k, 0):
            return "0"
        return x

    lookup = {u: one(u) for u in s.dropna().unique()}
    return s.map(lookup).astype("string")


def _is_number(k: str, v: int) -> bool:
    try:
        return float(k.replace(",", ".")) == v
    except ValueError:
        return False


# ---------------------------------------------------------------- waves
def wave_periods(codebook: Codebook) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """Each wave's period widened by ``meta.wave_period_tolerance_days`` (the dates a submission may carry)."""
    tol = pd.Timedelta(days=int(codebook.meta.get("wave_period_tolerance_days", 0) or 0))
    out = {}
    for w, p in (codebook.meta.get("wave_periods") or {}).items():
        out[str(w)] = (
            pd.Timestamp(p["start"]) - tol,
            pd.Timestamp(p["end"]) + tol + pd.Timedelta(days=1) - pd.Timedelta(seconds=1),
        )
    return out


def wave_from_dates(dates: pd.Series, codebook: Codebook) -> pd.Series:
    """The wave whose (widened) period holds each date; NA when none does."""
    when = pd.to_datetime(dates, format="ISO8601", errors="coerce")
    out = pd.Series(pd.NA, index=dates.index, dtype="string")
    for w, (lo, hi) in wave_periods(codebook).items():
        out[(when >= lo) & (when <= hi) & out.isna()] = w
    return out


# ---------------------------------------------------------------- the whole export


def normalise(
    table: pd.DataFrame,
    codebook: Codebook,
    mapping: Mapping = NO_MAPPING,
    wave: str | None = None,
    exclude_incomplete: bool = False,
    source: str = "survey",
) -> Normalised:
    """Apply the rules to an export's text cells; problems that are a root cause are returned, not raised."""
    df = table.mask(table.isin(list(MISSING_TOKENS)))
    empty = df.isna().all(axis=1)
    trailing = 0
    while trailing < len(df) and empty.iloc[len(df) - 1 - trailing]:
        trailing += 1
    if trailing:
        df = df.iloc[: len(df) - trailing]
    if len(df) == 0:
        raise InputError(
            source,
            "aucune réponse : le fichier ne contient que la ligne d'en-tête"
            + (" et des lignes vides" if trailing else ""),
            "exportez à nouveau les réponses",
        )
    matches = match_columns(list(df.columns), codebook, mapping, df)
    if not any(m.target for m in matches):
        shown = ", ".join(repr(c) for c in list(df.columns)[:8])
        raise InputError(
            source,
            f"aucune colonne ne correspond au codebook (colonnes lues : {shown})",
            "mauvaise feuille (--sheet) ou export à décrire : cnfs mapping draft EXPORT > mapping.yaml",
        )
    out: dict[str, pd.Series] = {}
    problems: list[Problem] = []
    for i, m in enumerate(matches):
        if m.target is None:
            continue
        if m.target in out:
            first = next(x.column for x in matches if x.target == m.target)
            problems.append(
                Problem(
                    source,
                    m.column,
                    (),
                    f"une seule colonne par colonne du codebook ; {first!r} correspond déjà à {m.target!r}",
                    "une deuxième colonne (renommez-en une, ou mettez-la sous ignore: dans la correspondance)",
                )
            )
            continue
        out[m.target] = df.iloc[:, i].astype("string")
    coded = pd.DataFrame(out, index=df.index)
    unknown = [m.column for m in matches if m.target is None and not m.how.startswith("ignorée")]
    warnings = []
    if unknown:
        warnings.append(
            f"{source} : colonnes absentes du codebook, ignorées : {', '.join(repr(c) for c in unknown[:20])}"
            + (f" et {len(unknown) - 20} autres" if len(unknown) > 20 else "")
        )
    _values(coded, codebook, mapping)
    dropped = {"trailing_empty_rows": trailing}
    wc, dc = codebook.wave_column, codebook.date_column
    flagged = pd.Series(False, index=coded.index)
    if dc in coded:
        incomplete = coded[dc].isna()
        if incomplete.any() and exclude_incomplete:
            coded = coded[~incomplete]
            flagged = flagged[~incomplete]
            dropped["incomplete"] = int(incomplete.sum())
        elif incomplete.any():
            problems.append(
                Problem(
                    source,
                    dc,
                    rows_of(incomplete),
                    "une date de soumission à chaque ligne (réponses complètes seulement)",
                    f"{int(incomplete.sum())} réponse(s) incomplète(s) sans date ; écartez-les avec "
                    "--exclude-incomplete (load_survey(..., exclude_incomplete=True))",
                )
            )
            flagged |= incomplete
    wave_from = "column"
    if wc not in coded:
        if mapping.wave is not None:
            coded[wc], wave_from = mapping.wave, "mapping"
        elif wave not in (None, "all"):
            if str(wave) not in codebook.waves:
                raise InputError(source, f"vague {wave!r} inconnue", f"vagues du codebook : {codebook.waves}")
            coded[wc], wave_from = str(wave), "argument"
        elif dc in coded:
            coded[wc], wave_from = wave_from_dates(coded[dc], codebook), "date"
            none = coded[wc].isna() & coded[dc].notna() & ~flagged
            periods = {w: f"{p['start']}..{p['end']}" for w, p in (codebook.meta.get("wave_periods") or {}).items()}
            problems += problems_where(
                source,
                dc,
                none,
                f"une date dans la période d'une vague {periods} pour en déduire la vague (pas de colonne wave) ; "
                "ou la vague donnée par --wave ou par wave: dans la correspondance",
                values_shown(coded[dc], none),
            )
            flagged |= none
        if wc in coded:
            coded[wc] = coded[wc].astype("string")
    coded = coded[[c for c in codebook.data_columns() if c in coded]]
    _fill_ticks(coded, codebook)
    return Normalised(coded, matches, problems, flagged, dropped, wave_from, warnings)


def _values(coded: pd.DataFrame, codebook: Codebook, mapping: Mapping) -> None:
    """Recode every matched column in place according to its question's type."""
    dc = codebook.date_column
    if dc in coded:
        coded[dc] = parse_dates(coded[dc])
    if codebook.wave_column in coded:
        coded[codebook.wave_column] = _numbers(coded[codebook.wave_column])
    for col in coded.columns:
        if col in codebook.meta_columns:
            continue
        qid, code = codebook.column_owner(col)
        q = codebook[qid]
        if q.type == "single":
            coded[col] = _choices(coded[col], q, mapping.recode.get(qid, {}))
        elif q.type == "multi":
            coded[col] = _ticks(coded[col], mapping.recode.get(qid, {}))
        elif q.type in NUMERIC_TYPES:
            coded[col] = _numbers(coded[col])


def _fill_ticks(coded: pd.DataFrame, codebook: Codebook) -> None:
    """Multi-select: an empty cell of a row that was asked is 'not ticked'; an untick outside the universe is no answer."""
    from cnfs.loader import _asked

    if codebook.wave_column not in coded:
        return
    for q in codebook.questions.values():
        if q.type != "multi" or not all(c in coded for c in q.columns):
            continue
        if q.universe is not None and q.universe.question not in coded:
            continue
        asked = _asked(coded, q, codebook)
        for c in q.columns:
            s = coded[c]
            coded[c] = s.mask(asked & s.isna(), "0").mask(~asked & (s == "0").fillna(False), pd.NA)
