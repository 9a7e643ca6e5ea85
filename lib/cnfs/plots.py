"""Figures of the scoring tables (shares, ranked scores, distributions, comparisons), with one seaborn look.

Every function takes a table from ``cnfs.scoring`` / ``cnfs.contrasts`` and returns a matplotlib Figure whose
title is the question (or battery) and whose caption states the base and n, e.g.
"Base : ensemble des répondants (n = 1 071)". matplotlib and seaborn are imported here only, so that
``cnfs.scoring`` stays light; no backend is forced (set MPLBACKEND=Agg for headless use).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cnfs.contrasts import MAGNITUDE_THRESHOLDS, Comparison, cramers_v_thresholds
from cnfs.formatting import (
    NARROW_NBSP,
    SUPPRESSED,
    TIDY_COLUMNS,
    axis_label,
    base_caption,
    colon,
    effect_text,
    fmt_n,
    fmt_num,
    fmt_p,
    fmt_pct,
    label,
    set_tick_format,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from PIL.Image import Image as PILImage

PALETTE = "colorblind"
FIG_WIDTH = 9.0
TITLE_WIDTH = 75  # characters per title line
TABLE_COLUMNS = TIDY_COLUMNS  # one schema for tables and charts (cnfs.formatting)
#: Resolution of the PNG written once and embedded as is: sharp on screen, small in the wave folders.
FIGURE_DPI = 96
PNG_COLOURS = 256


def set_theme(context: str = "notebook", font_scale: float = 1.0) -> None:
    """Apply the project's look: seaborn whitegrid, colour-blind-safe palette, light spines."""
    import seaborn as sns

    sns.set_theme(
        context=context,
        style="whitegrid",
        palette=PALETTE,
        font_scale=font_scale,
        rc={
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.dpi": 100,
            "savefig.dpi": FIGURE_DPI,
            "axes.titlelocation": "left",
        },
    )


def colors(n: int) -> list:
    """``n`` colours of the project's palette."""
    import seaborn as sns

    return list(sns.color_palette(PALETTE, max(n, 1)))


# -- helpers ---------------------------------------------------------------------------------------
def _wrap(text: object, width: int) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def by_column(table: pd.DataFrame) -> str | None:
    """The grouping column of a scoring table (its first column when that is not a table column)."""
    first = str(table.columns[0])
    return None if first in TABLE_COLUMNS else first


def _level_label(by: str | None, level: object) -> str:
    return f"Vague {level}" if by == "wave" else str(level)


def _levels(table: pd.DataFrame, by: str | None) -> list:
    if by is None:
        return [None]
    col = table[by]
    if isinstance(col.dtype, pd.CategoricalDtype):
        return [c for c in col.cat.categories if (col == c).any()]
    return list(dict.fromkeys(col.tolist()))


def _subset(table: pd.DataFrame, by: str | None, level: object) -> pd.DataFrame:
    return table if by is None else table[table[by] == level]


def _group_ns(table: pd.DataFrame, by: str | None) -> list[int | None]:
    """n of each group (the largest n of the group's rows, which share one base); None when withheld."""
    ns = [pd.to_numeric(_subset(table, by, lv)["n"], errors="coerce").max() for lv in _levels(table, by)]
    return [None if pd.isna(n) else int(n) for n in ns]


def table_caption(table: pd.DataFrame) -> str:
    """ "Base : <base> (n = …)" for a scoring table: total n over groups; a range when items differ; "n = [c]"
    when a group's n is withheld (the total would give it back)."""
    bases = list(dict.fromkeys(table["base"].dropna().astype(str)))
    base = " ; ".join(bases) if bases else "répondants"
    by = by_column(table)
    withheld = colon("Base", f"{base} (n = {SUPPRESSED} : secret statistique)")
    if by is None:
        ns = sorted({int(v) for v in pd.to_numeric(table["n"], errors="coerce").dropna()})
        if not ns:
            return withheld if len(table) else base_caption(base, 0)
        return base_caption(base, ns[0] if len(ns) == 1 else ns)
    ns = _group_ns(table, by)
    if any(n is None for n in ns):  # a group is withheld: the total minus the shown groups would give it back
        return withheld
    return base_caption(base, int(sum(ns)))


