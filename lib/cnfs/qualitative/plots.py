"""Charts of the qualitative study (seaborn, colour-blind-safe palettes, French labels)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

YES_NO = ["Non", "Oui"]


def _binary_cmap() -> ListedColormap:
    """Two colours of seaborn's colour-blind palette: light grey for "non", blue for "oui"."""
    return ListedColormap(["#e6e6e6", sns.color_palette("colorblind")[0]])


def plot_presence_matrix(
    long: pd.DataFrame, row: str, column: str, value: str, title: str, xlabel: str = "Territoire", ylabel: str = ""
) -> Figure:
    """Yes/no grid (rows × columns) annotated "oui"/"non", readable at a glance."""
    grid = (
        long.pivot(index=row, columns=column, values=value)
        .reindex(index=list(dict.fromkeys(long[row])), columns=list(dict.fromkeys(long[column])))
        .astype(int)
    )
    fig, ax = plt.subplots(figsize=(1.2 * grid.shape[1] + 4.5, 0.5 * grid.shape[0] + 1.6))
    sns.heatmap(
        grid,
        cmap=_binary_cmap(),
        vmin=0,
        vmax=1,
        cbar=False,
        linewidths=1,
        linecolor="white",
        annot=grid.replace({0: "non", 1: "oui"}).to_numpy(),
        fmt="",
        ax=ax,
        annot_kws={"fontsize": 9},
    )
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.tick_params(axis="x", rotation=0)
    ax.legend(
        handles=[Patch(color=c, label=lab) for c, lab in zip(_binary_cmap().colors, YES_NO)],
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
    )
    fig.tight_layout()
    return fig


def plot_count_matrix(matrix: pd.DataFrame, title: str) -> Figure:
    """Heatmap of counts (e.g. excerpts per theme and territory), sequential colour-blind-safe map."""
    fig, ax = plt.subplots(figsize=(1.1 * matrix.shape[1] + 4.5, 0.42 * matrix.shape[0] + 1.6))
    sns.heatmap(
        matrix,
        cmap="cividis_r",
        annot=True,
        fmt="d",
        linewidths=0.5,
        linecolor="white",
        cbar_kws={"label": "Nombre d'extraits"},
        ax=ax,
    )
    ax.set(title=title, xlabel=matrix.columns.name or "", ylabel=matrix.index.name or "")
    ax.tick_params(axis="x", rotation=0)
    fig.tight_layout()
    return fig


def plot_coordinators(coordinators: pd.DataFrame) -> Figure:
    """Bar chart: number of territories per kind of coordinator (no coordinator included)."""
    counts = coordinators["coordinator_label"].value_counts().sort_values()
    colours = [
        sns.color_palette("colorblind")[7] if k == "Aucun coordinateur" else sns.color_palette("colorblind")[0]
        for k in counts.index
    ]
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(counts) + 1.5))
    ax.barh(counts.index, counts.to_numpy(), color=colours)
    for y, v in enumerate(counts.to_numpy()):
        ax.text(v + 0.05, y, str(v), va="center")
    total, with_coord = len(coordinators), int(coordinators["has_coordinator"].sum())
    ax.set(
        title=f"Territoires selon le coordinateur : {with_coord} sur {total} dotés d'un coordinateur",
        xlabel="Nombre de territoires",
        ylabel="",
    )
    ax.xaxis.get_major_locator().set_params(integer=True)
    sns.despine(fig)
    fig.tight_layout()
    return fig
