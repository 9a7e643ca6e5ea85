"""The normalisation and validation rules, one by one, on small exports built from the twin."""

from __future__ import annotations

import pandas as pd
import pytest
from cnfs import cache
from cnfs.cli import main
from cnfs.codebook import load_codebook
from cnfs.errors import InputError, SurveyValidationError
from cnfs.loader import load_survey
from cnfs.normalise import _choices, _numbers, _ticks, match_columns, parse_dates
from cnfs.sample import panel_members, sample_facts


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNFS_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def cb():
    return load_codebook()


@pytest.fixture()
def raw(twin_path) -> pd.DataFrame:
    """30 respondents of each wave, as the twin's CSV holds them."""
    full = pd.read_csv(twin_path, dtype=str, keep_default_na=False)
    return full.groupby("wave").head(30).reset_index(drop=True)


def _write(df: pd.DataFrame, path, **kw) -> str:
    df.to_csv(path, index=False, **kw)
    return str(path)


def _problems(path, **kw) -> list:
    with pytest.raises(SurveyValidationError) as e:
        load_survey(path, use_cache=False, **kw)
    return e.value.problems


# ---------------------------------------------------------------- value rules (by hand)
def test_ticks_in_every_usual_spelling():
    s = pd.Series(
        ["Y", "Oui", "yes", "1", "1.0", "x", "True", "", "N", "Non", "No", "0", "False", "0.0", "peut-être", None],
        dtype="string",
    )
    assert _ticks(s.mask(s == ""), {}).tolist()[:15] == ["1"] * 7 + [pd.NA] + ["0"] * 6 + ["peut-être"]


def test_choices_from_codes_or_labels_ignoring_case_accents_spaces(cb):
    q = cb["education"]
    s = pd.Series(
        ["bac3plus", "Bac +3 et supérieur", "BAC+3 ET SUPERIEUR", "  bac +2 ", "Bac ou inférieur", "doctorat", None],
        dtype="string",
    )
    assert _choices(s, q, {}).tolist() == [
        "bac3plus",
        "bac3plus",
        "bac3plus",
        "bac2",
        "bac_ou_moins",
        "doctorat",
        pd.NA,
    ]
    assert _choices(pd.Series(["Licence"], dtype="string"), q, {"Licence": "bac3plus"}).tolist() == ["bac3plus"]


def test_yes_no_questions_accept_ticks(cb):
    q = cb["start_difficulty"]
    assert q.codes == ["oui", "non"]
    s = pd.Series(["Y", "N", "1", "0", "Oui", "non", "True"], dtype="string")
    assert _choices(s, q, {}).tolist() == ["oui", "non", "oui", "non", "oui", "non", "oui"]


def test_excel_sep_line_names_the_delimiter(raw, tmp_path):
    ref = load_survey(_write(raw, tmp_path / "ref.csv"), use_cache=False).data
    (tmp_path / "sep.csv").write_text("sep=;\n" + raw.to_csv(index=False, sep=";"), encoding="utf-8")
    pd.testing.assert_frame_equal(load_survey(tmp_path / "sep.csv", use_cache=False).data, ref)


def test_decimals_from_limesurvey_and_excel():
    s = pd.Series(["50.0000000000", "12,0", "12,5", "7", "-3.50", "abc", None], dtype="string")
    assert _numbers(s).tolist() == ["50", "12", "12.5", "7", "-3.5", "abc", pd.NA]


def test_dates_in_iso_with_time_french_and_excel_serials():
    s = pd.Series(
        ["2021-11-20", "20/11/2021", "20.11.2021", "44520", "2021/11/20", "pas une date", None], dtype="string"
    )
    assert parse_dates(s).tolist() == ["2021-11-20"] * 5 + ["pas une date", pd.NA]
    t = pd.Series(["2021-11-20 14:33:12", "20/11/2021 09:05", "44520.5"], dtype="string")
    assert parse_dates(t).tolist() == ["2021-11-20 14:33:12", "2021-11-20 09:05:00", "2021-11-20 12:00:00"]


def test_column_forms(cb):
    cols = [
        "respondent_id",
        " Structure_Sector",
        "experience[accueil_publics]",
        "experience[SQ002]",
        "experience_SQ003",
        "interest[SQ002]",
        "motives[tools]",
        "id",
        "lastpage",
        "shoe_size",
        "Vague",
    ]
    got = {m.column: m.target for m in match_columns([c.strip() for c in cols], cb)}
    assert got == {
        "respondent_id": "respondent_id",
        "Structure_Sector": "structure_sector",
        "experience[accueil_publics]": "experience__accueil_publics",
        "experience[SQ002]": "experience__accompagnement_numerique",
        "experience_SQ003": "experience__vente_commerce",
        "interest[SQ002]": "interest_social",
        "motives[tools]": "motive_tools",
        "id": None,
        "lastpage": None,
        "shoe_size": None,
        "Vague": "wave",
    }