def _title_of(table: pd.DataFrame) -> str:
    labels = list(dict.fromkeys(table["question_label"].astype(str))) if "question_label" in table else []
    return " ; ".join(labels)


def _figure(n_rows: int, per_row: float = 0.42, min_height: float = 3.2):
    import matplotlib.pyplot as plt

    height = max(min_height, per_row * n_rows + 1.8)
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, height))
    return fig, ax


def _finish(fig: Figure, title: str, caption: str) -> Figure:
    """Title at the top left, caption (base and n) at the bottom left, layout inside both."""
    height = fig.get_size_inches()[1]
    title = _wrap(title, TITLE_WIDTH)
    suptitle = fig.suptitle(title, x=0.01, y=0.995, ha="left", va="top", fontweight="bold", fontsize="large")
    suptitle.set_in_layout(False)  # tight_layout leaves its room as reserved below, measured (no gap under it)
    width_chars = int(fig.get_size_inches()[0] * 13)  # small italic characters per line
    caption = "\n".join(_wrap(line, width_chars) for line in caption.split("\n"))
    lines = caption.count("\n") + 1
    fig.text(0.01, 0.01, caption, ha="left", va="bottom", fontsize="small", style="italic", color="0.3")
    bottom = min(0.4, (0.2 * lines + 0.15) / height)
    title_height = suptitle.get_window_extent(fig.canvas.get_renderer()).height / fig.dpi
    top = 1 - min(0.3, (title_height + 0.15) / height)
    fig.tight_layout(rect=(0, bottom, 1, top))
    suptitle.set_in_layout(True)  # and in the saved image's tight box
    return fig


def _legend(ax: Axes, by: str | None, levels: list, ns: list[int], title: str | None = None) -> None:
    """Legend outside the axes on the right: one entry per group with its n."""
    if by is None:
        return
    title = title or ("Vague" if by == "wave" else by)
    handles, _ = ax.get_legend_handles_labels()
    labels = [
        _wrap(f"{_level_label(by, lv)} ({fmt_n(n) if n is not None else 'n ' + SUPPRESSED})", 28)
        for lv, n in zip(levels, ns)
    ]
    ax.legend(
        handles[: len(labels)],
        labels,
        title=_wrap(title, 28),
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        fontsize="small",
        title_fontsize="small",
        frameon=False,
    )


# -- shares ----------------------------------------------------------------------------------------
def plot_shares(
    table: pd.DataFrame,
    *,
    title: str | None = None,
    caption: str | None = None,
    sort: bool = True,
    wrap: int = 42,
    value_labels: bool = True,
    legend_title: str | None = None,
) -> Figure:
    """Horizontal bars of the shares table (``scoring.shares``, ``column_shares``, ``combined_share``) with Wilson intervals.

    With a by column, one bar per group (legend gives each group's n). ``sort`` orders options by
    decreasing mean share; ``sort=False`` keeps the codebook order (use it for ordered scales).
    """
    by = by_column(table)
    levels = _levels(table, by)
    options = list(dict.fromkeys(table["option"].astype(str)))
    if sort:
        means = table.assign(option=table["option"].astype(str)).groupby("option")["percent"].mean()
        options = sorted(options, key=lambda o: -np.nan_to_num(means[o], nan=-1))
    labels = {str(o): lab for o, lab in zip(table["option"].astype(str), table["label"])}
    fig, ax = _figure(len(options) * max(1, len(levels) * 0.7))
    pal = colors(len(levels))
    height = 0.8 / len(levels)
    y = np.arange(len(options))
    for i, lv in enumerate(levels):
        part = _subset(table, by, lv).assign(option=lambda t: t["option"].astype(str)).set_index("option")
        part = part.reindex(options)
        pos = y - 0.4 + height * (i + 0.5)
        pct = part["percent"].to_numpy(dtype=float)
        err = np.vstack([pct - part["ci_low"].to_numpy(dtype=float), part["ci_high"].to_numpy(dtype=float) - pct])
        ax.barh(pos, pct, height=height * 0.92, color=pal[i], label=_level_label(by, lv))
        ax.errorbar(pct, pos, xerr=np.clip(err, 0, None), fmt="none", ecolor="0.25", elinewidth=1, capsize=2.5)
        if value_labels:
            for p, hi, yy in zip(pct, part["ci_high"].to_numpy(dtype=float), pos):
                text = fmt_pct(p) if p == p else SUPPRESSED
                ax.text(np.nan_to_num(hi, nan=np.nan_to_num(p)) + 1, yy, text, va="center", fontsize="x-small")
    ax.set_yticks(y, [_wrap(labels[o], wrap) for o in options])
    ax.invert_yaxis()
    ax.set_xlim(0, min(110, max(100, float(np.nanmax(table["ci_high"].to_numpy(dtype=float), initial=0)) + 10)))
    ax.set_xlabel(axis_label("percent"))
    ax.set_ylabel("")
    ax.grid(axis="y", visible=False)
    set_tick_format(ax, "x")
    _legend(ax, by, levels, _group_ns(table, by), legend_title)
    return _finish(fig, title or _title_of(table), caption or table_caption(table))


