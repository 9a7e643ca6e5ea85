"""The workbook follows the spreadsheet guidance: opened with openpyxl (another library than the writer),
it has a cover, contents and notes sheets, one table per sheet with title, base and n above a single
header row, no merged cells, no blank rows inside a table, numbers stored as numbers."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest
from cnfs.disclosure import suppress
from cnfs.spreadsheet import CoverInfo, SheetTable, wave_workbook, write_workbook
from openpyxl.utils import range_boundaries


def shares_table():
    t = pd.DataFrame(
        {
            "question": "q",
            "question_label": "Q",
            "option": ["a", "b", "c"],
            "label": ["A", "B", "C"],
            "count": [3, 40, 57],
            "n": 100,
            "percent": [3.0, 40.0, 57.0],
            "ci_low": [1.0, 30.5, 47.2],
            "ci_high": [8.5, 49.9, 66.3],
            "base": "ensemble des répondants",
        }
    )
    return suppress(t, min_count=10)


@pytest.fixture
def workbook(tmp_path):
    tables = [
        SheetTable(
            "02_q",
            "Question Q",
            shares_table(),
            base="Base : ensemble des répondants (n = 100)",
            n=100,
            notes=["Secret statistique : effectifs < 10 masqués."],
        ),
        SheetTable(
            "02_scores", "Scores", pd.DataFrame({"label": ["I1", "I2"], "n": [100, 98], "mean": [8.54, 8.23]}), n=100
        ),
    ]
    cover = CoverInfo(
        "Titre du classeur",
        "Source de test",
        synthetic_warning="Données synthétiques.",
        produced=dt.datetime(2026, 11, 28, 22, 15, tzinfo=dt.UTC),
    )
    path = write_workbook(tmp_path / "classeur.xlsx", tables, cover)
    return openpyxl.load_workbook(path)


def _table_rows(ws):
    (table,) = ws.tables.values()
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    rows = [[ws.cell(r, c).value for c in range(min_col, max_col + 1)] for r in range(min_row, max_row + 1)]
    above = [ws.cell(r, 1).value for r in range(1, min_row)]
    return rows[0], rows[1:], above


def test_cover_contents_notes_then_one_table_per_sheet(workbook):
    assert workbook.sheetnames[:3] == ["Couverture", "Sommaire", "Notes"]
    assert len(workbook.sheetnames) == 5
    cover = "\n".join(str(c.value) for row in workbook["Couverture"].iter_rows() for c in row if c.value)
    for words in (
        "Titre du classeur",
        "Source de test",
        "Données synthétiques",
        "28\u00a0novembre\u00a02026",
        "Pondération",
    ):
        assert words in cover
    assert "Introductory" not in cover and "About these data" not in cover
    contents = [r for r in workbook["Sommaire"].iter_rows(values_only=True)]
    assert any(r[0] == "Tableau_1" and "Question Q" in str(r[1]) for r in contents)
    notes = [r for r in workbook["Notes"].iter_rows(values_only=True)]
    assert any("Secret statistique" in str(r[1]) for r in notes)
    for ws in workbook.worksheets:
        assert not ws.merged_cells.ranges, ws.title
        assert len(ws.tables) <= 1, ws.title


def test_table_sheet_has_title_base_n_and_one_header_row(workbook):
    header, body, above = _table_rows(workbook["Tableau_1"])
    assert above[0].startswith("Question Q") and "[note 1]" in above[0]
    assert any(str(a).startswith("Base") for a in above) and any("Effectif (n)" in str(a) for a in above)
    assert header[:4] == ["question", "question_label", "option", "label"]  # codes kept
    assert all(isinstance(h, str) and h for h in header)
    assert len(body) == 3 and all(any(v not in (None, "") for v in row) for row in body)  # no blank rows


def test_numbers_are_numbers_and_withheld_cells_marked(workbook):
    header, body, _ = _table_rows(workbook["Tableau_1"])
    col = {h.split("\n")[0]: i for i, h in enumerate(header)}
    by_option = {row[col["option"]]: row for row in body}
    assert by_option["c"][col["count"]] == 57 and isinstance(by_option["c"][col["count"]], int)
    assert by_option["c"][col["percent"]] == 57 and isinstance(by_option["c"][col["percent"]], (int, float))
    assert by_option["a"][col["count"]] == "[c]" and by_option["a"][col["percent"]] == "[c]"
    assert by_option["b"][col["count"]] == "[c]"  # secondary suppression
    assert isinstance(by_option["a"][col["n"]], int)
    header2, body2, _ = _table_rows(workbook["Tableau_2"])
    assert [r[header2.index("mean")] for r in body2] == [8.54, 8.23]


def test_wave_workbook_from_a_folder(tmp_path):
    tables = tmp_path / "all" / "tables"
    (tables / "meta").mkdir(parents=True)
    shares_table().to_csv(tables / "02_q.csv", index=False)
    (tables / "meta" / "02_q.json").write_text(
        '{"title": "Question Q", "caption": "Base : tous", "n": 100, "notes": []}'
    )
    path = wave_workbook(tmp_path / "all", synthetic=True)
    assert path.name == "cnfs_all.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Couverture", "Sommaire", "Notes", "Tableau_1"]
    assert wave_workbook(tmp_path / "vide", synthetic=False) is None
    (tmp_path / "entete" / "tables").mkdir(parents=True)
    (tmp_path / "entete" / "tables" / "x.csv").write_text("half\n")  # a header and no row: nothing to publish
    assert wave_workbook(tmp_path / "entete", synthetic=False) is None


def _reference_cell_values(table: pd.DataFrame) -> pd.DataFrame:
    """The cell values computed one cell at a time (the former implementation), to check the vectorised one."""
    import re

    from cnfs.spreadsheet import WITHHELD_COLUMNS

    out = table.copy()
    withheld = out["suppressed"].fillna(False).astype(bool) if "suppressed" in out else pd.Series(False, out.index)
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_bool_dtype(s):
            continue
        if col == "suppression":
            out[col] = s.astype(object).where(s.notna() & (s.astype(str) != ""), "aucune")
            continue
        if pd.api.types.is_numeric_dtype(s):
            values = s.astype(object).where(s.notna(), None)
            marks = ["[c]" if (w and col in WITHHELD_COLUMNS) else "[x]" for w in withheld]
            out[col] = [
                m if v is None else (int(v) if float(v).is_integer() and pd.api.types.is_integer_dtype(s) else v)
                for v, m in zip(values, marks)
            ]
        else:
            text = s.astype(object).where(s.notna(), "[x]")
            out[col] = ["[x]" if isinstance(v, str) and not re.search(r"[A-Za-z0-9]", v) else v for v in text]
    return out.reset_index(drop=True)


def test_cell_values_equal_the_cell_by_cell_reference():
    """Withheld numbers "[c]", other missing values and symbol-only text "[x]", integers as int, floats kept,
    types as before: the vectorised marking equals the cell-by-cell one on a hand-made table of every kind."""
    from cnfs.spreadsheet import _cell_values

    table = shares_table()
    table = pd.concat([table, table.assign(option=["d", "e", "f"], count=[None, 12, 80])], ignore_index=True)
    table = table.assign(
        n=pd.array([100, 100, None, 100, 7, 100], dtype="Int64"),
        mean=[1.5, 2.0, float("nan"), 3.25, float("nan"), 4.0],
        note=["–", "", None, "ok", "a–b", "[x]"],
        flag=[True, False, True, False, True, False],
        mixed=pd.Series([1, "a", None, 2.5, "-", 3], dtype=object),
    ).set_index(pd.Index([10, 11, 12, 13, 14, 15]))
    table.loc[14, "suppressed"] = True
    table.loc[14, "suppression"] = None
    got, expected = _cell_values(table), _reference_cell_values(table)
    pd.testing.assert_frame_equal(got, expected)
    assert [type(v) for v in got["n"]] == [type(v) for v in expected["n"]]
    assert got.loc[4, "mean"] == "[c]" and got.loc[2, "mean"] == "[x]" and got.loc[2, "n"] == "[x]"


def _parts(path) -> dict[str, bytes]:
    """The parts of an xlsx file, but its creation time (docProps/core.xml)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist() if name != "docProps/core.xml"}


