"""Shares and scale summaries of survey questions, as tidy tables that always carry ``n`` and the base.

Conventions (see the data contract of ``cnfs.loader``):

- "those asked" a question are the rows where all its columns are non-missing; every percentage
  is over those asked (filtered questions count only their universe);
- percentages are floats on the 0–100 scale, never rounded; intervals are 95 % by default
  (Wilson for shares, Student t for means, both from statsmodels);
- ``by=`` is a column name or a Series aligned on the frame (e.g. ``cnfs.subgroups.site_mode(df)``);
  rows with a missing ``by`` value are left out, and only the levels present among those asked
  are reported, in the column's category order;
- the ``base`` column is the French description of who was asked (``Codebook.base_label``);
- ``design=`` (a ``cnfs.design.Design``) gives design-based estimates instead: weighted percentages and
  means with linearised standard errors as R's survey package (a group or a filtered question is a
  domain of the whole design), Wald intervals, and the added columns ``se``, ``deff`` and ``weights`` (the
  French description of the weights); ``count`` and ``n`` stay the respondents' counts. Without a design
  the results are exactly the unweighted ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cnfs.codebook import NUMERIC_TYPES, Codebook, Question
from cnfs.intervals import mean_ci, proportion_ci

#: Top-box thresholds (inclusive): 9–10 on a 1–10 scale, 80 or more on a 0–100 agreement slider.
TOP_BOX: dict[str, float] = {"scale10": 9, "slider100": 80}

#: Base of questions asked to everyone (codebook universe absent).
EVERYONE = "ensemble des répondants"

By = str | pd.Series | None

if TYPE_CHECKING:
    from cnfs.design import Design


# -- who was asked, grouping ----------------------------------------------------------------------
def asked(df: pd.DataFrame, codebook: Codebook, qid: str) -> pd.Series:
    """Boolean mask of the respondents asked ``qid`` (all its columns non-missing)."""
    cols = codebook[qid].columns
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"question {qid!r}: columns {missing} are not in the data")
    if not df.columns.is_unique:
        return df[cols].notna().all(axis=1)
    answered = np.ones(len(df), dtype=bool)
    for c in cols:  # column by column: a frame of them costs more than the test itself
        answered &= df[c].notna().to_numpy()
    return pd.Series(answered, index=df.index)


def by_series(df: pd.DataFrame, by: By) -> pd.Series | None:
    """The grouping Series for ``by`` (a column name or an aligned, named Series)."""
    if by is None:
        return None
    if isinstance(by, str):
        return df[by].rename(by)
    if by.name is None:
        raise ValueError("a by= Series needs a name (it becomes the grouping column)")
    if not by.index.equals(df.index):
        raise ValueError(f"by= Series {by.name!r} is not aligned on the data index")
    return by


def group_levels(by: pd.Series, mask: pd.Series | None = None) -> list:
    """Levels of ``by`` present among ``mask`` rows, in category order (sorted when not categorical)."""
    present = by[mask] if mask is not None else by
    present = present.dropna()
    if isinstance(by.dtype, pd.CategoricalDtype):
        seen = set(present.astype(object))
        return [c for c in by.cat.categories if c in seen]
    return sorted(present.unique().tolist())


def iter_groups(df: pd.DataFrame, by: By, mask: pd.Series) -> Iterator[tuple[object, pd.Series]]:
    """Yield (level, row mask) for each ``by`` level among ``mask`` rows; one (None, mask) without ``by``."""
    s = by_series(df, by)
    if s is None:
        yield None, mask
        return
    for level in group_levels(s, mask):
        yield level, mask & (s == level).fillna(False).astype(bool)


def _finish(rows: list[dict], df: pd.DataFrame, by: By) -> pd.DataFrame:
    """Assemble rows; the by column comes first, as a Categorical in the level order."""
    out = pd.DataFrame(rows)
    s = by_series(df, by)
    if s is not None and not out.empty:
        name = str(s.name)
        levels = list(dict.fromkeys(out[name].tolist()))
        out[name] = pd.Categorical(out[name], categories=levels, ordered=True)
        out = out[[name] + [c for c in out.columns if c != name]]
    return out.reset_index(drop=True)


def _rank(out: pd.DataFrame, by: By, df: pd.DataFrame, column: str, ascending: bool, name: str) -> None:
    """Add an integer rank of ``column`` (1 = first) within each by-group, ties sharing the best rank."""
    s = by_series(df, by)
    if out.empty:
        out[name] = pd.Series(dtype="Int64")
        return
    values = out.groupby(str(s.name), observed=True)[column] if s is not None else out[column]
    out[name] = values.rank(ascending=ascending, method="min").astype("Int64")


def _numeric(values: pd.Series) -> np.ndarray:
    """Non-missing values of a numeric column as a float array."""
    return pd.to_numeric(values, errors="coerce").astype("Float64").dropna().to_numpy(dtype=float)


# -- design-based (weighted) estimates ----------------------------------------------------------
def _check_design(df: pd.DataFrame, design: Design | None) -> None:
    if design is not None and not design.index.equals(df.index):
        raise ValueError("the design was built on other rows than this data (indexes differ)")


def _weighted(design: Design, values: np.ndarray, mask: pd.Series, level: float, scale: float) -> pd.DataFrame:
    """Design-based estimate, se, Wald interval and deff of each column of ``values`` over ``mask`` rows, times ``scale``."""
    from cnfs.design import domain_means, wald_interval

    out = domain_means(design, values, mask.to_numpy(dtype=bool))
    est, se = out["estimate"].to_numpy() * scale, out["se"].to_numpy() * scale
    low, high = wald_interval(est, se, level)
    return pd.DataFrame({"estimate": est, "se": se, "ci_low": low, "ci_high": high, "deff": out["deff"].to_numpy()})


def _apply_weighted(rows: list[dict], start: int, w: pd.DataFrame, design: Design, value: str) -> None:
    """Overwrite ``value`` and the interval of rows[start:] with the weighted estimates; add se, deff, weights."""
    for i, (_, r) in enumerate(w.iterrows()):
        rows[start + i].update(
            {
                value: r["estimate"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
                "se": r["se"],
                "deff": r["deff"],
                "weights": design.label,
            }
        )


WEIGHTED_COLUMNS = ["se", "deff", "weights"]


# -- single and multi-select shares ---------------------------------------------------------------
def option_codes(df: pd.DataFrame, q: Question) -> pd.Series:
    """Option codes of a single-choice question (the data hold labels; codes are accepted too)."""
    to_code = {o.code: o.code for o in q.options} | {o.label: o.code for o in q.options}
    column = df[q.id]
    if isinstance(column.dtype, pd.CategoricalDtype) and column.notna().any():
        return _category_codes(column, q.id, to_code)
    raw = column.astype("string")
    codes = raw.map(to_code)
    _unknown(q.id, raw[raw.notna() & codes.isna()].tolist())
    return codes


def _category_codes(column: pd.Series, qid: str, to_code: dict[str, str]) -> pd.Series:
    """``option_codes`` of a categorical column: each category looked up once, not each answer."""
    categories = pd.Series(column.cat.categories).astype("string").tolist()
    positions = column.cat.codes.to_numpy()
    _unknown(qid, [categories[i] for i in np.unique(positions[positions >= 0]) if categories[i] not in to_code])
    values = np.array([to_code.get(c, np.nan) for c in categories] + [np.nan], dtype=object)[positions]
    return pd.Series(values, index=column.index, name=column.name)  # position -1 (missing) takes the last: NaN


def _unknown(qid: str, values: Iterable[str]) -> None:
    """Reject answers that are neither labels nor codes of the question's options (naming them)."""
    unknown = sorted(set(values))
    if unknown:
        raise ValueError(f"question {qid!r}: values {unknown} are neither labels nor codes of its options")


