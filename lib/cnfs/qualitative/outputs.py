"""Where the qualitative notebook reads its data and writes its tables and figures (cwd-independent)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from cnfs import paths


def resolve_output_dir(output_dir: str | Path) -> Path:
    """Absolute output folder; a relative one is taken from the notebooks folder, like the parameter."""
    p = Path(output_dir)
    return p if p.is_absolute() else (paths.NOTEBOOKS / p).resolve()


def resolve_data_dir(data_path: str | Path | None) -> Path:
    """Folder of the qualitative YAML files: ``data/qualitative`` unless a path is given."""
    if data_path is None:
        return paths.QUALITATIVE_DIR
    p = Path(data_path)
    return p if p.is_absolute() else (paths.NOTEBOOKS / p).resolve()


def save_table(table: pd.DataFrame, output_dir: str | Path, name: str, index: bool = False) -> Path:
    """Write ``table`` as ``{output_dir}/tables/{name}.csv`` (UTF-8) and return the path."""
    folder = resolve_output_dir(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.csv"
    table.to_csv(target, index=index, encoding="utf-8")
    return target


def save_figure(fig: Figure, output_dir: str | Path, name: str) -> Path:
    """Write ``fig`` as ``{output_dir}/figures/{name}.png`` and return the path."""
    folder = resolve_output_dir(output_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.png"
    fig.savefig(target, dpi=150, bbox_inches="tight")
    return target