def test_workbook_bytes_are_those_gptables_writes(tmp_path, monkeypatch):
    """``cnfs.gptables_writer`` (one format per column) writes, part for part, the bytes of gptables' own
    ``write_workbook`` for the same tables: withheld and missing marks, integers, floats, flags, a text column of
    marks only, a heading with brackets (gptables then types the column with its heading), a markdown link."""
    import gptables
    from cnfs import gptables_writer

    marks = pd.DataFrame(
        {
            "option": ["a", "b", "c"],
            "commentaire": ["[x]", "[x]", "[x]"],
            "rang [n]": [1, 2, 3],
            "flag": [True, False, True],
            "lien": ["[le site](https://example.org)", "texte", "autre"],
            "part": [0.5, 12.25, 1e-07],
        }
    )
    tables = [
        SheetTable(name="q", title="Question Q", data=shares_table(), base="Base : tous", n=100, notes=["Note A."]),
        SheetTable(name="m", title="Moyennes", data=pd.DataFrame({"groupe": ["x", "y"], "mean": [8.54, 8.23]})),
        SheetTable(name="marks", title="Marques", data=marks, notes=["Note A.", "Note B."]),
    ]
    cover = CoverInfo(title="Essai", source="Source", synthetic_warning="Synthétique", produced=dt.datetime(2026, 1, 2))
    ours = write_workbook(tmp_path / "ours.xlsx", tables, cover)
    monkeypatch.setattr(gptables_writer, "write_workbook", gptables.write_workbook)
    theirs = write_workbook(tmp_path / "gptables.xlsx", tables, cover)
    assert _parts(ours) == _parts(theirs)
    sheet = openpyxl.load_workbook(ours)["Tableau_3"]
    assert [c.value for row in sheet.iter_rows() for c in row if c.hyperlink] == ["le site"]  # as gptables links it


