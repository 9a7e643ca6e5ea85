"""Per-execution manifests under outputs/.cache/: what was rendered, with which key, and how it went."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

CACHE_DIRNAME = ".cache"
MANIFEST_DIRNAME = "manifests"


def write_temp(path: Path, text: str) -> Path:
    """Write text to a temporary sibling of path and return it; nothing is left behind if that fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file via a temporary sibling and os.replace, so readers never see half a file."""
    tmp = write_temp(path, text)
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def cache_dir(output_root: Path) -> Path:
    """Folder of the render cache inside an outputs folder."""
    return output_root / CACHE_DIRNAME


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


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False)


def save(output_root: Path, ident: str, data: dict[str, Any]) -> None:
    """Store the manifest of one execution atomically."""
    atomic_write_text(manifest_path(output_root, ident), _dump(data))


def prepare(output_root: Path, ident: str, data: dict[str, Any]) -> Path:
    """Write a manifest to a temporary file, to be put in place by os.replace once its outputs are."""
    return write_temp(manifest_path(output_root, ident), _dump(data))


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
