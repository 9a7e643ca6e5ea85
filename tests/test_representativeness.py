"""Representativeness (sample against population margins) and weighted notebook tables."""

from __future__ import annotations

import numpy as np
import pytest
from cnfs.representativeness import goodness_of_fit
from scipy import stats


def test_goodness_of_fit_by_hand():
    obs, shares = [70, 20, 10], [60, 30, 10]
    expected = np.array([60.0, 30.0, 10.0])
    chi2 = float(((np.array(obs) - expected) ** 2 / expected).sum())
    res = goodness_of_fit(obs, shares)
    assert res["test"] == "chi2" and res["statistic"] == pytest.approx(chi2)
    assert res["p_value"] == pytest.approx(stats.chi2.sf(chi2, 2))


def test_goodness_of_fit_small_expected_uses_monte_carlo():
    res = goodness_of_fit([45, 3, 2], [90, 8, 2])  # expected 45, 4, 1
    assert res["test"] == "chi2_mc"
    assert res["p_value"] == goodness_of_fit([45, 3, 2], [90, 8, 2])["p_value"]  # seeded
    # the simulated p-value is close to the exact multinomial one (sum over all outcomes as extreme)
    p = np.array([0.9, 0.08, 0.02])
    e = 50 * p
    obs_stat = ((np.array([45, 3, 2]) - e) ** 2 / e).sum()
    exact = 0.0
    for a in range(51):
        for b in range(51 - a):
            c = 50 - a - b
            x = np.array([a, b, c])
            if ((x - e) ** 2 / e).sum() >= obs_stat - 1e-9:
                exact += stats.multinomial.pmf(x, 50, p)
    assert abs(res["p_value"] - exact) < 0.01


def test_weighted_report_tables_state_weights_and_deff(twin_path, tmp_path):
    from cnfs.notebook import Report

    r = Report(wave="2", output_dir=str(tmp_path), section=2, weighting="raking")
    res = r.shares("education")
    assert "Effet de plan" in res.table.columns and "weights" in res.data
    assert any("pondérées" in n for n in res.notes)
    plain = Report(wave="2", output_dir=str(tmp_path), section=2)
    assert "Effet de plan" not in plain.shares("education").table.columns
    rep = plain.representativeness()
    assert set(rep.data["wave"]) == {"1", "2", "all"}
    for _, g in rep.data.groupby("wave"):
        assert g["population_percent"].sum() == pytest.approx(100)
        assert g["sample_n"].sum() == g["n"].iloc[0]


def test_weighted_figures_beside_published_are_design_estimates(twin_path):
    from cnfs.codebook import load_codebook
    from cnfs.design import estimate, make_design, weighted_figure
    from cnfs.loader import load_survey
    from cnfs.reference import load_published

    s = load_survey()
    cb = load_codebook()
    design = make_design(s.data, cb, weighting="raking", fpc=True)
    pub = load_published().set_index("id")
    row = pub.loc["S2_edu_bac3plus"]
    assert row["question"] == "education" and row["statistic"] == "share"
    direct = estimate(s.data, cb, "education", design).set_index("option").loc["bac3plus", "estimate"]
    assert weighted_figure(row, s.data, cb, design) == pytest.approx(100 * direct, rel=1e-12)
    assert "correction de population finie (N = 2\u202f678)" in design.label and "," in design.label