# -- scores ----------------------------------------------------------------------------------------
def _score_limits(table: pd.DataFrame) -> tuple[float, float] | None:
    thresholds = set(table.get("top_box_threshold", pd.Series(dtype=float)).dropna())
    if thresholds == {9.0}:
        return (1, 10)
    if thresholds == {80.0}:
        return (0, 100)
    return None


def plot_scores(
    summary: pd.DataFrame,
    *,
    title: str | None = None,
    caption: str | None = None,
    wrap: int = 48,
    legend_title: str | None = None,
) -> Figure:
    """Mean scores with their t intervals, items ranked by mean (``scoring.scale_summary`` / ``battery_summary``).

    With a by column, one point per group, items ordered by their mean over groups.
    """
    by = by_column(summary)
    levels = _levels(summary, by)
    order = summary.groupby("question", sort=False)["mean"].mean().sort_values(ascending=False).index.tolist()
    labels = dict(zip(summary["question"], summary["label"]))
    fig, ax = _figure(len(order) * max(1, len(levels) * 0.5))
    pal = colors(len(levels))
    y = np.arange(len(order))
    step = 0.6 / len(levels)
    for i, lv in enumerate(levels):
        part = _subset(summary, by, lv).set_index("question").reindex(order)
        pos = y - 0.3 + step * (i + 0.5) if by else y
        m = part["mean"].to_numpy(dtype=float)
        err = np.vstack([m - part["ci_low"].to_numpy(dtype=float), part["ci_high"].to_numpy(dtype=float) - m])
        ax.errorbar(
            m,
            pos,
            xerr=np.clip(np.nan_to_num(err), 0, None),
            fmt="o",
            color=pal[i],
            ecolor=pal[i],
            elinewidth=1.5,
            capsize=3,
            markersize=6,
            label=_level_label(by, lv),
        )
        if by is None:
            for mm, yy in zip(m, pos):
                ax.annotate(
                    fmt_num(mm, 2 if mm < 20 else 1),
                    (mm, yy),
                    xytext=(0, 7),
                    textcoords="offset points",
                    ha="center",
                    fontsize="x-small",
                )
    ax.set_yticks(y, [_wrap(labels[q], wrap) for q in order])
    ax.invert_yaxis()
    limits = _score_limits(summary)
    if limits:
        pad = (limits[1] - limits[0]) * 0.03
        ax.set_xlim(limits[0] - pad, limits[1] + pad)
    ax.set_xlabel(axis_label("mean"))
    set_tick_format(ax, "x")
    _legend(ax, by, levels, _group_ns(summary, by), legend_title)
    return _finish(fig, title or _title_of(summary), caption or table_caption(summary))