def _share_row(
    level: object,
    by_name: str | None,
    q_id: str,
    q_label: str,
    option: str,
    label: str,
    count: int,
    n: int,
    base: str,
    level_ci: float,
) -> dict:
    low, high = proportion_ci(count, n, level_ci)
    row = {by_name: level} if by_name else {}
    row.update(
        question=q_id,
        question_label=q_label,
        option=option,
        label=label,
        count=int(count),
        n=int(n),
        percent=100.0 * count / n if n else float("nan"),
        ci_low=low,
        ci_high=high,
    )
    row["base"] = base
    return row


def shares(
    df: pd.DataFrame, codebook: Codebook, qid: str, by: By = None, *, level: float = 0.95, design: Design | None = None
) -> pd.DataFrame:
    """Share of each option among those asked (single or multi-select), optionally per ``by`` group.

    Columns: [by], question, question_label, option, label, count, n, percent, ci_low, ci_high, rank,
    base — plus mean_items (mean number of options ticked) for a multi-select question. ``rank`` is 1
    for the most frequent option. Multi-select percentages are of respondents, so they may sum above 100.
    With ``design=``: weighted percent and mean_items, Wald interval, plus se, deff, weights.
    """
    _check_design(df, design)
    q = codebook[qid]
    if q.type not in ("single", "multi"):
        raise TypeError(
            f"shares needs a single or multi-select question; {qid!r} is {q.type} "
            "(bin it with cnfs.subgroups.cut_numeric and use column_shares)"
        )
    mask = asked(df, codebook, qid)
    s = by_series(df, by)
    by_name = str(s.name) if s is not None else None
    base = codebook.base_label(qid)
    rows: list[dict] = []
    codes = option_codes(df, q) if q.type == "single" else None
    if design is not None:
        from cnfs.design import question_matrix

        values = question_matrix(df, codebook, qid)[0]
    for level_value, rows_mask in iter_groups(df, by, mask):
        n = int(rows_mask.sum())
        start = len(rows)
        if q.type == "single":
            counts = codes[rows_mask].value_counts()
            for o in q.options:
                rows.append(
                    _share_row(
                        level_value, by_name, q.id, q.short, o.code, o.label, int(counts.get(o.code, 0)), n, base, level
                    )
                )
        else:
            ticked = df.loc[rows_mask, q.columns].astype(bool)
            mean_items = float(ticked.sum(axis=1).mean()) if n else float("nan")
            for o, col in zip(q.options, q.columns):
                row = _share_row(
                    level_value, by_name, q.id, q.short, o.code, o.label, int(ticked[col].sum()), n, base, level
                )
                row["mean_items"] = mean_items
                rows.append(row)
        if design is not None:
            _apply_weighted(rows, start, _weighted(design, values, rows_mask, level, 100.0), design, "percent")
            if q.type == "multi":
                mi = _weighted(design, values.sum(axis=1), rows_mask, level, 1.0)["estimate"].iloc[0]
                for r in rows[start:]:
                    r["mean_items"] = mi
    out = _finish(rows, df, by)
    _rank(out, by, df, "percent", ascending=False, name="rank")
    order = [c for c in out.columns if c not in ["rank", "base", "mean_items"] + WEIGHTED_COLUMNS]
    tail = ["rank"] + (["mean_items"] if "mean_items" in out.columns else []) + ["base"]
    return out[order + tail + (WEIGHTED_COLUMNS if design is not None else [])]


