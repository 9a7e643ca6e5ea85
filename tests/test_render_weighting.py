"""`cnfs render --weighting raking`: weighted reports in their own folders, linked from the index."""

from __future__ import annotations

from pathlib import Path

from cnfs.render.index import build_index
from cnfs.render.plan import WEIGHTED_SUFFIX, Notebook, build_jobs


def _notebooks(tmp_path: Path) -> list[Notebook]:
    return [
        Notebook(tmp_path / "01_methodologie.ipynb", "01", False),
        Notebook(tmp_path / "08_etude_qualitative.ipynb", "08", True),
    ]


def test_weighted_jobs_have_their_folder_and_parameter(tmp_path: Path) -> None:
    data = tmp_path / "survey_synthetic.csv"
    plain = build_jobs(_notebooks(tmp_path), ["1", "all"], tmp_path, data, None)
    weighted = build_jobs(_notebooks(tmp_path), ["1", "all"], tmp_path, data, None, "raking")
    assert [j.wave_dir.name for j in plain] == ["wave-1", "all", "all"]
    assert all("weighting" not in j.parameters for j in plain)  # unweighted executions keep their cache keys
    # the qualitative (wave-independent) notebook has nothing to weight
    assert [j.wave_dir.name for j in weighted] == ["wave-1" + WEIGHTED_SUFFIX, "all" + WEIGHTED_SUFFIX]
    assert all(j.parameters["weighting"] == "raking" for j in weighted)
    assert {j.ident for j in weighted}.isdisjoint({j.ident for j in plain})
    assert weighted[0].parameters["output_dir"].endswith("wave-1-pondere")


def test_index_lists_weighted_reports_in_their_own_section(tmp_path: Path) -> None:
    rows = [
        {"stem": "01_methodologie", "wave": "1", "wave_folder": "wave-1", "status": "ok"},
        {"stem": "01_methodologie", "wave": "1", "wave_folder": "wave-1-pondere", "status": "ok"},
    ]
    for r in rows:
        d = tmp_path / r["wave_folder"]
        d.mkdir()
        (d / "01_methodologie.html").write_text("x")
    page = build_index(tmp_path, rows)
    assert 'href="wave-1/01_methodologie.html"' in page and 'href="wave-1-pondere/01_methodologie.html"' in page
    assert "pondéré" in page and page.count("<h2") == 2
