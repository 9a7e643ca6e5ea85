"""Disclosure control on small hand-made tables: which cells are withheld, and why."""

from __future__ import annotations

import pandas as pd
import pytest
from cnfs.disclosure import PRIMARY, SECONDARY, Policy, policy, suppress, withhold_group_sizes


def single_choice(counts, n=None, by=None):
    """A shares-like table of one single-choice question (counts add up to n)."""
    n = sum(counts) if n is None else n
    rows = pd.DataFrame(
        {
            "question": "q",
            "question_label": "Q",
            "option": [f"o{i}" for i in range(len(counts))],
            "label": [f"O{i}" for i in range(len(counts))],
            "count": counts,
            "n": n,
            "percent": [100 * c / n for c in counts],
            "ci_low": 0.0,
            "ci_high": 100.0,
            "base": "tous",
        }
    )
    return rows if by is None else rows.assign(**{"groupe": by})[["groupe", *rows.columns]]


def test_small_count_withheld_with_its_percentage_and_interval():
    out = suppress(single_choice([3, 40, 57]), min_count=10)
    row = out.iloc[0]
    assert row["suppressed"] and row["suppression"] == PRIMARY
    assert pd.isna(row["count"]) and pd.isna(row["percent"]) and pd.isna(row["ci_low"]) and pd.isna(row["ci_high"])


def test_secondary_suppression_stops_recovery_by_subtraction():
    out = suppress(single_choice([3, 40, 57]), min_count=10)
    # 3 = 100 - 40 - 57 would be recovered: the smallest other count (40) is withheld too
    assert list(out["suppression"]) == [PRIMARY, SECONDARY, ""]
    assert out.loc[2, "count"] == 57 and out.loc[2, "n"] == 100


def test_two_small_cells_need_no_secondary():
    out = suppress(single_choice([3, 4, 93]), min_count=10)
    assert list(out["suppression"]) == [PRIMARY, PRIMARY, ""]


def test_zero_is_shown_and_threshold_is_inclusive():
    out = suppress(single_choice([0, 10, 90]), min_count=10)
    assert not out["suppressed"].any()
    assert suppress(single_choice([9, 11, 80]), min_count=10)["suppressed"].sum() == 2  # 9 and, secondarily, 11


def test_multi_select_options_do_not_add_up_so_no_secondary():
    table = single_choice([3, 40, 57], n=100).assign(count=[3, 60, 80], percent=[3.0, 60.0, 80.0])
    out = suppress(table, min_count=10)
    assert list(out["suppression"]) == [PRIMARY, "", ""]


def test_small_group_withheld_whole_and_each_group_on_its_own():
    table = pd.concat([single_choice([20, 30, 50], by="A"), single_choice([2, 3, 2], by="B")], ignore_index=True)
    out = suppress(table, min_count=10)
    assert not out.loc[out["groupe"] == "A", "suppressed"].any()
    b = out[out["groupe"] == "B"]
    assert b["suppressed"].all() and b["n"].isna().all()


def test_means_on_few_respondents_withheld_and_fragile_flag():
    scores = pd.DataFrame(
        {
            "question": ["i1", "i2", "i3"],
            "label": ["I1", "I2", "I3"],
            "n": [8, 25, 300],
            "mean": [7.1, 6.0, 5.5],
            "sd": [1.0, 1.2, 2.0],
            "ci_low": [6.0, 5.5, 5.3],
            "ci_high": [8.0, 6.5, 5.7],
            "base": "tous",
        }
    )
    out = suppress(scores, min_count=10, fragile_base=30)
    assert list(out["suppressed"]) == [True, False, False]
    assert pd.isna(out.loc[0, "mean"]) and out.loc[1, "mean"] == 6.0
    assert list(out["fragile"]) == [False, True, False]  # withheld rows are not "fragile": they are not shown


def test_input_is_not_modified():
    table = single_choice([3, 40, 57])
    before = table.copy()
    suppress(table)
    pd.testing.assert_frame_equal(table, before)


