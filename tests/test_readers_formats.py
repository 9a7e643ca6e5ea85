"""Every export format a survey team produces, built from the twin with other libraries: each loads to
the same typed data as the twin's own CSV, and every published figure recomputes exactly the same."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import twin_exports as tx  # noqa: E402
from cnfs.codebook import load_codebook  # noqa: E402
from cnfs.compare import population_context, reproduction_table  # noqa: E402
from cnfs.loader import load_survey  # noqa: E402

COMPUTED = ["id", "n", "computed", "ci_low", "ci_high", "status"]
FORMATS = [
    "csv.gz",
    "zip",
    "excel-cp1252",
    "utf8-bom-semicolon",
    "tab",
    "pipe",
    "r-write.csv",
    "xlsx",
    "sav",
    "zsav",
    "dta",
    "dta-pandas",
    "parquet",
]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CNFS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def raw(twin_path) -> pd.DataFrame:
    return pd.read_csv(twin_path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def reference(twin_path):
    s = load_survey(twin_path, use_cache=False)
    return s.data, _figures(s.data)


@pytest.fixture(scope="module")
def exports(raw, tmp_path_factory) -> dict[str, Path]:
    cb = load_codebook()
    d = tmp_path_factory.mktemp("exports")
    files = tx.csv_variants(raw, cb, d)
    files["xlsx"] = tx.xlsx(raw, cb, d / "export.xlsx")
    files["sav"] = tx.spss(raw, cb, d / "export.sav")
    files["zsav"] = tx.spss(raw, cb, d / "export.zsav")
    files["dta"] = tx.stata(raw, cb, d / "export.dta")
    files["dta-pandas"] = tx.stata_pandas(raw, cb, d / "export_pandas.dta")
    files["parquet"] = tx.parquet_natural(raw, cb, d / "export.parquet")
    return files


def _figures(df: pd.DataFrame) -> pd.DataFrame:
    cb = load_codebook()
    return reproduction_table(df, cb, context=population_context())[COMPUTED]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_as_the_twin_and_recomputes_every_figure(fmt, exports, reference):
    ref_data, ref_figures = reference
    before = exports[fmt].read_bytes()
    survey = load_survey(exports[fmt], sheet="Réponses" if fmt == "xlsx" else None, use_cache=False)
    pd.testing.assert_frame_equal(survey.data, ref_data)
    pd.testing.assert_frame_equal(_figures(survey.data), ref_figures)
    assert exports[fmt].read_bytes() == before


def test_detected_encoding_and_delimiter_are_recorded(exports):
    opts = load_survey(exports["excel-cp1252"], use_cache=False).provenance["load"]["options"]
    assert (opts["encoding"], opts["delimiter"]) == ("windows-1252", ";")
    opts = load_survey(exports["utf8-bom-semicolon"], use_cache=False).provenance["load"]["options"]
    assert (opts["encoding"], opts["delimiter"]) == ("utf-8-sig", ";")


def test_xlsx_first_sheet_by_default_and_unknown_sheet_named(exports):
    from cnfs.errors import InputError

    with pytest.raises(
        InputError, match=r"export.xlsx : aucune colonne ne correspond au codebook \(colonnes lues : 'Notice'\)"
    ):
        load_survey(exports["xlsx"], use_cache=False)  # the first sheet is the notice, not the answers
    with pytest.raises(
        InputError, match=r"feuille 'Nope' introuvable ; feuilles du classeur : \['Lisez-moi', 'Réponses'\]"
    ):
        load_survey(exports["xlsx"], sheet="Nope", use_cache=False)
    assert len(load_survey(exports["xlsx"], sheet="2", use_cache=False).data) == 1071


def test_limesurvey_exports_import_into_one_parquet_with_provenance(raw, reference, tmp_path):
    from cnfs.importing import import_exports
    from cnfs.provenance import read_provenance, sha256_file

    ref_data, ref_figures = reference
    cb = load_codebook()
    files = tx.limesurvey(raw, cb, tmp_path, incomplete=2)
    out = tmp_path / "out" / "enquete.parquet"
    prov = import_exports(files, out, exclude_incomplete=True)
    assert [s["sha256"] for s in prov["sources"]] == [sha256_file(f) for f in files]
    assert prov["excluded_incomplete"] == 4 and prov["sources"][0]["wave_from"] == "date"
    assert prov["sources"][0]["ignored_columns"]["lastpage"].startswith("ignorée : colonne système LimeSurvey")
    assert read_provenance(out)["excluded_incomplete"] == 4
    survey = load_survey(out, use_cache=False)
    assert survey.excluded_incomplete == 4
    # submitdate carries a time; the day is the twin's
    pd.testing.assert_series_equal(survey.data["submitted_at"].dt.normalize(), ref_data["submitted_at"])
    pd.testing.assert_frame_equal(survey.data.drop(columns="submitted_at"), ref_data.drop(columns="submitted_at"))
    pd.testing.assert_frame_equal(_figures(survey.data), ref_figures)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f.name for f in files] + ["out"])


def test_import_refuses_the_same_id_twice_in_a_wave_across_files(raw, tmp_path):
    from cnfs.errors import SurveyValidationError
    from cnfs.importing import import_exports

    w1 = raw[raw["wave"] == "1"]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    w1.iloc[:30].to_csv(a, index=False)
    w1.iloc[25:60].to_csv(b, index=False)
    with pytest.raises(SurveyValidationError) as e:
        import_exports([a, b], tmp_path / "out.parquet")
    assert f"{a}, {b}" in str(e.value) and "d'un fichier importé à l'autre" in str(e.value)
    assert not (tmp_path / "out.parquet").exists()


def test_import_output_is_a_new_parquet(raw, tmp_path):
    from cnfs.errors import InputError
    from cnfs.importing import import_exports

    src = tmp_path / "a.parquet"
    raw.iloc[:20].to_parquet(src)
    with pytest.raises(InputError, match="la sortie écraserait un des fichiers importés"):
        import_exports([src], src)
    with pytest.raises(InputError, match="la sortie de cnfs import est un fichier .parquet"):
        import_exports([src], tmp_path / "out.csv")
