"""Intervals of the effect sizes (cnfs.contrasts) against R's effectsize package (reference values
computed by tests/reference/effect_ci_reference.R, committed beside it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cnfs import contrasts

REF = pd.read_csv(Path(__file__).parent / "reference" / "effect_ci_reference.csv").set_index(["case", "effect"])
X = [3, 5, 4, 6, 7, 5, 4, 8, 6, 5, 7, 6, 4, 5, 9]
Y = [6, 7, 5, 8, 9, 7, 6, 10, 8, 7, 6, 9, 8]
Z = [5, 6, 4, 7, 8, 6, 5, 9]
SMALL = ([2, 4, 3], [5, 4, 6, 7])
TABLES = {
    "t2x2": [[30, 20], [18, 32]],
    "t2x4": [[10, 8, 3, 1], [4, 7, 9, 6]],
    "t3x4": [[14, 11, 6, 12], [12, 15, 11, 9], [7, 12, 16, 13]],
    "t2x3_null": [[50, 40, 30], [51, 39, 31]],
}
ROOT_TOL = 1e-6  # the bounds solved with R's uniroot
EFFECTSIZE_TOL = 2e-3  # effectsize's own optim stops up to ~1e-3 from the bound


def _check(res: dict, case: str, effect: str) -> None:
    ref = REF.loc[(case, effect)]
    assert res["effect"] == effect
    assert res["effect_size"] == pytest.approx(ref["estimate"], abs=1e-9)
    assert res["effect_ci_low"] == pytest.approx(ref["ci_low_root"], abs=ROOT_TOL)
    assert res["effect_ci_high"] == pytest.approx(ref["ci_high_root"], abs=ROOT_TOL)
    assert res["effect_ci_low"] == pytest.approx(ref["ci_low"], abs=EFFECTSIZE_TOL)
    assert res["effect_ci_high"] == pytest.approx(ref["ci_high"], abs=EFFECTSIZE_TOL)


@pytest.mark.parametrize("case, samples", [("x_y", (X, Y)), ("small", SMALL)])
def test_cohens_d_interval_matches_effectsize(case, samples):
    _check(contrasts.numeric_test(samples, "welch"), case, "cohens_d")


@pytest.mark.parametrize("case, samples", [("x_y", (X, Y)), ("small", SMALL)])
def test_rank_biserial_interval_matches_effectsize(case, samples):
    _check(contrasts.numeric_test(samples, "rank"), case, "rank_biserial")


def test_eta_squared_interval_matches_effectsize():
    _check(contrasts.numeric_test([X, Y, Z], "welch"), "x_y_z", "eta_squared")


@pytest.mark.parametrize("case", sorted(TABLES))
def test_cramers_v_interval_matches_effectsize(case):
    _check(contrasts.contingency_test(np.array(TABLES[case])), case, "cramers_v")


def test_interval_level_widens_and_epsilon_has_none():
    narrow = contrasts.numeric_test((X, Y), "welch", level=0.80)
    wide = contrasts.numeric_test((X, Y), "welch", level=0.99)
    assert wide["effect_ci_low"] < narrow["effect_ci_low"] < narrow["effect_size"] < narrow["effect_ci_high"]
    assert narrow["effect_ci_high"] < wide["effect_ci_high"]
    kw = contrasts.numeric_test([X, Y, Z], "rank")
    assert kw["effect"] == "epsilon_squared" and np.isnan(kw["effect_ci_low"]) and np.isnan(kw["effect_ci_high"])


def test_every_wave_comparison_row_has_an_interval(tmp_path):
    from cnfs.loader import load_survey

    df, cb = load_survey(None, "all")
    qids = [q.id for q in cb.questions.values() if q.type != "text"]
    tests = contrasts.compare_waves(df, cb, qids).tests
    assert {"effect_ci_low", "effect_ci_high"} <= set(tests.columns)
    ok = tests["test"] != "none"
    assert tests.loc[ok, ["effect_ci_low", "effect_ci_high"]].notna().all().all()
    assert (tests.loc[ok, "effect_ci_low"] <= tests.loc[ok, "effect_ci_high"]).all()
    # one row recomputed independently: Cohen's d of the first numeric question, from its own samples
    row = tests[tests["effect"] == "cohens_d"].iloc[0]
    w = df[cb.wave_column].astype(str)
    n1, n2 = (int(df.loc[w == lv, row["question"]].notna().sum()) for lv in ("1", "2"))
    d = row["effect_size"]
    se = np.sqrt((n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2)))  # Hedges & Olkin's normal approximation
    assert row["effect_ci_low"] == pytest.approx(d - 1.959964 * se, abs=5e-3)
    assert row["effect_ci_high"] == pytest.approx(d + 1.959964 * se, abs=5e-3)
