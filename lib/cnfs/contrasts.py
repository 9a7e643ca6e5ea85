"""Subgroup and wave comparisons: the table, a test suited to the question type, an effect size and its French verdict.

Tests (scipy / statsmodels, never re-implemented):

- single-choice: chi-square of independence on groups × options (``scipy.stats.chi2_contingency``, Yates
  correction on 2×2 as scipy does by default), Fisher exact test instead for a 2×2 table with an expected
  count below 5, and for a larger table with an expected count below 5 a Monte Carlo p-value on tables
  with the same margins (seeded, as R's ``chisq.test(simulate.p.value = TRUE)``); effect size Cramér's V
  (uncorrected chi-square), its verdict with thresholds 0.1 / 0.3 / 0.5 divided by √(min(r, c) − 1)
  (Cohen's w conventions carried to V, so they depend on the table's size);
- ordered single-choice: a rank-based test on the options' order (Mann–Whitney / Kruskal–Wallis; between
  waves the linear-by-linear trend test) with a rank-based effect size; the chi-square is a secondary line;
- multi-select: the chi-square / Fisher test, option by option, on groups × (ticked, not ticked);
- 1–10 scales and 0–100 sliders (ordinal, ceiling effects): Mann–Whitney U (two groups) or Kruskal–Wallis,
  effect size the rank-biserial correlation (two groups) or epsilon squared; the Welch t test / ANOVA with
  Cohen's d / eta squared is kept as a secondary line (``Comparison.secondary``);
- other numbers: Welch t test (``ttest_ind(equal_var=False)``) or Welch ANOVA, Cohen's d or eta squared.

``difference`` is second group minus first (percentage points for shares, raw units for means) when
exactly two groups are compared. p-values are adjusted with Benjamini–Hochberg (``multipletests``) over
the main tests of one comparison (``Comparison.family`` says which); secondary lines are not adjusted.

Each effect size comes with a confidence interval (``effect_ci_low``, ``effect_ci_high``, 95 % by default),
computed as R's ``effectsize`` package does (two-sided): Cohen's d by inverting the noncentral t of the
pooled-variance t statistic; the rank-biserial correlation with Fisher's z (SE √((n₁ + n₂ + 1) / (3 n₁ n₂)));
Cramér's V by inverting the noncentral chi-square of the uncorrected Pearson statistic (V = √(λ / (N·k)),
k = min(r, c) − 1, bounds kept within [0, 1]); eta squared by inverting the noncentral F of the one-way
ANOVA. Epsilon squared has no such closed form (effectsize bootstraps it): its interval is left empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.stats.contingency import association
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.oneway import anova_oneway

from cnfs.codebook import NUMERIC_TYPES, Codebook
from cnfs.scoring import By, asked, by_series, group_levels, option_codes, scale_summary, shares

#: Thresholds of |effect| from which the verdict is "faible", "moyen", "fort" (below the first: "négligeable").
#: Cramér's V: for a 2-column (or 2-row) table; divided by √(min(r, c) − 1) otherwise (``cramers_v_thresholds``).
MAGNITUDE_THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "cramers_v": (0.1, 0.3, 0.5),
    "cohens_d": (0.2, 0.5, 0.8),
    "eta_squared": (0.01, 0.06, 0.14),
    "rank_biserial": (0.1, 0.3, 0.5),
    "epsilon_squared": (0.01, 0.06, 0.14),
}
#: Question types compared with rank-based tests by default (ordinal answers with ceiling effects).
ORDINAL_TYPES = ("scale10", "slider100")
#: Monte Carlo p-values of r×c tables with small expected counts: number of simulated tables and seed.
MONTE_CARLO_REPLICATES = 20000
MONTE_CARLO_SEED = 20211116
VERDICTS = ("négligeable", "faible", "moyen", "fort")
NOT_COMPUTABLE = "non calculable"

#: French names of the tests and effect sizes, for captions.
TEST_LABELS = {
    "chi2": "khi-deux",
    "fisher": "test exact de Fisher",
    "welch_t": "test t de Welch",
    "welch_anova": "ANOVA de Welch",
    "mannwhitney": "test de Mann-Whitney",
    "kruskal": "test de Kruskal-Wallis",
    "chi2_mc": f"khi-deux, p-value par Monte Carlo ({MONTE_CARLO_REPLICATES:,} tables de mêmes marges, graine fixée)".replace(
        ",", " "
    ),
    "trend": "test de tendance linéaire (association linéaire par linéaire)",
    "none": "aucun test",
}
EFFECT_LABELS = {
    "cramers_v": "V de Cramér",
    "cohens_d": "d de Cohen",
    "eta_squared": "η²",
    "rank_biserial": "corrélation bisériale des rangs",
    "epsilon_squared": "ε² (rangs)",
}

TEST_COLUMNS = [
    "question",
    "question_label",
    "option",
    "label",
    "by",
    "groups",
    "n",
    "n_by",
    "test",
    "statistic",
    "dof",
    "p_value",
    "p_adjusted",
    "effect",
    "effect_size",
    "effect_ci_low",
    "effect_ci_high",
    "effect_df",
    "verdict",
    "difference",
    "base",
]


# -- effect sizes and adjustments -----------------------------------------------------------------
def cramers_v_thresholds(df_star: float = 1) -> tuple[float, float, float]:
    """Small / medium / large thresholds of Cramér's V for a table with min(r, c) − 1 = ``df_star``."""
    k = max(float(df_star), 1.0) if df_star == df_star else 1.0
    return tuple(t / np.sqrt(k) for t in MAGNITUDE_THRESHOLDS["cramers_v"])  # type: ignore[return-value]


