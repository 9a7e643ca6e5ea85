"""Subgroup and wave comparisons: the table, a test suited to the question type, an effect size and its French verdict.

Tests (scipy / statsmodels, never re-implemented):

- single-choice: chi-square of independence on groups × options (``scipy.stats.chi2_contingency``, Yates
  correction on 2×2 as scipy does by default), Fisher exact test instead for a 2×2 table with an expected
  count below 5; effect size Cramér's V (``scipy.stats.contingency.association``, uncorrected chi-square);
- multi-select: the same, option by option, on groups × (ticked, not ticked);
- numeric: Welch t test for two groups (``ttest_ind(equal_var=False)``) or Welch ANOVA for more
  (``statsmodels.stats.oneway.anova_oneway``); with ``method="mannwhitney"``, Mann–Whitney U
  (two groups) or Kruskal–Wallis (more); effect size Cohen's d (two groups, pooled SD) or eta squared.

``difference`` is second group minus first (percentage points for shares, raw units for means) when
exactly two groups are compared. p-values are adjusted with Benjamini–Hochberg (``multipletests``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import association
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.oneway import anova_oneway

from cnfs.codebook import NUMERIC_TYPES, Codebook
from cnfs.scoring import By, asked, by_series, group_levels, option_codes, scale_summary, shares

#: Thresholds of |effect| from which the verdict is "faible", "moyen", "fort" (below the first: "négligeable").
MAGNITUDE_THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "cramers_v": (0.1, 0.3, 0.5),
    "cohens_d": (0.2, 0.5, 0.8),
    "eta_squared": (0.01, 0.06, 0.14),
}
VERDICTS = ("négligeable", "faible", "moyen", "fort")
NOT_COMPUTABLE = "non calculable"

#: French names of the tests and effect sizes, for captions.
TEST_LABELS = {
    "chi2": "khi-deux", "fisher": "test exact de Fisher", "welch_t": "test t de Welch",
    "welch_anova": "ANOVA de Welch", "mannwhitney": "test de Mann-Whitney", "kruskal": "test de Kruskal-Wallis",
    "none": "aucun test",
}
EFFECT_LABELS = {"cramers_v": "V de Cramér", "cohens_d": "d de Cohen", "eta_squared": "η²"}

TEST_COLUMNS = [
    "question", "question_label", "option", "label", "by", "groups", "n", "n_by", "test", "statistic", "dof",
    "p_value", "p_adjusted", "effect", "effect_size", "verdict", "difference", "base",
]


# -- effect sizes and adjustments -----------------------------------------------------------------
def size_verdict(value: float, effect: str) -> str:
    """French verdict on an effect size: "négligeable", "faible", "moyen" or "fort" (by |value|)."""
    if value is None or value != value:
        return NOT_COMPUTABLE
    small, medium, large = MAGNITUDE_THRESHOLDS[effect]
    v = abs(float(value))
    return VERDICTS[int(v >= small) + int(v >= medium) + int(v >= large)]


def _clean_table(table: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Contingency counts without all-zero rows and columns."""
    t = np.asarray(table, dtype=float)
    return t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]


def cramers_v(table: pd.DataFrame | np.ndarray) -> float:
    """Cramér's V of a contingency table (uncorrected chi-square); NaN when smaller than 2×2 once empty lines drop."""
    t = _clean_table(table)
    if t.shape[0] < 2 or t.shape[1] < 2:
        return float("nan")
    return float(association(t.astype(int) if np.all(t == t.round()) else t, method="cramer", correction=False))


def cohens_d(x: Sequence[float], y: Sequence[float]) -> float:
    """Standardised mean difference (mean(x) − mean(y)) / pooled SD (ddof=1); NaN when undefined."""
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    na, nb = len(a), len(b)
    if na < 1 or nb < 1 or na + nb < 3:
        return float("nan")
    va = np.var(a, ddof=1) if na > 1 else 0.0
    vb = np.var(b, ddof=1) if nb > 1 else 0.0
    pooled = np.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
    if pooled == 0:
        return float("nan")
    return float((a.mean() - b.mean()) / pooled)


def eta_squared(samples: Sequence[Sequence[float]]) -> float:
    """Share of the total variance explained by the groups (between-group / total sum of squares)."""
    arrays = [np.asarray(s, dtype=float) for s in samples if len(s)]
    if len(arrays) < 2:
        return float("nan")
    allx = np.concatenate(arrays)
    total = float(np.sum((allx - allx.mean()) ** 2))
    if total == 0:
        return float("nan")
    between = float(sum(len(a) * (a.mean() - allx.mean()) ** 2 for a in arrays))
    return between / total


def bh_adjust(pvalues: Sequence[float]) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (statsmodels ``fdr_bh``); NaN p-values stay NaN and are not counted."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out


