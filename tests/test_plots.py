"""Plot helpers return a Figure titled with the question and captioned with base and n; PNGs are written atomically."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # non-interactive backend, for the tests only

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from cnfs import contrasts, plots, scoring  # noqa: E402
from cnfs.formatting import base_caption, fmt_n, fmt_num, fmt_p, fmt_pct  # noqa: E402
from cnfs.subgroups import site_mode  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from test_scoring import make_codebook, make_frame  # noqa: E402

NNBSP = "\u202f"
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _close_figures():
    plots.set_theme()
    yield
    plt.close("all")


@pytest.fixture
def cb():
    return make_codebook()


@pytest.fixture
def df():
    return make_frame()


def texts(fig: Figure) -> str:
    """Every text of the figure (suptitle, caption, axes titles and labels), joined."""
    parts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        parts += [t.get_text() for t in ax.get_yticklabels()]
        legend = ax.get_legend()
        if legend is not None:
            parts += [t.get_text() for t in legend.get_texts()]
    return "\n".join(parts).replace(NBSP, " ")  # typography is tested above; here, the words


# -- formatting -------------------------------------------------------------------------------------
def test_french_number_formatting():
    assert fmt_num(1071) == f"1{NNBSP}071"
    assert fmt_num(1234567.891, 2) == f"1{NNBSP}234{NNBSP}567,89"
    assert fmt_num(8.537, 2) == "8,54"
    assert fmt_num(-0.001, 1) == "0,0"
    assert fmt_num(float("nan")) == "–" and fmt_num(pd.NA) == "–"
    assert fmt_pct(37.14) == f"37,1{NNBSP}%"
    assert fmt_pct(62.5, 0) == f"62{NNBSP}%"  # Python rounds half to even
    assert fmt_n(1071) == f"n{NBSP}={NBSP}1{NNBSP}071"
    assert fmt_p(0.0004) == f"p{NBSP}<{NBSP}0,001" and fmt_p(0.0123) == f"p{NBSP}={NBSP}0,012"
    assert (
        base_caption("ensemble des répondants", 1071)
        == f"Base{NNBSP}: ensemble des répondants (n{NBSP}={NBSP}1{NNBSP}071)"
    )
    assert base_caption("x", [512, 559]) == f"Base{NNBSP}: x (n{NBSP}={NBSP}512 à 559)"


# -- figures ----------------------------------------------------------------------------------------
def test_plot_shares_title_and_caption(df, cb):
    fig = plots.plot_shares(scoring.shares(df, cb, "cat"))
    assert isinstance(fig, Figure)
    assert fig._suptitle.get_text() == "Catégorie"
    all_text = texts(fig)
    assert base_caption("répondants ayant répondu « Public » à « Secteur »", 6).replace(NBSP, " ") in all_text
    assert "Cat C" in all_text


def test_plot_shares_multi_by_group_lists_group_n(df, cb):
    fig = plots.plot_shares(scoring.shares(df, cb, "kinds", by="wave"))
    all_text = texts(fig)
    assert "Vague 1 (n = 2)" in all_text and "Vague 2 (n = 2)" in all_text
    assert "(n = 4)" in all_text  # total of those asked


def test_plot_derived_column(df):
    fig = plots.plot_shares(scoring.column_shares(df, site_mode(df), question_label="Mode d'intervention"))
    assert fig._suptitle.get_text() == "Mode d'intervention"
    assert "ensemble des répondants (n = 10)" in texts(fig)


def test_plot_scores_ranked(df, cb):
    fig = plots.plot_scores(scoring.battery_summary(df, cb, "bat"))
    assert fig._suptitle.get_text() == "Batterie"
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["Item 2", "Item 1"]  # highest mean on top
    assert base_caption("ensemble des répondants", 10).replace(NBSP, " ") in texts(fig)


def test_plot_scores_by_group(df, cb):
    fig = plots.plot_scores(scoring.battery_summary(df, cb, "bat", by="wave"))
    assert "Vague 2 (n = 5)" in texts(fig)


def test_plot_distribution(df, cb):
    fig = plots.plot_distribution(scoring.distribution(df, cb, "i1"))
    assert fig._suptitle.get_text() == "Batterie — Item 1"
    assert "(n = 10)" in texts(fig)
    assert len(fig.axes[0].patches) == 10


def test_plot_comparison_states_the_test(df, cb):
    comp = contrasts.compare_groups(df, cb, "i1", "sector")
    fig = plots.plot_comparison(comp)
    all_text = texts(fig)
    # a 1–10 scale: rank test and rank-based effect size by default (issue 10); words, not codes
    assert "Test de Mann-Whitney" in all_text and "corrélation bisériale des rangs" in all_text
    assert "mannwhitney" not in all_text and "rank_biserial" not in all_text
    assert base_caption("ensemble des répondants", 10).replace(NBSP, " ") in all_text


def test_plot_wave_comparison_and_effects(df, cb):
    comp = contrasts.compare_waves(df, cb, ["sector", "cat", "kinds", "i1", "i2"])
    fig = plots.plot_wave_comparison(comp, "sector")
    assert fig._suptitle.get_text() == "Secteur : comparaison des vagues"
    assert "Vague 1 (n = 5)" in texts(fig)
    eff = plots.plot_effects(comp, title="Écarts entre vagues")
    assert isinstance(eff, Figure) and eff._suptitle.get_text() == "Écarts entre vagues"
    assert "Benjamini-Hochberg" in texts(eff)


def test_save_figure_writes_png_atomically(df, cb, tmp_path):
    fig = plots.plot_shares(scoring.shares(df, cb, "sector"))
    target = tmp_path / "sub" / "sector.png"
    assert plots.save_figure(fig, target) == target
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    target.write_bytes(b"old")
    plots.save_figure(fig, target)
    assert target.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in target.parent.iterdir()] == ["sector.png"]  # no temporary file left