def combined_share(
    df: pd.DataFrame,
    codebook: Codebook,
    qid: str,
    codes: Sequence[str],
    by: By = None,
    *,
    level: float = 0.95,
    design: Design | None = None,
) -> pd.DataFrame:
    """Share of those asked who chose any of ``codes`` (e.g. daily = several times a day + once a day).

    Columns as ``shares`` without rank: option is the codes joined by "+", label the labels joined by " ou ".
    """
    _check_design(df, design)
    q = codebook[qid]
    for c in codes:
        q.option(c)  # KeyError on an unknown code
    mask = asked(df, codebook, qid)
    s = by_series(df, by)
    by_name = str(s.name) if s is not None else None
    if q.type == "single":
        hit = option_codes(df, q).isin(list(codes)).fillna(False).astype(bool)
    elif q.type == "multi":
        cols = [f"{qid}__{c}" for c in codes]
        hit = df[cols].fillna(False).astype(bool).any(axis=1)
    else:
        raise TypeError(f"combined_share needs a single or multi-select question; {qid!r} is {q.type}")
    option = "+".join(codes)
    label = " ou ".join(q.label_of(c) for c in codes)
    rows = []
    for lv, m in iter_groups(df, by, mask):
        rows.append(
            _share_row(
                lv,
                by_name,
                q.id,
                q.short,
                option,
                label,
                int((hit & m).sum()),
                int(m.sum()),
                codebook.base_label(qid),
                level,
            )
        )
        if design is not None:
            _apply_weighted(
                rows, len(rows) - 1, _weighted(design, hit.to_numpy(dtype=float), m, level, 100.0), design, "percent"
            )
    return _finish(rows, df, by)


