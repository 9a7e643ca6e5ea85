"""Published-vs-computed comparison on a small frame whose figures are computed by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from cnfs.codebook import parse_codebook
from cnfs.compare import CONTEXT, NOT_REPRODUCED, REPRODUCED, compute_figure, judge, reproduction_table

CB = parse_codebook(
    {
        "meta": {"waves": ["1", "2"]},
        "sections": {1: "s"},
        "groups": {"g": {"section": 1, "type": "scale10", "wording": "w", "short": "G"}},
        "questions": [
            {"id": "sector", "section": 1, "type": "single", "wording": "w", "short": "Secteur",
             "options": [{"code": "pub", "label": "Public"}, {"code": "pri", "label": "Privé"}]},
            {"id": "kinds", "section": 1, "type": "multi", "wording": "w", "short": "Types",
             "universe": {"question": "sector", "in": ["pub"]},
             "options": [{"code": "x", "label": "X"}, {"code": "y", "label": "Y"}]},
            {"id": "a", "group": "g", "item": "A"},
            {"id": "b", "group": "g", "item": "B"},
        ],
    }
)
DF = pd.DataFrame(
    {
        "respondent_id": [f"R{i}" for i in range(6)],
        "wave": pd.Categorical(["1", "1", "1", "2", "2", "2"]),
        "submitted_at": pd.to_datetime(["2021-11-20"] * 3 + ["2022-06-01"] * 3),
        "sector": pd.Categorical(["Public", "Public", "Public", "Public", "Privé", "Privé"]),
        "kinds__x": pd.array([True, True, False, True, None, None], dtype="boolean"),
        "kinds__y": pd.array([False, True, True, True, None, None], dtype="boolean"),
        "a": pd.array([10, 9, 8, 9, 10, 8], dtype="Int64"),
        "b": pd.array([2, 9, 4, 7, 5, 3], dtype="Int64"),
    }
)


def row(statistic, question, spec="", value="0", comparison="rounded", decimals="1", lower="", upper=""):
    return {"id": "T", "section": "1", "question": question, "option_or_subgroup": spec, "statistic": statistic,
            "value": value, "comparison": comparison, "decimals": decimals, "lower": lower, "upper": upper,
            "computable": "yes", "unit": "%", "base": "b", "quote": "q"}


def test_share_of_a_filtered_multi_select_is_over_those_asked():
    c = compute_figure(row("share", "kinds", "x"), DF, CB)
    assert c.n == 4 and c.value == pytest.approx(75.0)  # 3 ticks among the 4 public respondents
    assert c.ci_low < 75 < c.ci_high


def test_share_with_a_subgroup_and_a_union():
    assert compute_figure(row("share", "sector", "pri"), DF, CB).value == pytest.approx(100 * 2 / 6)
    both = compute_figure(row("share", "kinds", "x+y | sector=pub"), DF, CB)
    assert both.value == pytest.approx(100.0) and both.n == 4


def test_mean_rank_sd_rank_and_group_bounds():
    assert compute_figure(row("mean", "a"), DF, CB).value == pytest.approx(9.0)
    assert compute_figure(row("rank", "b"), DF, CB).value == 2
    assert compute_figure(row("sd_rank", "a"), DF, CB).value == 1  # a varies less than b
    assert compute_figure(row("group_min_mean", "group:g"), DF, CB).value == pytest.approx(5.0)
    assert compute_figure(row("gap_to_next", "a"), DF, CB).value == pytest.approx(4.0)


def test_items_ticked_diff_ratio_and_mode():
    assert compute_figure(row("mean_items", "kinds"), DF, CB).value == pytest.approx(6 / 4)
    diff = compute_figure(row("share_diff", "sector", "pub | sector=pub vs sector=pri"), DF, CB)
    assert diff.value == pytest.approx(100.0)
    assert compute_figure(row("mode_in", "sector", "pub"), DF, CB).value == 1.0
    assert compute_figure(row("option_rank", "kinds", "y"), DF, CB).value == 1


def test_meta_figures():
    assert compute_figure(row("count", "meta:respondent_id"), DF, CB).value == 6
    assert compute_figure(row("n_waves", "meta:wave"), DF, CB).value == 2
    assert compute_figure(row("date_max", "meta:submitted_at", "| wave=1"), DF, CB).value == "2021-11-20"
    cov = compute_figure(row("coverage", "meta:respondent_id"), DF, CB, {"advisors_in_post": 12})
    assert cov.value == pytest.approx(50.0)


def test_judging_at_the_published_precision_and_bounds():
    from cnfs.compare import Computed

    assert judge(row("share", "sector", value="37.1"), Computed(37.149)) == REPRODUCED
    assert judge(row("share", "sector", value="37.1"), Computed(37.16)) == NOT_REPRODUCED
    assert judge(row("share", "sector", value="75", comparison="gt"), Computed(75.0)) == NOT_REPRODUCED
    assert judge(row("share", "sector", comparison="between", lower="45", upper="50"), Computed(47)) == REPRODUCED
    assert judge({**row("context", "meta:x"), "computable": "no"}, Computed(None)) == CONTEXT
    assert judge(row("date_min", "meta:d", value="2021-11-16", comparison="date_on_or_after"), Computed("2021-11-15")) == NOT_REPRODUCED


def test_reproduction_table_rejects_unknown_ids():
    with pytest.raises(KeyError, match="NOPE"):
        reproduction_table(DF, CB, ids=["NOPE"])
