"""Effect sizes, tests, BH adjustment, subgroup and wave comparisons against hand computations and scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from cnfs import contrasts
from cnfs.codebook import parse_codebook
from cnfs.subgroups import cut_numeric, group_options, site_mode, with_subgroup
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.oneway import anova_oneway

PUBLIC, PRIVATE, OTHER = "Structure publique", "Structure privée", "Autre statut"


def make_codebook():
    return parse_codebook(
        {
            "meta": {"waves": ["1", "2"]},
            "sections": {1: "Test"},
            "questions": [
                {
                    "id": "sector",
                    "section": 1,
                    "type": "single",
                    "wording": "w",
                    "short": "Secteur",
                    "options": [
                        {"code": "public", "label": PUBLIC},
                        {"code": "prive", "label": PRIVATE},
                        {"code": "autre", "label": OTHER},
                    ],
                },
                {
                    "id": "created",
                    "section": 1,
                    "type": "single",
                    "wording": "w",
                    "short": "Création de poste",
                    "options": [
                        {"code": "creation", "label": "Création"},
                        {"code": "equivalent", "label": "Équivalent"},
                    ],
                },
                {
                    "id": "cat",
                    "section": 1,
                    "type": "single",
                    "wording": "w",
                    "short": "Catégorie",
                    "universe": {"question": "sector", "in": ["public"]},
                    "options": [
                        {"code": "A", "label": "Cat A"},
                        {"code": "B", "label": "Cat B"},
                        {"code": "C", "label": "Cat C"},
                    ],
                },
                {
                    "id": "kinds",
                    "section": 1,
                    "type": "multi",
                    "wording": "w",
                    "short": "Genres",
                    "options": [{"code": "x", "label": "X"}, {"code": "y", "label": "Y"}],
                },
                {"id": "score", "section": 1, "type": "scale10", "wording": "w", "short": "Score"},
                {
                    "id": "n_sites",
                    "section": 1,
                    "type": "number",
                    "min": 1,
                    "max": 60,
                    "wording": "w",
                    "short": "Sites",
                },
            ],
        }
    )


def make_frame() -> pd.DataFrame:
    """40 respondents: wave 1 = rows 0–19; sectors public 24, private 12, other 4 (deterministic patterns)."""
    n = 40
    idx = np.arange(n)
    sector = np.where(idx % 10 < 6, PUBLIC, np.where(idx % 10 < 9, PRIVATE, OTHER))
    created = np.where((idx % 7 < 5) & (sector == PUBLIC) | (idx % 3 == 0), "Création", "Équivalent")
    cat = np.where(sector == PUBLIC, np.array(["Cat A", "Cat B", "Cat C"])[idx % 3], None)
    wave1 = idx < 20
    x = (idx % 2 == 0) | (wave1 & (idx % 5 == 0))
    y = np.where(wave1, idx % 4 == 0, idx % 4 != 0)
    score = np.where(wave1, 3 + idx % 5, 5 + idx % 6)
    sites = 1 + (idx % 4) * (idx % 3)
    return pd.DataFrame(
        {
            "respondent_id": [f"r{i}" for i in idx],
            "wave": pd.Categorical(np.where(wave1, "1", "2")),
            "sector": pd.Categorical(sector, categories=[PUBLIC, PRIVATE, OTHER]),
            "created": pd.Categorical(created, categories=["Création", "Équivalent"]),
            "cat": pd.Categorical(cat, categories=["Cat A", "Cat B", "Cat C"], ordered=True),
            "kinds__x": pd.array(x, dtype="boolean"),
            "kinds__y": pd.array(y, dtype="boolean"),
            "score": pd.array(score, dtype="Int64"),
            "n_sites": pd.array(sites, dtype="Int64"),
        }
    )


@pytest.fixture
def cb():
    return make_codebook()


@pytest.fixture
def df():
    return make_frame()


# -- effect sizes, verdicts, BH ---------------------------------------------------------------------
def test_cramers_v_by_hand_2x2():
    table = np.array([[10, 20], [30, 40]])
    # expected counts 12, 18, 28, 42 -> chi2 = 4/12 + 4/18 + 4/28 + 4/42
    chi2 = 4 / 12 + 4 / 18 + 4 / 28 + 4 / 42
    assert contrasts.cramers_v(table) == pytest.approx(math.sqrt(chi2 / 100))


def test_cramers_v_by_hand_2x3_and_empty_lines():
    table = np.array([[20, 10, 10], [10, 20, 30]])
    rows, cols, total = table.sum(1), table.sum(0), table.sum()
    expected = np.outer(rows, cols) / total
    chi2 = ((table - expected) ** 2 / expected).sum()
    v = math.sqrt(chi2 / (total * 1))
    assert contrasts.cramers_v(table) == pytest.approx(v)
    padded = np.array([[20, 0, 10, 10], [10, 0, 20, 30], [0, 0, 0, 0]])
    assert contrasts.cramers_v(padded) == pytest.approx(v)
    assert math.isnan(contrasts.cramers_v([[3, 4], [0, 0]]))


def test_cohens_d_and_eta_squared_by_hand():
    assert contrasts.cohens_d([1, 2, 3], [3, 4, 5]) == pytest.approx(-2.0)
    # groups [1,2,3] and [3,4,5]: grand mean 3, between = 3*1 + 3*1 = 6, total = 4+1+0+0+1+4 = 10
    assert contrasts.eta_squared([[1, 2, 3], [3, 4, 5]]) == pytest.approx(0.6)


def test_size_verdict_thresholds():
    v = contrasts.size_verdict
    assert [v(x, "cramers_v") for x in (0.05, 0.1, 0.29, 0.3, 0.5)] == [
        "négligeable",
        "faible",
        "faible",
        "moyen",
        "fort",
    ]
    assert [v(x, "cohens_d") for x in (-0.1, -0.2, 0.6, -0.9)] == ["négligeable", "faible", "moyen", "fort"]
    assert v(float("nan"), "cohens_d") == "non calculable"


def test_bh_adjust_on_known_pvalues():
    p = [0.01, 0.04, 0.03, 0.20, float("nan")]
    # sorted 0.01, 0.03, 0.04, 0.20 (m = 4): 0.04, 0.06, 0.0533, 0.20 -> step-up minimum
    expected = [0.04, 0.16 / 3, 0.16 / 3, 0.20]
    out = contrasts.bh_adjust(p)
    assert out[:4] == pytest.approx(expected)
    assert math.isnan(out[4])
    assert out[:4] == pytest.approx(multipletests(p[:4], method="fdr_bh")[1])


# -- tests ------------------------------------------------------------------------------------------
def test_contingency_test_matches_scipy_and_uses_fisher_when_small():
    big = np.array([[30, 10], [15, 25]])
    res = contrasts.contingency_test(big)
    chi2, p, dof, _ = stats.chi2_contingency(big)
    assert (res["test"], res["statistic"], res["p_value"], res["dof"]) == (
        "chi2",
        pytest.approx(chi2),
        pytest.approx(p),
        1,
    )
    small = np.array([[3, 1], [1, 4]])
    res = contrasts.contingency_test(small)
    fisher = stats.fisher_exact(small)
    assert res["test"] == "fisher"
    assert res["p_value"] == pytest.approx(fisher.pvalue)
    assert res["statistic"] == pytest.approx(fisher.statistic)


def test_numeric_test_matches_scipy():
    a, b, c = [1, 2, 3, 4, 8], [2, 3, 5, 9, 9, 10], [5, 6, 7]
    res = contrasts.numeric_test([a, b])
    t = stats.ttest_ind(a, b, equal_var=False)
    assert res["test"] == "welch_t"
    assert (res["statistic"], res["p_value"], res["dof"]) == pytest.approx((t.statistic, t.pvalue, t.df))
    assert res["effect_size"] == pytest.approx(contrasts.cohens_d(b, a))
    mw = contrasts.numeric_test([a, b], method="mannwhitney")
    u = stats.mannwhitneyu(a, b, alternative="two-sided")
    assert (mw["statistic"], mw["p_value"]) == pytest.approx((u.statistic, u.pvalue))
    three = contrasts.numeric_test([a, b, c])
    welch = anova_oneway([a, b, c], use_var="unequal")
    assert three["test"] == "welch_anova" and three["p_value"] == pytest.approx(welch.pvalue)
    assert three["effect"] == "eta_squared"
    kw = contrasts.numeric_test([a, b, c], method="mannwhitney")
    assert kw["p_value"] == pytest.approx(stats.kruskal(a, b, c).pvalue)


# -- comparisons ------------------------------------------------------------------------------------
def test_subgroup_contrast_public_vs_private(df, cb):
    comp = contrasts.compare_groups(df, cb, "created", "sector", levels=[PUBLIC, PRIVATE])
    t = comp.tests.iloc[0]
    sub = df[df["sector"].isin([PUBLIC, PRIVATE])]
    table = pd.crosstab(sub["sector"].astype(str), sub["created"].astype(str)).loc[[PUBLIC, PRIVATE]]
    assert t["n"] == 36 and t["n_by"] == "24 / 12" and t["groups"] == f"{PUBLIC} vs {PRIVATE}"
    _, _, _, expected = stats.chi2_contingency(table.to_numpy())
    assert expected.min() < 5  # 2×2 with a small expected count -> Fisher exact
    fisher = stats.fisher_exact(table.to_numpy())
    assert t["test"] == "fisher"
    assert (t["p_value"], t["statistic"]) == pytest.approx((fisher.pvalue, fisher.statistic))
    assert t["effect_size"] == pytest.approx(stats.contingency.association(table.to_numpy(), method="cramer"))
    assert t["verdict"] == contrasts.size_verdict(t["effect_size"], "cramers_v")
    shares = comp.table
    assert shares.columns[0] == "sector" and set(shares["sector"]) == {PUBLIC, PRIVATE}
    pub = shares[(shares["sector"] == PUBLIC) & (shares["option"] == "creation")].iloc[0]
    assert pub["count"] == table.loc[PUBLIC, "Création"] and pub["n"] == 24


def test_subgroup_contrast_on_filtered_question_by_derived_group(df, cb):
    grp = site_mode(df)
    comp = contrasts.compare_groups(df, cb, "cat", grp)
    t = comp.tests.iloc[0]
    public = df["sector"] == PUBLIC
    assert t["n"] == int(public.sum()) == 24  # only those asked cat
    table = pd.crosstab(grp[public], df.loc[public, "cat"]).to_numpy()
    chi2, p, dof, expected = stats.chi2_contingency(table)
    # 2×3 with expected counts below 5: seeded Monte Carlo p-value (checked against R in test_tests_choice.py)
    assert expected.min() < 5
    assert t["test"] == "chi2_mc" and t["dof"] == dof and t["effect_df"] == 1
    assert t["statistic"] == pytest.approx(chi2)


def test_numeric_contrast_difference_and_d(df, cb):
    comp = contrasts.compare_groups(df, cb, "score", "wave")
    t = comp.tests.iloc[0]
    a = df.loc[df["wave"] == "1", "score"].astype(float).to_numpy()
    b = df.loc[df["wave"] == "2", "score"].astype(float).to_numpy()
    # a 1–10 scale: Mann–Whitney and the rank-biserial correlation first, Welch and d as the secondary line
    u = stats.mannwhitneyu(a, b, alternative="two-sided")
    assert t["test"] == "mannwhitney" and t["p_value"] == pytest.approx(u.pvalue)
    pairs = np.sign(b[None, :] - a[:, None])  # by hand: P(b > a) − P(b < a) over all pairs
    assert t["effect"] == "rank_biserial" and t["effect_size"] == pytest.approx(pairs.mean())
    assert t["difference"] == pytest.approx(b.mean() - a.mean())
    sec = comp.secondary.iloc[0]
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert sec["test"] == "welch_t" and sec["p_value"] == pytest.approx(ref.pvalue)
    assert sec["effect_size"] == pytest.approx(contrasts.cohens_d(b, a)) and np.isnan(sec["p_adjusted"])
    assert comp.table["mean"].tolist() == pytest.approx([a.mean(), b.mean()])


def test_wave_comparison_of_several_questions(df, cb):
    comp = contrasts.compare_waves(df, cb, ["created", "kinds", "score"])
    tests = comp.tests
    assert tests["question"].tolist() == ["created", "kinds", "kinds", "score"]
    assert tests["option"].iloc[1:3].tolist() == ["x", "y"]
    # per-option test of the multi-select question against scipy on the 2×2 table
    for code, row in zip(["x", "y"], tests.iloc[1:3].itertuples()):
        col = df[f"kinds__{code}"].astype(bool)
        table = pd.crosstab(df["wave"], col).to_numpy()
        chi2, p, _, expected = stats.chi2_contingency(table)
        ref = stats.fisher_exact(table).pvalue if expected.min() < 5 else p
        assert row.p_value == pytest.approx(ref)
        share1, share2 = col[df["wave"] == "1"].mean(), col[df["wave"] == "2"].mean()
        assert row.difference == pytest.approx(100 * (share2 - share1))
    assert tests["p_adjusted"].tolist() == pytest.approx(
        multipletests(tests["p_value"].to_numpy(), method="fdr_bh")[1].tolist()
    )
    assert tests["significant"].tolist() == (tests["p_adjusted"] < 0.05).tolist()
    assert set(comp.tables) == {"created", "kinds", "score"}
    assert set(tests["verdict"]) <= {"négligeable", "faible", "moyen", "fort"}


def test_wave_comparison_of_question_asked_in_one_group_only(df, cb):
    only_w2 = df.assign(score=df["score"].where(df["wave"] == "2"))
    t = contrasts.compare_waves(only_w2, cb, "score").tests.iloc[0]
    assert t["test"] == "none" and math.isnan(t["p_value"]) and t["verdict"] == "non calculable"


def test_unknown_level_is_an_error(df, cb):
    with pytest.raises(KeyError):
        contrasts.compare_groups(df, cb, "created", "sector", levels=["Public"])


# -- derived subgroups ------------------------------------------------------------------------------
def test_cut_numeric_and_site_mode():
    frame = pd.DataFrame({"n_sites": pd.array([1, 2, 5, pd.NA, 1], dtype="Int64")})
    s = site_mode(frame)
    assert s.name == "site_mode"
    assert s.astype(object).tolist()[:3] == ["Mono-site", "Multi-sites", "Multi-sites"]
    assert pd.isna(s.iloc[3]) and s.iloc[4] == "Mono-site"
    b = cut_numeric(frame, "n_sites", [1, 2, 6, 61], ["1", "2–5", "6+"], name="bins")
    assert b.astype(object).tolist()[:3] == ["1", "2–5", "2–5"] and b.cat.ordered
    with pytest.raises(ValueError):
        cut_numeric(frame, "n_sites", [1, 2], ["a", "b"])


def test_group_options_and_with_subgroup(df, cb):
    g = group_options(df, cb, "cat", {"A ou B": ["A", "B"], "C": ["C"]}, name="cat_group")
    public = df["sector"] == PUBLIC
    assert g[~public].isna().all()
    assert (g[public] == "C").sum() == (df["cat"] == "Cat C").sum()
    out = with_subgroup(df, g)
    assert "cat_group" in out.columns and "cat_group" not in df.columns
    with pytest.raises(KeyError):
        group_options(df, cb, "cat", {"D": ["D"]})
