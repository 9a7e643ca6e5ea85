"""French presentation: numbers with decimal comma and true minus, no-break spaces, Paris dates, reader
words for codes, and chart ticks in the same style (strings written out by hand here)."""

from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from cnfs import formatting as f  # noqa: E402

NNBSP, NBSP, MINUS = "\u202f", "\u00a0", "\u2212"


def test_numbers_use_comma_thin_space_and_true_minus():
    assert f.fmt_num(-0.154, 3) == f"{MINUS}0,154"
    assert f.fmt_num(-12345.6, 1) == f"{MINUS}12{NNBSP}345,6"
    assert "-" not in f.fmt_num(-3)
    assert f.fmt_num(float("-inf")) == f"{MINUS}∞"
    assert f.fmt_pct(95, 0) == f"95{NNBSP}%"
    assert f.fmt_ci(34.21, 40.06, pct=True) == f"[34,2{NNBSP}%{NBSP};{NBSP}40,1{NNBSP}%]"
    assert f.fmt_ci(float("nan"), 1) == "–"
    assert f.colon("Ampleur", "faible") == f"Ampleur{NNBSP}: faible"


def test_p_values_and_sizes_never_break():
    for text in (f.fmt_p(0.013), f.fmt_p(0.0001), f.fmt_n(1071), f.fmt_n_range([512, 559])):
        assert " " not in text.replace(" à ", "")  # only the no-break kinds inside


def test_dates_in_paris_time():
    # 22:15 UTC on 28 November is 23:15 in Paris (winter, UTC+1); 21:15 UTC on 1 July is 23:15 (UTC+2)
    assert (
        f.fmt_date(dt.datetime(2026, 11, 28, 22, 15, tzinfo=dt.UTC))
        == f"28{NBSP}novembre{NBSP}2026 à 23{NBSP}h{NBSP}15"
    )
    assert f.fmt_date("2026-07-01T21:15:00+00:00") == f"1{NBSP}juillet{NBSP}2026 à 23{NBSP}h{NBSP}15"
    assert f.fmt_date(dt.date(2021, 11, 16)) == f"16{NBSP}novembre{NBSP}2021"
    assert f.fmt_duration(7.34) == f"7,3{NBSP}s"
    assert f.fmt_duration(125) == f"2{NBSP}min{NBSP}05{NBSP}s"


def test_readers_see_words_not_codes():
    assert f.label("welch_t") == "Test de Welch"
    assert f.label("cramers_v") == "V de Cramér"
    assert f.label("chi2") == "Khi-deux"
    assert f.label("some_new_test") == "some new test"  # an unknown code is still readable
    assert f.magnitude("faible") == f"Ampleur{NNBSP}: faible"
    assert f.effect_text("cohens_d", -0.154) == f"d de Cohen{NBSP}={NBSP}{MINUS}0,15"


def test_display_follows_the_schema_and_masks_withheld_values():
    tidy = pd.DataFrame(
        {
            "question": ["q", "q"],
            "option": ["a", "b"],
            "label": ["A", "B"],
            "count": [pd.NA, 40],
            "n": [50, 50],
            "percent": [float("nan"), 80.0],
            "ci_low": [float("nan"), 66.9],
            "ci_high": [float("nan"), 88.8],
            "base": ["x", "x"],
            "suppressed": [True, False],
            "fragile": [False, False],
        }
    )
    shown = f.display(tidy, ["label", "percent", "ci", "count", "n", "fragile"], "label")
    assert list(shown.columns) == ["Part", f"IC\u00a095{NNBSP}%", "Effectif", "n"]  # no empty "Fragile" column
    assert " " not in shown.columns[1]  # the header never breaks between "IC" and "95 %"
    assert shown.loc["A", "Part"] == "[c]" and shown.loc["A", "Effectif"] == "[c]"
    assert shown.loc["B", "Part"] == f"80,0{NNBSP}%"


def test_chart_ticks_are_french():
    fig, ax = plt.subplots()
    ax.plot([-1.0, 0.5], [0, 1])
    ax.set_xticks([-1.0, -0.5, 0.0, 0.5])
    f.set_tick_format(ax, "x")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [f"{MINUS}1", f"{MINUS}0,5", "0", "0,5"]
    plt.close(fig)


def test_paths_shown_relative_to_the_project(tmp_path):
    from cnfs import paths

    assert f.display_path(paths.ROOT / "data" / "raw" / "export.csv") == "data/raw/export.csv"
    assert f.display_path(tmp_path / "ailleurs" / "export.csv") == "export.csv"