def size_verdict(value: float, effect: str, df_star: float = 1) -> str:
    """French verdict on an effect size: "négligeable", "faible", "moyen" or "fort" (by |value|).

    Cramér's V uses thresholds that depend on the table (``df_star`` = min(r, c) − 1).
    """
    if value is None or value != value:
        return NOT_COMPUTABLE
    small, medium, large = cramers_v_thresholds(df_star) if effect == "cramers_v" else MAGNITUDE_THRESHOLDS[effect]
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


def rank_biserial(x: Sequence[float], y: Sequence[float]) -> float:
    """Rank-biserial correlation of y against x: P(y > x) − P(y < x) over all pairs (2U/(n₁n₂) − 1)."""
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    u = stats.mannwhitneyu(b, a, alternative="two-sided").statistic
    return float(2 * u / (len(a) * len(b)) - 1)


def epsilon_squared(h: float, n: int) -> float:
    """Epsilon squared of a Kruskal–Wallis H on n observations: H / (n − 1)."""
    return float(h / (n - 1)) if n > 1 else float("nan")


# -- intervals of effect sizes (as R's effectsize, two-sided) ---------------------------------------
def _ncp_bounds(cdf: Callable[[float], float], start: float, level: float, floor: float | None) -> tuple[float, float]:
    """Noncentrality parameters whose distribution puts the observed statistic at its upper and lower tail.

    ``cdf(ncp)`` is the distribution function at the observed statistic, decreasing in ncp; the lower bound
    solves cdf = 1 − α/2, the upper bound cdf = α/2 (``floor`` when the equation has no solution above it).
    """
    alpha = 1 - level

    def solve(target: float) -> float:
        if floor is not None and cdf(floor) <= target:
            return floor
        step = 1.0 + abs(start)
        lo = floor if floor is not None else start - step
        for _ in range(30):
            if cdf(lo) > target:
                break
            lo, step = lo - step, step * 2
        step = 1.0 + abs(start)
        hi = max(start, lo) + step
        for _ in range(30):
            if cdf(hi) < target:
                break
            hi, step = hi + step, step * 2
        try:
            return float(optimize.brentq(lambda x: cdf(x) - target, lo, hi, xtol=1e-10))
        except ValueError:
            return float("nan")

    return solve(1 - alpha / 2), solve(alpha / 2)


def cohens_d_ci(d: float, n1: int, n2: int, level: float = 0.95) -> tuple[float, float]:
    """Interval of Cohen's d (pooled SD) from the noncentral t with n₁ + n₂ − 2 degrees of freedom."""
    if d != d or n1 < 2 or n2 < 2:
        return (float("nan"), float("nan"))
    scale = np.sqrt(1 / n1 + 1 / n2)
    t, df = d / scale, n1 + n2 - 2
    lo, hi = _ncp_bounds(lambda ncp: float(stats.nct.cdf(t, df, ncp)), t, level, None)
    return (lo * scale, hi * scale)


