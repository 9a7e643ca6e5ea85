"""REFI-QDA import: a small .qdpx built here following the standard becomes the excerpt table."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from cnfs.qualitative import (
    QualitativeDataError,
    code_territory_matrix,
    load_qualitative,
    read_qdpx,
)
from cnfs.qualitative.load import EXCERPT_COLUMNS

NS = "urn:QDA-XML:project:1.0"
TEXT_1 = "Intervieweur : pourquoi ce poste ?\nCnFS : c'est pour aider les autres. Le salaire est bas."
TEXT_2 = "La commune répartit le temps de présence des CnFS selon les besoins des communes."
SRC_1, SRC_2 = "11111111-0000-0000-0000-000000000001", "11111111-0000-0000-0000-000000000002"


def _span(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


def build_qdpx(
    path: Path, *, code_name: str = "Utilité sociale", target: str = "C-UTIL", end: int | None = None
) -> Path:
    """Write a minimal REFI-QDA project: nested codebook, two text sources, three coded selections."""
    s1, e1 = _span(TEXT_1, "c'est pour aider les autres.")
    s2, e2 = _span(TEXT_1, "Le salaire est bas.")
    s3, e3 = _span(TEXT_2, "répartit le temps de présence des CnFS selon les besoins des communes")
    e1 = e1 if end is None else end
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS}" name="CnFS test" origin="pytest">
  <CodeBook>
    <Codes>
      <Code guid="C-UTIL" name="{code_name}" isCodable="true"/>
      <Code guid="C-PAY" name="recognition_pay" isCodable="true"/>
      <Code guid="C-PARENT" name="Organisation territoriale" isCodable="false">
        <Code guid="C-KEYS" name="Clés de répartition" isCodable="true"/>
        <Code guid="C-NEEDS" name="besoins des territoires" isCodable="true"/>
      </Code>
    </Codes>
  </CodeBook>
  <Sources>
    <TextSource guid="{SRC_1}" name="B - cnfs - commune - entretien 1" plainTextPath="internal://{SRC_1}.txt">
      <PlainTextSelection guid="SEL-1" startPosition="{s1}" endPosition="{e1}">
        <Coding guid="COD-1"><CodeRef targetGUID="{target}"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="SEL-2" startPosition="{s2}" endPosition="{e2}">
        <Coding guid="COD-2"><CodeRef targetGUID="C-PAY"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="SEL-MEMO" startPosition="0" endPosition="5"/>
    </TextSource>
    <TextSource guid="{SRC_2}" name="Observation réunion intercommunale" plainTextPath="internal://{SRC_2}.txt">
      <PlainTextSelection guid="SEL-3" startPosition="{s3}" endPosition="{e3}">
        <Coding guid="COD-3"><CodeRef targetGUID="C-KEYS"/></Coding>
        <Coding guid="COD-4"><CodeRef targetGUID="C-NEEDS"/></Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>
"""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr(f"sources/{SRC_1}.txt", TEXT_1)
        z.writestr(f"sources/{SRC_2}.txt", TEXT_2)
    return path


@pytest.fixture(scope="module")
def data():
    return load_qualitative()


def test_read_qdpx_maps_segments_codes_and_sources(tmp_path, data):
    table = read_qdpx(build_qdpx(tmp_path / "p.qdpx"), data)
    assert list(table.columns) == EXCERPT_COLUMNS
    assert list(table["excerpt_id"]) == ["SEL-1", "SEL-2", "SEL-3"]  # uncoded memo selection skipped
    first = table.iloc[0]
    assert first["text"] == "c'est pour aider les autres."
    assert first["codes"] == ("social_usefulness",)
    assert (first["territory"], first["speaker_role"], first["structure_kind"]) == ("B", "cnfs", "commune")
    assert table.iloc[1]["codes"] == ("recognition_pay",)
    third = table.iloc[2]
    assert third["codes"] == ("allocation_keys", "needs_territories")
    assert third["source"] == "Observation réunion intercommunale"
    assert third[["territory", "speaker_role", "structure_kind"]].isna().all()


def test_qdpx_excerpts_feed_the_same_analyses(tmp_path, data):
    table = read_qdpx(build_qdpx(tmp_path / "p.qdpx"), data)
    matrix = code_territory_matrix(data, table)
    assert matrix.loc["Utilité sociale", "B"] == 1
    assert matrix.loc["Clés de répartition", "Non précisé"] == 1
    assert int(matrix.to_numpy().sum()) == 4


def test_unknown_code_bad_reference_and_offsets_reported_together(tmp_path, data):
    path = build_qdpx(tmp_path / "bad.qdpx", code_name="Code inventé", end=10_000)
    with pytest.raises(QualitativeDataError) as err:
        read_qdpx(path, data)
    msg = str(err.value)
    assert "bad.qdpx: record PlainTextSelection 'SEL-1'" in msg
    assert "field 'Code.name'" in msg and "Code inventé" in msg
    assert "field 'startPosition/endPosition'" in msg
    path = build_qdpx(tmp_path / "dangling.qdpx", target="NO-SUCH-GUID")
    with pytest.raises(QualitativeDataError, match="CodeRef.targetGUID.*NO-SUCH-GUID"):
        read_qdpx(path, data)


def test_not_a_qdpx(tmp_path, data):
    bad = tmp_path / "x.qdpx"
    bad.write_text("not a zip", encoding="utf-8")
    with pytest.raises(QualitativeDataError, match="x.qdpx"):
        read_qdpx(bad, data)
    empty = tmp_path / "empty.qdpx"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("other.txt", "")
    with pytest.raises(QualitativeDataError, match="project.qde"):
        read_qdpx(empty, data)