def plot_distribution(
    dist: pd.DataFrame,
    *,
    title: str | None = None,
    caption: str | None = None,
    legend_title: str | None = None,
) -> Figure:
    """Bars of the percent of those asked at each value (or bin) of a numeric item (``scoring.distribution``)."""
    by = by_column(dist)
    levels = _levels(dist, by)
    values = list(dict.fromkeys(dist["label"].astype(str)))
    fig, ax = _figure(0, min_height=4.0)
    pal = colors(len(levels))
    width = 0.8 / len(levels)
    x = np.arange(len(values))
    for i, lv in enumerate(levels):
        part = _subset(dist, by, lv).assign(label=lambda t: t["label"].astype(str)).set_index("label").reindex(values)
        ax.bar(
            x - 0.4 + width * (i + 0.5),
            part["percent"].to_numpy(dtype=float),
            width=width * 0.92,
            color=pal[i],
            label=_level_label(by, lv),
        )
        for xx, p in zip(x - 0.4 + width * (i + 0.5), part["percent"].to_numpy(dtype=float)):
            if p != p:  # withheld by disclosure control
                ax.text(xx, 0.5, SUPPRESSED, ha="center", va="bottom", fontsize="x-small", color="0.3")
    ax.set_xticks(x, values, rotation=0 if len(values) <= 10 and max(map(len, values)) <= 6 else 45)
    ax.set_ylabel(_wrap(axis_label("percent"), 24))
    ax.set_xlabel("Réponse")
    set_tick_format(ax, "y")
    ax.grid(axis="x", visible=False)
    _legend(ax, by, levels, _group_ns(dist, by), legend_title)
    default = _title_of(dist)
    item = str(dist["item_label"].iloc[0]) if "item_label" in dist and len(dist) else default
    if item != default:
        default = f"{default} — {item}"
    return _finish(fig, title or default, caption or table_caption(dist))


# -- comparisons -----------------------------------------------------------------------------------
def test_caption(tests: pd.DataFrame) -> str:
    """One French line on the test of a comparison (or the options significant after BH for multi-select)."""
    if len(tests) and "n_by" in tests and tests["n_by"].astype(str).str.contains(SUPPRESSED, regex=False).all():
        return "Test masqué : un groupe compte trop peu de répondants (secret statistique)."
    if len(tests) == 1:
        t = tests.iloc[0]
        if t["test"] == "none":
            return "Test non calculable (un seul groupe ou aucune variation)."
        return (
            f"{colon(label(t['test']), fmt_p(t['p_value']))} ; {effect_text(t['effect'], t['effect_size'])} "
            f"({colon('ampleur', str(t['verdict']))})"
        )
    adjusted = tests["p_adjusted"].to_numpy(dtype=float)
    hits = tests.loc[np.nan_to_num(adjusted, nan=1.0) < 0.05, "label"].astype(str).tolist()
    listed = ", ".join(hits) if hits else "aucune"
    names = ", ".join(dict.fromkeys(label(t).lower() for t in tests["test"]))
    return _wrap(
        f"Tests par modalité ({names}), p ajustées (Benjamini-Hochberg) ; {colon('écarts significatifs', listed)}", 110
    )


def plot_comparison(
    comparison: Comparison,
    question: str | None = None,
    *,
    title: str | None = None,
    sort: bool = True,
    legend_title: str | None = None,
) -> Figure:
    """A subgroup (or wave) comparison of one question: grouped shares or scores, with the test in the caption."""
    qid = question or next(iter(comparison.tables))
    table = comparison.tables[qid]
    tests = comparison.tests[comparison.tests["question"] == qid]
    caption = f"{table_caption(table)}\n{test_caption(tests)}"
    if "percent" in table.columns:
        return plot_shares(table, title=title, caption=caption, sort=sort, legend_title=legend_title)
    return plot_scores(table, title=title, caption=caption, legend_title=legend_title)


def plot_wave_comparison(
    comparison: Comparison, question: str | None = None, *, title: str | None = None, sort: bool = True
) -> Figure:
    """``plot_comparison`` of a ``contrasts.compare_waves`` result (groups shown as "Vague 1", "Vague 2")."""
    qid = question or next(iter(comparison.tables))
    label = comparison.tables[qid]["question_label"].iloc[0]
    return plot_comparison(comparison, qid, title=title or f"{label} : comparaison des vagues", sort=sort)