def rank_biserial_ci(r: float, n1: int, n2: int, level: float = 0.95) -> tuple[float, float]:
    """Interval of the rank-biserial correlation: Fisher's z with SE √((n₁ + n₂ + 1) / (3 n₁ n₂))."""
    if r != r or n1 < 1 or n2 < 1:
        return (float("nan"), float("nan"))
    z = np.arctanh(np.clip(r, -1 + 1e-12, 1 - 1e-12))
    half = stats.norm.ppf(1 - (1 - level) / 2) * np.sqrt((n1 + n2 + 1) / (3 * n1 * n2))
    return (float(np.tanh(z - half)), float(np.tanh(z + half)))


def cramers_v_ci(chi2: float, n: float, dof: float, df_star: float, level: float = 0.95) -> tuple[float, float]:
    """Interval of Cramér's V from the noncentral chi-square of the uncorrected statistic: √(λ / (N·k)), in [0, 1]."""
    if chi2 != chi2 or n <= 0 or dof < 1 or df_star < 1:
        return (float("nan"), float("nan"))
    lo, hi = _ncp_bounds(lambda ncp: float(stats.ncx2.cdf(chi2, dof, ncp)), chi2, level, 0.0)
    to_v = lambda lam: float(min(1.0, np.sqrt(lam / (n * df_star))))  # noqa: E731
    return (to_v(lo), to_v(hi))


def eta_squared_ci(f: float, df1: float, df2: float, level: float = 0.95) -> tuple[float, float]:
    """Interval of eta squared from the noncentral F of the one-way ANOVA: λ / (λ + df₂), as effectsize."""
    if f != f or df1 < 1 or df2 < 1:
        return (float("nan"), float("nan"))
    lo, hi = _ncp_bounds(lambda ncp: float(stats.ncf.cdf(f, df1, df2, ncp)), f * df1, level, 0.0)
    to_eta = lambda lam: float(lam / (lam + df2))  # noqa: E731
    return (to_eta(lo), to_eta(hi))


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
    return {
        "test": "none",
        "statistic": np.nan,
        "dof": np.nan,
        "p_value": np.nan,
        "effect": effect,
        "effect_size": np.nan,
        "effect_ci_low": np.nan,
        "effect_ci_high": np.nan,
    }


def monte_carlo_chi2(
    table: np.ndarray, replicates: int = MONTE_CARLO_REPLICATES, seed: int = MONTE_CARLO_SEED
) -> tuple[float, float]:
    """Pearson chi-square (uncorrected) and its Monte Carlo p-value over tables with the same margins.

    p = (1 + #{simulated ≥ observed}) / (B + 1), as R's ``chisq.test(simulate.p.value = TRUE, B)``; the
    tables are drawn with ``scipy.stats.random_table`` from a fixed seed, so the p-value is reproducible.
    """
    t = np.asarray(table, dtype=float)
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    expected = np.outer(rows, cols) / t.sum()
    observed = float(((t - expected) ** 2 / expected).sum())
    sims = stats.random_table(rows.astype(int), cols.astype(int), seed=np.random.default_rng(seed)).rvs(replicates)
    simulated = ((sims - expected) ** 2 / expected).sum(axis=(1, 2))
    p = (1 + np.sum(simulated >= observed * (1 - 64 * np.finfo(float).eps))) / (replicates + 1)
    return observed, float(p)