def test_policy_from_codebook_meta_and_override():
    class CB:
        meta = {"disclosure": {"min_count": 5, "fragile_base": 20}}

    assert policy(CB()) == Policy(5, 20)
    assert policy(CB(), min_count=3) == Policy(3, 20)
    assert policy(None) == Policy(10, 30)
    with pytest.raises(ValueError, match="secret statistique"):
        policy(None, min_count=0)


def test_project_codebook_sets_the_default():
    from cnfs.codebook import load_codebook

    assert policy(load_codebook()).min_count == 10


def test_small_group_sizes_of_test_rows_withheld_with_their_total():
    tests = pd.DataFrame({"n": [43, 120], "n_by": ["3 / 40 / 0", "60 / 60"], "p_value": [0.2, 0.5]})
    out = withhold_group_sizes(tests, min_count=10)
    # 3 withheld, 0 names nobody; the total 43 = 3 + 40 + 0 would give the 3 back
    assert out["n_by"].tolist() == ["[c] / 40 / 0", "60 / 60"]
    assert pd.isna(out["n"].iloc[0]) and out["n"].iloc[1] == 120
    assert out["p_value"].iloc[1] == 0.5 and tests["n_by"].iloc[0] == "3 / 40 / 0"  # input untouched


def test_results_of_a_test_row_with_a_withheld_group_are_withheld_too():
    # two groups of 4 and 40 answering a yes/no item, 3 and 30 "yes": the difference 100·(30/40 − 3/4) = 0
    # with the shown size 40 and share would give the 4 back (as would the p-value and the effect size)
    tests = pd.DataFrame(
        {
            "n": [44, 80],
            "n_by": ["4 / 40", "40 / 40"],
            "test": ["fisher", "chi2"],
            "statistic": [1.0, 2.5],
            "p_value": [1.0, 0.11],
            "p_adjusted": [1.0, 0.22],
            "effect": ["cramers_v", "cramers_v"],
            "effect_size": [0.0, 0.18],
            "effect_ci_low": [0.0, 0.0],
            "effect_ci_high": [0.3, 0.4],
            "difference": [0.0, 12.5],
            "verdict": ["négligeable", "faible"],
            "significant": [False, False],
        }
    )
    out = withhold_group_sizes(tests, min_count=10)
    hidden, kept = out.iloc[0], out.iloc[1]
    for col in ("statistic", "p_value", "p_adjusted", "effect_size", "effect_ci_low", "effect_ci_high", "difference"):
        assert pd.isna(hidden[col]), col
        assert kept[col] == tests[col].iloc[1], col
    assert hidden["verdict"] == "[c]" and kept["verdict"] == "faible"
    assert pd.isna(hidden["significant"]) and not kept["significant"]
    assert hidden["test"] == "fisher"  # the test's name tells nothing about the counts


def test_group_sizes_a_linked_table_withholds_are_withheld_in_the_test_too():
    from cnfs.disclosure import withheld_groups

    # group B's base is withheld in the protected table (linked to another wave): 40 is not small, but shown
    # beside the pooled waves' size it would give the other wave's small B back
    table = pd.DataFrame(
        {
            "grp": ["A", "A", "B", "B", "C"],
            "option": ["o1", "o2", "o1", "o2", "o1"],
            "n": [50, 50, None, None, 30],
        }
    )
    assert withheld_groups(table, "grp") == ["B"]
    assert withheld_groups(table.assign(n=[50, None, None, 40, 30]), "grp") == []  # shown in one row: public
    tests = pd.DataFrame(
        {
            "groups": ["A vs B vs C", "A vs C"],
            "n": [120, 80],
            "n_by": ["50 / 40 / 30", "50 / 30"],
            "p_value": [0.1, 0.2],
        }
    )
    out = withhold_group_sizes(tests, min_count=10, withheld=["B"])
    assert out["n_by"].tolist() == ["50 / [c] / 30", "50 / 30"]
    assert pd.isna(out["n"].iloc[0]) and pd.isna(out["p_value"].iloc[0])
    assert out["n"].iloc[1] == 80 and out["p_value"].iloc[1] == 0.2
    # sizes that cannot be matched to their groups (no names, or not as many) are all withheld
    unnamed = withhold_group_sizes(tests.drop(columns="groups"), min_count=10, withheld=["B"])
    assert unnamed["n_by"].tolist() == ["[c] / [c] / [c]", "[c] / [c]"]
    odd = withhold_group_sizes(tests.assign(groups=["A vs B", "A vs C"]), min_count=10, withheld=["B"])
    assert odd["n_by"].tolist() == ["[c] / [c] / [c]", "50 / 30"]
    # nothing withheld elsewhere: names are not needed
    assert withhold_group_sizes(tests.drop(columns="groups"), min_count=10)["n_by"].tolist() == tests["n_by"].tolist()