def column_shares(
    df: pd.DataFrame,
    column: str | pd.Series,
    by: By = None,
    *,
    base: str = EVERYONE,
    question_label: str | None = None,
    level: float = 0.95,
    design: Design | None = None,
) -> pd.DataFrame:
    """Shares of the values of any categorical column (e.g. a derived subgroup), non-missing rows only.

    Same columns as ``shares`` (option and label are both the value as text); ``base`` is given by the caller.
    """
    _check_design(df, design)
    values = df[column].rename(column) if isinstance(column, str) else column
    name = str(values.name)
    work = df.assign(**{f"__{name}__": values})
    mask = values.notna()
    s = by_series(df, by)
    by_name = str(s.name) if s is not None else None
    levels_of_values = group_levels(values, mask)
    rows: list[dict] = []
    indicators = (
        np.column_stack([(values == v).fillna(False).to_numpy(dtype=float) for v in levels_of_values])
        if design is not None and levels_of_values
        else None
    )
    for lv, m in iter_groups(df, by, mask):
        n = int(m.sum())
        start = len(rows)
        counts = work.loc[m, f"__{name}__"].value_counts()
        for v in levels_of_values:
            rows.append(
                _share_row(
                    lv, by_name, name, question_label or name, str(v), str(v), int(counts.get(v, 0)), n, base, level
                )
            )
        if indicators is not None:
            _apply_weighted(rows, start, _weighted(design, indicators, m, level, 100.0), design, "percent")
    out = _finish(rows, df, by)
    _rank(out, by, df, "percent", ascending=False, name="rank")
    extra = WEIGHTED_COLUMNS if design is not None else []
    return out[[c for c in out.columns if c not in ["rank", "base"] + extra] + ["rank", "base"] + extra]


def items_ticked(
    df: pd.DataFrame, codebook: Codebook, qid: str, by: By = None, *, level: float = 0.95, design: Design | None = None
) -> pd.DataFrame:
    """Number of options ticked on a multi-select question, per respondent asked: mean, sd, median, t interval.

    Columns: [by], question, question_label, n, mean, sd, median, ci_low, ci_high, base (weighted: the mean,
    sd and median are weighted, the interval Wald, plus se, deff, weights).
    """
    _check_design(df, design)
    q = codebook[qid]
    if q.type != "multi":
        raise TypeError(f"items_ticked needs a multi-select question; {qid!r} is {q.type}")
    mask = asked(df, codebook, qid)
    s = by_series(df, by)
    rows = []
    for lv, m in iter_groups(df, by, mask):
        counts = df.loc[m, q.columns].astype(bool).sum(axis=1).to_numpy(dtype=float)
        row = {str(s.name): lv} if s is not None else {}
        row.update(question=q.id, question_label=q.short, **_describe(counts, level), base=codebook.base_label(qid))
        if design is not None:
            all_counts = df[q.columns].fillna(False).astype(bool).sum(axis=1).to_numpy(dtype=float)
            row.update(_weighted_describe(design, all_counts, m, level))
        rows.append(row)
    return _finish(rows, df, by)


