"""Published-vs-computed comparison on a small frame whose figures are computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from cnfs.codebook import parse_codebook
from cnfs.compare import POPULATION_SIZE, compute_figure, reproduction_table
from cnfs.status import CONTEXT, NOT_COMPUTABLE, NOT_REPRODUCED, REPRODUCED, judge

CB = parse_codebook(
    {
        "meta": {"waves": ["1", "2"]},
        "sections": {1: "s"},
        "groups": {"g": {"section": 1, "type": "scale10", "wording": "w", "short": "G"}},
        "questions": [
            {
                "id": "sector",
                "section": 1,
                "type": "single",
                "wording": "w",
                "short": "Secteur",
                "options": [{"code": "pub", "label": "Public"}, {"code": "pri", "label": "Privé"}],
            },
            {
                "id": "kinds",
                "section": 1,
                "type": "multi",
                "wording": "w",
                "short": "Types",
                "universe": {"question": "sector", "in": ["pub"]},
                "options": [{"code": "x", "label": "X"}, {"code": "y", "label": "Y"}],
            },
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
    return {
        "id": "T",
        "section": "1",
        "question": question,
        "option_or_subgroup": spec,
        "statistic": statistic,
        "value": value,
        "comparison": comparison,
        "decimals": decimals,
        "lower": lower,
        "upper": upper,
        "computable": "yes",
        "unit": "%",
        "base": "b",
        "quote": "q",
    }


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
    cov = compute_figure(row("coverage", "meta:respondent_id"), DF, CB, {POPULATION_SIZE: 12})
    assert cov.value == pytest.approx(50.0)  # 6 respondents out of a population of 12


def test_coverage_without_a_sourced_population_is_not_computable():
    r = {**row("coverage", "meta:respondent_id", value="40", comparison="between", lower="35", upper="40"), "id": "COV"}
    pub = pd.DataFrame([r])
    t = reproduction_table(DF, CB, published=pub)
    assert t["status"].iloc[0] == NOT_COMPUTABLE
    assert "effectif de la population non fourni" in t["reason"].iloc[0]
    t = reproduction_table(DF, CB, published=pub, context={POPULATION_SIZE: 16})  # 6/16 = 37.5 %
    assert t["status"].iloc[0] == REPRODUCED
    t = reproduction_table(DF, CB, published=pub, context={POPULATION_SIZE: 12})  # 50 %: outside 35-40
    assert t["status"].iloc[0] == NOT_REPRODUCED


def test_judging_at_the_published_precision_and_bounds():
    assert judge(row("share", "sector", value="37.1"), 37.149) == REPRODUCED
    assert judge(row("share", "sector", value="37.1"), 37.16) == NOT_REPRODUCED
    assert judge(row("share", "sector", value="75", comparison="gt"), 75.0) == NOT_REPRODUCED
    assert judge(row("share", "sector", comparison="between", lower="45", upper="50"), 47) == REPRODUCED
    assert judge({**row("context", "meta:x"), "computable": "no"}, None) == CONTEXT
    assert (
        judge(row("date_min", "meta:d", value="2021-11-16", comparison="date_on_or_after"), "2021-11-15")
        == NOT_REPRODUCED
    )


def test_reproduction_table_rejects_unknown_ids():
    with pytest.raises(KeyError, match="NOPE"):
        reproduction_table(DF, CB, ids=["NOPE"])


def test_mean_complement_reads_a_reversed_item():
    # a = 10, 9, 8, 9, 10, 8 on a 1-10 scale: mean 9, so 1 + 10 - 9 = 2 on the reversed item
    c = compute_figure(row("mean_complement", "a"), DF, CB)
    assert c.value == pytest.approx(2.0) and c.n == 6
    assert c.ci_low < 2.0 < c.ci_high


def test_statistics_are_those_of_cnfs_scoring():
    """The checker computes shares and means with cnfs.scoring (one implementation), not its own."""
    from cnfs import scoring

    share = compute_figure(row("share", "kinds", "x"), DF, CB)
    t = scoring.shares(DF, CB, "kinds").set_index("option")
    assert (share.value, share.n, share.ci_low) == (t.loc["x", "percent"], t.loc["x", "n"], t.loc["x", "ci_low"])
    mean = compute_figure(row("mean", "b"), DF, CB)
    m = scoring.scale_summary(DF, CB, "b").iloc[0]
    assert (mean.value, mean.ci_high) == (m["mean"], m["ci_high"])


def _cnfs_imports(module: str) -> set[str]:
    """The cnfs modules a module's source imports (``from cnfs import x`` counts as cnfs.x)."""
    import ast
    import importlib.util

    def is_module(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            return False

    origin = importlib.util.find_spec(module).origin
    out: set[str] = set()
    for node in ast.walk(ast.parse(open(origin, encoding="utf-8").read())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("cnfs")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cnfs"):
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names if is_module(f"{node.module}.{a.name}")}
    return out


def test_the_checker_imports_nothing_from_the_generator():
    """cnfs.compare, and every cnfs module it reaches, never imports cnfs.synth or cnfs.calibrate."""
    seen: set[str] = set()
    todo = ["cnfs.compare"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_cnfs_imports(name))
    assert {"cnfs.scoring", "cnfs.status", "cnfs.qualitative.figures"} <= seen  # the walk reached the imports
    assert not seen & {"cnfs.synth", "cnfs.calibrate"}, sorted(seen)
    assert "cnfs.calibrate" in _cnfs_imports("cnfs.synth")  # the walk would see it


@pytest.mark.parametrize(
    "computed, published, decimals, expected",
    [
        (2.5, "3", 0, True),  # half rounds away from zero: 2.5 displays as 3 ...
        (2.5, "2", 0, False),  # ... not as 2 (Python's round(2.5) == 2 would say otherwise)
        (3.4999, "3", 0, True),
        (3.5, "3", 0, False),
        (37.05, "37.1", 1, True),  # 37.05 is 37.04999... in binary: float noise is removed first
        (37.149, "37.1", 1, True),
        (37.15, "37.1", 1, False),
        (37.16, "37.1", 1, False),
        (100 * 26 / 80, "32.5", 1, True),
        (100 * 26 / 80, "33", 0, True),  # 32.5 % displays as 33 % at the unit
        (-2.5, "-3", 0, True),
    ],
)
def test_the_one_rounding_rule(computed, published, decimals, expected):
    from cnfs.status import rounds_to

    assert rounds_to(computed, published, decimals) is expected
    verdict = judge(row("share", "sector", value=published, decimals=str(decimals)), computed)
    assert verdict == (REPRODUCED if expected else NOT_REPRODUCED)


def test_a_transcription_check_has_its_own_status():
    from cnfs.status import TRANSCRIBED, TRANSCRIPTION_MISMATCH

    r = row("count", "qual:x", value="21", comparison="equal")
    assert judge(r, 21.0, transcription=True) == TRANSCRIBED
    assert judge(r, 22.0, transcription=True) == TRANSCRIPTION_MISMATCH


def test_check_all_reproduced_names_every_failure():
    from cnfs.status import TRANSCRIBED, TRANSCRIPTION_MISMATCH, ReproductionError, check_all_reproduced

    t = pd.DataFrame(
        {
            "id": ["A", "B", "C", "D"],
            "published": [1, 2, 3, 4],
            "computed": [1, 5, 3, 9],
            "status": [REPRODUCED, NOT_REPRODUCED, TRANSCRIBED, TRANSCRIPTION_MISMATCH],
        }
    )
    with pytest.raises(ReproductionError, match=r"2 chiffre\(s\)") as e:
        check_all_reproduced(t)
    assert "B:" in str(e.value) and "D:" in str(e.value) and "A:" not in str(e.value)
    check_all_reproduced(t.iloc[[0, 2]])


def test_one_condition_type_on_codes_labels_and_ranges():
    from cnfs.codebook import Condition, mask_all

    pub = Condition("sector", codes=("pub",))
    assert pub.mask(DF, {"pub": "Public"}).sum() == 4  # the typed frame holds labels
    coded = DF.assign(sector=["pub", "pub", "pub", "pub", "pri", "pri"])
    assert pub.mask(coded).sum() == 4  # raw export and twin hold codes
    assert Condition("a", min=9).mask(DF).tolist() == [True, True, False, True, True, False]
    assert mask_all(DF, [pub, Condition("a", max=9)], CB).tolist() == [False, True, True, True, False, False]
    assert CB["kinds"].universe == Condition("sector", codes=("pub",))


def test_population_size_is_used_only_when_published():
    from types import SimpleNamespace

    from cnfs.compare import POPULATION_MISSING, population_context

    def pop(status):
        size = SimpleNamespace(value=2682.0, status=status, source="register")
        return SimpleNamespace(wave=lambda w: SimpleNamespace(size=size))

    assert population_context(pop("published")) == {POPULATION_SIZE: 2682.0}
    ctx = population_context(pop("assumption"))
    assert POPULATION_SIZE not in ctx and "non publié" in ctx[POPULATION_MISSING]
    r = {**row("coverage", "meta:respondent_id", value="40", comparison="between", lower="35", upper="40"), "id": "COV"}
    t = reproduction_table(DF, CB, published=pd.DataFrame([r]), context=ctx)
    assert t["status"].iloc[0] == NOT_COMPUTABLE and t["reason"].iloc[0] == ctx[POPULATION_MISSING]
    # the project's own population file gives the pooled size as an assumption derived from the article
    assert POPULATION_SIZE not in population_context()


def test_summaries_keep_the_full_study_and_transcriptions_apart():
    from cnfs.compare import headline, summary_by_section
    from cnfs.status import TRANSCRIBED

    t = pd.DataFrame(
        {
            "id": list("ABCDEF"),
            "section": ["3", "3", "4", "3", "Q2", "1"],
            "publication": ["interim", "interim", "interim", "full_study", "interim", "interim"],
            "status": [REPRODUCED, NOT_REPRODUCED, REPRODUCED, REPRODUCED, TRANSCRIBED, NOT_COMPUTABLE],
        }
    )
    s = summary_by_section(t)
    interim = s.loc[("article intermédiaire", "total")]
    assert (interim["reproduits"], interim["recalcules"], interim["transcrits"], interim["non_calculables"]) == (
        2,
        3,
        1,
        1,
    )
    full = s.loc[("étude complète", "total")]
    assert (full["reproduits"], full["recalcules"], full["transcrits"]) == (1, 1, 0)
    assert headline(t) == (
        "article intermédiaire : 2 chiffres reproduits sur 3 recalculés ; étude complète : 1 chiffre "
        "reproduit sur 1 recalculé (1 transcrit sur 1 vérification de transcription, "
        "1 non calculable, 0 de contexte)"
    )


NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize(
    "value, unit, expected",
    [
        ("36", "/100", "36/100"),  # no space before the scale
        ("8.54", "/10", "8,54/10"),
        ("37.1", "%", f"37,1{NNBSP}%"),
        ("60", "% du temps", f"60{NNBSP}%{NBSP}du{NBSP}temps"),
        ("4000", "conseillers", f"4{NNBSP}000{NBSP}conseillers"),
        ("2017", "année", f"2017{NBSP}année"),  # a year is not a number with thousands
        ("1", "booléen", "oui"),
        ("2021-11-16", "date", f"16{NBSP}novembre{NBSP}2021"),
        ("1", "rang (écart type croissant)", f"rang{NBSP}1 (écart type croissant)"),
    ],
)
def test_published_values_written_the_french_way(value, unit, expected):
    from cnfs.compare import published_text

    assert published_text(value, unit) == expected


def test_readers_see_figure_labels_not_ids_and_n_with_a_thin_space():
    from cnfs.compare import display_table, full_reproduction_table
    from cnfs.loader import load_survey

    df, cb = load_survey(None, "all")
    table = full_reproduction_table(df, cb)
    shown = display_table(table)
    assert shown.index.is_unique and len(shown) == len(table)
    ids = set(table["id"])
    assert not any(label in ids or label.split(" ")[0] in ids for label in shown.index)
    by_id = dict(zip(table["id"], shown.index))
    assert by_id["S3_training_satisfaction"] == f"Moyenne : {cb['training_satisfaction'].label}"
    assert by_id["S2_edu_bac3plus"] == f"Part : {cb['education'].label} — {cb['education'].label_of('bac3plus')}"
    # a multi-select option by its label, never its code
    assert by_id["S2_exp_reception"].endswith(cb["experience"].label_of("accueil_publics"))
    assert not any("_" in label for label in shown.index)
    n_count = shown.loc[by_id["S1_n_complete"]]
    assert n_count["n"] == f"{len(df) // 1000}{NNBSP}{len(df) % 1000:03d}" and len(df) >= 1000
    assert shown.loc[by_id["S3_training_satisfaction"], "Publié"] == "36/100"


def test_criteria_and_summary_read_in_french():
    from cnfs.compare import SUMMARY_HEADERS, criterion, display_summary, summary_by_section

    row = {"comparison": "equal", "value": "1071", "lower": "", "upper": ""}
    assert criterion(row) == f"= 1{NNBSP}071"
    row = {"comparison": "rounded", "value": "37.1", "decimals": 1, "lower": "", "upper": ""}
    assert criterion(row) == "arrondi à 1 décimale = 37,1"
    row = {"comparison": "date_on_or_after", "value": "2021-11-16", "lower": "", "upper": ""}
    assert criterion(row) == f"à partir du 16{NBSP}novembre{NBSP}2021"
    table = pd.DataFrame(
        {"publication": ["interim"] * 3, "section": ["1", "1", "2"], "status": [REPRODUCED, NOT_REPRODUCED, CONTEXT]}
    )
    shown = display_summary(summary_by_section(table))
    assert list(shown.columns) == list(SUMMARY_HEADERS.values())
    assert not any("_" in c for c in shown.columns)
    assert shown.loc[("article intermédiaire", "Total"), "Reproduits"] == "1"
    assert shown.loc[("article intermédiaire", "Total"), "Recalculés"] == "2"


def test_a_report_computes_a_figure_shown_twice_once_and_the_same(monkeypatch):
    """With a cache, a figure already computed is not computed again and the table is the same; an edited
    published row or another population size is computed afresh."""
    from cnfs import compare

    rows = [
        {**row("share", "sector", "pri"), "id": "SH"},
        {
            **row("coverage", "meta:respondent_id", value="40", comparison="between", lower="35", upper="40"),
            "id": "COV",
        },
    ]
    pub = pd.DataFrame(rows)
    cache: dict = {}
    direct = reproduction_table(DF, CB, published=pub, context={POPULATION_SIZE: 16})
    first = reproduction_table(DF, CB, published=pub, context={POPULATION_SIZE: 16}, computed_cache=cache)
    assert len(cache) == 2
    calls = []
    real = compare.compute_figure
    monkeypatch.setattr(compare, "compute_figure", lambda *a: calls.append(a[0]["id"]) or real(*a))
    again = reproduction_table(DF, CB, published=pub, context={POPULATION_SIZE: 16}, computed_cache=cache)
    assert calls == []
    pd.testing.assert_frame_equal(first, direct)
    pd.testing.assert_frame_equal(again, direct)
    other = reproduction_table(DF, CB, published=pub, context={POPULATION_SIZE: 12}, computed_cache=cache)
    assert calls == ["SH", "COV"] and other["status"].tolist()[1] == NOT_REPRODUCED  # 50 %: outside 35-40
    edited = pub.assign(option_or_subgroup=["pub", ""])
    shares = reproduction_table(DF, CB, published=edited, context={POPULATION_SIZE: 12}, computed_cache=cache)
    assert calls[2:] == ["SH"] and shares["computed"].iloc[0] == pytest.approx(100 * 4 / 6)
