"""Published against computed: each figure of the article recomputed from respondent data.

A figure is read from the published-figures table (its question, option or subgroup, statistic,
comparison and precision), computed from the survey data, and judged: reproduced at the published
precision, or the stated bound holds. Published values are only ever compared, never copied.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cnfs import scoring
from cnfs.codebook import Codebook, Condition, Question, mask_all
from cnfs.figspec import FigureSpec, parse_spec
from cnfs.formatting import CI_HEADER, NARROW_NBSP, NBSP, fmt_ci, fmt_date, fmt_num
from cnfs.intervals import proportion_ci
from cnfs.reference import load_published
from cnfs.status import (  # noqa: F401  (re-exported: the statuses and the strict check live in cnfs.status)
    CONTEXT,
    ELSEWHERE,
    NOT_COMPUTABLE,
    NOT_REPRODUCED,
    RECOMPUTED,
    REPRODUCED,
    TRANSCRIBED,
    TRANSCRIPTION,
    check_all_reproduced,
    counts,
    failures,
    is_context,
    judge,
)

#: Context key holding the number of advisors in post (sortis de formation) at wave 2, from a sourced file.
POPULATION_SIZE = "population_size"
#: Context key saying why the population size is missing (shown as the coverage figure's status).
POPULATION_MISSING = "population_missing"


@dataclass(frozen=True)
class Computed:
    """A computed figure with its base size and, where meaningful, its 95% interval.

    ``missing`` says in French why it could not be computed (then the figure is "non calculable").
    """

    value: float | str | None
    n: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    missing: str = ""


def population_context(population: Any = None, wave: str = "all") -> dict[str, Any]:
    """The context of the figures that need more than the survey: the population size, when published.

    Read from the population file (``cnfs.population``, ``data/population.yaml``) for the population
    the wave's sample is drawn from. Only a size whose status is ``published`` is used: a size derived
    from the article's own "près de 40 %" would make the coverage figure true by construction, so
    then the coverage is "non calculable" and ``POPULATION_MISSING`` says why.
    """
    from cnfs.population import PopulationError, load_population

    try:
        pop = population if population is not None else load_population()
        size = pop.wave(wave).size
    except (PopulationError, KeyError, OSError) as e:
        return {POPULATION_MISSING: f"non calculable : effectif de la population non fourni ({e})"}
    if size.status != "published":
        return {
            POPULATION_MISSING: "non calculable : effectif de la population non publié (le fichier de population "
            f"n'en donne qu'une hypothèse, {fmt_num(size.value)}, source « {size.source} »)"
        }
    return {POPULATION_SIZE: float(size.value)}


# ---------------------------------------------------------------- statistics via cnfs.scoring
def _subset(df: pd.DataFrame, codebook: Codebook, filters: tuple[Condition, ...]) -> pd.DataFrame:
    return df[mask_all(df, filters, codebook)] if filters else df


def _share(
    df: pd.DataFrame, codebook: Codebook, q: Question, spec: FigureSpec, filters: tuple[Condition, ...]
) -> Computed:
    """Share of those asked (within the subgroup) whose answer is in the options or the numeric range."""
    sub = _subset(df, codebook, filters)
    if spec.value_range is not None:
        lo, hi = spec.value_range
        v = pd.to_numeric(sub[q.id], errors="coerce")
        hit = ((v >= lo) & (v <= hi)).where(v.notna()).rename(f"{q.id}_in_range")
        t = scoring.column_shares(sub, hit.astype("boolean"))
        n = int(hit.notna().sum())
        row = t[t["option"] == "True"]
        if n == 0:
            return Computed(None, 0)
        if row.empty:  # nobody in the range
            lo_ci, hi_ci = proportion_ci(0, n)
            return Computed(0.0, n, lo_ci, hi_ci)
        r = row.iloc[0]
    else:
        r = scoring.combined_share(sub, codebook, q.id, list(spec.options)).iloc[0]
    if int(r["n"]) == 0:
        return Computed(None, 0)
    return Computed(float(r["percent"]), int(r["n"]), float(r["ci_low"]), float(r["ci_high"]))


def _mean(df: pd.DataFrame, codebook: Codebook, qid: str, filters: tuple[Condition, ...] = ()) -> Computed:
    r = scoring.scale_summary(_subset(df, codebook, filters), codebook, qid).iloc[0]
    if int(r["n"]) == 0:
        return Computed(None, 0)
    return Computed(float(r["mean"]), int(r["n"]), float(r["ci_low"]), float(r["ci_high"]))


def _items(codebook: Codebook, q: Question, among: tuple[str, ...]) -> list[str]:
    return list(among) if among else [i.id for i in codebook.items(q.group)] if q.group else [q.id]


# ---------------------------------------------------------------- one figure
def compute_figure(
    row: Mapping[str, Any], df: pd.DataFrame, codebook: Codebook, context: Mapping[str, Any] | None = None
) -> Computed:
    """Compute the statistic a published-figures row describes, from typed survey data."""
    stat = row["statistic"]
    question = row["question"]
    spec = parse_spec(row["option_or_subgroup"])
    if question.startswith("meta:"):
        return _meta_figure(question, stat, spec, df, codebook, context or {})
    if question.startswith("group:"):
        t = scoring.battery_summary(df, codebook, question[len("group:") :])
        value = t["mean"].min() if stat == "group_min_mean" else t["mean"].max()
        return Computed(float(value), int(t["n"].min()))
    q = codebook[question]
    if stat == "share":
        return _share(df, codebook, q, spec, spec.filters)
    if stat in ("share_ratio", "share_diff"):
        a = _share(df, codebook, q, spec, spec.filters)
        b = _share(df, codebook, q, spec, spec.versus)
        if a.value is None or b.value is None or (stat == "share_ratio" and b.value == 0):
            return Computed(None)
        value = a.value / b.value if stat == "share_ratio" else a.value - b.value
        return Computed(float(value), (a.n or 0) + (b.n or 0))
    if stat == "mean":
        return _mean(df, codebook, q.id, spec.filters)
    if stat == "mean_complement":
        m = _mean(df, codebook, q.id, spec.filters)
        lo, hi = q.bounds  # type: ignore[misc]
        if m.value is None:
            return m
        return Computed(lo + hi - float(m.value), m.n, lo + hi - float(m.ci_high), lo + hi - float(m.ci_low))
    if stat == "mean_items":
        r = scoring.items_ticked(df, codebook, q.id).iloc[0]
        return Computed(float(r["mean"]), int(r["n"]), float(r["ci_low"]), float(r["ci_high"]))
    if stat in ("rank", "sd_rank", "sd_rank_desc", "gap_to_next"):
        t = scoring.scale_summary(df, codebook, _items(codebook, q, spec.among)).set_index("question")
        n = int(t["n"].min())
        if stat == "rank":
            return Computed(int(t.loc[q.id, "rank"]), n)
        if stat == "sd_rank":
            return Computed(int(t.loc[q.id, "sd_rank"]), n)
        if stat == "sd_rank_desc":
            return Computed(int(t["sd"].rank(ascending=False, method="min")[q.id]), n)
        others = t["mean"].drop(q.id)
        below = others[others <= t.loc[q.id, "mean"]]
        return Computed(float(t.loc[q.id, "mean"] - below.max()) if len(below) else None, n)
    if stat in ("option_rank", "mode_in"):
        t = scoring.shares(df, codebook, q.id).set_index("option")
        n = int(t["n"].iloc[0]) if len(t) else 0
        if stat == "option_rank":
            return Computed(int(t.loc[spec.options[0], "rank"]), n)
        return Computed(1.0 if t["percent"].idxmax() in spec.options else 0.0, n)
    raise ValueError(f"figure {row['id']}: unknown statistic {stat!r}")


def _meta_figure(
    question: str, stat: str, spec: FigureSpec, df: pd.DataFrame, codebook: Codebook, context: Mapping[str, Any]
) -> Computed:
    sub = _subset(df, codebook, spec.filters)
    if stat == "count":
        return Computed(len(sub), len(sub))
    if stat == "n_waves":
        return Computed(int(sub[codebook.wave_column].dropna().nunique()), len(sub))
    if stat in ("date_min", "date_max"):
        dates = pd.to_datetime(sub[codebook.date_column]).dropna()
        if dates.empty:
            return Computed(None, 0)
        d = dates.min() if stat == "date_min" else dates.max()
        return Computed(d.strftime("%Y-%m-%d"), len(dates))
    if stat == "coverage":
        pop = context.get(POPULATION_SIZE)
        if not pop:
            why = context.get(POPULATION_MISSING, "non calculable : effectif de la population non fourni")
            return Computed(None, len(sub), missing=why)
        return Computed(100 * len(sub) / float(pop), len(sub))
    raise ValueError(f"{question}: unknown statistic {stat!r}")


# ---------------------------------------------------------------- reader's label
#: The statistic of a figure in French, as the first words of its label.
STATISTIC_WORDS = {
    "share": "Part",
    "share_ratio": "Rapport des parts",
    "share_diff": "Écart des parts (points)",
    "mean": "Moyenne",
    "mean_complement": "Moyenne (complément sur l'échelle)",
    "mean_items": "Nombre moyen d'items cochés",
    "rank": "Rang de la moyenne",
    "sd_rank": "Rang de l'écart type (croissant)",
    "sd_rank_desc": "Rang de l'écart type (décroissant)",
    "gap_to_next": "Écart à la moyenne suivante",
    "option_rank": "Rang de la modalité",
    "mode_in": "Réponse la plus fréquente",
    "group_min_mean": "Plus petite moyenne",
    "group_max_mean": "Plus grande moyenne",
    "count": "Effectif",
    "n_waves": "Nombre de vagues",
    "date_min": "Première réponse",
    "date_max": "Dernière réponse",
    "coverage": "Taux de couverture",
    "context": "Contexte",
}
#: Labels of the figures about the survey itself (its waves, dates and respondents).
META_LABELS = {
    "n_waves": "Nombre de vagues de l'enquête",
    "date_min": "Première réponse",
    "date_max": "Dernière réponse",
    "count": "Nombre de répondants",
    "coverage": "Taux de couverture (répondants rapportés aux CnFS en poste)",
}
LABEL_WIDTH = 110  # characters of a label taken from the quote
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _option_label(q: Question | None, code: str) -> str:
    """The codebook's label of an option (the code itself when unknown)."""
    try:
        return q.label_of(code) if q is not None else code
    except KeyError:
        return code