# -- numeric summaries ----------------------------------------------------------------------------
def _describe(x: np.ndarray, level: float) -> dict:
    """n, mean, sample sd (ddof=1), median and t interval of the mean of a float array."""
    n = len(x)
    low, high = mean_ci(x, level)
    return {
        "n": n,
        "mean": float(np.mean(x)) if n else float("nan"),
        "sd": float(np.std(x, ddof=1)) if n > 1 else float("nan"),
        "median": float(np.median(x)) if n else float("nan"),
        "ci_low": low,
        "ci_high": high,
    }


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Smallest value whose weighted cumulative share reaches ``q`` (R survey's ``qrule = "math"``)."""
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    return float(x[order][np.searchsorted(cum, q - 1e-12)])


def _weighted_describe(design: Design, values: np.ndarray, mask: pd.Series, level: float) -> dict:
    """Weighted mean (se, Wald interval, deff), sd (R's svyvar) and median of ``values`` over ``mask`` rows."""
    m = mask.to_numpy(dtype=bool) & ~np.isnan(values)
    w = _weighted(design, np.nan_to_num(values), pd.Series(m), level, 1.0).iloc[0]
    x, wt = values[m], design.weights[m]
    n = len(x)
    var = float(np.sum(wt * (x - w["estimate"]) ** 2) / wt.sum() * n / (n - 1)) if n > 1 else float("nan")
    return {
        "mean": w["estimate"],
        "sd": float(np.sqrt(var)),
        "median": weighted_quantile(x, wt, 0.5) if n else float("nan"),
        "ci_low": w["ci_low"],
        "ci_high": w["ci_high"],
        "se": w["se"],
        "deff": w["deff"],
        "weights": design.label,
    }


def top_box_threshold(q: Question, top_box: float | None = None) -> float:
    """The inclusive top-box threshold of a question: ``top_box`` if given, else TOP_BOX by type (NaN for numbers)."""
    if top_box is not None:
        return float(top_box)
    return float(TOP_BOX.get(q.type, float("nan")))


def scale_summary(
    df: pd.DataFrame,
    codebook: Codebook,
    qids: str | Sequence[str],
    by: By = None,
    *,
    top_box: float | None = None,
    level: float = 0.95,
    design: Design | None = None,
) -> pd.DataFrame:
    """Mean, sd, median, top-box share and t interval of numeric questions, ranked by mean within each group.

    Columns: [by], question, question_label, label, n, mean, sd, median, top_box, top_box_threshold,
    ci_low, ci_high, rank, sd_rank, base. ``top_box`` is the percent (0–100) of those asked answering
    at least the threshold: 9 on a 1–10 scale, 80 on a 0–100 slider (``TOP_BOX``), NaN for plain numbers
    unless ``top_box=`` is given. ``rank`` is 1 for the highest mean; ``sd_rank`` is 1 for the smallest
    standard deviation (the most consensual item). sd is the sample standard deviation (ddof=1).
    With ``design=``: weighted mean (Wald interval), sd, median and top box, plus se, deff, weights.
    """
    _check_design(df, design)
    ids = [qids] if isinstance(qids, str) else list(qids)
    s = by_series(df, by)
    rows = []
    for qid in ids:
        q = codebook[qid]
        if q.type not in NUMERIC_TYPES:
            raise TypeError(f"scale_summary needs numeric questions; {qid!r} is {q.type}")
        threshold = top_box_threshold(q, top_box)
        mask = asked(df, codebook, qid)
        for lv, m in iter_groups(df, by, mask):
            x = _numeric(df.loc[m, qid])
            row = {str(s.name): lv} if s is not None else {}
            row.update(question=q.id, question_label=q.short, label=q.label, **_describe(x, level))
            row["top_box"] = float(np.mean(x >= threshold) * 100) if len(x) and threshold == threshold else float("nan")
            row["top_box_threshold"] = threshold
            row["base"] = codebook.base_label(qid)
            if design is not None:
                allx = pd.to_numeric(df[qid], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
                row.update(_weighted_describe(design, allx, m, level))
                if threshold == threshold:
                    row["top_box"] = float(
                        _weighted(design, (allx >= threshold).astype(float), m, level, 100.0)["estimate"].iloc[0]
                    )
            rows.append(row)
    out = _finish(rows, df, by)
    if s is not None and not out.empty:
        out = out.sort_values(str(s.name), kind="stable").reset_index(drop=True)
    _rank(out, by, df, "mean", ascending=False, name="rank")
    _rank(out, by, df, "sd", ascending=True, name="sd_rank")
    head = (
        ([str(s.name)] if s is not None else [])
        + [
            "question",
            "question_label",
            "label",
            "n",
            "mean",
            "sd",
            "median",
            "top_box",
            "top_box_threshold",
            "ci_low",
            "ci_high",
            "rank",
            "sd_rank",
            "base",
        ]
        + (WEIGHTED_COLUMNS if design is not None else [])
    )
    return out[head] if not out.empty else out


def battery_summary(
    df: pd.DataFrame,
    codebook: Codebook,
    group: str,
    by: By = None,
    *,
    top_box: float | None = None,
    level: float = 0.95,
    design: Design | None = None,
) -> pd.DataFrame:
    """``scale_summary`` of every item of a numeric battery (codebook group), ranked by mean."""
    items = [q.id for q in codebook.items(group)]
    return scale_summary(df, codebook, items, by, top_box=top_box, level=level, design=design)


def distribution(
    df: pd.DataFrame,
    codebook: Codebook,
    qid: str,
    by: By = None,
    *,
    bins: Sequence[float] | None = None,
    design: Design | None = None,
) -> pd.DataFrame:
    """Distribution of a numeric answer among those asked: each value 1–10 for a scale, else bins.

    Columns: [by], question, question_label, item_label, value (the value, or the bin's lower edge),
    label (the value or bin as text, e.g. "10–19"), count, n, percent, base. Default bins: 0–9, 10–19, … 90–100 on a slider; ten equal bins of the
    codebook bounds for a number. With ``design=``: weighted percent (count and n stay respondents), plus
    se, deff, weights.
    """
    _check_design(df, design)
    q = codebook[qid]
    if q.type not in NUMERIC_TYPES:
        raise TypeError(f"distribution needs a numeric question; {qid!r} is {q.type}")
    mask = asked(df, codebook, qid)
    s = by_series(df, by)
    if q.type == "scale10" and bins is None:
        edges = None
        values = list(range(1, 11))
        labels = [str(v) for v in values]
    else:
        lo, hi = q.bounds  # type: ignore[misc]
        edges = list(bins) if bins is not None else list(np.linspace(lo, hi, 11))
        values = edges[:-1]
        integral = all(float(e).is_integer() for e in edges)
        labels = [  # integer answers: [0, 10) reads "0–9"; the last bin includes its upper edge
            f"{edges[i]:g}–{(edges[i + 1] - 1 if integral and i < len(edges) - 2 else edges[i + 1]):g}"
            for i in range(len(edges) - 1)
        ]
    rows = []
    if design is not None:
        allx = pd.to_numeric(df[qid], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        if edges is None:
            bin_of = np.where(np.isnan(allx), -1, allx - 1)
        else:
            bin_of = np.where(
                allx == edges[-1],
                len(edges) - 2,
                np.searchsorted(np.asarray(edges, dtype=float), allx, side="right") - 1,
            )
        indicators = np.column_stack([(bin_of == i).astype(float) for i in range(len(values))])
    for lv, m in iter_groups(df, by, mask):
        x = _numeric(df.loc[m, qid])
        n = len(x)
        start = len(rows)
        if edges is None:
            counts = [int(np.sum(x == v)) for v in values]
        else:
            cut = pd.cut(x, bins=edges, right=False, include_lowest=True)
            # the last bin is closed on both sides so that the maximum is counted
            codes = np.where(x == edges[-1], len(edges) - 2, pd.Categorical(cut).codes)
            counts = [int(np.sum(codes == i)) for i in range(len(values))]
        for v, lab, c in zip(values, labels, counts):
            row = {str(s.name): lv} if s is not None else {}
            row.update(
                question=q.id,
                question_label=q.short,
                item_label=q.label,
                value=v,
                label=lab,
                count=c,
                n=n,
                percent=100.0 * c / n if n else float("nan"),
                base=codebook.base_label(qid),
            )
            rows.append(row)
        if design is not None:
            w = _weighted(design, indicators, m, 0.95, 100.0)
            for i, r in enumerate(w.itertuples()):
                rows[start + i].update(percent=r.estimate, se=r.se, deff=r.deff, weights=design.label)
    return _finish(rows, df, by)
