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