def contingency_test(
    table: pd.DataFrame | np.ndarray,
    *,
    fisher_below: float = 5,
    correction: bool = True,
    monte_carlo: bool = True,
    level: float = 0.95,
) -> dict:
    """Chi-square test of a groups × categories table; exact or simulated p-value when an expected count is small.

    A 2×2 table with an expected count < ``fisher_below`` gets Fisher's exact test; a larger one gets a
    seeded Monte Carlo p-value (``monte_carlo_chi2``, test "chi2_mc") unless ``monte_carlo=False``.
    Returns test, statistic (chi-square, or the odds ratio for Fisher), dof, p_value, effect ("cramers_v"),
    effect_size, its ``level`` interval effect_ci_low/effect_ci_high (``cramers_v_ci``), effect_df (min(r, c) − 1). Empty rows and columns are dropped first; smaller than 2×2
    gives NaNs and test "none".
    """
    t = _clean_table(table)
    if t.shape[0] < 2 or t.shape[1] < 2:
        return _empty_test("cramers_v")
    chi2, p, dof, expected = stats.chi2_contingency(t, correction=correction)
    out = {"test": "chi2", "statistic": float(chi2), "dof": float(dof), "p_value": float(p)}
    if t.shape == (2, 2) and expected.min() < fisher_below:
        res = stats.fisher_exact(t.astype(int))
        out = {"test": "fisher", "statistic": float(res.statistic), "dof": np.nan, "p_value": float(res.pvalue)}
    elif expected.min() < fisher_below and monte_carlo:
        stat, p_mc = monte_carlo_chi2(t)
        out = {"test": "chi2_mc", "statistic": stat, "dof": float(dof), "p_value": p_mc}
    df_star = float(min(t.shape) - 1)
    pearson = float(stats.chi2_contingency(t, correction=False)[0]) if t.shape == (2, 2) else float(chi2)
    low, high = cramers_v_ci(pearson, float(t.sum()), float(dof), df_star, level)
    out.update(effect="cramers_v", effect_size=cramers_v(t), effect_ci_low=low, effect_ci_high=high, effect_df=df_star)
    return out


def linear_by_linear(
    table: pd.DataFrame | np.ndarray,
    row_scores: Sequence[float] | None = None,
    col_scores: Sequence[float] | None = None,
) -> dict:
    """Linear-by-linear association (trend) test of an ordered groups × ordered options table.

    M² = (N − 1) r², r the Pearson correlation of the row and column scores (default 1, 2, …) over the
    N observations; p from chi-square with 1 degree of freedom (Agresti, Categorical Data Analysis, 3.4.1).
    """
    t = np.asarray(table, dtype=float)
    u = np.arange(1, t.shape[0] + 1, dtype=float) if row_scores is None else np.asarray(row_scores, dtype=float)
    v = np.arange(1, t.shape[1] + 1, dtype=float) if col_scores is None else np.asarray(col_scores, dtype=float)
    n = t.sum()
    if n < 2 or (t.sum(axis=1) > 0).sum() < 2 or (t.sum(axis=0) > 0).sum() < 2:
        return {"test": "none", "statistic": np.nan, "dof": np.nan, "p_value": np.nan}
    pu, pv = t.sum(axis=1) / n, t.sum(axis=0) / n
    mu, mv = (pu * u).sum(), (pv * v).sum()
    cov = (t / n * np.outer(u - mu, v - mv)).sum()
    r = cov / np.sqrt((pu * (u - mu) ** 2).sum() * (pv * (v - mv) ** 2).sum())
    m2 = float((n - 1) * r**2)
    return {"test": "trend", "statistic": m2, "dof": 1.0, "p_value": float(stats.chi2.sf(m2, 1))}


def numeric_test(samples: Sequence[Sequence[float]], method: str = "welch", level: float = 0.95) -> dict:
    """Compare numeric samples: Welch t / Welch ANOVA (``method="welch"``) or Mann–Whitney / Kruskal–Wallis.

    Effect size: Cohen's d of the second sample minus the first for two samples, eta squared otherwise;
    with ``method="rank"`` the rank tests with rank-based effect sizes (rank-biserial correlation of the
    second sample against the first, or epsilon squared). Each effect size has its ``level`` interval
    (effect_ci_low/effect_ci_high; none for epsilon squared). Empty samples are dropped; fewer than two gives
    NaNs and test "none".
    """
    if method not in ("welch", "mannwhitney", "rank"):
        raise ValueError(f"method must be 'welch', 'mannwhitney' or 'rank', not {method!r}")
    arrays = [np.asarray(s, dtype=float) for s in samples if len(s)]
    if len(arrays) < 2:
        return _empty_test("rank_biserial" if method == "rank" else "cohens_d")
    out = _numeric_test(arrays, method)
    sizes = [len(a) for a in arrays]
    if out["effect"] == "rank_biserial":
        low, high = rank_biserial_ci(out["effect_size"], *sizes, level)
    elif out["effect"] == "cohens_d":
        low, high = cohens_d_ci(out["effect_size"], *sizes, level)
    elif out["effect"] == "eta_squared":
        f = float(stats.f_oneway(*arrays).statistic)
        low, high = eta_squared_ci(f, len(arrays) - 1, sum(sizes) - len(arrays), level)
    else:  # epsilon squared: no closed-form interval
        low, high = np.nan, np.nan
    return {**out, "effect_ci_low": low, "effect_ci_high": high}


