"""The explorer (notebook 10): every tab-book question offered by its French wording, views that change with
the choices, a weighted view with effective bases, and an export that writes CSV and spreadsheet."""

from __future__ import annotations

import pandas as pd
import pytest
from cnfs.tabbook import tab_questions


@pytest.fixture(scope="module")
def explorer(twin_path, tmp_path_factory):
    from cnfs.explorer import Explorer

    return Explorer(output_dir=str(tmp_path_factory.mktemp("explore")))


def test_every_tab_book_question_is_offered_by_its_wording(explorer):
    choices = explorer.question_choices()
    assert [qid for _, qid in choices] == [q.id for q in tab_questions(explorer.codebook)]
    wording = dict((qid, text) for text, qid in choices)
    assert wording["education"] == explorer.codebook["education"].wording
    assert [b for _, b in explorer.banner_choices()][0] == "total"


def test_view_follows_the_choices(explorer):
    first = explorer.view(question="education", banner="structure_sector", weighting="none", wave="all")
    assert set(first.tidy["banner"]) == {"total", "structure_sector"}
    cols = [c for _, c in first.table.table.columns]
    assert cols[0] == "Ensemble" and cols[1] == "Structure publique (A)"
    # the table's percentage is the share computed by hand from the data
    df = explorer.df
    pub = df[df["structure_sector"] == "Structure publique"]
    expected = 100 * (pub["education"] == "Bac +2").mean()
    cell = first.tidy[
        (first.tidy.banner == "structure_sector")
        & (first.tidy.column == "Structure publique")
        & (first.tidy.option == "bac2")
    ]
    assert cell["value"].iloc[0] == pytest.approx(expected)
    second = explorer.view(question="training_satisfaction", banner="site_mode")
    assert set(second.tidy["question"]) == {"training_satisfaction"}
    assert set(second.tidy["test"]) == {"mannwhitney"}
    assert not second.table.table.equals(first.table.table)
    assert second.chart.png and second.test.table is not None
    assert "Mann-Whitney" in second.test.table["Test"].iloc[0]


def test_one_wave_and_no_breakdown(explorer):
    v = explorer.view(question="difficulty_kinds", banner="total", wave="1")
    n1 = int((explorer.df["wave"].astype(str) == "1").sum())
    assert v.tidy["base_n"].max() < n1  # filtered question: those asked only
    assert v.test.table is None


def test_weighted_view_shows_effective_bases(explorer):
    v = explorer.view(question="education", banner="training_path", weighting="raking", wave="all")
    assert "Base effective (Kish)" in v.table.table.index
    assert (v.tidy["weighting"] != "none").all()
    assert (v.tidy["base_effective"].dropna() <= v.tidy["base_n"].dropna().astype(float) + 1e-9).all()
    explorer.view(weighting="none")


def test_export_writes_csv_and_spreadsheet(explorer):
    from openpyxl import load_workbook

    v = explorer.view(question="structure_sector", banner="education", weighting="none", wave="all")
    csv, xlsx = explorer.export()
    back = pd.read_csv(csv)
    assert len(back) == len(v.tidy) and "respondent_id" not in back.columns
    assert load_workbook(xlsx).sheetnames[:3] == ["Couverture", "Sommaire", "Notes"]


def test_widget_builds_and_reacts(explorer):
    pytest.importorskip("ipywidgets")
    box = explorer.widget()
    question = box.children[1]
    question.value = "post_created"
    assert explorer.last is not None and explorer.last.question == "post_created"


def test_test_table_withholds_a_small_group_size(twin_path, tmp_path):
    from cnfs.explorer import Explorer
    from cnfs.subgroups import site_mode

    probe = Explorer(output_dir=str(tmp_path / "probe"))
    df = probe.df[probe.df[probe.codebook.wave_column].astype(str) == "1"]
    sizes = df["training_satisfaction"].notna().groupby(site_mode(df)).sum()
    small = int(sizes.min())
    assert 0 < small < int(sizes.max())
    strict = Explorer(output_dir=str(tmp_path / "strict"), min_count=small + 1)
    shown = strict.view(question="training_satisfaction", banner="site_mode", wave="1").test.table
    cells = set(shown["Effectifs"].str.split(" / ").explode())
    assert str(small) not in cells and "[c]" in cells
    # both site-mode columns are withheld (one under the threshold, the other so the Ensemble cannot give
    # it back): the chart says so instead of failing
    view = strict.view(question="training_satisfaction", banner="site_mode", wave="1")
    assert view.chart.png is None and "secret statistique" in view.chart.caption
    assert view.tidy.loc[view.tidy.banner == "site_mode", "suppressed"].all()


def test_views_of_the_waves_give_no_withheld_size_back_by_subtraction(twin_path, tmp_path):
    from cnfs.explorer import Explorer

    probe = Explorer(output_dir=str(tmp_path / "probe"))
    df, wave_col = probe.df, probe.codebook.wave_column
    # sizes counted here with pandas: respondents asked training_path (everyone), by civil category and wave
    sizes = df.groupby([df[wave_col].astype(str), "civil_category"], observed=True).size().unstack(0)
    group = sizes["1"].idxmin()
    k = int(sizes.loc[group, "1"]) + 1  # under the threshold in wave 1 only
    assert sizes.loc[group, "2"] >= k and len(sizes) >= 3, "needs a group small in wave 1 only, among three"
    strict = Explorer(output_dir=str(tmp_path / "strict"), min_count=k)
    views = {v: strict.view(question="training_path", banner="civil_category", wave=v) for v in ("1", "2", "all")}
    bases, tests = {}, {}
    for v, view in views.items():
        cols = view.tidy[view.tidy["banner"] == "civil_category"]
        bases[v] = cols.groupby("column", sort=False)["base_n"].max()  # NaN: withheld
        row = view.test.data.iloc[0]
        tests[v] = dict(zip(row["groups"].split(" vs "), row["n_by"].split(" / ")))
    assert pd.isna(bases["1"][group]) and tests["1"][group] == "[c]"
    # pooled = wave 1 + wave 2: wave 2 withholds that column too, in its table and in its test
    assert pd.isna(bases["2"][group]) and tests["2"][group] == "[c]"
    for column in sizes.index:
        assert sum(pd.isna(bases[v][column]) for v in views) != 1, column
        assert sum(tests[v][column] == "[c]" for v in views) != 1, column
    for v in views:  # what is shown is the count
        expected = sizes["1"] + sizes["2"] if v == "all" else sizes[v]
        shown = bases[v].dropna()
        assert all(int(shown[c]) == expected[c] for c in shown.index), v


def test_the_wave_breakdown_within_one_wave_is_that_wave_alone(explorer):
    v = explorer.view(question="education", banner="wave", wave="2", weighting="none")
    cols = v.tidy[v.tidy["banner"] == "wave"]
    total = v.tidy[v.tidy["banner"] == "total"]
    assert set(cols["column"]) == {"Vague 2"} and set(cols["letter"]) == {"A"} and not cols["sig"].astype(bool).any()
    # the same cells as the wave's Ensemble (pooled book's wave column, withheld together with it)
    assert cols["value"].tolist() == total["value"].tolist() and cols["base_n"].tolist() == total["base_n"].tolist()
