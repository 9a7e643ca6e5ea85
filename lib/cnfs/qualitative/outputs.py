"""Where the qualitative notebook reads its data and writes its tables and figures (cwd-independent)."""
from __future__ import annotations

from pathlib import Path

from cnfs import paths
from cnfs.outputs import resolve_output_dir, write_figure, write_table

__all__ = ["resolve_data_dir", "resolve_output_dir", "save_figure", "save_table"]

# The qualitative notebook's names for the shared writers.
save_table = write_table
save_figure = write_figure


def resolve_data_dir(data_path: str | Path | None) -> Path:
    """Folder of the qualitative YAML files: ``data/qualitative`` unless a path is given."""
    if data_path is None:
        return paths.QUALITATIVE_DIR
    p = Path(data_path)
    return p if p.is_absolute() else (paths.NOTEBOOKS / p).resolve()
