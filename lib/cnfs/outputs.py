"""Where notebooks write their tables (CSV) and figures (PNG), atomically and whatever the cwd."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cnfs import paths
from cnfs.atomic import write_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def resolve_output_dir(output_dir: str | Path) -> Path:
    """Absolute output folder; a relative one is taken from the notebooks folder, like the parameter."""
    p = Path(output_dir)
    return p if p.is_absolute() else (paths.NOTEBOOKS / p).resolve()


def write_table(table: pd.DataFrame, output_dir: str | Path, name: str, index: bool = False) -> Path:
    """``{output_dir}/tables/{name}.csv`` (UTF-8), replaced in one step so a failed run keeps the old file."""
    target = resolve_output_dir(output_dir) / "tables" / f"{name}.csv"
    write_text(target, table.to_csv(index=index, lineterminator="\n"))
    return target


def write_figure(fig: Figure, output_dir: str | Path, name: str) -> Path:
    """``{output_dir}/figures/{name}.png``, written atomically."""
    from cnfs.plots import save_figure

    target = resolve_output_dir(output_dir) / "figures" / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    return save_figure(fig, target)
