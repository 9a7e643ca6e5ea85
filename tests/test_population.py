"""The population file: schema, sources, coverage of every option, and the CLI built on it (on the twin)."""

from __future__ import annotations

import io
import math
from contextlib import redirect_stdout

import numpy as np
import pandas as pd
import pytest
import yaml
from cnfs.cli import main
from cnfs.codebook import load_codebook
from cnfs.population import POPULATION, PopulationError, load_population, margin_totals, parse_population


@pytest.fixture(scope="module")
def population():
    return load_population()


def test_every_value_is_sourced_and_every_option_covered(population):
    cb = load_codebook()
    assert set(population.waves) == set(cb.waves)
    for w, wp in population.waves.items():
        assert wp.size.status in ("published", "assumption") and wp.size.source in population.sources
        for qid, opts in wp.margins.items():
            assert list(opts) == cb[qid].codes
            assert math.isclose(sum(s.value for s in opts.values()), 100, abs_tol=1e-9)
            for s in opts.values():
                assert s.source in population.sources and s.date and s.status in ("published", "assumption")
                assert s.status == "published" or s.note, f"an assumption says how it was obtained ({w} {qid})"


def test_sector_margin_present_and_totals_sum_to_size(population):
    cb = load_codebook()
    for w in ["1", "2", "all"]:
        t = margin_totals(population, w, cb)
        assert "structure_sector" in set(t["variable"])
        for _, g in t.groupby("variable"):
            assert g["total"].sum() == pytest.approx(population.size(w), rel=1e-12)
    assert population.wave("all") is population.wave(population.pooled_population_of)


def _doc():
    return yaml.safe_load(POPULATION.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "breaks, message",
    [
        (lambda d: d["waves"]["2"]["margins"]["structure_sector"].pop("autre"), "manquants \\['autre'\\]"),
        (lambda d: d["waves"]["2"]["margins"]["structure_sector"]["public"].update(value=60), "sommer à 100"),
        (lambda d: d["waves"]["2"]["size"].update(status="guess"), "status 'guess'"),
        (lambda d: d["waves"]["2"]["size"].pop("source"), "clés manquantes \\['source'\\]"),
        (lambda d: d["waves"]["2"]["margins"].update(civil_category={}), "posée à tous"),
        (lambda d: d.update(pooled_population_of="9"), "pooled_population_of"),
    ],
)
def test_bad_population_file_names_the_key(breaks, message):
    d = _doc()
    breaks(d)
    with pytest.raises(PopulationError, match=message):
        parse_population(d, load_codebook(), POPULATION)


def _run(argv):
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(argv)
    return code, buf.getvalue()


def test_cli_margins_csv(population, twin_path):
    code, out = _run(["weights", "--wave", "2", "--margins"])
    assert code == 0
    t = pd.read_csv(io.StringIO(out))
    assert list(t.columns) == ["variable", "code", "total"]
    cb = load_codebook()
    for var, g in t.groupby("variable"):
        assert list(g["code"]) == cb[var].codes
        assert g["total"].sum() == pytest.approx(population.size("2"), rel=1e-12)


def test_cli_weights_are_post_stratification_by_hand(population, twin_path, tmp_path, survey):
    """One raking variable = post-stratification: weight = N_h / n_h, computed here by hand."""
    out = tmp_path / "w.csv"
    code, _ = _run(["weights", "--wave", "2", "-o", str(out)])
    assert code == 0
    w = pd.read_csv(out)
    assert list(w.columns) == ["respondent_id", "weight"]
    df = survey.data[survey.data["wave"] == "2"]
    sector = df["structure_sector"].astype(str).to_numpy()
    cb = load_codebook()
    size = population.size("2")
    shares = {
        cb["structure_sector"].label_of(c): s.value for c, s in population.wave("2").margins["structure_sector"].items()
    }
    expected = np.array([size * shares[s] / 100 / np.sum(sector == s) for s in sector])
    assert list(w["respondent_id"]) == list(df["respondent_id"])
    np.testing.assert_allclose(w["weight"].to_numpy(), expected, rtol=1e-12)