def _conditions_text(codebook: Codebook, conditions: tuple[Condition, ...]) -> str:
    parts = []
    for c in conditions:
        if c.question == codebook.wave_column:
            parts.append(f"vague {' ou '.join(c.codes)}")
            continue
        name = codebook[c.question].short if c.question in codebook.questions else c.question
        if c.codes:
            q = codebook.questions.get(c.question)
            parts.append(f"{name} : {' ou '.join(_option_label(q, code) for code in c.codes)}")
        elif c.min is not None:
            parts.append(f"{name} ≥ {c.min:g}")
        elif c.max is not None:
            parts.append(f"{name} ≤ {c.max:g}")
    return ", ".join(parts)


def figure_label(row: Mapping[str, Any], codebook: Codebook) -> str:
    """What a reader sees for a figure instead of its id: the statistic, the question, options and subgroups
    in the codebook's words ("Moyenne : Je suis globalement satisfait(e) de la formation"); the quote,
    shortened, for figures outside the questionnaire (context, qualitative study)."""
    question, stat = str(row["question"]), str(row["statistic"])
    word = STATISTIC_WORDS.get(stat)
    try:
        spec = parse_spec(row.get("option_or_subgroup", "") or "")
    except ValueError:
        spec = FigureSpec()
    subject = None
    if question.startswith("group:") and question[len("group:") :] in codebook.groups:
        subject = codebook.groups[question[len("group:") :]].short
    elif question in codebook.questions:
        q = codebook[question]
        subject = q.label
        if spec.options:
            subject += " — " + " ou ".join(_option_label(q, o) for o in spec.options)
        elif spec.value_range is not None:
            lo, hi = spec.value_range
            subject += " — " + (
                f"{lo:g} à {hi:g}"
                if math.isfinite(lo) and math.isfinite(hi)
                else f"≥ {lo:g}"
                if math.isfinite(lo)
                else f"≤ {hi:g}"
            )
    elif question.startswith("meta:") and stat in META_LABELS:
        filters = _conditions_text(codebook, spec.filters)
        return META_LABELS[stat] + (f" ({filters})" if filters else "")
    if subject is None or word is None:
        quote = " ".join(str(row.get("quote", "") or row.get("id", "")).split())
        return quote if len(quote) <= LABEL_WIDTH else quote[: LABEL_WIDTH - 1].rsplit(" ", 1)[0] + "…"
    filters = _conditions_text(codebook, spec.filters)
    if spec.versus:
        filters = f"{filters} / {_conditions_text(codebook, spec.versus)}"
    return f"{word} : {subject}" + (f" ({filters})" if filters else "")