def _gptables_alignment(table: pd.DataFrame) -> list[bool]:
    """gptables' own column typing (its ``_apply_column_alignments`` on the table with its heading row on top)."""
    import warnings

    from cnfs.gptables_writer import TableWorksheet

    with warnings.catch_warnings():  # pandas' deprecation notes on gptables' code, reproduced as it is
        warnings.simplefilter("ignore")
        data = pd.DataFrame(table, copy=True)
        data.loc[-1] = data.columns
        data.index = data.index + 1
        data.sort_index(inplace=True)
        formats = pd.DataFrame([[{} for _ in data.columns]], columns=data.columns)
        TableWorksheet._apply_column_alignments(object.__new__(TableWorksheet), data, formats, [])
    return [d["align"] == "right" for d in formats.iloc[0]]


def test_column_alignment_is_gptables_own():
    """Numbers right, text left, the first column left, marks ("[x]", "[c]") not counted, a heading read as a
    mark keeping the heading row in the typing: the kinds-based alignment equals gptables' pandas typing for
    every pair of these columns, with and without a bracketed heading."""
    from itertools import product

    from cnfs.gptables_writer import right_aligned

    nan = float("nan")
    columns = {
        "text": pd.Series(["a", "b", "c"]),
        "marks": pd.Series(["[x]", "[x]", "[c]"]),
        "text and marks": pd.Series(["[x]", "a", "[c]"]),
        "marks as objects": pd.Series(["[x]", "[c]", "[x]"], dtype=object),
        "ints and marks": pd.Series([1, "[c]", 3], dtype=object),
        "floats and marks": pd.Series([1.5, "[x]", 2.25], dtype=object),
        "flags and marks": pd.Series([True, "[x]", False], dtype=object),
        "flags and ints": pd.Series([True, 1, 0], dtype=object),
        "text and ints": pd.Series(["a", 1, 2], dtype=object),
        "ints": pd.Series([1, 2, 3]),
        "floats": pd.Series([1.5, nan, 2.0]),
        "no values as objects": pd.Series([nan, nan, nan], dtype=object),
        "flags": pd.Series([True, False, True]),
    }
    checked = 0
    for (a, sa), (b, sb), bracket in product(columns.items(), columns.items(), (False, True)):
        table = pd.DataFrame({"option": ["o1", "o2", "o3"], a: sa, f"{b} [n]" if bracket else f"{b} ": sb})
        kinds = right_aligned(table)
        assert kinds is not None, (a, b)
        assert kinds == _gptables_alignment(table), (a, b, bracket, table.dtypes.tolist())
        checked += 1
    assert checked == 2 * len(columns) ** 2
    assert right_aligned(pd.DataFrame({"a": ["x"], "b": [None]})) is None  # outside the covered cases…
    assert right_aligned(pd.DataFrame({"a": ["x"], "b": [nan]})) is None  # …left to gptables' own typing
