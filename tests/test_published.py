"""The published-figures table: complete, well-formed, and tied to the codebook and the article."""

from __future__ import annotations

import re

import pytest
from cnfs.codebook import load_codebook
from cnfs.figspec import parse_spec
from cnfs.reference import COLUMNS, COMPARISONS, PUBLICATIONS, load_published

STATISTICS = {
    "share",
    "mean",
    "mean_items",
    "option_rank",
    "rank",
    "sd_rank",
    "sd_rank_desc",
    "gap_to_next",
    "group_min_mean",
    "group_max_mean",
    "share_ratio",
    "share_diff",
    "mode_in",
    "count",
    "n_waves",
    "date_min",
    "date_max",
    "coverage",
    "context",
    "period_start",
    "period_end",
    "mean_complement",
}


@pytest.fixture(scope="module")
def pub():
    return load_published()


def test_columns_and_size(pub):
    assert list(pub.columns) == COLUMNS
    assert len(pub) >= 80
    assert pub["id"].is_unique
    assert set(pub["comparison"]) <= COMPARISONS
    assert set(pub["statistic"]) <= STATISTICS
    assert set(pub["computable"]) <= {"yes", "no"}
    assert (pub["quote"].str.len() > 10).all()
    assert set(pub["publication"]) == PUBLICATIONS
    assert (pub["source"].str.len() > 10).all() and (pub["source_date"] != "").all()


def test_rounded_rows_have_a_precision(pub):
    rounded = pub[pub["comparison"] == "rounded"]
    assert rounded["decimals"].str.fullmatch(r"\d").all()
    for _, r in rounded.iterrows():  # the value is written at its published precision
        d = int(r["decimals"])
        frac = r["value"].partition(".")[2]
        assert len(frac) == d, f"{r['id']}: {r['value']} is not written with {d} decimal(s)"
    between = pub[pub["comparison"] == "between"]
    assert (between["lower"] != "").all() and (between["upper"] != "").all()


def test_every_row_points_to_the_codebook_or_the_qualitative_data(pub):
    cb = load_codebook()
    for _, r in pub.iterrows():
        q = r["question"]
        if q.startswith(("meta:", "qual:")):
            continue
        if q.startswith("group:"):
            assert q[len("group:") :] in cb.groups, r["id"]
            continue
        assert q in cb, f"{r['id']}: {q} not in the codebook"
        spec = parse_spec(r["option_or_subgroup"])
        for o in spec.options:
            assert o in cb[q].codes, f"{r['id']}: option {o} not in {q}"
        for f in spec.filters + spec.versus:
            assert f.question in cb or f.question == "wave", f"{r['id']}: filter on {f.question}"
            for c in f.codes:
                assert c in cb[f.question].codes, f"{r['id']}: code {c} not in {f.question}"
        for item in spec.among:
            assert cb[item].group == cb[q].group, r["id"]


def test_the_qualitative_counts_are_there(pub):
    qual = pub[pub["question"].str.startswith("qual:")]
    values = set(qual["value"])
    for v in ["5", "21", "28", "80", "15", "10", "11", "3"]:
        assert v in values, v


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\u2019", "'").replace('"', "").replace("\u00a0", " ")).strip()


def test_every_interim_quote_is_in_the_article(pub, article_text):
    text = _norm(article_text)
    for _, r in pub[pub["publication"] == "interim"].iterrows():
        for part in r["quote"].split("[...]"):
            assert _norm(part) in text, f"{r['id']}: quote not found in the article: {part[:80]}"


def test_every_percentage_of_the_article_has_a_row(pub, article_text):
    published = {float(v) for v in pub["value"] if re.fullmatch(r"-?\d+(\.\d+)?", v)}
    published |= {float(v) for v in pub["lower"] if v} | {float(v) for v in pub["upper"] if v}
    found = {float(m.replace(",", ".")) for m in re.findall(r"(\d+(?:[,.]\d+)?)\s?%", article_text)}
    assert found - published == set()


def test_full_study_rows_are_sourced_and_kept_apart(pub):
    """Figures of the full study come from the press: a source and a date, F ids, never in the interim count."""
    full = pub[pub["publication"] == "full_study"]
    assert set(full["id"]) == {
        "F3_long_training",
        "F3_training_fit",
        "F4_start_difficulty",
        "F4_post_not_defined",
        "F4_equipment_lacking",
    }
    assert (
        full["id"].str.match(r"F\d_").all()
        and not pub.loc[pub["publication"] == "interim", "id"].str.match(r"F\d_").any()
    )
    assert full["source"].str.contains("«").all() and full["source_date"].str.contains("2023").all()
    assert (full["note"].str.len() > 20).all()  # each says how the press figure is read


def test_training_paths_are_the_four_of_the_programme():
    cb = load_codebook()
    q = cb["training_path"]
    assert q.codes == ["P1", "P2", "P3", "P4"]
    assert [o.label for o in q.options] == [
        "Parcours 1 (105 h)",
        "Parcours 2 (280 h)",
        "Parcours 3 (350 h)",
        "Parcours 4 (420 h)",
    ]
    assert not any(o.inferred for o in q.options)


def test_the_figure_language_read_by_hand():
    """parse_spec is read by both the checker and the generator: its meaning is pinned here by hand."""
    import math

    from cnfs.codebook import Condition

    s = parse_spec("x+y | sector=pub & a>=9 vs sector=pri")
    assert s.options == ("x", "y") and s.value_range is None
    assert s.filters == (Condition("sector", codes=("pub",)), Condition("a", min=9.0))
    assert s.versus == (Condition("sector", codes=("pri",)),)
    assert parse_spec("2..5").value_range == (2.0, 5.0)
    assert parse_spec(">=2").value_range == (2.0, math.inf)
    assert parse_spec("<=1 | wave=1").value_range == (-math.inf, 1.0)
    assert parse_spec("among: a+b").among == ("a", "b")
    assert parse_spec("").options == () and parse_spec("| a<=3").filters == (Condition("a", max=3.0),)
    with pytest.raises(ValueError, match="cannot read the subgroup condition"):
        parse_spec("x | sector pub")
