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


def _true_colour(fig) -> bytes:
    """matplotlib's own PNG of the figure at the project's resolution, the reference to compare with."""
    import io

    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=plots.FIGURE_DPI, bbox_inches="tight")
    return full.getvalue()


def _pixels(data: bytes):
    import io

    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.mode, np.asarray(image.convert("RGB"), dtype=float)


def test_png_is_exact_for_a_chart_of_few_colours_and_much_smaller(df, cb):
    fig = plots.plot_shares(scoring.shares(df, cb, "sector"))
    reference, data = _true_colour(fig), plots.png_bytes(fig)
    (mode, small), (_, full) = _pixels(data), _pixels(reference)
    assert mode == "P" and small.shape == full.shape
    assert (small == full).all()  # at most 256 colours: the palette loses nothing
    assert len(data) < 0.5 * len(reference)
    plt.close(fig)


def test_png_of_a_many_coloured_chart_keeps_nearly_its_colours():
    import numpy as np

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.imshow(np.linspace(0, 1, 400).reshape(20, 20), cmap="cividis")  # a gradient: far more than 256 colours
    (mode, small), (_, full) = _pixels(plots.png_bytes(fig)), _pixels(_true_colour(fig))
    assert mode == "P" and small.shape == full.shape
    assert np.abs(small - full).mean() < 2.0  # out of 255
    assert np.quantile(np.abs(small - full).max(axis=2), 0.99) < 16  # 99 % of pixels within 16/255
    plt.close(fig)


def _with_colours(k: int):
    """A 40 x 50 RGB image using exactly ``k`` distinct colours, drawn at random."""
    import numpy as np

    rng = np.random.default_rng(k)
    palette = rng.choice(2**24, size=k, replace=False)
    keys = rng.choice(palette, size=2000)
    keys[:k] = palette  # every colour at least once
    rgb = np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=-1).astype(np.uint8)
    return rgb.reshape(40, 50, 3)


def test_exact_palette_keeps_every_pixel_of_up_to_256_colours_and_declines_more():
    import numpy as np
    from PIL import Image

    for k in (1, 2, 17, 256):
        rgb = _with_colours(k)
        image = plots._exact_palette(Image.fromarray(rgb))
        assert image.mode == "P"
        assert (np.asarray(image.convert("RGB")) == rgb).all()  # decoded by PIL, compared with the input
    assert plots._exact_palette(Image.fromarray(_with_colours(257))) is None  # left to median cut


def _effect_rows(effect: str, sizes: list[float], dfs: list[float]) -> pd.DataFrame:
    """Hand-made test rows of one kind of effect, each verdict from contrasts.size_verdict."""
    n = len(sizes)
    return pd.DataFrame(
        {
            "question": [f"q{i}" for i in range(n)],
            "question_label": [f"Question {i}" for i in range(n)],
            "label": [pd.NA] * n,
            "test": ["chi2"] * n,
            "n": [100] * n,
            "p_value": [0.01] * n,
            "p_adjusted": [0.02] * n,
            "effect": [effect] * n,
            "effect_size": sizes,
            "effect_ci_low": [max(0.0, v - 0.05) for v in sizes],
            "effect_ci_high": [v + 0.05 for v in sizes],
            "effect_df": dfs,
            "verdict": [contrasts.size_verdict(v, effect, k) for v, k in zip(sizes, dfs)],
        }
    )


def _row_marks(ax) -> dict[float, list[float]]:
    """Threshold marks drawn on each row: y → sorted x of the three marks (positive side)."""
    marks: dict[float, list[float]] = {}
    for coll in ax.collections:
        if str(coll.get_gid()).startswith("verdict-mark"):
            for seg in coll.get_segments():
                if seg[0][0] >= 0:
                    marks.setdefault(round((seg[0][1] + seg[1][1]) / 2, 6), []).append(float(seg[0][0]))
    return {y: sorted(x) for y, x in marks.items()}


