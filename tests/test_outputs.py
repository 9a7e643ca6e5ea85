"""A real render of one section notebook for one wave, with a disclosure threshold given as on the
command line; every file it writes is scanned: no machine path, no respondent id or row, no count
under the threshold; reports open like reports (French, title once, facts, technical details folded);
the wave folder has its spreadsheet and the index links to it."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from cnfs import paths
from cnfs.loader import load_survey
from cnfs.render import cli
from cnfs.render.runner import RenderOptions, render

sys.path.insert(0, str(Path(__file__).parent))
from output_files import reader_files  # noqa: E402

MIN_COUNT = 40


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("rendu")
    args = cli.configure(__import__("argparse").ArgumentParser()).parse_args(
        ["-n", "02", "-w", "1", "-o", str(out), "-j", "1", "--no-progress", "--min-count", str(MIN_COUNT)]
    )
    assert args.min_count == MIN_COUNT
    report = render(
        RenderOptions(
            notebooks=args.notebooks,
            waves=args.waves,
            output_dir=args.output_dir,
            jobs=1,
            progress=False,
            min_count=args.min_count,
        ),
        stream=io.StringIO(),
    )
    assert report.exit_code == 0, [o.error for o in report.outcomes]
    return out


def test_no_machine_path_in_any_output(rendered):
    # the checkout, and the output folder given outside it, as absolute paths (a relative path may contain them)
    machine = re.compile("|".join(rf"(?<![\w./-]){re.escape(str(m))}" for m in (paths.ROOT, rendered)))
    found = [p.relative_to(rendered).as_posix() for p, text in reader_files(rendered) if machine.search(text)]
    assert not found


def test_no_respondent_id_or_row(rendered):
    data = load_survey(None, "1").data
    ids = set(data["respondent_id"].astype(str))
    pattern = re.compile(r"SYN-\d{5}")
    for p, text in reader_files(rendered):
        assert not (set(pattern.findall(text)) & ids), p
        if p.suffix == ".csv":
            table = pd.read_csv(p)
            assert "respondent_id" not in table.columns, p
            # one row per respondent would have the answers as columns; tables have at most a grouping column
            answers = set(table.columns) & set(data.columns)
            assert len(answers) <= 1, (p, answers)


def test_counts_under_the_threshold_withheld_in_every_table(rendered):
    tables = list((rendered / "wave-1" / "tables").glob("*.csv"))
    assert tables
    for p in tables:
        t = pd.read_csv(p)
        if "count" in t.columns:
            c = pd.to_numeric(t["count"], errors="coerce")
            assert not ((c > 0) & (c < MIN_COUNT)).any(), p.name
    executed = (rendered / "wave-1" / "02_profil.ipynb").read_text(encoding="utf-8")
    assert f"min_count = {MIN_COUNT}" in executed


def test_report_opens_like_a_report(rendered):
    page = (rendered / "wave-1" / "02_profil.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in page
    assert page.count("2. Profil des CnFS de l'échantillon") == 1 + page.count("<title>2. Profil")  # title once
    assert "cnfs-banner" in page and "Détails techniques" in page and "<details" in page
    header = page[page.index('<header class="cnfs-header">') : page.index("</header>")]
    facts = header[: header.index("<details")]
    for word in ("Vague", "Données", "Répondants", "Date"):
        assert word in facts
    assert "sha256" not in facts.lower() and "cache" not in facts
    assert re.search(
        r"\d+\u00a0(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)"
        r"\u00a0\d{4} à \d+\u00a0h\u00a0\d\d",
        facts,
    )


def test_wave_spreadsheet_and_index(rendered):
    assert (rendered / "wave-1" / "cnfs_wave-1.xlsx").is_file()
    index = (rendered / "index.html").read_text(encoding="utf-8")
    assert 'href="wave-1/cnfs_wave-1.xlsx"' in index and 'href="wave-1/02_profil.html"' in index
    assert "2. Profil des CnFS" in index and 'href="wave-1/tables/02_education.csv"' in index
    assert '<html lang="fr">' in index


def test_technical_details_in_french_with_the_code_names_in_brackets(rendered):
    page = (rendered / "wave-1" / "02_profil.html").read_text(encoding="utf-8")
    details = page[page.index('<details class="cnfs-details">') : page.index("</details>")]
    assert "<th>vague (wave)</th><td>1</td>" in details
    assert "<th>données synthétiques (synthetic)</th><td>oui</td>" in details
    assert "version du générateur (generator_version)" in details
    assert "provenance :" not in details and "True" not in details
    assert "SYNTHÉTIQUES" not in details  # the warning is the banner above, not a row again
