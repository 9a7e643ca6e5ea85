"""Where the qualitative notebook reads its data (cwd-independent)."""

from __future__ import annotations

from pathlib import Path

from cnfs import paths

__all__ = ["resolve_data_dir"]


def resolve_data_dir(qualitative_dir: str | Path | None) -> Path:
    """Folder of the qualitative YAML files: ``data/qualitative`` unless a path is given (relative to notebooks/)."""
    if qualitative_dir is None:
        return paths.QUALITATIVE_DIR
    p = Path(qualitative_dir)
    return p if p.is_absolute() else (paths.NOTEBOOKS / p).resolve()
