"""Loader of the qualitative study: the real files load; broken copies give precise, grouped errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from cnfs import paths
from cnfs.qualitative import QualitativeDataError, load_qualitative, load_themes, load_vocabulary


@pytest.fixture(scope="module")
def data():
    return load_qualitative()


@pytest.fixture
def copy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "qualitative"
    shutil.copytree(paths.QUALITATIVE_DIR, target)
    return target


def _edit(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_real_files_load(data):
    assert list(data.territories["territory"]) == ["A", "B", "C", "D", "E"]
    assert data.excerpts["excerpt_id"].is_unique
    assert set(data.structures["territory"]) <= set(data.territories["territory"])
    assert all(isinstance(c, tuple) and c for c in data.excerpts["codes"])


def test_every_verbatim_is_coded_with_known_codes(data):
    known = set(data.themes["code"])
    assert {c for codes in data.excerpts["codes"] for c in codes} <= known
    assert (data.excerpts["kind"] == "verbatim").sum() >= 5


def test_themes_and_vocabulary_readers():
    themes = load_themes()
    assert {"code", "label", "dimension"} <= set(themes.columns)
    assert set(themes["dimension"]) >= {"needs", "appropriation"}
    assert "ept" in load_vocabulary()["coordinator_kinds"]


def test_input_files_are_not_modified(copy_dir):
    before = {p.name: p.read_bytes() for p in copy_dir.iterdir()}
    load_qualitative(copy_dir)
    assert {p.name: p.read_bytes() for p in copy_dir.iterdir()} == before


def test_unknown_territory_code_and_missing_field_are_all_reported(copy_dir):
    _edit(copy_dir / "structures.yaml", lambda d: d["structures"][0].update(territory="Z"))

    def excerpts(d):
        d["excerpts"][1]["codes"].append("not_a_theme")
        del d["excerpts"][2]["speaker_role"]

    _edit(copy_dir / "excerpts.yaml", excerpts)
    _edit(copy_dir / "territories.yaml", lambda d: d["territories"][3]["coordination"].update(coordinator="region"))
    with pytest.raises(QualitativeDataError) as err:
        load_qualitative(copy_dir)
    msg = str(err.value)
    assert len(err.value.problems) == 4
    assert "structures.yaml: record 'A-departement' (#0), field 'territory'" in msg and "'Z'" in msg
    assert "excerpts.yaml: record 'V02'" in msg and "field 'codes'" in msg and "not_a_theme" in msg
    assert "excerpts.yaml: record 'V03' (#2), field 'speaker_role': expected a value" in msg
    assert "territories.yaml: record 'D' (#3), field 'coordination.coordinator'" in msg and "region" in msg


def test_bad_number_duplicate_id_and_appropriation_type(copy_dir):
    def territories(d):
        d["territories"][0]["numbers"]["advisors_validated"]["value"] = "vingt-huit"
        d["territories"][1]["id"] = "A"
        d["territories"][4]["appropriation"][0]["type"] = "invent"

    _edit(copy_dir / "territories.yaml", territories)
    with pytest.raises(QualitativeDataError) as err:
        load_qualitative(copy_dir)
    msg = str(err.value)
    assert "field 'numbers.advisors_validated.value': expected a number, got 'vingt-huit'" in msg
    assert "record 'A' (#1), field 'id': expected a unique identifier" in msg
    assert "field 'appropriation[0].type'" in msg and "invent" in msg


def test_missing_file_and_invalid_yaml(copy_dir):
    (copy_dir / "structures.yaml").unlink()
    (copy_dir / "excerpts.yaml").write_text("excerpts: [unclosed", encoding="utf-8")
    with pytest.raises(QualitativeDataError) as err:
        load_qualitative(copy_dir)
    msg = str(err.value)
    assert "structures.yaml" in msg and "an existing file" in msg
    assert "excerpts.yaml" in msg and "valid YAML" in msg


def test_coordinator_without_contract_is_an_error(copy_dir):
    _edit(copy_dir / "territories.yaml", lambda d: d["territories"][0].update(contract=None))
    with pytest.raises(QualitativeDataError, match=r"record 'A' \(#0\), field 'contract'"):
        load_qualitative(copy_dir)