# ---------------------------------------------------------------- judging
def _number_text(value: Any) -> str:
    """A number of the published-figures table the French way (decimals as written): "1 071", "37,1"."""
    text = "" if value is None or value != value else str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return fmt_num(number, len(text.split(".")[1]) if "." in text else 0) if math.isfinite(number) else text


def criterion(row: Mapping[str, Any]) -> str:
    """The test a computed value must pass, in French."""
    comp = row["comparison"]
    v, lower, upper = (_number_text(row.get(k, "")) for k in ("value", "lower", "upper"))
    if comp == "rounded":
        d = int(row["decimals"])
        return f"arrondi à {d} décimale{'s' if d > 1 else ''} = {v}" if d else f"arrondi à l'unité = {v}"
    return {
        "equal": f"= {v}",
        "gt": f"> {v}",
        "lt": f"< {v}",
        "ge": f"≥ {v}",
        "le": f"≤ {v}",
        "between": f"entre {lower} et {upper}",
        "date_on_or_after": f"à partir du {published_text(row['value'], 'date')}",
        "date_on_or_before": f"jusqu'au {published_text(row['value'], 'date')}",
        "context": "contexte (non calculable)",
    }.get(comp, comp)


def reproduction_table(
    df: pd.DataFrame,
    codebook: Codebook,
    published: pd.DataFrame | None = None,
    ids: list[str] | None = None,
    section: str | int | None = None,
    context: Mapping[str, Any] | None = None,
    computed_cache: MutableMapping[str, Computed] | None = None,
) -> pd.DataFrame:
    """Published, computed, interval, n and status for the selected survey figures.

    Qualitative rows are listed as "hors enquête quantitative" (see ``full_reproduction_table``).
    ``computed_cache`` keeps each figure computed on these same ``df`` and ``codebook`` (a report's), so that
    a figure shown twice is computed once.
    """
    pub = published if published is not None else load_published()
    if ids is not None:
        unknown = sorted(set(ids) - set(pub["id"]))
        if unknown:
            raise KeyError(f"figure ids not in the published-figures table: {unknown}")
        pub = pub.set_index("id").loc[ids].reset_index()
    if section is not None:
        pub = pub[pub["section"] == str(section)]
    rows = []
    for _, r in pub.iterrows():
        if r["question"].startswith("qual:"):
            computed, status = Computed(None), ELSEWHERE
        elif is_context(r):
            computed, status = Computed(None), CONTEXT
        else:
            computed = _computed(r, df, codebook, context, computed_cache)
            status = NOT_COMPUTABLE if computed.missing else judge(r, computed.value)
        rows.append(
            {
                "id": r["id"],
                "label": figure_label(r, codebook),
                "publication": r.get("publication", ""),
                "section": r["section"],
                "question": r["question"],
                "option_or_subgroup": r["option_or_subgroup"],
                "statistic": r["statistic"],
                "base": r["base"],
                "n": computed.n,
                "published": r["value"],
                "unit": r["unit"],
                "computed": computed.value,
                "ci_low": computed.ci_low,
                "ci_high": computed.ci_high,
                "criterion": criterion(r),
                "status": status,
                "reason": computed.missing,
                "quote": r["quote"],
            }
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _computed(
    row: pd.Series,
    df: pd.DataFrame,
    codebook: Codebook,
    context: Mapping[str, Any] | None,
    cache: MutableMapping[str, Computed] | None,
) -> Computed:
    """``compute_figure``, kept in ``cache`` under the row's and the context's content (Computed is immutable)."""
    if cache is None:
        return compute_figure(row, df, codebook, context)
    key = repr((tuple(row.items()), sorted((context or {}).items())))
    if key not in cache:
        cache[key] = compute_figure(row, df, codebook, context)
    return cache[key]


TABLE_COLUMNS = [
    "id",
    "label",
    "publication",
    "section",
    "question",
    "option_or_subgroup",
    "statistic",
    "base",
    "n",
    "published",
    "unit",
    "computed",
    "ci_low",
    "ci_high",
    "criterion",
    "status",
    "reason",
    "quote",
]


def full_reproduction_table(
    df: pd.DataFrame,
    codebook: Codebook,
    context: Mapping[str, Any] | None = None,
    qualitative: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every published figure, survey and qualitative study, with its status.

    ``qualitative`` is ``cnfs.qualitative.compare_with_published(...)``; by default computed from
    ``data/qualitative``. Its transcription checks keep their own status ("transcrit").
    """
    if qualitative is None:
        from cnfs.qualitative import compare_with_published, computed_figures, load_qualitative

        qualitative = compare_with_published(computed_figures(load_qualitative()))
    table = reproduction_table(df, codebook, context=context)
    qual = qualitative.set_index("id")
    is_qual = table["status"] == ELSEWHERE
    table["computed"] = table["computed"].astype(object)
    table.loc[is_qual, "computed"] = table.loc[is_qual, "id"].map(qual["computed"])
    table.loc[is_qual, "status"] = table.loc[is_qual, "id"].map(qual["status"])
    return table


def _fmt(x: Any) -> str:
    """French display of a computed value: whole numbers without decimals, others with two."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, (int, np.integer)) or (isinstance(x, float) and x.is_integer()):
        return fmt_num(int(x))
    if isinstance(x, float):
        return fmt_num(x, 2)
    return str(x)


def published_text(value: Any, unit: Any) -> str:
    """A published value as the article writes it, French style: "36/100", "37,1 %", "4 000 conseillers"."""
    unit = "" if unit is None or unit != unit else str(unit).strip()
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None and math.isfinite(number) and unit not in ("année", "période"):
        decimals = len(text.split(".")[1]) if "." in text else 0
        text = fmt_num(number, decimals)
    if unit == "booléen":
        return {"1": "oui", "0": "non"}.get(str(value), str(value))
    if unit == "date":
        return fmt_date(_dt.date.fromisoformat(text)) if DATE.fullmatch(text) else text
    if not unit:
        return text
    if unit.startswith("rang"):
        return unit.replace("rang", f"rang{NBSP}{text}", 1)
    if unit.startswith("/"):
        return f"{text}{unit}"
    if unit.startswith("%"):
        return f"{text}{NARROW_NBSP}{unit}".replace(" ", NBSP)
    return f"{text}{NBSP}{unit}"


def _computed_text(value: Any, unit: Any) -> str:
    """A computed value shown like its published one: dates in words, booleans as oui / non."""
    if unit == "date" and isinstance(value, str) and DATE.fullmatch(value):
        return fmt_date(_dt.date.fromisoformat(value))
    if unit == "booléen" and isinstance(value, (int, float, np.integer)) and value in (0, 1):
        return "oui" if value == 1 else "non"
    return _fmt(value)


def unique_labels(labels: pd.Series) -> pd.Index:
    """Labels made unique for the index (a figure published twice, e.g. "83,5 %" and "4 sur 5"): "(bis)", "(ter)"…"""
    rank = labels.groupby(labels).cumcount()
    suffix = rank.map(lambda k: "" if k == 0 else {1: " (bis)", 2: " (ter)"}.get(k, f" ({k + 1})"))
    return pd.Index(labels + suffix, name="Chiffre")


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """A reader's view in French: figure, published, computed, 95% CI, n, base, criterion, status."""
    units = table["unit"]
    has_ci = table["ci_low"].notna() & table["ci_high"].notna()
    out = pd.DataFrame(
        {
            "Chiffre": table["label"] if "label" in table else table["id"],
            "Publication": table["publication"].map(lambda p: PUBLICATION_LABELS.get(p, p)),
            "Publié": [published_text(v, u) for v, u in zip(table["published"], units)],
            "Calculé": [_computed_text(v, u) for v, u in zip(table["computed"], units)],
            CI_HEADER: [fmt_ci(a, b) if ok else "–" for a, b, ok in zip(table["ci_low"], table["ci_high"], has_ci)],
            "n": table["n"].map(_fmt),
            "Base": table["base"],
            "Critère": table["criterion"],
            "Statut": table["status"].where(table["reason"].fillna("") == "", table["reason"]),
        }
    )
    return out.drop(columns="Chiffre").set_index(unique_labels(out["Chiffre"]))


PUBLICATION_LABELS = {"interim": "article intermédiaire", "full_study": "étude complète"}


def summary_by_section(table: pd.DataFrame) -> pd.DataFrame:
    """Per publication and section: figures reproduced out of those recomputed, transcribed, not computable, context.

    The interim article's figures and the full study's are counted apart (a "total" row for each).
    """
    pub = table["publication"].replace("", "interim").fillna("interim") if "publication" in table else "interim"
    frame = table.assign(publication=pub)
    out = []
    for p, part in frame.groupby("publication", sort=False):
        status = part.set_index("section")["status"]
        by = status.groupby(level=0, sort=False)
        s = pd.DataFrame(
            {
                "reproduits": by.apply(lambda x: int((x == REPRODUCED).sum())),
                "recalcules": by.apply(lambda x: int(x.isin(RECOMPUTED).sum())),
                "transcrits": by.apply(lambda x: int((x == TRANSCRIBED).sum())),
                "verifications_de_transcription": by.apply(lambda x: int(x.isin(TRANSCRIPTION).sum())),
                "non_calculables": by.apply(lambda x: int((x == NOT_COMPUTABLE).sum())),
                "contexte": by.apply(lambda x: int((x == CONTEXT).sum())),
            }
        ).astype(int)
        s.loc["total"] = s.sum()
        s.index = pd.MultiIndex.from_product(
            [[PUBLICATION_LABELS.get(p, p)], s.index], names=["publication", "section"]
        )
        out.append(s)
    return pd.concat(out)


#: French headers of ``summary_by_section`` for readers (the CSV keeps the column names).
SUMMARY_HEADERS = {
    "reproduits": "Reproduits",
    "recalcules": "Recalculés",
    "transcrits": "Transcrits",
    "verifications_de_transcription": "Vérifications de transcription",
    "non_calculables": "Non calculables",
    "contexte": "Contexte",
}


def display_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary_by_section`` as readers see it: French headers, "Total" rows, counts with thin spaces."""
    out = summary.rename(columns=SUMMARY_HEADERS).map(fmt_num)
    out.index = out.index.set_levels(
        [lv.map(lambda s: "Total" if s == "total" else s) for lv in out.index.levels]
    ).set_names(["Publication", "Section"])
    return out


def _count(n: int, singular: str, plural: str) -> str:
    """ "1 chiffre reproduit", "2 chiffres reproduits": the French agreement of a count."""
    return f"{fmt_num(n)} {singular if n <= 1 else plural}"


def headline(table: pd.DataFrame) -> str:
    """One French sentence: reproduced out of recomputed per publication, transcriptions and the rest apart."""
    summary = summary_by_section(table)
    parts = []
    for pub, s in summary.groupby(level=0, sort=False):
        t = s.xs("total", level=1).iloc[0]
        reproduced = _count(t["reproduits"], "chiffre reproduit", "chiffres reproduits")
        parts.append(f"{pub} : {reproduced} sur {_count(t['recalcules'], 'recalculé', 'recalculés')}")
    tot = summary.xs("total", level=1).sum()
    tail = []
    if tot["verifications_de_transcription"]:
        checks = _count(tot["verifications_de_transcription"], "vérification", "vérifications")
        tail.append(f"{_count(tot['transcrits'], TRANSCRIBED, TRANSCRIBED + 's')} sur {checks} de transcription")
    if tot["non_calculables"]:
        tail.append(_count(tot["non_calculables"], "non calculable", "non calculables"))
    tail.append(f"{fmt_num(tot['contexte'])} de contexte")
    return " ; ".join(parts) + f" ({', '.join(tail)})"
