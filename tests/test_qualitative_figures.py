"""Counts behind notebook 08, checked against the published-figures table."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from cnfs.qualitative import (
    ReproductionError,
    appropriation_matrix,
    check_all_reproduced,
    code_territory_matrix,
    compare_with_published,
    computed_figures,
    coordination_contracts,
    coordinators,
    load_qualitative,
    needs_instances,
    territory_features,
    territory_overview,
    verbatims_by_theme,
)
from cnfs.reference import figures_for


@pytest.fixture(scope="module")
def data():
    return load_qualitative()


@pytest.fixture(scope="module")
def table(data):
    return compare_with_published(computed_figures(data))


TRANSCRIBED_IDS = {  # numbers typed from the article into territories.yaml: transcription checks
    "Q1_A_recruited_by_cd",
    "Q1_A_validated",
    "Q1_C_app_contingent",
    "Q2_A_capturing_collectivities",
    "Q2_D_gip_advisors",
    "Q2_D_gip_communes",
    "Q2_E_efs_advisors",
    "Q2_D_coordination_fte",
}


def test_every_computable_qualitative_row_is_reproduced_or_transcribed(table):
    ref = figures_for("qual:")
    assert list(table["id"]) == list(ref["id"])
    computable = set(ref.loc[ref["computable"] == "yes", "id"])
    assert set(table.loc[table["status"] == "transcrit", "id"]) == TRANSCRIBED_IDS
    assert set(table.loc[table["status"] == "reproduit", "id"]) == computable - TRANSCRIBED_IDS
    assert set(table.loc[table["status"] == "contexte", "id"]) == set(ref.loc[ref["computable"] != "yes", "id"])
    check_all_reproduced(table)


def test_a_changed_transcription_fails_the_check(data):
    numbers = data.territory_numbers.copy()
    numbers.loc[numbers["measure"] == "advisors_in_efs", "value"] = 12.0
    changed = dataclasses.replace(data, territory_numbers=numbers)
    table = compare_with_published(computed_figures(changed))
    assert table.set_index("id").loc["Q2_E_efs_advisors", "status"] == "transcription divergente"
    with pytest.raises(ReproductionError, match="Q2_E_efs_advisors"):
        check_all_reproduced(table)


def test_a_changed_record_is_not_reproduced(data):
    """A count recomputed from the records (territories with a coordinator) fails when a record changes."""
    t = data.territories.copy()
    t.loc[t["territory"] == "C", "coordinator"] = "none"
    table = compare_with_published(computed_figures(dataclasses.replace(data, territories=t)))
    assert table.set_index("id").loc["Q2_coordinators", "status"] == "non reproduit"


def test_missing_computation_is_not_reproduced(data):
    computed = computed_figures(data)
    computed = computed[computed["question"] != "qual:needs"]
    table = compare_with_published(computed)
    row = table.set_index("id").loc["Q3_needs_instances"]
    assert row["status"] == "non reproduit" and pd.isna(row["computed"])


def test_coordinators_and_contracts(data):
    c = coordinators(data)
    assert list(c.loc[c["has_coordinator"], "territory"]) == ["A", "C", "D"]
    assert list(c.loc[c["already_engaged"], "territory"]) == ["A", "D"]
    contracts = coordination_contracts(data).set_index("Territoire")
    assert contracts["Part financée par le coordinateur (%)"].to_dict() == {"A": 50.0, "C": 0.0, "D": 100.0}


def test_matrices_are_consistent(data):
    overview = territory_overview(data)
    assert len(overview) == 5 and overview["Territoire"].is_unique
    features = territory_features(data)
    assert features.groupby("feature").size().eq(5).all()
    approp = appropriation_matrix(data)
    assert approp.groupby("territory")["present"].sum().ge(1).all()  # every territory has a type
    matrix = code_territory_matrix(data)
    n_codings = sum(len(c) for c in data.excerpts["codes"])
    assert int(matrix.to_numpy().sum()) == n_codings
    needs = needs_instances(data)
    assert (needs["excerpts"] > 0).all()


def test_verbatims_grouped_by_theme(data):
    v = verbatims_by_theme(data)
    assert set(v["Extrait"]) == set(data.excerpts.loc[data.excerpts["kind"] == "verbatim", "excerpt_id"])
    assert v["Thème"].notna().all()


def test_the_notebook_report_writes_the_tidy_tables_it_shows(tmp_path, data):
    """QualitativeReport (notebook 08): each result's data is the analysis table, written as CSV under output_dir."""
    from cnfs.qualitative.report import QualitativeReport

    report = QualitativeReport(output_dir=tmp_path)
    res = report.coordinators()
    pd.testing.assert_frame_equal(res.data, coordinators(data))
    written = pd.read_csv(tmp_path / "tables" / "qual_coordinateurs.csv")
    assert list(written["territory"]) == list(res.data["territory"])
    assert res.png == (tmp_path / "figures" / "qual_coordinateurs.png").read_bytes()  # drawn once, shown as written
    check = report.check()
    assert (check.data["status"] == "transcrit").sum() == 8
    assert any("vérification de transcription" in n for n in check.notes)
    assert "verbatim" in report.verbatims()  # Markdown, with its table written too
    assert (tmp_path / "tables" / "qual_verbatims_par_theme.csv").is_file()


def test_the_notebook_report_reads_another_qualitative_folder(tmp_path):
    import shutil

    from cnfs import paths
    from cnfs.qualitative import QualitativeDataError
    from cnfs.qualitative.report import QualitativeReport

    folder = tmp_path / "qual"
    shutil.copytree(paths.QUALITATIVE_DIR, folder)
    (folder / "themes.yaml").unlink()
    with pytest.raises(QualitativeDataError, match="themes.yaml"):
        QualitativeReport(qualitative_dir=folder, output_dir=tmp_path / "out")


def test_the_notebook_report_shows_french_tables_without_codes(tmp_path, data):
    """What readers see: French headers, oui / non, words for the measures and figures, no row numbers."""
    import re

    from cnfs.qualitative.report import QualitativeReport

    report = QualitativeReport(output_dir=tmp_path)
    shown = {}
    for name in ("overview", "features", "coordinators", "contracts", "numbers", "actors", "appropriation", "needs"):
        res = getattr(report, name)()
        shown[name] = res.table
        text = res._repr_html_()
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", re.sub(r'src="[^"]*"', "", text)), name  # no snake_case code
        assert ">True<" not in text and ">False<" not in text, name
        assert not isinstance(res.table.index, pd.RangeIndex), name
    features = shown["features"]
    assert features.index.name == "Territoire" and set(features["Observé"]) <= {"oui", "non"}
    raw = coordinators(data)
    assert list(shown["coordinators"]["Coordinateur identifié"]) == [
        "oui" if v else "non" for v in raw["has_coordinator"]
    ]
    numbers = shown["numbers"]
    assert "Part des postes financée par le coordinateur (%)" in set(numbers["Mesure"])
    check = report.check()
    assert check.table.index.is_unique and not check.table.index.str.match(r"^[SQF]\d+_").any()
    check.styler.to_html()  # a unique index: the status colours can be applied
