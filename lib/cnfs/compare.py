"""Published against computed: each figure of the article recomputed from respondent data.

A figure is read from the published-figures table (its question, option or subgroup, statistic,
comparison and precision), computed from the survey data, and judged: reproduced at the published
precision, or the stated bound holds. Published values are only ever compared, never copied.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cnfs.calibrate import rounds_to
from cnfs.codebook import Codebook, Question
from cnfs.figspec import Filter, FigureSpec, parse_spec
from cnfs.intervals import mean_ci, proportion_ci
from cnfs.reference import load_published

REPRODUCED = "reproduit"
NOT_REPRODUCED = "non reproduit"
CONTEXT = "contexte"
ELSEWHERE = "hors enquête quantitative"


@dataclass(frozen=True)
class Computed:
    """A computed figure with its base size and, where meaningful, its 95% interval."""

    value: float | str | None
    n: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None


# ---------------------------------------------------------------- masks over typed data
def _label_map(codebook: Codebook, qid: str) -> dict[str, str]:
    if qid in codebook and codebook[qid].type == "single":
        return {o.code: o.label for o in codebook[qid].options}
    return {}


def _filters_mask(df: pd.DataFrame, codebook: Codebook, filters: tuple[Filter, ...]) -> pd.Series:
    m = pd.Series(True, index=df.index)
    for f in filters:
        m &= f.mask(df, _label_map(codebook, f.question))
    return m


def _asked(df: pd.DataFrame, q: Question) -> pd.Series:
    return df[q.columns].notna().all(axis=1)


def _hits(df: pd.DataFrame, q: Question, spec: FigureSpec) -> pd.Series:
    """Rows whose answer falls in the figure's options (union) or numeric range."""
    if spec.value_range is not None:
        lo, hi = spec.value_range
        v = pd.to_numeric(df[q.id], errors="coerce")
        return ((v >= lo) & (v <= hi)).fillna(False).astype(bool)
    if q.type == "multi":
        cols = [f"{q.id}__{o}" for o in spec.options]
        return df[cols].fillna(False).astype(bool).any(axis=1)
    labels = [q.label_of(o) for o in spec.options]
    return df[q.id].astype("string").isin(labels).fillna(False).astype(bool)


def _share(df: pd.DataFrame, codebook: Codebook, q: Question, spec: FigureSpec, filters: tuple[Filter, ...]) -> Computed:
    base = _asked(df, q) & _filters_mask(df, codebook, filters)
    n = int(base.sum())
    if n == 0:
        return Computed(None, 0)
    k = int((_hits(df, q, spec) & base).sum())
    lo, hi = proportion_ci(k, n)
    return Computed(100 * k / n, n, lo, hi)


def _numeric(df: pd.DataFrame, qid: str, filters_mask: pd.Series | None = None) -> pd.Series:
    s = pd.to_numeric(df[qid], errors="coerce")
    if filters_mask is not None:
        s = s[filters_mask]
    return s.dropna().astype(float)


def _group_stats(df: pd.DataFrame, codebook: Codebook, q: Question, among: tuple[str, ...]) -> pd.DataFrame:
    items = list(among) if among else [i.id for i in codebook.items(q.group)] if q.group else [q.id]
    rows = []
    for item in items:
        x = _numeric(df, item)
        rows.append({"item": item, "mean": x.mean(), "sd": x.std(ddof=1), "n": len(x)})
    return pd.DataFrame(rows).set_index("item")


def _option_shares(df: pd.DataFrame, q: Question) -> pd.Series:
    asked = _asked(df, q)
    if q.type == "multi":
        return pd.Series({o: df.loc[asked, f"{q.id}__{o}"].astype(bool).mean() for o in q.codes})
    counts = df.loc[asked, q.id].astype("string").value_counts()
    return pd.Series({o: counts.get(q.label_of(o), 0) / max(int(asked.sum()), 1) for o in q.codes})


def _rank_of(values: pd.Series, key: str, ascending: bool) -> int:
    return int(values.rank(ascending=ascending, method="min")[key])


# ---------------------------------------------------------------- one figure
def compute_figure(row: Mapping[str, Any], df: pd.DataFrame, codebook: Codebook, context: Mapping[str, Any] | None = None) -> Computed:
    """Compute the statistic a published-figures row describes, from typed survey data."""
    stat = row["statistic"]
    question = row["question"]
    spec = parse_spec(row["option_or_subgroup"])
    if question.startswith("meta:"):
        return _meta_figure(question, stat, spec, df, codebook, context or {})
    if question.startswith("group:"):
        g = question[len("group:"):]
        means = pd.Series({i.id: _numeric(df, i.id).mean() for i in codebook.items(g)})
        value = means.min() if stat == "group_min_mean" else means.max()
        return Computed(float(value), int(min(_numeric(df, i.id).size for i in codebook.items(g))))
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
        x = _numeric(df, q.id, _filters_mask(df, codebook, spec.filters))
        lo, hi = mean_ci(x)
        return Computed(float(x.mean()) if len(x) else None, len(x), lo, hi)
    if stat == "mean_items":
        asked = _asked(df, q)
        ticks = df.loc[asked, q.columns].astype(int).sum(axis=1).astype(float)
        lo, hi = mean_ci(ticks)
        return Computed(float(ticks.mean()), len(ticks), lo, hi)
    if stat in ("rank", "sd_rank", "sd_rank_desc", "gap_to_next"):
        g = _group_stats(df, codebook, q, spec.among)
        n = int(g["n"].min())
        if stat == "rank":
            return Computed(_rank_of(g["mean"], q.id, ascending=False), n)
        if stat == "sd_rank":
            return Computed(_rank_of(g["sd"], q.id, ascending=True), n)
        if stat == "sd_rank_desc":
            return Computed(_rank_of(g["sd"], q.id, ascending=False), n)
        others = g["mean"].drop(q.id)
        below = others[others <= g.loc[q.id, "mean"]]
        return Computed(float(g.loc[q.id, "mean"] - below.max()) if len(below) else None, n)
    if stat == "option_rank":
        shares = _option_shares(df, q)
        return Computed(_rank_of(shares, spec.options[0], ascending=False), int(_asked(df, q).sum()))
    if stat == "mode_in":
        shares = _option_shares(df, q)
        return Computed(1.0 if shares.idxmax() in spec.options else 0.0, int(_asked(df, q).sum()))
    raise ValueError(f"figure {row['id']}: unknown statistic {stat!r}")


