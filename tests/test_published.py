"""The published-figures table: complete, well-formed, and tied to the codebook and the article."""
from __future__ import annotations

import re

import pytest

from cnfs.codebook import load_codebook
from cnfs.figspec import parse_spec
from cnfs.reference import COLUMNS, COMPARISONS, load_published

STATISTICS = {
    "share", "mean", "mean_items", "option_rank", "rank", "sd_rank", "sd_rank_desc", "gap_to_next",
    "group_min_mean", "group_max_mean", "share_ratio", "share_diff", "mode_in", "count", "n_waves",
    "date_min", "date_max", "coverage", "context", "period_start", "period_end",
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
            assert q[len("group:"):] in cb.groups, r["id"]
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


def test_every_quote_is_in_the_article(pub, article_text):
    text = _norm(article_text)
    for _, r in pub.iterrows():
        for part in r["quote"].split("[...]"):
            assert _norm(part) in text, f"{r['id']}: quote not found in the article: {part[:80]}"


def test_every_percentage_of_the_article_has_a_row(pub, article_text):
    published = {float(v) for v in pub["value"] if re.fullmatch(r"-?\d+(\.\d+)?", v)}
    published |= {float(v) for v in pub["lower"] if v} | {float(v) for v in pub["upper"] if v}
    found = {float(m.replace(",", ".")) for m in re.findall(r"(\d+(?:[,.]\d+)?)\s?%", article_text)}
    assert found - published == set()