def _numeric_test(arrays: list[np.ndarray], method: str) -> dict:
    """The test and effect size of ``numeric_test`` (at least two non-empty samples)."""
    if method == "rank":
        if len(arrays) == 2:
            a, b = arrays
            res = stats.mannwhitneyu(a, b, alternative="two-sided")
            return {
                "test": "mannwhitney",
                "statistic": float(res.statistic),
                "dof": np.nan,
                "p_value": float(res.pvalue),
                "effect": "rank_biserial",
                "effect_size": rank_biserial(a, b),
            }
        res = stats.kruskal(*arrays)
        return {
            "test": "kruskal",
            "statistic": float(res.statistic),
            "dof": float(len(arrays) - 1),
            "p_value": float(res.pvalue),
            "effect": "epsilon_squared",
            "effect_size": epsilon_squared(float(res.statistic), sum(len(a) for a in arrays)),
        }
    if len(arrays) == 2:
        a, b = arrays
        if method == "welch":
            res = stats.ttest_ind(a, b, equal_var=False)
            out = {
                "test": "welch_t",
                "statistic": float(res.statistic),
                "dof": float(res.df),
                "p_value": float(res.pvalue),
            }
        else:
            res = stats.mannwhitneyu(a, b, alternative="two-sided")
            out = {
                "test": "mannwhitney",
                "statistic": float(res.statistic),
                "dof": np.nan,
                "p_value": float(res.pvalue),
            }
        out.update(effect="cohens_d", effect_size=cohens_d(b, a))
        return out
    if method == "welch":
        res = anova_oneway(arrays, use_var="unequal")
        out = {
            "test": "welch_anova",
            "statistic": float(res.statistic),
            "dof": float(res.df_denom),
            "p_value": float(res.pvalue),
        }
    else:
        res = stats.kruskal(*arrays)
        out = {
            "test": "kruskal",
            "statistic": float(res.statistic),
            "dof": float(len(arrays) - 1),
            "p_value": float(res.pvalue),
        }
    out.update(effect="eta_squared", effect_size=eta_squared(arrays))
    return out