# ---------------------------------------------------------------- file rules
def test_trimmed_headers_na_and_trailing_empty_rows(raw, tmp_path):
    ref = load_survey(_write(raw, tmp_path / "ref.csv"), use_cache=False).data
    messy = raw.replace("", "NA")
    messy.columns = [f" {c} " for c in messy.columns]
    text = (
        messy.to_csv(index=False) + "," * (len(raw.columns) - 1) + "\n" + ";" * 0 + "," * (len(raw.columns) - 1) + "\n"
    )
    (tmp_path / "messy.csv").write_text(text, encoding="utf-8")
    survey = load_survey(tmp_path / "messy.csv", use_cache=False)
    pd.testing.assert_frame_equal(survey.data, ref)
    assert survey.provenance["load"]["dropped"]["trailing_empty_rows"] == 2


def test_wave_from_argument_mapping_or_dates(raw, tmp_path):
    w2 = raw[raw["wave"] == "2"].drop(columns="wave")
    path = _write(w2, tmp_path / "vague2.csv")
    by_date = load_survey(path, use_cache=False)
    assert set(by_date.data["wave"].astype(str)) == {"2"} and by_date.provenance["load"]["wave_from"] == "date"
    assert load_survey(path, wave="2", use_cache=False).provenance["load"]["wave_from"] == "argument"
    (tmp_path / "m.yaml").write_text('wave: "2"\n', encoding="utf-8")
    assert load_survey(path, mapping=tmp_path / "m.yaml", use_cache=False).provenance["load"]["wave_from"] == "mapping"
    problems = _problems(path, wave="1")  # claimed wave 1, dated in wave 2's period
    assert [p.column for p in problems] == [
        "submitted_at"
    ] and "période de la vague 1, du 2021-11-16 au 2021-12-19" in problems[0].expected


def test_dates_outside_their_wave_are_refused_within_the_tolerance(raw, tmp_path, cb):
    tol = cb.meta["wave_period_tolerance_days"]
    raw.loc[0, "submitted_at"] = "2031-11-16"  # year typo
    raw.loc[1, "submitted_at"] = (pd.Timestamp(cb.meta["wave_periods"]["1"]["end"]) + pd.Timedelta(days=tol)).strftime(
        "%Y-%m-%d"
    )
    problems = _problems(_write(raw, tmp_path / "typo.csv"))
    assert len(problems) == 1 and problems[0].rows == (1,) and "'2031-11-16'" in problems[0].found


def test_incomplete_responses_refused_with_their_count_or_excluded(raw, tmp_path):
    raw.loc[[5, 40], "submitted_at"] = ""
    raw.loc[[5, 40], "age"] = ""  # an unfinished response also lacks answers: not reported again
    path = _write(raw, tmp_path / "incomplete.csv")
    problems = _problems(path)
    assert len(problems) == 1 and problems[0].rows == (6, 41) and "2 réponse(s) incomplète(s)" in problems[0].found
    survey = load_survey(path, exclude_incomplete=True, use_cache=False)
    assert len(survey.data) == len(raw) - 2 and survey.excluded_incomplete == 2
    facts = sample_facts(survey).set_index("fait")["valeur"]
    assert facts["Réponses incomplètes écartées (sans date de soumission)"] == 2


def test_same_id_in_two_waves_is_a_panel_member_not_a_duplicate(raw, tmp_path):
    w2 = raw.index[raw["wave"] == "2"]
    raw.loc[w2[:3], "respondent_id"] = raw.loc[raw.index[:3], "respondent_id"].to_numpy()
    survey = load_survey(_write(raw, tmp_path / "panel.csv"), use_cache=False)
    assert panel_members(survey.data) == 3
    assert (
        sample_facts(survey)
        .set_index("fait")
        .loc["Conseillers ayant répondu à deux vagues (même identifiant)", "valeur"]
        == 3
    )
    raw.loc[1, "respondent_id"] = raw.loc[0, "respondent_id"]
    problems = _problems(_write(raw, tmp_path / "dup.csv"))
    assert [(p.column, p.rows) for p in problems] == [("respondent_id", (1, 2))]


def test_one_wrong_wave_label_is_one_problem(raw, tmp_path):
    raw.loc[7, "wave"] = "V2"
    problems = _problems(_write(raw, tmp_path / "v2.csv"))
    assert [(p.column, p.rows) for p in problems] == [("wave", (8,))]


def test_a_wrong_filter_answer_does_not_cascade(raw, tmp_path):
    raw.loc[2, "structure_sector"] = "inconnu"
    problems = _problems(_write(raw, tmp_path / "filter.csv"))
    assert [(p.column, p.rows) for p in problems] == [("structure_sector", (3,))]