def test_equivalence_rows_of_a_withheld_wave_are_withheld():
    rows = pd.DataFrame(
        {
            "question": ["q", "q", "r"],
            "n_by": ["5 / 300", "5 / 300", "200 / 300"],
            "difference": [10.0, -10.0, 2.0],
            "ci_low": [1.0, -19.0, -1.0],
            "ci_high": [19.0, -1.0, 5.0],
            "margin": [10.0, 10.0, 10.0],
            "p_value": [0.4, 0.4, 0.01],
            "equivalent": [False, False, True],
            "verdict": ["équivalence non démontrée"] * 2 + ["équivalence démontrée"],
            "question_equivalent": [False, False, True],
        }
    )
    out = withhold_group_sizes(rows, min_count=10)
    assert out["n_by"].tolist() == ["[c] / 300", "[c] / 300", "200 / 300"]
    assert out.loc[:1, ["difference", "ci_low", "ci_high", "margin", "p_value"]].isna().all().all()
    assert out.loc[:1, "verdict"].eq("[c]").all() and out.loc[:1, "question_equivalent"].isna().all()
    assert out.loc[2, "difference"] == 2.0 and out.loc[2, "question_equivalent"] == True  # noqa: E712


def test_linked_tables_withhold_the_same_rows_so_that_pooled_minus_a_wave_gives_nothing_back():
    from cnfs.disclosure import LINKED, suppress_linked

    wave1, wave2 = single_choice([3, 40, 57]), single_choice([20, 30, 50])
    pooled = single_choice([23, 70, 107])
    alone = suppress(wave2, min_count=10)
    assert not alone["suppressed"].any()  # on its own, wave 2 shows everything: 23 − 20 = 3 would be wave 1's
    out = suppress_linked({"1": wave1, "2": wave2, "all": pooled}, min_count=10)
    # wave 1: 3 (primary), 40 (secondary); wave 2 withholds the same rows, so pooled minus wave 2 gives nothing
    assert out["1"]["suppressed"].tolist() == [True, True, False]
    assert out["2"]["suppressed"].tolist() == [True, True, False]
    assert out["2"]["suppression"].tolist() == [LINKED, LINKED, ""]
    # the pooled table stays whole: a = wave 1's first count solves a + b = 43, c + d = 50, a + c = 23,
    # b + d = 70 for any a in [0, 23] (worked by hand), so 3 is not given back
    assert not out["all"]["suppressed"].any() and out["all"]["count"].tolist() == [23, 70, 107]
    assert out["2"]["count"].iloc[2] == 50


def test_linked_rows_withheld_in_two_waves_leave_the_pooled_table_whole():
    """The pooled count of two withheld wave cells is their sum: it names neither (6 + 8 = 14)."""
    from cnfs.disclosure import suppress_linked

    wave1, wave2 = single_choice([319, 127, 6]), single_choice([438, 173, 8])
    pooled = single_choice([757, 300, 14])
    out = suppress_linked({"1": wave1, "2": wave2, "all": pooled}, min_count=10)
    assert out["1"]["suppressed"].tolist() == [False, True, True]  # 6 primary, 127 secondary
    assert out["2"]["suppressed"].tolist() == [False, True, True]
    assert not out["all"]["suppressed"].any()


