"""Per-execution manifests under outputs/.cache/: what was rendered, with which key, and how it went."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cnfs.atomic import write_text as atomic_write_text  # the project's one atomic writer

CACHE_DIRNAME = ".cache"
MANIFEST_DIRNAME = "manifests"
MEMO_DIRNAME = "memo"


def cache_dir(output_root: Path) -> Path:
    """Folder of the render cache inside an outputs folder."""
    return output_root / CACHE_DIRNAME


def memo_dir(output_root: Path) -> Path:
    """Folder of the results the kernels of a render share (``cnfs.memo``) inside an outputs folder."""
    return cache_dir(output_root) / MEMO_DIRNAME


def manifest_path(output_root: Path, ident: str) -> Path:
    """Manifest file of one execution, ident being '<wave folder>/<notebook stem>'."""
    return cache_dir(output_root) / MANIFEST_DIRNAME / f"{ident}.json"


def load(output_root: Path, ident: str) -> dict[str, Any] | None:
    """The manifest of one execution, or None if never rendered (or unreadable)."""
    path = manifest_path(output_root, ident)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _relative(value: Any) -> Any:
    """Strings with the project's absolute path made relative to it (error messages name files there)."""
    import os

    from cnfs import paths

    prefix = str(paths.ROOT)
    if isinstance(value, str):
        return value.replace(prefix + os.sep, "").replace(prefix, ".") if prefix in value else value
    if isinstance(value, dict):
        return {k: _relative(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative(v) for v in value]
    return value


def dump(data: dict[str, Any]) -> str:
    """A manifest as stored: indented, sorted JSON, without the project's absolute path."""
    return json.dumps(_relative(data), indent=1, sort_keys=True, ensure_ascii=False)


def save(output_root: Path, ident: str, data: dict[str, Any]) -> None:
    """Store the manifest of one execution atomically."""
    atomic_write_text(manifest_path(output_root, ident), dump(data))


def iter_all(output_root: Path) -> Iterator[dict[str, Any]]:
    """Every stored manifest, in path order."""
    root = cache_dir(output_root) / MANIFEST_DIRNAME
    if not root.is_dir():
        return
    for path in sorted(root.glob("*/*.json")):
        try:
            yield json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