# ---------------------------------------------------------------- mapping
def test_mapping_renames_recodes_ignores_and_sets_the_wave(raw, tmp_path):
    ref = load_survey(_write(raw[raw["wave"] == "1"], tmp_path / "ref.csv"), use_cache=False).data
    exp = (
        raw[raw["wave"] == "1"]
        .drop(columns="wave")
        .rename(columns={"education": "Q7", "experience__autre": "Q9_other"})
    )
    exp["education"] = "ignored"
    exp["Q7"] = exp["Q7"].map({"bac_ou_moins": "Niveau 1", "bac2": "Niveau 2", "bac3plus": "Niveau 3"})
    (tmp_path / "mapping.yaml").write_text(
        "columns: {Q7: education, Q9_other: experience__autre}\nignore: [education]\n"
        "recode: {education: {Niveau 1: bac_ou_moins, Niveau 2: bac2, Niveau 3: bac3plus}}\nwave: '1'\n",
        encoding="utf-8",
    )
    path = _write(exp, tmp_path / "export.csv")
    survey = load_survey(path, mapping=tmp_path / "mapping.yaml", use_cache=False)
    pd.testing.assert_frame_equal(survey.data, ref)
    assert survey.warnings == []


def test_subquestion_order_from_the_mapping(raw, tmp_path, cb):
    q = cb["diversity_opinion"]
    exp = raw.rename(
        columns={f"diversity_opinion__{c}": f"diversityopinion[SQ00{i}]" for i, c in zip((3, 1, 2), q.codes)}
    )
    (tmp_path / "m.yaml").write_text(
        "subquestions: {diversity_opinion: {SQ003: interessante, SQ001: difficile, SQ002: frustrante}}\n"
    )
    ref = load_survey(_write(raw, tmp_path / "ref.csv"), use_cache=False).data
    got = load_survey(_write(exp, tmp_path / "e.csv"), mapping=tmp_path / "m.yaml", use_cache=False).data
    pd.testing.assert_frame_equal(got, ref)


def test_mapping_draft_lists_columns_unrecognised_answers_and_missing_questions(raw, tmp_path, capsys):
    import yaml

    exp = raw.drop(columns=["age"]).rename(columns={"education": "niveau_etudes"})
    exp["structure_sector"] = exp["structure_sector"].replace({"public": "Fonction publique"})
    path = _write(exp, tmp_path / "export.csv")
    assert main(["mapping", "draft", path]) == 0
    draft = capsys.readouterr().out
    doc = yaml.safe_load(draft)
    assert doc["columns"]["niveau_etudes"] is None and doc["columns"]["structure_sector"] == "structure_sector"
    assert "niveau_etudes: null  # aucune colonne du codebook ne correspond" in draft
    assert doc["recode"] == {"structure_sector": {"Fonction publique": None}}
    assert doc["unmatched_questions"] == ["age", "education"]
    doc["columns"]["niveau_etudes"] = "education"
    doc["recode"]["structure_sector"]["Fonction publique"] = "public"
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    problems = _problems(path, mapping=tmp_path / "mapping.yaml")
    assert [p.column for p in problems] == ["age"]  # what no mapping can invent


# ---------------------------------------------------------------- cache and synthetic flag
def test_cache_is_bounded_cleared_and_the_only_copy(raw, tmp_path, monkeypatch, capsys):
    paths = [
        _write(raw.assign(main_place_other=raw["main_place_other"]).iloc[: 10 + i], tmp_path / f"e{i}.csv")
        for i in range(3)
    ]
    for p in paths:
        load_survey(p)
    entries = cache.entries()
    assert len(entries) == 3 and all(e.parent == tmp_path / "cache" for e in entries)
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted(["cache", "e0.csv", "e1.csv", "e2.csv"])
    size = max(e.stat().st_size for e in entries)
    monkeypatch.setenv("CNFS_CACHE_MAX_MB", str(2.5 * size / 1024 / 1024))
    load_survey(_write(raw.iloc[:20], tmp_path / "e3.csv"))
    assert len(cache.entries()) == 2
    assert main(["cache", "clear"]) == 0
    assert "Cache vidé : 2 fichier(s)" in capsys.readouterr().out and cache.entries() == []


def test_cache_serves_a_file_whose_wave_comes_from_its_dates(raw, tmp_path, monkeypatch):
    import cnfs.loader as loader

    path = _write(raw.drop(columns="wave"), tmp_path / "sans_vague.csv")
    first = load_survey(path)
    calls = []
    monkeypatch.setattr(loader, "prepare", lambda *a, **k: calls.append(a) or pytest.fail("parsed again"))
    pd.testing.assert_frame_equal(load_survey(path).data, first.data)
    assert calls == []


def test_synthetic_comes_from_provenance_not_the_name(raw, tmp_path):
    import json

    raw["respondent_id"] = [f"R{i}" for i in range(len(raw))]
    path = _write(raw, tmp_path / "real.csv")
    assert not load_survey(path, use_cache=False).is_synthetic
    (tmp_path / "real.provenance.json").write_text(json.dumps({"synthetic": True}))
    assert load_survey(path, use_cache=False).is_synthetic


def test_header_only_after_dropping_empty_rows_is_refused(raw, tmp_path):
    path = tmp_path / "empty_rows.csv"
    path.write_text(",".join(raw.columns) + "\n" + "," * (len(raw.columns) - 1) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="ne contient que la ligne d'en-tête et des lignes vides"):
        load_survey(path, use_cache=False)