def _meta_figure(question: str, stat: str, spec: FigureSpec, df: pd.DataFrame, codebook: Codebook, context: Mapping[str, Any]) -> Computed:
    sub = df[_filters_mask(df, codebook, spec.filters)]
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
        pop = context.get("advisors_in_post")
        if not pop:
            return Computed(None, len(sub))
        return Computed(100 * len(sub) / float(pop), len(sub))
    raise ValueError(f"{question}: unknown statistic {stat!r}")


# ---------------------------------------------------------------- judging
def criterion(row: Mapping[str, Any]) -> str:
    """The test a computed value must pass, in French."""
    comp = row["comparison"]
    v, lower, upper = (str(row.get(k, "")).replace(".", ",") for k in ("value", "lower", "upper"))
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
        "date_on_or_after": f"à partir du {row['value']}",
        "date_on_or_before": f"jusqu'au {row['value']}",
        "context": "contexte (non calculable)",
    }.get(comp, comp)


def judge(row: Mapping[str, Any], computed: Computed) -> str:
    """reproduit / non reproduit / contexte for one figure."""
    comp = row["comparison"]
    if comp == "context" or row.get("computable") == "no":
        return CONTEXT
    c = computed.value
    if c is None or (isinstance(c, float) and math.isnan(c)):
        return NOT_REPRODUCED
    if comp.startswith("date_"):
        ok = c >= row["value"] if comp == "date_on_or_after" else c <= row["value"]
        return REPRODUCED if ok else NOT_REPRODUCED
    v = float(row["value"]) if row["value"] != "" else math.nan
    c = float(c)
    ok = {
        "rounded": lambda: rounds_to(c, v, int(row["decimals"])),
        "equal": lambda: abs(c - v) < 1e-9,
        "gt": lambda: c > v,
        "lt": lambda: c < v,
        "ge": lambda: c >= v,
        "le": lambda: c <= v,
        "between": lambda: float(row["lower"]) <= c <= float(row["upper"]),
    }[comp]()
    return REPRODUCED if ok else NOT_REPRODUCED


def reproduction_table(
    df: pd.DataFrame,
    codebook: Codebook,
    published: pd.DataFrame | None = None,
    ids: list[str] | None = None,
    section: str | int | None = None,
    context: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Published, computed, interval, n and status for the selected survey figures."""
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
        else:
            skip = r["comparison"] == "context" or r["computable"] == "no"
            computed = Computed(None) if skip else compute_figure(r, df, codebook, context)
            status = judge(r, computed)
        rows.append(
            {
                "id": r["id"],
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
                "quote": r["quote"],
            }
        )
    return pd.DataFrame(rows)


def _fmt(x: Any) -> str:
    """French display of a computed value: whole numbers without decimals, others with two."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, (int, np.integer)) or (isinstance(x, float) and x.is_integer()):
        return f"{int(x)}"
    if isinstance(x, float):
        return f"{x:.2f}".replace(".", ",")
    return str(x)


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """A reader's view in French: figure, published, computed, 95% CI, n, base, criterion, status."""
    units = table["unit"].where(~table["unit"].isin(["date", "booléen"]), "")
    has_ci = table["ci_low"].notna() & table["ci_high"].notna()
    out = pd.DataFrame(
        {
            "Chiffre": table["id"],
            "Publié": (table["published"].astype(str).str.replace(".", ",", regex=False) + " " + units).str.strip(),
            "Calculé": table["computed"].map(_fmt),
            "IC 95 %": [f"[{a:.2f} ; {b:.2f}]".replace(".", ",") if ok else "–" for a, b, ok in zip(table["ci_low"], table["ci_high"], has_ci)],
            "n": table["n"].map(_fmt),
            "Base": table["base"],
            "Critère": table["criterion"],
            "Statut": table["status"],
        }
    )
    return out.set_index("Chiffre")


def summary_by_section(table: pd.DataFrame) -> pd.DataFrame:
    """Figures reproduced out of those computable, and context figures, per section."""
    status = table.set_index("section")["status"]
    computable = ~status.isin([CONTEXT, ELSEWHERE])
    out = pd.DataFrame(
        {
            "reproduits": (status == REPRODUCED).groupby(level=0).sum(),
            "calculables": computable.groupby(level=0).sum(),
            "contexte": (status == CONTEXT).groupby(level=0).sum(),
        }
    ).astype(int)
    out.loc["total"] = out.sum()
    return out


def failures(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] == NOT_REPRODUCED]


def check_all_reproduced(table: pd.DataFrame) -> None:
    """Raise AssertionError naming every computable figure that is not reproduced."""
    bad = failures(table)
    if len(bad):
        lines = "\n".join(f"  {r.id}: publié {r.published}, calculé {r.computed} ({r.criterion})" for r in bad.itertuples())
        raise AssertionError(f"{len(bad)} chiffre(s) publié(s) non reproduit(s) :\n{lines}")
