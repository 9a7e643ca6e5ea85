"""Shares, scale summaries and intervals checked against values computed by hand on a 10-respondent frame."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from cnfs import scoring
from cnfs.codebook import parse_codebook
from cnfs.intervals import mean_ci, proportion_ci
from scipy import stats

Z = stats.norm.ppf(0.975)


def make_codebook():
    return parse_codebook(
        {
            "meta": {"waves": ["1", "2"]},
            "sections": {1: "Test"},
            "groups": {"bat": {"section": 1, "type": "scale10", "wording": "w", "short": "Batterie"}},
            "questions": [
                {
                    "id": "sector",
                    "section": 1,
                    "type": "single",
                    "wording": "w",
                    "short": "Secteur",
                    "options": [{"code": "public", "label": "Public"}, {"code": "prive", "label": "Privé"}],
                },
                {
                    "id": "cat",
                    "section": 1,
                    "type": "single",
                    "ordered": True,
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
                    "universe": {"question": "sector", "in": ["prive"]},
                    "options": [{"code": "x", "label": "X"}, {"code": "y", "label": "Y"}, {"code": "z", "label": "Z"}],
                },
                {"id": "i1", "group": "bat", "item": "Item 1"},
                {"id": "i2", "group": "bat", "item": "Item 2"},
                {"id": "s1", "section": 1, "type": "slider100", "wording": "w", "short": "Accord"},
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
    """Rows 0,1,2,5,6,7 are public (asked cat), rows 3,4,8,9 private (asked kinds); waves 1 = rows 0–4."""
    na = pd.NA
    return pd.DataFrame(
        {
            "respondent_id": [f"r{i}" for i in range(10)],
            "wave": pd.Categorical(["1"] * 5 + ["2"] * 5),
            "submitted_at": pd.to_datetime(["2021-12-01"] * 5 + ["2022-06-01"] * 5),
            "sector": pd.Categorical(
                ["Public", "Public", "Public", "Privé", "Privé", "Public", "Public", "Public", "Privé", "Privé"],
                categories=["Public", "Privé"],
            ),
            "cat": pd.Categorical(
                ["Cat A", "Cat B", "Cat C", None, None, "Cat B", "Cat C", "Cat C", None, None],
                categories=["Cat A", "Cat B", "Cat C"],
                ordered=True,
            ),
            "kinds__x": pd.array([na, na, na, True, False, na, na, na, True, True], dtype="boolean"),
            "kinds__y": pd.array([na, na, na, True, True, na, na, na, False, False], dtype="boolean"),
            "kinds__z": pd.array([na, na, na, False, False, na, na, na, False, False], dtype="boolean"),
            "i1": pd.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dtype="Int64"),
            "i2": pd.array([6, 6, 7, 7, 7, 7, 7, 8, 8, 7], dtype="Int64"),
            "s1": pd.array([80, 79, 100, 0, 50, 90, 10, 20, 30, 40], dtype="Int64"),
            "n_sites": pd.array([1, 1, 2, 5, 1, 3, 1, 2, 10, 1], dtype="Int64"),
        }
    )


@pytest.fixture
def cb():
    return make_codebook()


@pytest.fixture
def df():
    return make_frame()


def wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return 100 * (centre - half), 100 * (centre + half)


# -- intervals --------------------------------------------------------------------------------------
def test_proportion_ci_is_wilson_in_percent():
    assert proportion_ci(3, 6) == pytest.approx(wilson_by_hand(3, 6))
    low, high = proportion_ci(np.array([0, 2]), np.array([4, 0]))
    assert low[0] == 0 and high[0] == pytest.approx(wilson_by_hand(0, 4)[1])
    assert math.isnan(low[1]) and math.isnan(high[1])


def test_mean_ci_is_student_t():
    x = np.arange(1, 11, dtype=float)
    expected = stats.t.interval(0.95, df=9, loc=5.5, scale=np.std(x, ddof=1) / math.sqrt(10))
    assert mean_ci(x) == pytest.approx(expected)
    assert all(math.isnan(v) for v in mean_ci([4.0]))
    assert mean_ci([7, 7, 7]) == (7.0, 7.0)


# -- shares -----------------------------------------------------------------------------------------
def test_single_choice_shares_everyone(df, cb):
    t = scoring.shares(df, cb, "sector")
    assert list(t.columns) == [
        "question",
        "question_label",
        "option",
        "label",
        "count",
        "n",
        "percent",
        "ci_low",
        "ci_high",
        "rank",
        "base",
    ]
    assert t["option"].tolist() == ["public", "prive"]
    assert t["label"].tolist() == ["Public", "Privé"]
    assert t["count"].tolist() == [6, 4]
    assert t["n"].tolist() == [10, 10]
    assert t["percent"].tolist() == pytest.approx([60.0, 40.0])
    assert (t["ci_low"].iloc[0], t["ci_high"].iloc[0]) == pytest.approx(wilson_by_hand(6, 10))
    assert t["rank"].tolist() == [1, 2]
    assert set(t["base"]) == {"ensemble des répondants"}


def test_filtered_single_choice_counts_only_those_asked(df, cb):
    t = scoring.shares(df, cb, "cat")
    assert t["n"].tolist() == [6, 6, 6]  # the 4 private respondents were not asked
    assert t["count"].tolist() == [1, 2, 3]
    assert t["percent"].tolist() == pytest.approx([100 / 6, 200 / 6, 50.0])
    assert t["rank"].tolist() == [3, 2, 1]
    assert t["base"].iloc[0] == "répondants ayant répondu « Public » à « Secteur »"


def test_multi_select_denominator_is_respondents_asked(df, cb):
    t = scoring.shares(df, cb, "kinds")
    assert "mean_items" in t.columns
    assert t["n"].tolist() == [4, 4, 4]  # NA rows (public) excluded from n
    assert t["count"].tolist() == [3, 2, 0]
    assert t["percent"].tolist() == pytest.approx([75.0, 50.0, 0.0])
    assert t["mean_items"].iloc[0] == pytest.approx((2 + 1 + 1 + 1) / 4)
    assert (t["ci_low"].iloc[0], t["ci_high"].iloc[0]) == pytest.approx(wilson_by_hand(3, 4))
    assert t["base"].iloc[0] == "répondants ayant répondu « Privé » à « Secteur »"


def test_shares_by_wave(df, cb):
    t = scoring.shares(df, cb, "cat", by="wave")
    assert t.columns[0] == "wave"
    w1 = t[t["wave"] == "1"]
    w2 = t[t["wave"] == "2"]
    assert w1["n"].tolist() == [3, 3, 3] and w2["n"].tolist() == [3, 3, 3]
    assert w1["count"].tolist() == [1, 1, 1]
    assert w2["count"].tolist() == [0, 1, 2]
    assert w2["percent"].tolist() == pytest.approx([0, 100 / 3, 200 / 3])
    assert w2["rank"].tolist() == [3, 2, 1]  # rank within the group


def test_shares_by_series_and_codes_in_data(df, cb):
    coded = df.assign(sector=df["sector"].cat.rename_categories({"Public": "public", "Privé": "prive"}))
    assert scoring.shares(coded, cb, "sector")["count"].tolist() == [6, 4]
    group = pd.Series(["a"] * 8 + ["b"] * 2, index=df.index, name="grp")
    t = scoring.shares(df, cb, "kinds", by=group)
    assert t[t["grp"] == "a"]["n"].tolist() == [2, 2, 2]
    assert t[t["grp"] == "b"]["percent"].tolist() == pytest.approx([100.0, 0.0, 0.0])


def test_shares_reject_unknown_labels_and_numeric(df, cb):
    bad = df.assign(sector=pd.Categorical(["Public"] * 9 + ["Autre"]))
    with pytest.raises(ValueError, match="Autre"):
        scoring.shares(bad, cb, "sector")
    with pytest.raises(TypeError):
        scoring.shares(df, cb, "i1")


def test_combined_share(df, cb):
    t = scoring.combined_share(df, cb, "cat", ["B", "C"])
    assert t[["option", "label", "count", "n"]].iloc[0].tolist() == ["B+C", "Cat B ou Cat C", 5, 6]
    assert t["percent"].iloc[0] == pytest.approx(500 / 6)
    m = scoring.combined_share(df, cb, "kinds", ["y", "z"])
    assert (m["count"].iloc[0], m["n"].iloc[0]) == (2, 4)


def test_column_shares_of_a_derived_column(df):
    from cnfs.subgroups import site_mode

    t = scoring.column_shares(df, site_mode(df), question_label="Mode d'intervention")
    assert t["option"].tolist() == ["Mono-site", "Multi-sites"]
    assert t["count"].tolist() == [5, 5] and t["n"].tolist() == [10, 10]
    assert t["question_label"].iloc[0] == "Mode d'intervention"


def test_items_ticked(df, cb):
    t = scoring.items_ticked(df, cb, "kinds")
    row = t.iloc[0]
    assert row["n"] == 4
    assert row["mean"] == pytest.approx(1.25)
    assert row["sd"] == pytest.approx(np.std([2, 1, 1, 1], ddof=1))
    assert row["median"] == 1.0


# -- scales -----------------------------------------------------------------------------------------
def test_scale_summary_by_hand(df, cb):
    t = scoring.scale_summary(df, cb, "i1")
    assert list(t.columns) == [
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
    r = t.iloc[0]
    assert r["label"] == "Item 1" and r["question_label"] == "Batterie"
    assert r["n"] == 10 and r["mean"] == 5.5 and r["median"] == 5.5
    assert r["sd"] == pytest.approx(math.sqrt(82.5 / 9))
    assert r["top_box"] == pytest.approx(20.0)  # 9 and 10
    half = stats.t.ppf(0.975, 9) * math.sqrt(82.5 / 9) / math.sqrt(10)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((5.5 - half, 5.5 + half))


def test_battery_ranked_by_mean_and_sd(df, cb):
    t = scoring.battery_summary(df, cb, "bat")
    assert t["question"].tolist() == ["i1", "i2"]
    assert t["mean"].tolist() == pytest.approx([5.5, 7.0])
    assert t["sd"].iloc[1] == pytest.approx(math.sqrt(4 / 9))
    assert t["rank"].tolist() == [2, 1]
    assert t["sd_rank"].tolist() == [2, 1]  # 1 = smallest SD


def test_slider_top_box_and_override(df, cb):
    t = scoring.scale_summary(df, cb, "s1")
    assert t["top_box"].iloc[0] == pytest.approx(30.0)  # 80, 100, 90 are >= 80
    assert t["top_box_threshold"].iloc[0] == 80
    assert scoring.scale_summary(df, cb, "s1", top_box=50)["top_box"].iloc[0] == pytest.approx(
        50.0
    )  # 80, 79, 100, 50, 90
    assert math.isnan(scoring.scale_summary(df, cb, "n_sites")["top_box"].iloc[0])


def test_scale_summary_by_group(df, cb):
    t = scoring.scale_summary(df, cb, ["i1", "i2"], by="wave")
    assert t["wave"].tolist() == ["1", "1", "2", "2"]
    w1 = t[t["wave"] == "1"].set_index("question")
    assert w1.loc["i1", "mean"] == 3.0 and w1.loc["i2", "mean"] == pytest.approx(6.6)
    assert w1.loc["i2", "rank"] == 1 and w1.loc["i1", "rank"] == 2


def test_distribution(df, cb):
    d = scoring.distribution(df, cb, "i1")
    assert d["value"].tolist() == list(range(1, 11))
    assert d["percent"].tolist() == pytest.approx([10.0] * 10)
    s = scoring.distribution(df, cb, "s1")
    assert s["label"].iloc[0] == "0–9" and s["label"].iloc[-1] == "90–100"
    assert s["count"].tolist() == [1, 1, 1, 1, 1, 1, 0, 1, 1, 2]  # 100 falls in the last bin
    assert s["count"].sum() == 10


def test_scoring_does_not_import_matplotlib():
    code = "import sys, cnfs.scoring, cnfs.contrasts; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_option_codes_the_same_from_categories_from_text_and_from_codes(df, cb):
    """Codes by hand; a categorical column (looked up per category) gives exactly what its text gives."""
    q = cb["cat"]
    by_hand = ["A", "B", "C", None, None, "B", "C", "C", None, None]
    for column in (df["cat"], df["cat"].astype("string"), df["cat"].cat.rename_categories(["A", "B", "C"])):
        codes = scoring.option_codes(df.assign(cat=column), q)
        assert [c if isinstance(c, str) else None for c in codes] == by_hand and codes.name == "cat"
        pd.testing.assert_series_equal(codes, scoring.option_codes(df.assign(cat=column.astype(object)), q))
    unused = df.assign(cat=df["cat"].cat.add_categories(["Autre"]))  # a category nobody answered is no error
    pd.testing.assert_series_equal(scoring.option_codes(unused, q), scoring.option_codes(df, q))
    with pytest.raises(ValueError, match="Autre"):
        scoring.option_codes(unused.assign(cat=unused["cat"].where(df.index != 0, "Autre")), q)


def test_asked_is_every_column_of_the_question_answered(df, cb):
    assert scoring.asked(df, cb, "kinds").tolist() == [i in (3, 4, 8, 9) for i in range(10)]
    partly = df.assign(kinds__z=df["kinds__z"].where(df.index != 8))
    assert scoring.asked(partly, cb, "kinds").tolist() == [i in (3, 4, 9) for i in range(10)]
    asked = scoring.asked(df.set_index("respondent_id"), cb, "cat")
    assert asked.index.tolist() == df["respondent_id"].tolist() and asked.dtype == bool and asked.name is None