# -- tests ----------------------------------------------------------------------------------------
def _empty_test(effect: str) -> dict:
    return {"test": "none", "statistic": np.nan, "dof": np.nan, "p_value": np.nan, "effect": effect,
            "effect_size": np.nan}


def contingency_test(table: pd.DataFrame | np.ndarray, *, fisher_below: float = 5,
                     correction: bool = True) -> dict:
    """Chi-square test of a groups × categories table, or Fisher exact for a 2×2 with an expected count < ``fisher_below``.

    Returns test, statistic (chi-square, or the odds ratio for Fisher), dof, p_value, effect ("cramers_v"),
    effect_size. Empty rows and columns are dropped first; smaller than 2×2 gives NaNs and test "none".
    """
    t = _clean_table(table)
    if t.shape[0] < 2 or t.shape[1] < 2:
        return _empty_test("cramers_v")
    chi2, p, dof, expected = stats.chi2_contingency(t, correction=correction)
    out = {"test": "chi2", "statistic": float(chi2), "dof": float(dof), "p_value": float(p)}
    if t.shape == (2, 2) and expected.min() < fisher_below:
        res = stats.fisher_exact(t.astype(int))
        out = {"test": "fisher", "statistic": float(res.statistic), "dof": np.nan, "p_value": float(res.pvalue)}
    out.update(effect="cramers_v", effect_size=cramers_v(t))
    return out


def numeric_test(samples: Sequence[Sequence[float]], method: str = "welch") -> dict:
    """Compare numeric samples: Welch t / Welch ANOVA (``method="welch"``) or Mann–Whitney / Kruskal–Wallis.

    Effect size: Cohen's d of the second sample minus the first for two samples, eta squared otherwise.
    Empty samples are dropped; fewer than two gives NaNs and test "none".
    """
    if method not in ("welch", "mannwhitney"):
        raise ValueError(f"method must be 'welch' or 'mannwhitney', not {method!r}")
    arrays = [np.asarray(s, dtype=float) for s in samples if len(s)]
    if len(arrays) < 2:
        return _empty_test("cohens_d")
    if len(arrays) == 2:
        a, b = arrays
        if method == "welch":
            res = stats.ttest_ind(a, b, equal_var=False)
            out = {"test": "welch_t", "statistic": float(res.statistic), "dof": float(res.df),
                   "p_value": float(res.pvalue)}
        else:
            res = stats.mannwhitneyu(a, b, alternative="two-sided")
            out = {"test": "mannwhitney", "statistic": float(res.statistic), "dof": np.nan,
                   "p_value": float(res.pvalue)}
        out.update(effect="cohens_d", effect_size=cohens_d(b, a))
        return out
    if method == "welch":
        res = anova_oneway(arrays, use_var="unequal")
        out = {"test": "welch_anova", "statistic": float(res.statistic), "dof": float(res.df_denom),
               "p_value": float(res.pvalue)}
    else:
        res = stats.kruskal(*arrays)
        out = {"test": "kruskal", "statistic": float(res.statistic), "dof": float(len(arrays) - 1),
               "p_value": float(res.pvalue)}
    out.update(effect="eta_squared", effect_size=eta_squared(arrays))
    return out


# -- comparisons ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """Result of a comparison: one descriptive table per question and one test row per question (per option for multi)."""

    tests: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """The descriptive table (shares or scale summary by group); the tables stacked when several questions."""
        if len(self.tables) == 1:
            return next(iter(self.tables.values()))
        return pd.concat(list(self.tables.values()), ignore_index=True)


def restrict_levels(df: pd.DataFrame, by: By, levels: Sequence | None = None) -> pd.Series:
    """The ``by`` Series keeping only ``levels`` (in that order; others become NA); all levels when None."""
    s = by_series(df, by)
    if s is None:
        raise ValueError("a comparison needs by=")
    if levels is None:
        return s
    levels = list(levels)
    if isinstance(s.dtype, pd.CategoricalDtype):
        unknown = [lv for lv in levels if lv not in list(s.cat.categories)]
        if unknown:
            raise KeyError(f"levels {unknown} are not categories of {s.name!r}: {list(s.cat.categories)}")
    kept = s.astype(object).where(s.isin(levels))
    return pd.Series(pd.Categorical(kept, categories=levels, ordered=True), index=s.index, name=s.name)