# -- comparisons ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """Result of a comparison: one descriptive table per question and one test row per question (per option for multi)."""

    tests: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: secondary lines (t test beside a rank test, chi-square beside an ordered test), not BH-adjusted
    secondary: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TEST_COLUMNS))

    @property
    def family(self) -> str:
        """The Benjamini–Hochberg family of ``tests``, in French, for the notebook's text."""
        t = self.tests
        return (
            f"Benjamini-Hochberg sur les {len(t)} tests principaux de cette comparaison "
            f"({t['question'].nunique()} questions, une ligne par option des questions à choix multiples) ; "
            "les lignes secondaires ne sont pas ajustées"
        )

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
    method: str = "auto",
    ordered_test: str = "rank",
    fisher_below: float = 5,
    correction: bool = True,
    level: float = 0.95,
) -> Comparison:
    """Compare one question across the groups of ``by`` (those asked, with a non-missing group).

    ``tables[qid]`` is ``shares`` (single/multi) or ``scale_summary`` (numeric) by group; ``tests`` has the
    columns TEST_COLUMNS: one row (one per option for multi-select, BH-adjusted across options).
    ``method`` for numbers: "auto" (rank tests for 1–10 and 0–100 scales with the Welch test as a secondary
    line, Welch for other numbers), or "welch", "mannwhitney", "rank" for all. ``ordered_test`` for ordered
    single-choice questions: "rank" (Mann–Whitney / Kruskal–Wallis on the options' order) or "trend"
    (linear-by-linear association), the chi-square as a secondary line.
    """
    if ordered_test not in ("rank", "trend"):
        raise ValueError(f"ordered_test must be 'rank' or 'trend', not {ordered_test!r}")
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
        "question": q.id,
        "question_label": q.short,
        "by": name,
        "groups": " vs ".join(map(str, present)),
        "n": int(sum(ns)),
        "n_by": " / ".join(map(str, ns)),
        "base": codebook.base_label(qid),
    }
    two = len(present) == 2
    rows: list[dict] = []
    secondary: list[dict] = []
    if q.type == "single":
        table = shares(df, codebook, qid, by=s, level=level)
        codes = option_codes(df, q)
        counts = pd.DataFrame(
            [[int((codes[m] == o.code).sum()) for o in q.options] for m in in_level.values()],
            index=present,
            columns=q.codes,
        )
        chi = {
            **common,
            "option": pd.NA,
            "label": q.item if q.group else pd.NA,
            **contingency_test(counts, fisher_below=fisher_below, correction=correction, level=level),
            "difference": np.nan,
        }
        if q.ordered:
            rank_of = {c: i + 1 for i, c in enumerate(q.codes)}
            samples = [codes[m].map(rank_of).to_numpy(dtype=float) for m in in_level.values()]
            main = numeric_test(samples, "rank", level)
            if ordered_test == "trend":
                main.update(linear_by_linear(counts.to_numpy()))
            rows.append(
                {**common, "option": pd.NA, "label": q.item if q.group else pd.NA, **main, "difference": np.nan}
            )
            secondary.append(chi)
        else:
            rows.append(chi)
    elif q.type == "multi":
        table = shares(df, codebook, qid, by=s, level=level)
        for o, col in zip(q.options, q.columns):
            ticked = [int(df.loc[m, col].astype(bool).sum()) for m in in_level.values()]
            counts = np.array([[t, n - t] for t, n in zip(ticked, ns)])
            diff = 100.0 * (ticked[1] / ns[1] - ticked[0] / ns[0]) if two else np.nan
            rows.append(
                {
                    **common,
                    "option": o.code,
                    "label": o.label,
                    **contingency_test(counts, fisher_below=fisher_below, correction=correction, level=level),
                    "difference": diff,
                }
            )
    elif q.type in NUMERIC_TYPES:
        table = scale_summary(df, codebook, qid, by=s, level=level)
        samples = [pd.to_numeric(df.loc[m, qid]).astype("Float64").to_numpy(dtype=float) for m in in_level.values()]
        diff = float(samples[1].mean() - samples[0].mean()) if two else np.nan
        chosen = method if method != "auto" else ("rank" if q.type in ORDINAL_TYPES else "welch")
        rows.append(
            {**common, "option": pd.NA, "label": q.label, **numeric_test(samples, chosen, level), "difference": diff}
        )
        if method == "auto" and chosen == "rank":
            secondary.append(
                {
                    **common,
                    "option": pd.NA,
                    "label": q.label,
                    **numeric_test(samples, "welch", level),
                    "difference": diff,
                }
            )
    else:  # pragma: no cover - codebook validation forbids other types
        raise TypeError(f"unsupported type {q.type!r}")
    tests = _tests_frame(rows)
    return Comparison(tests=tests, tables={qid: table}, secondary=_tests_frame(secondary, adjust=False))


def _tests_frame(rows: list[dict], adjust: bool = True) -> pd.DataFrame:
    """Test rows in TEST_COLUMNS order, with BH-adjusted p-values across the rows (NaN when not ``adjust``)."""
    if not rows:
        return pd.DataFrame(columns=TEST_COLUMNS)
    out = pd.DataFrame(rows)
    for col in ("effect_df", "effect_ci_low", "effect_ci_high"):
        if col not in out.columns:
            out[col] = np.nan
    out["p_adjusted"] = bh_adjust(out["p_value"].to_numpy(dtype=float)) if adjust else np.nan
    out["verdict"] = [size_verdict(v, e, k) for v, e, k in zip(out["effect_size"], out["effect"], out["effect_df"])]
    out["dof"] = out["dof"].astype(float)
    out["effect_df"] = out["effect_df"].astype(float)
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
    parts = [r.secondary for r in results if len(r.secondary)]
    secondary = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TEST_COLUMNS)
    return Comparison(tests=tests, tables=tables, secondary=secondary)


def compare_waves(
    df: pd.DataFrame,
    codebook: Codebook,
    qids: str | Sequence[str],
    *,
    waves: Sequence[str] | None = None,
    alpha: float = 0.05,
    **options,
) -> Comparison:
    """Compare questions between waves (the codebook's wave column), BH-adjusted across all questions.

    Ordered options are compared with the linear-by-linear trend test. A non-significant difference is
    not evidence of homogeneity: see ``cnfs.equivalence.wave_equivalence``.
    """
    options.setdefault("ordered_test", "trend")
    return compare_questions(df, codebook, qids, codebook.wave_column, levels=waves, alpha=alpha, **options)
