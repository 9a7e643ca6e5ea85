"""Test choices a methodologist would sign: small-count r×c tables, rank tests for ordinal answers,
table-size-dependent Cramér's V verdicts, trend tests, and equivalence (TOST) of waves — including that
the wave comparison and the equivalence code detect differences planted in test data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cnfs import contrasts
from cnfs.codebook import parse_codebook
from cnfs.equivalence import EQUIVALENT, NOT_SHOWN, equivalence_margins, equivalence_summary, wave_equivalence
from scipy import stats

REF = pd.read_csv(Path(__file__).parent / "reference" / "tests_reference.csv")


def _table(row) -> np.ndarray:
    return np.array([int(v) for v in row.cells.split()]).reshape(int(row.nrow), -1)


# -- r×c tables with small expected counts -----------------------------------------------------------
@pytest.mark.parametrize("i", range(len(REF)))
def test_monte_carlo_p_value_agrees_with_r(i):
    row = REF.iloc[i]
    t = _table(row)
    res = contrasts.contingency_test(t)
    assert res["test"] == "chi2_mc"
    assert res["statistic"] == pytest.approx(row.chi2, rel=1e-12)
    # R's p-value (B = 2 000 000) is nearly exact; ours has B = 20 000: allow 4 Monte Carlo standard errors
    se = np.sqrt(row.p_monte_carlo * (1 - row.p_monte_carlo) / contrasts.MONTE_CARLO_REPLICATES)
    assert abs(res["p_value"] - row.p_monte_carlo) < 4 * se + 1 / contrasts.MONTE_CARLO_REPLICATES
    assert contrasts.contingency_test(t)["p_value"] == res["p_value"]  # seeded: reproducible


def test_large_counts_keep_the_asymptotic_chi2_and_2x2_keeps_fisher():
    big = np.array([[40, 30, 20], [35, 38, 25]])
    assert contrasts.contingency_test(big)["test"] == "chi2"
    assert contrasts.contingency_test(np.array([[3, 1], [1, 4]]))["test"] == "fisher"
    assert "Monte Carlo" in contrasts.TEST_LABELS["chi2_mc"]


@pytest.mark.parametrize("i", range(len(REF)))
def test_linear_by_linear_trend_agrees_with_r(i):
    row = REF.iloc[i]
    res = contrasts.linear_by_linear(_table(row))
    assert res["statistic"] == pytest.approx(row.lbl_m2, rel=1e-10)
    assert res["p_value"] == pytest.approx(row.lbl_p, rel=1e-9)


# -- Cramér's V verdicts depend on the table's size -------------------------------------------------
def test_cramers_v_thresholds_depend_on_degrees_of_freedom():
    # Cohen's w thresholds 0.1 / 0.3 / 0.5, divided by √(min(r, c) − 1)
    assert contrasts.cramers_v_thresholds(1) == pytest.approx((0.1, 0.3, 0.5))
    assert contrasts.cramers_v_thresholds(4) == pytest.approx((0.05, 0.15, 0.25))
    assert contrasts.size_verdict(0.2, "cramers_v", 1) == "faible"
    assert contrasts.size_verdict(0.2, "cramers_v", 4) == "moyen"
    assert contrasts.size_verdict(0.08, "cramers_v", 4) == "faible"
    t = np.array([[10, 2, 3, 8], [3, 9, 2, 4], [4, 4, 10, 3]])
    res = contrasts.contingency_test(t)
    assert res["effect_df"] == 2


def test_rank_effect_sizes_by_hand():
    a, b = [1, 2, 3, 3], [3, 4, 5]
    # pairs (b > a) − (b < a): 12 pairs, b wins 10, ties 2 (3 vs 3 twice), loses 0
    assert contrasts.rank_biserial(a, b) == pytest.approx(10 / 12)
    h = stats.kruskal(a, b, [2, 2, 6]).statistic
    assert contrasts.epsilon_squared(h, 10) == pytest.approx(h / 9)
    res = contrasts.numeric_test([a, b, [2, 2, 6]], "rank")
    assert res["test"] == "kruskal" and res["effect"] == "epsilon_squared"


# -- planted differences between waves are detected; identical waves are shown equivalent -----------
def _codebook():
    return parse_codebook(
        {
            "meta": {"waves": ["1", "2"]},
            "sections": {1: "T"},
            "questions": [
                {
                    "id": "choice",
                    "section": 1,
                    "type": "single",
                    "wording": "w",
                    "short": "Choix",
                    "options": [{"code": "a", "label": "A"}, {"code": "b", "label": "B"}, {"code": "c", "label": "C"}],
                },
                {
                    "id": "level",
                    "section": 1,
                    "type": "single",
                    "ordered": True,
                    "wording": "w",
                    "short": "Niveau",
                    "options": [
                        {"code": "l1", "label": "1"},
                        {"code": "l2", "label": "2"},
                        {"code": "l3", "label": "3"},
                        {"code": "l4", "label": "4"},
                    ],
                },
                {
                    "id": "ticks",
                    "section": 1,
                    "type": "multi",
                    "wording": "w",
                    "short": "Cases",
                    "options": [{"code": "x", "label": "X"}, {"code": "y", "label": "Y"}],
                },
                {"id": "note", "section": 1, "type": "scale10", "wording": "w", "short": "Note"},
            ],
        }
    )


def _wave(n: int, choice: list, level: list, x_rate: float, note_shift: int) -> pd.DataFrame:
    """n answers in exact proportions (deterministic repeating patterns, no randomness)."""
    i = np.arange(n)

    def cycle(labels_weights):
        pattern = [lab for lab, k in labels_weights for _ in range(k)]
        return [pattern[j % len(pattern)] for j in i]

    notes = np.clip(np.array([5, 6, 7, 7, 8, 8, 8, 9, 9, 10])[i % 10] + note_shift, 1, 10)
    return pd.DataFrame(
        {
            "choice": cycle(choice),
            "level": cycle(level),
            "ticks__x": (i % 100) < 100 * x_rate,
            "ticks__y": (i % 2) == 0,
            "note": notes,
        }
    )


def _frame(planted: bool, n: int = 1000) -> pd.DataFrame:
    base = dict(
        choice=[("A", 4), ("B", 4), ("C", 2)], level=[("1", 2), ("2", 3), ("3", 3), ("4", 2)], x_rate=0.3, note_shift=0
    )
    second = (
        dict(
            choice=[("A", 6), ("B", 2), ("C", 2)],
            level=[("1", 1), ("2", 2), ("3", 3), ("4", 4)],
            x_rate=0.5,
            note_shift=-2,
        )
        if planted
        else base
    )
    df = pd.concat([_wave(n, **base).assign(wave="1"), _wave(n, **second).assign(wave="2")], ignore_index=True)
    cb = _codebook()
    df["choice"] = pd.Categorical(df["choice"], categories=["A", "B", "C"])
    df["level"] = pd.Categorical(df["level"], categories=["1", "2", "3", "4"], ordered=True)
    for c in ("ticks__x", "ticks__y"):
        df[c] = df[c].astype("boolean")
    df["note"] = df["note"].astype("Int64")
    df["wave"] = pd.Categorical(df["wave"], categories=["1", "2"])
    return df, cb


QIDS = ["choice", "level", "ticks", "note"]


def test_planted_differences_are_detected():
    df, cb = _frame(planted=True)
    comp = contrasts.compare_waves(df, cb, QIDS)
    keys = comp.tests["question"] + ":" + comp.tests["option"].fillna("-").astype(str)
    t = comp.tests.set_index(keys)
    for key in ["choice:-", "level:-", "ticks:x", "note:-"]:
        assert t.loc[key, "significant"], key
    assert not t.loc["ticks:y", "significant"]  # y was not changed
    assert t.loc["level:-", "test"] == "trend" and t.loc["note:-", "test"] == "mannwhitney"
    eq = wave_equivalence(df, cb, QIDS)
    per_q = eq.drop_duplicates("question").set_index("question")["question_equivalent"]
    assert not per_q["choice"] and not per_q["level"] and not per_q["ticks"] and not per_q["note"]
    y = eq[(eq["question"] == "ticks") & (eq["option"] == "y")].iloc[0]
    assert y["equivalent"] and y["verdict"] == EQUIVALENT  # the unchanged option is shown equivalent


def test_identical_waves_are_shown_equivalent_not_just_not_different():
    df, cb = _frame(planted=False)
    comp = contrasts.compare_waves(df, cb, QIDS)
    assert not comp.tests["significant"].any()
    eq = wave_equivalence(df, cb, QIDS)
    assert eq["equivalent"].all()
    summary = equivalence_summary(eq)
    assert summary.loc[EQUIVALENT, "Questions"] == 4 and summary.loc[NOT_SHOWN, "Questions"] == 0


def test_small_identical_waves_are_not_called_equivalent():
    """With 20 answers per wave, identical shares still leave an interval wider than ± 5 points."""
    df, cb = _frame(planted=False, n=20)
    eq = wave_equivalence(df, cb, ["choice"])
    assert not eq["equivalent"].any() and set(eq["verdict"]) == {NOT_SHOWN}


def test_tost_for_shares_and_means_by_hand():
    df, cb = _frame(planted=True)
    m = equivalence_margins()
    eq = wave_equivalence(df, cb, ["ticks", "note"]).set_index("option")
    # shares: two one-sided z tests on the Wald difference, margin in points
    p1, p2, n = 0.3, 0.5, 1000
    se = np.sqrt(p1 * (1 - p1) / n + p2 * (1 - p2) / n)
    d, delta = p2 - p1, m["proportion_points"] / 100
    p_tost = max(stats.norm.sf((d + delta) / se), stats.norm.cdf((d - delta) / se))
    assert eq.loc["x", "p_value"] == pytest.approx(p_tost, rel=1e-9)
    z = stats.norm.ppf(1 - m["alpha"])
    assert (eq.loc["x", "ci_low"], eq.loc["x", "ci_high"]) == pytest.approx((100 * (d - z * se), 100 * (d + z * se)))
    # means: Welch TOST with a margin of 0.2 pooled SD
    a = df.loc[df["wave"] == "1", "note"].astype(float).to_numpy()
    b = df.loc[df["wave"] == "2", "note"].astype(float).to_numpy()
    pooled = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)  # equal n
    margin = m["standardized_mean"] * pooled
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    diff = b.mean() - a.mean()
    p = max(stats.t.sf((diff + margin) / se, dof), stats.t.cdf((diff - margin) / se, dof))
    assert eq.loc["mean", "p_value"] == pytest.approx(p, rel=1e-9)
    assert eq.loc["mean", "margin"] == pytest.approx(margin)


def test_bh_family_is_stated():
    df, cb = _frame(planted=True)
    comp = contrasts.compare_waves(df, cb, QIDS)
    assert f"{len(comp.tests)} tests principaux" in comp.family
    assert len(comp.secondary) == 2  # chi-square beside the trend test, Welch beside Mann–Whitney
    assert comp.secondary["p_adjusted"].isna().all()
