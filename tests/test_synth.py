"""The synthetic twin reproduces every published figure, computed independently of the generator."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cnfs.calibrate import CalibrationError, apportion, feasible_counts, feasible_sums, integerize
from cnfs.compare import full_reproduction_table, population_context, reproduction_table
from cnfs.provenance import read_provenance
from cnfs.status import NOT_COMPUTABLE, NOT_REPRODUCED, RECOMPUTED, REPRODUCED, failures, rounds_to
from cnfs.synth import GENERATOR_VERSION, generate, load_assumptions, write_synthetic


@pytest.fixture(scope="module")
def table(survey):
    return full_reproduction_table(survey.data, survey.codebook, context=population_context())


def test_every_computable_published_figure_is_reproduced(table):
    survey_rows = table[~table["question"].str.startswith("qual:")]
    computable = survey_rows[survey_rows["status"].isin(RECOMPUTED)]
    assert len(computable) >= 100
    bad = failures(table)
    assert bad.empty, bad[["id", "published", "computed", "criterion"]].to_string()
    assert (computable["status"] == REPRODUCED).all()
    # the coverage needs a sourced population size, never an assumption of the twin
    assert set(survey_rows.loc[survey_rows["status"] == NOT_COMPUTABLE, "id"]) <= {"S1_coverage"}


@pytest.mark.parametrize(
    "fid",
    [
        "S4_equivalent_private",
        "S4_equivalent_public",
        "S5_place_social_multi",
        "S5_place_social_single",
        "S5_place_thirdplace_single",
        "S5_place_thirdplace_multi",
        "S4_AB_short_paths",
        "S4_short_paths_bac3",
        "S4_AB_bac3",
        "S7_objective_everyday_sd",
        "S7_objective_admin_info_sd",
        "S7_public_elderly_sd",
        "S2_exp_mean_items",
        "S5_private_social",
    ],
)
def test_stated_contrasts_and_orderings(table, fid):
    assert table.set_index("id").loc[fid, "status"] == REPRODUCED


def test_a_wrong_denominator_would_show(survey):
    """Exact calibration: the share of missing laptops over all respondents is not the published one."""
    df = survey.data
    laptop = df["equipment_missing__ordinateur_portable"].fillna(False)
    over_all = 100 * laptop.sum() / len(df)
    over_asked = 100 * laptop.sum() / df["equipment_missing__ordinateur_portable"].notna().sum()
    assert rounds_to(over_asked, 69.6, 1)
    assert not rounds_to(over_all, 69.6, 1)


def test_the_comparison_can_fail(survey):
    """Shift one answer in a published share: the figure is no longer reproduced."""
    df = survey.data.copy()
    label = survey.codebook["education"].label_of("bac3plus")
    other = survey.codebook["education"].label_of("bac2")
    idx = df.index[df["education"] == label][:3]
    df.loc[idx, "education"] = other
    t = reproduction_table(df, survey.codebook, ids=["S2_edu_bac3plus"])
    assert t["status"].iloc[0] == NOT_REPRODUCED


def test_twin_respects_universes_bounds_and_mandatory_answers(survey):
    df, cb = survey
    public = cb["structure_sector"].label_of("public")
    assert df.loc[df["structure_sector"] != public, "civil_category"].isna().all()
    assert df.loc[df["structure_sector"] == public, "civil_category"].notna().all()
    for q in cb.questions.values():
        if q.type in ("scale10", "slider100", "number"):
            lo, hi = q.bounds
            v = df[q.id].dropna()
            assert v.between(lo, hi).all(), q.id
        if q.universe is None:
            assert df[q.columns].notna().all().all(), q.id
        if q.type == "multi":
            asked = df[q.columns].notna().all(axis=1)
            assert (df.loc[asked, q.columns].astype(int).sum(axis=1) >= 1).all(), q.id
    ticked = df[cb["experience"].columns].astype(int).sum(axis=1)
    assert ticked.mean() > 3


def test_waves_are_homogeneous(survey):
    from cnfs.contrasts import compare_waves

    cb = survey.codebook
    qids = [q.id for q in cb.questions.values() if q.type != "text"]
    tests = compare_waves(survey.data, cb, qids).tests
    sizes = tests["effect_size"].abs()
    assert sizes.max() < 0.2, tests.loc[sizes.idxmax()].to_dict()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = write_synthetic(tmp_path / "a", seed=7)
    b = write_synthetic(tmp_path / "b", seed=7)
    c = write_synthetic(tmp_path / "c", seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert a.with_suffix(".parquet").read_bytes() == b.with_suffix(".parquet").read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_files_carry_provenance(twin_path):
    prov = read_provenance(twin_path)
    assert prov["synthetic"] is True
    assert prov["generator_version"] == GENERATOR_VERSION
    assert prov["seed"] == load_assumptions().seed
    assert "SYNTHÉTIQUES" in prov["warning"]
    import pyarrow.parquet as pq

    meta = pq.read_schema(twin_path.with_suffix(".parquet")).metadata
    assert json.loads(meta[b"cnfs_provenance"])["synthetic"] is True
    assert pd.read_csv(twin_path, dtype=str)["respondent_id"].str.startswith("SYN-").all()


def test_wave_sizes_add_up():
    sizes = load_assumptions().wave_sizes
    assert sum(sizes.values()) == 1071


# ---------------------------------------------------------------- calibration primitives
def test_feasible_counts_and_rounding():
    assert feasible_counts(428, 59.4, 1) == []
    assert feasible_counts(431, 59.4, 1) == [256]


@pytest.mark.parametrize(
    "n, value, decimals", [(1071, 58, 0), (431, 59.4, 1), (80, 32.5, 1), (8, 38, 0), (1071, 68.05, 2)]
)
def test_generator_and_checker_read_the_precision_alike(n, value, decimals):
    """Every count the generator accepts displays as the published value by the checker's rule, and no other."""
    ks = set(feasible_counts(n, value, decimals))
    for k in range(n + 1):
        assert (k in ks) == rounds_to(100 * k / n, value, decimals), k
    sums = set(feasible_sums(n, value, decimals))
    for total in range(int(value * n) - 3 * n // 100 - 2, int(value * n) + 3 * n // 100 + 2):
        assert (total in sums) == rounds_to(total / n, value, decimals), total


def test_apportion_meets_atomic_and_union_constraints():
    counts = apportion(1000, ["a", "b", "c", "d"], [(("a",), 19, 0), (("a", "b"), 32, 0)], {"b": 1, "c": 3, "d": 1})
    assert counts["a"] == 190 and counts["a"] + counts["b"] == 320 and sum(counts.values()) == 1000
    assert counts["c"] == 3 * counts["d"]


def test_apportion_explains_an_impossible_figure():
    with pytest.raises(CalibrationError, match="n=428"):
        apportion(428, ["x", "y"], [(("x",), 59.4, 1)], {})


def test_integerize_keeps_both_margins():
    t = np.array([[1.4, 2.6], [3.3, 0.7]])
    out = integerize(t, [4, 4], [5, 3])
    assert out.sum(axis=1).tolist() == [4, 4] and out.sum(axis=0).tolist() == [5, 3]


def test_generate_is_a_coded_frame():
    df = generate(seed=3)
    assert df.shape[0] == 1071
    assert set(df["structure_sector"].dropna()) <= {"public", "prive", "autre"}


def test_full_study_figures_are_reproduced_apart(table):
    full = table[table["publication"] == "full_study"]
    assert len(full) == 5 and (full["status"] == REPRODUCED).all()


def test_interim_and_full_study_figures_hold_together_on_the_twin(survey):
    """Computed by hand: the reversed 'peu adaptée' mean is 31.95 and the item's mean 68; 41-42 % met difficulties."""
    df = survey.data
    unsuited = [float(x) for x in df["training_unsuited"].dropna()]
    mean = sum(unsuited) / len(unsuited)
    assert f"{mean:.0f}" == "68" and round(100 - mean, 2) == 31.95
    yes = (df["start_difficulty"] == survey.codebook["start_difficulty"].label_of("oui")).sum() / len(df) * 100
    assert 41.5 <= yes <= 42 and round(100 - yes) == 58
    long = df["training_path"].isin(["Parcours 3 (350 h)", "Parcours 4 (420 h)"]).mean() * 100
    assert round(long) == 78


def test_two_option_figures_that_cannot_hold_together_are_named():
    from cnfs.codebook import Option, Question
    from cnfs.synth import Target, _two_option_counts

    q = Question("q", 4, "single", "w", "s", options=(Option("oui", "Oui"), Option("non", "Non")))
    no58 = Target("NO58", "share", 58, 0, ("non",))
    near42 = Target("YES41_42", "share", 42, 0, ("oui",), comparison="between", lower=41, upper=42)
    counts = _two_option_counts(1071, q, [no58, near42], {}, "q")
    assert 41.5 < 100 * counts["oui"] / 1071 <= 42 and counts["oui"] + counts["non"] == 1071
    above = Target("YES43_44", "share", 44, 0, ("oui",), comparison="between", lower=43, upper=44)
    with pytest.raises(CalibrationError, match="NO58, YES43_44"):
        _two_option_counts(1071, q, [no58, above], {}, "q")