def test_cli_estimate_columns_and_fpc_by_hand(population, twin_path, survey):
    code, out = _run(["estimate", "post_created", "--wave", "2", "--fpc"])
    assert code == 0
    t = pd.read_csv(io.StringIO(out))
    assert list(t.columns) == ["option", "label", "estimate", "se", "ci_low", "ci_high", "n", "deff"]
    df = survey.data[survey.data["wave"] == "2"]
    n, N = len(df), population.size("2")
    p = (df["post_created"].astype(str) == load_codebook()["post_created"].label_of("creation")).mean()
    # SRS without replacement: var = (1 - n/N) p (1 - p) / (n - 1)
    se = math.sqrt((1 - n / N) * p * (1 - p) / (n - 1))
    row = t[t["option"] == "creation"].iloc[0]
    assert row["estimate"] == pytest.approx(p, rel=1e-12) and row["se"] == pytest.approx(se, rel=1e-12)
    assert row["ci_low"] == pytest.approx(p - 1.959963984540054 * se, rel=1e-12)
    assert row["n"] == n


def test_cli_estimate_scale_one_row(twin_path):
    code, out = _run(["estimate", "interest_mixed", "--weighting", "raking"])
    t = pd.read_csv(io.StringIO(out))
    assert code == 0 and list(t["option"]) == ["mean"] and 1 <= t["estimate"].iloc[0] <= 10


@pytest.mark.parametrize(
    "argv, words",
    [
        (["estimate", "nope"], "nope"),
        (["estimate", "main_place_other"], "réponse libre"),
        (["weights", "--wave", "3", "--margins"], "wave '3'"),
        (["weights", "--population", "/nonexistent/population.yaml", "--margins"], "fichier de population introuvable"),
    ],
)
def test_cli_user_errors_are_one_line_with_status_2(argv, words, twin_path, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "Traceback" not in "\n".join(err)
    assert words in err[-1] and err[-1].startswith(f"cnfs {argv[0]} : ")


def test_the_population_file_in_use_follows_cnfs_population(tmp_path, monkeypatch):
    """``cnfs render --population`` sets CNFS_POPULATION: loading, weighting and the render cache key follow it."""
    from cnfs.render import fingerprint

    d = _doc()
    d["waves"]["2"]["size"]["value"] = 4000
    other = tmp_path / "population.yaml"
    other.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    assert load_population().size("2") != 4000
    monkeypatch.setenv("CNFS_POPULATION", str(other))
    assert load_population().size("2") == 4000
    assert fingerprint.shared_inputs()["population"] == other


def test_a_population_file_is_parsed_once_per_content_and_reread_when_it_changes(tmp_path, monkeypatch):
    """The parsed YAML is kept per file content: the same content is not parsed again, an edited file is,
    and what a caller gets is its own copy (changing it changes neither the cache nor the next load)."""
    from cnfs import population

    path = tmp_path / "population.yaml"
    path.write_text(yaml.safe_dump(_doc(), allow_unicode=True), encoding="utf-8")
    codebook = load_codebook()
    edited = _doc()
    edited["waves"]["2"]["size"]["value"] = 4321
    parses = []
    real = yaml.safe_load
    monkeypatch.setattr(population.yaml, "safe_load", lambda text: parses.append(1) or real(text))
    population._parsed.cache_clear()
    first = load_population(path, codebook)
    again = load_population(path, codebook)
    assert len(parses) == 1 and again == first
    first.sources.clear()
    first.waves["2"].margins.clear()
    third = load_population(path, codebook)
    assert third.sources and third.waves["2"].margins and third == again  # the cache was not changed
    path.write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    assert load_population(path, codebook).size("2") == 4321 and len(parses) == 2
    uncached = parse_population(real(POPULATION.read_text(encoding="utf-8")), codebook, POPULATION)
    assert load_population(POPULATION, codebook) == uncached