def test_linked_tables_withhold_a_small_group_and_its_base_everywhere():
    from cnfs.disclosure import suppress_linked

    wave1 = pd.concat([single_choice([2, 3], by="A"), single_choice([30, 30], by="B")], ignore_index=True)
    wave2 = pd.concat([single_choice([20, 30], by="A"), single_choice([25, 25], by="B")], ignore_index=True)
    pooled = pd.concat([single_choice([22, 33], by="A"), single_choice([55, 55], by="B")], ignore_index=True)
    out = suppress_linked({"1": wave1, "2": wave2, "all": pooled}, min_count=10)
    for name in ("1", "2"):  # group A's n of 5 is 55 − 50 otherwise: wave 2's group A goes with it
        a = out[name][out[name]["groupe"] == "A"]
        assert a["suppressed"].all() and a["n"].isna().all(), name
    assert not out["all"]["suppressed"].any()  # 55 = 5 + 50, both withheld: neither is given back
    for name, t in out.items():
        assert not t.loc[t["groupe"] == "B", "suppressed"].any(), name


def test_secondary_takes_the_first_of_equal_smallest_counts_and_keeps_the_types():
    """Worked by hand: 4 is withheld; 30 and 30 tie as the next smallest, the first (o1) goes with it; counts
    and bases come back as nullable integers, values as floats, the input's index kept."""
    table = single_choice([4, 30, 30, 36]).set_axis([10, 11, 12, 13])
    out = suppress(table, min_count=10)
    assert out["suppression"].tolist() == [PRIMARY, SECONDARY, "", ""]
    assert out.index.tolist() == [10, 11, 12, 13]
    assert str(out["count"].dtype) == "Int64" and str(out["n"].dtype) == "Int64"
    assert out["count"].isna().tolist() == [True, True, False, False] and out["percent"].dtype == float
    assert out["n"].tolist() == [100] * 4 and out["fragile"].tolist() == [False] * 4


def test_missing_bases_and_counts_are_neither_withheld_nor_fragile():
    table = single_choice([3, 40, 57]).astype({"n": "Int64", "count": "Float64"})
    table.loc[2, ["n", "count"]] = pd.NA
    out = suppress(table, min_count=10, fragile_base=30)
    assert out["suppression"].tolist() == [PRIMARY, "", ""]  # the set no longer adds up: no secondary
    assert out["n"].isna().tolist() == [False, False, True] and not out["fragile"].any()


def test_a_linked_family_needing_no_link_is_suppressed_once_per_table(monkeypatch: pytest.MonkeyPatch):
    """Nothing withheld in one table only: each table is suppressed once, as on its own; a family that needs a
    link recomputes only the tables whose forced rows changed (wave 2 and then nothing more: 3 + 1 calls)."""
    from cnfs import disclosure

    calls = []
    real = disclosure.suppress
    monkeypatch.setattr(disclosure, "suppress", lambda t, **k: calls.append(1) or real(t, **k))
    family = {"1": single_choice([3, 40, 57]), "2": single_choice([4, 41, 55]), "all": single_choice([7, 81, 112])}
    out = disclosure.suppress_linked(family, min_count=10)
    assert len(calls) == 3
    for name, t in family.items():
        pd.testing.assert_frame_equal(out[name], real(t, min_count=10))
    calls.clear()
    family["2"] = single_choice([20, 30, 50])
    family["all"] = single_choice([23, 70, 107])
    out = disclosure.suppress_linked(family, min_count=10)
    assert len(calls) == 4 and out["2"]["suppressed"].tolist() == [True, True, False]