UNSIGNED_EFFECTS = ("cramers_v", "eta_squared", "epsilon_squared")


def row_thresholds(part: pd.DataFrame, kind: str) -> list[tuple[float, float, float]]:
    """The verdict thresholds (faible, moyen, fort) of each row, as ``contrasts.size_verdict`` applies them:
    Cramér's V's depend on the row's table (``effect_df``), the other effects' are fixed."""
    if kind == "cramers_v":
        dfs = part["effect_df"] if "effect_df" in part else pd.Series(1.0, index=part.index)
        return [cramers_v_thresholds(k) for k in dfs.astype(float)]
    fixed = MAGNITUDE_THRESHOLDS.get(kind)
    return [fixed] * len(part) if fixed is not None else []


def _bands(part: pd.DataFrame, kind: str) -> list[tuple[float, float, str]]:
    """Shaded verdict bands (faible, moyen, fort) when every row of the panel has the same thresholds;
    none otherwise (each row then gets its own marks, ``row_thresholds``)."""
    per_row = set(row_thresholds(part, kind))
    if len(per_row) != 1:
        return []
    small, medium, large = per_row.pop()
    return [(small, medium, "0.94"), (medium, large, "0.88"), (large, 10, "0.82")]


EFFECT_CI = ("effect_ci_low", "effect_ci_high")  # interval columns of a tests table, drawn when present


def _strongest_per_question(tests: pd.DataFrame) -> pd.DataFrame:
    """One row per question and kind of effect: the option with the largest effect for multi-select ones."""
    order = tests["effect_size"].abs().sort_values(ascending=False, na_position="last").index
    return tests.loc[order].drop_duplicates(["question", "effect"]).loc[lambda t: t.index.sort_values()]


def _threshold_marks(ax: Axes, thresholds: list[tuple[float, float, float]], y: np.ndarray, signed: bool) -> None:
    """Short grey ticks at each row's faible / moyen / fort thresholds (darker for the larger ones)."""
    from matplotlib.collections import LineCollection

    for level, shade in enumerate(("0.75", "0.6", "0.45")):
        segments = []
        for limits, yy in zip(thresholds, y):
            x = limits[level]
            segments.append([(x, yy - 0.35), (x, yy + 0.35)])
            if signed:
                segments.append([(-x, yy - 0.35), (-x, yy + 0.35)])
        ax.add_collection(LineCollection(segments, colors=shade, linewidths=1.2, zorder=1, gid=f"verdict-mark-{level}"))