def compare_groups(
    df: pd.DataFrame,
    codebook: Codebook,
    qid: str,
    by: By,
    *,
    levels: Sequence | None = None,
    method: str = "welch",
    fisher_below: float = 5,
    correction: bool = True,
    level: float = 0.95,
) -> Comparison:
    """Compare one question across the groups of ``by`` (those asked, with a non-missing group).

    ``tables[qid]`` is ``shares`` (single/multi) or ``scale_summary`` (numeric) by group; ``tests`` has the
    columns TEST_COLUMNS: one row (one per option for multi-select, BH-adjusted across options).
    """
    q = codebook[qid]
    if q.type == "text":
        raise TypeError(f"{qid!r} is free text: nothing to compare")
    s = restrict_levels(df, by, levels)
    name = str(s.name)
    mask = asked(df, codebook, qid) & s.notna()
    present = group_levels(s, mask)
    in_level = {lv: mask & (s == lv).fillna(False).astype(bool) for lv in present}
    ns = [int(m.sum()) for m in in_level.values()]
    common = {
        "question": q.id, "question_label": q.short, "by": name, "groups": " vs ".join(map(str, present)),
        "n": int(sum(ns)), "n_by": " / ".join(map(str, ns)), "base": codebook.base_label(qid),
    }
    two = len(present) == 2
    rows: list[dict] = []
    if q.type == "single":
        table = shares(df, codebook, qid, by=s, level=level)
        codes = option_codes(df, q)
        counts = pd.DataFrame(
            [[int((codes[m] == o.code).sum()) for o in q.options] for m in in_level.values()],
            index=present, columns=q.codes,
        )
        rows.append({**common, "option": pd.NA, "label": q.item if q.group else pd.NA,
                     **contingency_test(counts, fisher_below=fisher_below, correction=correction),
                     "difference": np.nan})
    elif q.type == "multi":
        table = shares(df, codebook, qid, by=s, level=level)
        for o, col in zip(q.options, q.columns):
            ticked = [int(df.loc[m, col].astype(bool).sum()) for m in in_level.values()]
            counts = np.array([[t, n - t] for t, n in zip(ticked, ns)])
            diff = 100.0 * (ticked[1] / ns[1] - ticked[0] / ns[0]) if two else np.nan
            rows.append({**common, "option": o.code, "label": o.label,
                         **contingency_test(counts, fisher_below=fisher_below, correction=correction),
                         "difference": diff})
    elif q.type in NUMERIC_TYPES:
        table = scale_summary(df, codebook, qid, by=s, level=level)
        samples = [pd.to_numeric(df.loc[m, qid]).astype("Float64").to_numpy(dtype=float) for m in in_level.values()]
        diff = float(samples[1].mean() - samples[0].mean()) if two else np.nan
        rows.append({**common, "option": pd.NA, "label": q.label, **numeric_test(samples, method),
                     "difference": diff})
    else:  # pragma: no cover - codebook validation forbids other types
        raise TypeError(f"unsupported type {q.type!r}")
    tests = _tests_frame(rows)
    return Comparison(tests=tests, tables={qid: table})


def _tests_frame(rows: list[dict]) -> pd.DataFrame:
    """Test rows in TEST_COLUMNS order, with BH-adjusted p-values across the rows and the French verdict."""
    out = pd.DataFrame(rows)
    out["p_adjusted"] = bh_adjust(out["p_value"].to_numpy(dtype=float))
    out["verdict"] = [size_verdict(v, e) for v, e in zip(out["effect_size"], out["effect"])]
    out["dof"] = out["dof"].astype(float)
    return out[TEST_COLUMNS]


def compare_questions(
    df: pd.DataFrame,
    codebook: Codebook,
    qids: str | Sequence[str],
    by: By,
    *,
    levels: Sequence | None = None,
    alpha: float = 0.05,
    **options,
) -> Comparison:
    """``compare_groups`` for several questions, with Benjamini–Hochberg p-values across all their test rows.

    ``tests`` gets ``significant`` = p_adjusted < alpha; options go to ``compare_groups``.
    """
    ids = [qids] if isinstance(qids, str) else list(qids)
    results = [compare_groups(df, codebook, qid, by, levels=levels, **options) for qid in ids]
    tests = pd.concat([r.tests for r in results], ignore_index=True)
    tests["p_adjusted"] = bh_adjust(tests["p_value"].to_numpy(dtype=float))
    tests["significant"] = tests["p_adjusted"] < alpha
    tables = {qid: r.tables[qid] for qid, r in zip(ids, results)}
    return Comparison(tests=tests, tables=tables)


def compare_waves(
    df: pd.DataFrame,
    codebook: Codebook,
    qids: str | Sequence[str],
    *,
    waves: Sequence[str] | None = None,
    alpha: float = 0.05,
    **options,
) -> Comparison:
    """Compare questions between waves (the codebook's wave column), BH-adjusted across all questions."""
    return compare_questions(df, codebook, qids, codebook.wave_column, levels=waves, alpha=alpha, **options)
