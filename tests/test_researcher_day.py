"""A researcher's day, end to end through the command line as the README tells it: LimeSurvey exports
(one per wave, with unfinished answers), ``cnfs import``, then ``cnfs render`` of one section with
raking weights to a population file of her own, the data and the outputs outside the project. The exports stay untouched; the weighted
report, its spreadsheet, its tab books and the index come out; no machine path and no respondent id
in any file a reader gets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cnfs import paths
from cnfs.codebook import load_codebook
from cnfs.provenance import sha256_file

sys.path.insert(0, str(Path(__file__).parent))
import twin_exports as tx  # noqa: E402
from output_files import reader_files  # noqa: E402

WAVE1_SIZE = 3125
CNFS = [sys.executable, "-c", "import sys; from cnfs.cli import main; sys.exit(main())"]


def _cnfs(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*CNFS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def day(twin_path, tmp_path_factory):
    home = tmp_path_factory.mktemp("chercheuse")
    raw = pd.read_csv(twin_path, dtype=str, keep_default_na=False)
    exports = tx.limesurvey(raw, load_codebook(), home, incomplete=2)
    before = {p.name: sha256_file(p) for p in exports}
    env = {**os.environ, "CNFS_CACHE_DIR": str(home / "cache"), "MPLBACKEND": "Agg"}
    env.pop("CNFS_OUTPUTS", None)
    # her population file: the project's with a wave-1 size of her own (an administrative count)
    population = yaml.safe_load(paths.POPULATION.read_text(encoding="utf-8"))
    population["waves"]["1"]["size"].update(value=WAVE1_SIZE, status="published", note="extrait administratif")
    (home / "population_2021.yaml").write_text(yaml.safe_dump(population, allow_unicode=True), encoding="utf-8")
    imported = _cnfs(
        "import", *[p.name for p in exports], "--exclude-incomplete", "-o", "enquete.parquet", cwd=home, env=env
    )
    rendered = _cnfs(
        "render",
        *("--data", "enquete.parquet", "-n", "02", "-w", "1", "--weighting", "raking"),
        *("--population", "population_2021.yaml"),
        *("-o", "rapports", "-j", "1", "--no-progress"),
        cwd=home,
        env=env,
    )
    return home, raw, exports, before, imported, rendered


def test_import_keeps_the_complete_answers_and_leaves_the_exports_untouched(day):
    home, raw, exports, before, imported, _ = day
    assert imported.returncode == 0, imported.stderr
    # every twin respondent, and the 2 unfinished answers added to each of the 2 files left out
    assert f"{len(raw)} répondants importés de 2 fichier(s), 4 réponse(s) incomplète(s) écartée(s)" in imported.stdout
    assert {p.name: sha256_file(p) for p in exports} == before


def test_weighted_report_spreadsheet_tab_books_and_index(day):
    home, *_, rendered = day
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    folder = home / "rapports" / "wave-1-pondere"
    page = (folder / "02_profil.html").read_text(encoding="utf-8")
    assert "Pondération" in page and "calage" in page
    # the finite-population correction uses her wave-1 size, and the details name her file
    assert f"correction de population finie (N = {WAVE1_SIZE // 1000}\u202f{WAVE1_SIZE % 1000:03d})" in page
    assert "population_2021.yaml" in page
    for name in ("cnfs_wave-1-pondere.xlsx", "tableaux_croises.xlsx", "tableaux_croises_ponderes.xlsx"):
        assert (folder / name).is_file(), name
    index = (home / "rapports" / "index.html").read_text(encoding="utf-8")
    assert "calage sur population_2021.yaml" in index
    assert 'href="wave-1-pondere/02_profil.html"' in index and 'href="wave-1-pondere/cnfs_wave-1-pondere.xlsx"' in index


def test_no_machine_path_or_respondent_id_in_any_file(day):
    home, raw, *_ = day
    ids = set(raw["respondent_id"])
    # an absolute path starts a path; a relative one to the data outside the project may contain it
    machine = re.compile("|".join(rf"(?<![\w./-]){re.escape(str(m))}" for m in (paths.ROOT, home)))
    files = list(reader_files(home / "rapports"))
    assert len(files) > 10
    for p, text in files:
        where = p.relative_to(home).as_posix()
        assert not machine.search(text), (where, machine.search(text))
        assert not any(i in text for i in ids), where


def test_a_population_file_that_does_not_load_stops_the_render_before_anything_runs(day, tmp_path):
    home, *_ = day
    env = {**os.environ, "CNFS_CACHE_DIR": str(home / "cache")}
    (tmp_path / "population.yaml").write_text("waves: [1, 2]\n", encoding="utf-8")
    out = _cnfs("render", "--population", "population.yaml", "-o", "rapports", "--no-progress", cwd=tmp_path, env=env)
    assert out.returncode == 2
    assert "fichier de population refusé" in out.stderr and "population.yaml" in out.stderr
    assert not (tmp_path / "rapports" / "index.html").exists()
