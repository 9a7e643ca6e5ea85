"""The loader: typed data, every validation error named precisely, input untouched, cache."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest
from cnfs.errors import ExportWarning, InputError
from cnfs.loader import SurveyValidationError, available_waves, load_survey, read_raw
from cnfs.provenance import is_synthetic, sha256_file


@pytest.fixture()
def raw(twin_path) -> pd.DataFrame:
    return pd.read_csv(twin_path, dtype=str, keep_default_na=False)


def _write(df: pd.DataFrame, path) -> str:
    df.to_csv(path, index=False)
    return str(path)


def _problems(path) -> SurveyValidationError:
    with pytest.raises(SurveyValidationError) as e:
        load_survey(path, use_cache=False)
    return e.value


def test_typed_frame(survey):
    df, cb = survey
    assert isinstance(df["education"].dtype, pd.CategoricalDtype)
    assert df["education"].cat.ordered
    assert "Bac +3 et supérieur" in df["education"].cat.categories
    assert str(df["experience__accueil_publics"].dtype) == "boolean"
    assert str(df["interest_social"].dtype) == "Int64"
    assert survey.is_synthetic and "SYNTHÉTIQUES" in survey.warning


def test_wave_selection(survey):
    one = load_survey(wave="1")
    two = load_survey(wave=2)
    assert len(one.data) + len(two.data) == len(survey.data)
    assert set(one.data["wave"].astype(str)) == {"1"}
    with pytest.raises(ValueError, match="wave '3' absente des données ; vagues présentes"):
        load_survey(wave="3")
    assert available_waves() == ["1", "2"]


def test_csv_and_parquet_load_the_same(twin_path):
    a = load_survey(twin_path, use_cache=False).data
    b = load_survey(twin_path.with_suffix(".parquet"), use_cache=False).data
    pd.testing.assert_frame_equal(a, b)


def test_missing_column_is_a_problem_and_unknown_columns_a_warning(raw, tmp_path):
    bad = raw.drop(columns=["age"]).assign(shoe_size="42")
    e = _problems(_write(bad, tmp_path / "cols.csv"))
    msg = str(e)
    assert "cols.csv, colonne 'age' : attendu cette colonne (du codebook) ; trouvé colonne absente" in msg
    assert "shoe_size" not in msg
    with pytest.warns(ExportWarning, match="colonnes absentes du codebook, ignorées : 'shoe_size'"):
        survey = load_survey(_write(raw.assign(shoe_size="42"), tmp_path / "extra.csv"), use_cache=False)
    assert survey.warnings == [f"{tmp_path / 'extra.csv'} : colonnes absentes du codebook, ignorées : 'shoe_size'"]
    assert "shoe_size" not in survey.data


def test_code_outside_options(raw, tmp_path):
    raw.loc[[4, 9], "education"] = "doctorat"
    msg = str(_problems(_write(raw, tmp_path / "codes.csv")))
    assert (
        "codes.csv, colonne 'education', lignes 5, 10 : attendu un code ou un libellé d'option parmi bac_ou_moins (Bac ou inférieur), "
        "bac2 (Bac +2), bac3plus (Bac +3 et supérieur) ; trouvé valeurs 'doctorat'"
    ) in msg


def test_scale_out_of_range_and_not_integer(raw, tmp_path):
    raw.loc[0, "interest_social"] = "11"
    raw.loc[1, "training_satisfaction"] = "55.5"
    msg = str(_problems(_write(raw, tmp_path / "scale.csv")))
    assert "colonne 'interest_social', lignes 1 : attendu une valeur de 1 à 10 ; trouvé valeurs '11'" in msg
    assert "colonne 'training_satisfaction', lignes 2 : attendu un nombre entier ; trouvé valeurs '55.5'" in msg


def test_answer_outside_the_universe_and_missing_mandatory_answer(raw, tmp_path):
    private = raw.index[raw["structure_sector"] == "prive"][0]
    public = raw.index[raw["structure_sector"] == "public"][0]
    raw.loc[private, "civil_category"] = "B"
    raw.loc[public, "civil_category"] = ""
    msg = str(_problems(_write(raw, tmp_path / "universe.csv")))
    assert (
        f"colonne 'civil_category', lignes {private + 1} : attendu aucune réponse hors du champ de la question" in msg
    )
    assert f"colonne 'civil_category', lignes {public + 1} : attendu une réponse (question obligatoire" in msg


def test_duplicate_ids_and_unknown_wave(raw, tmp_path):
    raw.loc[3, "respondent_id"] = raw.loc[2, "respondent_id"]
    raw.loc[7, "wave"] = "3"
    msg = str(_problems(_write(raw, tmp_path / "ids.csv")))
    raw.loc[3, "wave"] = raw.loc[2, "wave"]
    msg = str(_problems(_write(raw, tmp_path / "ids.csv")))
    assert "colonne 'respondent_id', lignes 3, 4 : attendu des identifiants uniques dans une vague" in msg
    assert "colonne 'wave', lignes 8 : attendu une vague parmi ['1', '2']" in msg


def test_every_problem_reported_at_once(raw, tmp_path):
    raw.loc[0, "education"] = "x"
    raw.loc[1, "age"] = "200"
    raw.loc[2, "experience__accueil_publics"] = "peut-être"
    raw = raw.drop(columns=["met_teams"])
    e = _problems(_write(raw, tmp_path / "many.csv"))
    cols = {p.column for p in e.problems}
    assert {"education", "age", "experience__accueil_publics", "met_teams"} <= cols
    assert all(p.file.endswith("many.csv") for p in e.problems)


def test_long_row_lists_are_shortened(raw, tmp_path):
    raw.loc[:, "age"] = "5"
    msg = str(_problems(_write(raw, tmp_path / "age.csv")))
    assert "lignes 1, 2, 3, 4, 5 et 1066 autres" in msg


def test_input_is_never_modified(raw, tmp_path):
    raw.loc[0, "education"] = "x"
    path = _write(raw, tmp_path / "ro.csv")
    before = (sha256_file(path), (tmp_path / "ro.csv").stat().st_mtime_ns)
    _problems(path)
    assert (sha256_file(path), (tmp_path / "ro.csv").stat().st_mtime_ns) == before


def test_unsupported_format_and_missing_file(tmp_path):
    (tmp_path / "x.json").write_text("nope")
    with pytest.raises(InputError, match=r"x.json : format non pris en charge : .json"):
        load_survey(tmp_path / "x.json")
    with pytest.raises(InputError, match="nothere.csv : fichier introuvable"):
        load_survey(tmp_path / "nothere.csv")


def test_cache_is_keyed_on_content_not_on_size_and_mtime(twin_path, tmp_path, monkeypatch):
    monkeypatch.setenv("CNFS_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "export.csv"
    shutil.copy(twin_path, path)
    first = load_survey(path).data
    st = path.stat()
    raw = read_raw(path).astype(object).where(lambda d: d.notna(), "")
    raw.loc[0, "age"] = "61" if raw.loc[0, "age"] != "61" else "62"  # same size
    raw.to_csv(path, index=False, lineterminator="\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    second = load_survey(path).data
    assert first.loc[0, "age"] != second.loc[0, "age"]
    raw.loc[0, "age"] = "5"  # invalid now, same size and mtime again
    raw.to_csv(path, index=False, lineterminator="\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(SurveyValidationError, match="colonne 'age', lignes 1"):
        load_survey(path)


def test_a_copy_of_the_twin_without_its_sidecar_is_still_synthetic(twin_path, tmp_path):
    copy = tmp_path / "export.csv"
    shutil.copy(twin_path, copy)
    survey = load_survey(copy, use_cache=False)
    assert survey.is_synthetic and "SYNTHÉTIQUES" in survey.warning
    assert is_synthetic(copy)


def test_a_real_export_is_not_flagged_synthetic_whatever_its_name(raw, tmp_path):
    raw["respondent_id"] = [f"R{i:05d}" for i in range(len(raw))]
    for name in ("export.csv", "synthese_enquete.csv", "survey_synthetic.csv"):
        survey = load_survey(_write(raw, tmp_path / name), use_cache=False)
        assert not survey.is_synthetic and survey.warning == ""
        assert not is_synthetic(tmp_path / name)


def test_cli_validate_reports_problems(raw, tmp_path, capsys):
    from cnfs.cli import main

    good = _write(raw, tmp_path / "good.csv")
    assert main(["validate", good]) == 0
    raw.loc[0, "education"] = "x"
    bad = _write(raw, tmp_path / "bad.csv")
    assert main(["validate", bad]) == 2
    assert "bad.csv, colonne 'education', lignes 1" in capsys.readouterr().err