def plot_effects(
    comparison: Comparison | pd.DataFrame,
    *,
    title: str = "Tailles d'effet des écarts entre groupes",
    alpha: float = 0.05,
    wrap: int = 60,
    sections: dict[str, int] | None = None,
    section_titles: dict[int, str] | None = None,
) -> Figure:
    """Forest plot of effect sizes: one panel per kind of effect (never two kinds on one axis), one row per
    question grouped by section, the point filled when significant after BH, its interval when the tests
    table has ``effect_ci_low``/``effect_ci_high``; shaded bands mark the verdict thresholds, or ticks on each
    row when its thresholds differ from the other rows' (Cramér's V of tables of different sizes).

    A multi-select question shows its option with the largest effect (every option is in the table).
    """
    import matplotlib.pyplot as plt

    tests = comparison.tests if isinstance(comparison, Comparison) else comparison
    tests = tests[tests["test"] != "none"]
    kinds = [k for k in dict.fromkeys(tests["effect"]) if k in MAGNITUDE_THRESHOLDS] or ["cramers_v"]
    rows = {k: _strongest_per_question(tests[tests["effect"] == k]) for k in kinds}
    sec = sections or {}
    panels = []
    for k in kinds:
        part = rows[k].assign(_section=rows[k]["question"].map(sec).fillna(0).astype(int))
        part = part.sort_values("_section", kind="stable")
        labels, ypos, headers, y = [], [], [], 0
        for s_id, group in part.groupby("_section", sort=False):
            if sections:  # a bold header row per section (one text line, half a line of space above)
                y += 0.8 if headers else 0.5
                headers.append(
                    (
                        y,
                        f"{s_id}. {(section_titles or {}).get(s_id, '')}".strip(" ."),
                    )
                )
                y += 0.5
            for ql, lab in zip(group["question_label"], group["label"]):
                name = str(ql) if pd.isna(lab) or str(lab) == str(ql) else f"{ql} : {lab}"
                labels.append(_wrap(name, wrap))
                half = (labels[-1].count("\n") + 1) / 2 + 0.15  # rows spaced by their number of text lines
                ypos.append(y + half)
                y += 2 * half
        panels.append((k, part, labels, np.array(ypos, dtype=float), headers, y))
    heights = [max(p[5], 2) for p in panels]
    fig, axes = plt.subplots(
        len(kinds),
        1,
        figsize=(FIG_WIDTH, 0.16 * sum(heights) + 1.1 * len(kinds) + 1.4),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    pal = colors(2)
    for ax, (kind, part, labels, y, headers, total) in zip(axes[:, 0], panels):
        vals = part["effect_size"].to_numpy(dtype=float)
        sig = np.nan_to_num(part["p_adjusted"].to_numpy(dtype=float), nan=1.0) < alpha
        if all(c in part for c in EFFECT_CI):  # the interval as computed (it may exclude a biased point estimate)
            ax.hlines(
                y,
                part[EFFECT_CI[0]].to_numpy(dtype=float),
                part[EFFECT_CI[1]].to_numpy(dtype=float),
                color="0.35",
                linewidth=1.2,
                zorder=2,
                gid="effect-ci",
            )
        ax.scatter(
            vals[sig], y[sig], color=pal[0], s=28, label=f"p ajustée < {fmt_num(alpha, 2)}", zorder=3, clip_on=False
        )
        ax.scatter(
            vals[~sig],
            y[~sig],
            facecolors="white",
            edgecolors=pal[0],
            s=28,
            label="non significatif",
            zorder=3,
            clip_on=False,
        )
        signed = kind not in UNSIGNED_EFFECTS
        bands = _bands(part, kind)
        for lo, hi, shade in bands:
            ax.axvspan(lo, hi, color=shade, zorder=0, gid="verdict-band")
            if signed:
                ax.axvspan(-hi, -lo, color=shade, zorder=0, gid="verdict-band")
        if not bands:  # thresholds differ between rows (Cramér's V of tables of different sizes): marks per row
            _threshold_marks(ax, row_thresholds(part, kind), y, signed)
        reach = part[list(EFFECT_CI)].to_numpy(dtype=float) if all(c in part for c in EFFECT_CI) else vals
        top = float(np.nanmax(np.abs(np.append(reach, vals)), initial=0))
        if not signed:
            ax.set_xlim(-0.02 * max(0.6, top * 1.15), max(0.6, top * 1.15))
        else:
            ax.axvline(0, color="0.5", linewidth=0.8)
            lim = max(1.0, top * 1.15)
            ax.set_xlim(-lim, lim)
        ticks = list(y) + [h[0] for h in headers]
        names = labels + [h[1] for h in headers]
        ax.set_yticks(ticks, names, fontsize="x-small")
        for tick, name in zip(ax.get_yticklabels(), names):
            if any(name == h[1] for h in headers):
                tick.set_fontweight("bold")
        ax.set_ylim(total + 0.2, -0.6)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(label(kind))
        set_tick_format(ax, "x")
        ax.legend(loc="lower right", fontsize="x-small", frameon=True)
    has_ci = all(c in tests for c in EFFECT_CI) and tests[list(EFFECT_CI)].notna().any().any()
    caption = (
        ("Traits : intervalle de confiance à 95 % de la taille d'effet ; " if has_ci else "")
        + "zones grisées (ou repères par ligne, quand les seuils diffèrent selon la taille du tableau) : "
        f"ampleur faible, moyenne, forte ; {len(tests)} tests, p ajustées par Benjamini-Hochberg ; "
        "pour un choix multiple, l'option la plus différente"
    ).replace(" %", f"{NARROW_NBSP}%")
    caption = caption[0].upper() + caption[1:]
    if len(tests):
        ns = sorted({int(v) for v in pd.to_numeric(tests["n"], errors="coerce").dropna()})
        caption = f"{base_caption('répondants interrogés sur chaque question', ns)}\n{caption}"
    return _finish(fig, title, caption)


# -- output ----------------------------------------------------------------------------------------
def plot_share_heatmap(table: pd.DataFrame, *, title: str | None = None, item: str = "item", wrap: int = 40) -> Figure:
    """Items × options percentages of a single-choice battery (``shares`` stacked with an ``item`` column)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from cnfs.formatting import fmt_num

    items = list(dict.fromkeys(table[item].astype(str)))
    options = list(dict.fromkeys(table["label"].astype(str)))
    grid = (
        table.assign(**{item: table[item].astype(str), "label": table["label"].astype(str)})
        .pivot_table(index=item, columns="label", values="percent", sort=False)
        .reindex(index=items, columns=options)
    )
    fig, ax = plt.subplots(figsize=(1.3 * len(options) + 4, 0.55 * len(items) + 2.2))
    annot = grid.map(lambda v: fmt_num(v, 0) if v == v else SUPPRESSED)
    sns.heatmap(
        grid,
        annot=annot,
        fmt="",
        cmap="Blues",
        vmin=0,
        vmax=100,
        cbar_kws={"label": "% des répondants"},
        ax=ax,
        linewidths=0.5,
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_yticklabels([_wrap(t, wrap) for t in items], rotation=0)
    ax.set_xticklabels([_wrap(t, 14) for t in options], rotation=0)
    return _finish(fig, title or _title_of(table), table_caption(table))


def png_bytes(fig: Figure, *, dpi: int = FIGURE_DPI) -> bytes:
    """The chart drawn once, cropped to its content, as a 256-colour PNG, about a third of a true-colour PNG's
    size: exact for a chart of at most 256 colours (most are), the nearest median-cut shades otherwise."""
    import io

    from PIL import Image

    raw = io.BytesIO()  # uncompressed: it is only read back below
    fig.savefig(raw, format="png", dpi=dpi, bbox_inches="tight", pil_kwargs={"compress_level": 0})
    raw.seek(0)
    with Image.open(raw) as image:
        rgb = image.convert("RGB")
    palette = _exact_palette(rgb)
    if palette is None:
        palette = rgb.quantize(PNG_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def _exact_palette(rgb: PILImage) -> PILImage | None:
    """The RGB image in palette mode, every pixel kept, when it has at most ``PNG_COLOURS`` colours; None when it
    has more. Each pixel's colour is looked up among the image's own colours (most frequent first), which takes
    half of median cut's time and gives the same pixels."""
    from PIL import Image

    counted = rgb.getcolors(PNG_COLOURS)
    if counted is None:
        return None
    colours = np.array([colour for _, colour in sorted(counted, key=lambda c: (-c[0], c[1]))], dtype=np.uint8)
    keys = _colour_keys(np.pad(colours, ((0, 0), (0, 1))))
    pixels = _colour_keys(np.asarray(rgb.convert("RGBX")))
    order = np.argsort(keys)
    index = order[np.searchsorted(keys[order], pixels)].astype(np.uint8)
    image = Image.fromarray(index, mode="P")
    image.putpalette(colours.tobytes())
    return image


def _colour_keys(rgbx: np.ndarray) -> np.ndarray:
    """One integer per colour of an (..., 4) array of R, G, B and padding bytes: the R, G and B bytes read as one."""
    return np.ascontiguousarray(rgbx, dtype=np.uint8).view("<u4")[..., 0] & 0xFFFFFF


def save_figure(fig: Figure, path: str | Path, *, dpi: int = FIGURE_DPI) -> Path:
    """Write the figure as PNG (``png_bytes``) atomically (``cnfs.atomic``)."""
    from cnfs.atomic import replacing

    target = Path(path)
    data = png_bytes(fig, dpi=dpi)
    with replacing(target) as f:
        f.write(data)
    return target