def test_effects_chart_draws_the_intervals(df, cb):
    comp = contrasts.compare_waves(df, cb, ["sector", "cat", "kinds", "i1", "i2"])
    fig = plots.plot_effects(comp)
    drawn = sorted(
        (round(float(s[0][0]), 9), round(float(s[1][0]), 9))
        for ax in fig.axes
        for c in ax.collections
        if c.get_gid() == "effect-ci"
        for s in c.get_segments()
    )
    shown = plots._strongest_per_question(comp.tests[comp.tests["test"] != "none"])
    expected = sorted((round(a, 9), round(b, 9)) for a, b in zip(shown["effect_ci_low"], shown["effect_ci_high"]))
    assert drawn == expected and len(drawn) >= 3
    assert "intervalle de confiance à 95" in texts(fig)


def test_effects_chart_marks_each_rows_own_cramers_v_thresholds():
    # tables of different sizes: V = 0.12 is "faible" for a 2-column table (threshold 0.1) and for a
    # 4×4 table (0.1/√3 = 0.0577, 0.3/√3 = 0.1732); V = 0.2 is "faible" at df* = 1 but "moyen" at df* = 3
    rows = _effect_rows("cramers_v", [0.12, 0.2, 0.2], [1.0, 1.0, 3.0])
    fig = plots.plot_effects(rows, title="Test")
    ax = fig.axes[0]
    assert not [p for p in ax.patches if p.get_gid() == "verdict-band"]  # no shading shared by every row
    marks = _row_marks(ax)
    assert len(marks) == 3
    by_hand = {1.0: [0.1, 0.3, 0.5], 3.0: [0.1 / 3**0.5, 0.3 / 3**0.5, 0.5 / 3**0.5]}
    order = plots._strongest_per_question(rows).index  # rows in the chart's order (top to bottom)
    for (_, xs), i in zip(sorted(marks.items()), order):
        assert xs == pytest.approx(by_hand[rows.loc[i, "effect_df"]])
        # the verdict read off the chart's marks is the table's verdict
        read = contrasts.VERDICTS[sum(rows.loc[i, "effect_size"] >= x for x in xs)]
        assert read == rows.loc[i, "verdict"]
    assert [rows.loc[i, "verdict"] for i in order] == ["faible", "faible", "moyen"]


def test_effects_chart_shades_bands_of_the_tables_size():
    rows = _effect_rows("cramers_v", [0.05, 0.25], [2.0, 2.0])
    fig = plots.plot_effects(rows, title="Test")
    bands = sorted(
        x for p in fig.axes[0].patches if p.get_gid() == "verdict-band" for x in (p.get_x(), p.get_x() + p.get_width())
    )
    r2 = 2**0.5
    assert bands == pytest.approx(sorted([0.1 / r2, 0.3 / r2, 0.3 / r2, 0.5 / r2, 0.5 / r2, 10]))
    assert not _row_marks(fig.axes[0])


def test_no_empty_band_between_title_and_chart(df, cb):
    # the title's room is reserved once: the chart starts just under it (it used to leave ~0.9 inch empty)
    for fig in (
        plots.plot_distribution(scoring.distribution(df, cb, "i1")),
        plots.plot_shares(scoring.shares(df, cb, "sector")),
    ):
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        title_bottom = fig._suptitle.get_window_extent(r).y0
        chart_top = max(ax.get_tightbbox(r).y1 for ax in fig.axes)
        assert 0 <= (title_bottom - chart_top) / fig.dpi < 0.4


def test_representativeness_chart_keeps_whole_labels_and_its_source():
    from cnfs.codebook import load_codebook
    from cnfs.representativeness import plot_representativeness

    long = "Structure privée (association, entreprise…)"
    table = pd.DataFrame(
        {
            "wave": ["1", "1"],
            "variable": ["structure_sector"] * 2,
            "label": ["Structure publique", long],
            "sample_percent": [70.0, 30.0],
            "population_percent": [60.0, 40.0],
        }
    )
    fig = plot_representativeness(table, load_codebook(), caption="Population : data/population.yaml.")
    ticks = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["Structure publique", long]  # not cut at 28 characters
    assert "Population : data/population.yaml." in texts(fig)
