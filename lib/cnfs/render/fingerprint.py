"""Cache keys for notebook executions: every input that can change a report is hashed here."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cnfs import paths

# Bump to invalidate every cached execution after a change in how keys are built.
KEY_SCHEME = "3"  # 2: parameters hashed with paths relative to the project; more data files; 3: code and text apart

_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
_SKIP_SUFFIXES = (".pyc", ".pyo")


def shared_inputs() -> dict[str, Path]:
    """The declared list of shared inputs (besides notebook and data file) every execution depends on."""
    return {
        "lib": paths.LIB,
        "codebook": paths.CODEBOOK,
        "published": paths.PUBLISHED,
        "assumptions": paths.ASSUMPTIONS,
        "qualitative": paths.QUALITATIVE_DIR,
        "population": paths.population_file(),  # raking margins and coverage (weighted reports, notebook 01, tab books)
        "banners": paths.BANNERS,  # tab book columns
        "analysis": paths.ANALYSIS_ASSUMPTIONS,
    }


def relative(path: str | Path) -> str:
    """A path as the render cache stores it: relative to the project (no absolute machine path in outputs/)."""
    text = str(path)
    if not os.path.isabs(text):
        return text
    return os.path.relpath(text, paths.ROOT)


def absolute(path: str | Path) -> Path:
    """A path stored by ``relative``, back as an absolute path."""
    return (paths.ROOT / path).resolve() if not os.path.isabs(str(path)) else Path(path)


def _iter_files(root: Path) -> list[Path]:
    """All regular files under a directory, sorted, without caches and build metadata."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            if name.endswith(_SKIP_SUFFIXES):
                continue
            found.append(Path(dirpath) / name)
    return found


class FileHasher:
    """sha256 of files, memoised on (size, mtime, inode) so unchanged files are not re-read."""

    def __init__(self, memo_path: Path | None = None) -> None:
        self.memo_path = memo_path
        self._memo: dict[str, list[Any]] = {}
        self._dirty = False
        if memo_path is not None and memo_path.exists():
            try:
                self._memo = json.loads(memo_path.read_text())
            except (OSError, ValueError):
                self._memo = {}

    def file(self, path: Path) -> str:
        """Content hash of one file, 'missing' when absent."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return "missing"
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        key = relative(path.resolve())
        cached = self._memo.get(key)
        if cached is not None and cached[:3] == stamp:
            return str(cached[3])
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        value = digest.hexdigest()
        self._memo[key] = [*stamp, value]
        self._dirty = True
        return value

    def tree(self, path: Path) -> str:
        """Hash of a file or of every file under a directory (relative names included)."""
        if path.is_file():
            return self.file(path)
        if not path.is_dir():
            return "missing"
        digest = hashlib.sha256()
        for f in _iter_files(path):
            digest.update(f.relative_to(path).as_posix().encode() + b"\0" + self.file(f).encode() + b"\n")
        return digest.hexdigest()

    def save(self) -> None:
        """Persist the memo atomically if it changed."""
        if self.memo_path is None or not self._dirty:
            return
        from cnfs.atomic import write_text

        write_text(self.memo_path, json.dumps(self._memo, sort_keys=True))
        self._dirty = False


def package_versions() -> dict[str, str]:
    """Installed distributions and the interpreter version: an upgrade anywhere invalidates the cache.

    Read from the ``name-version.dist-info`` folder names on sys.path (first one wins, as for imports),
    which costs a directory listing instead of parsing every distribution's metadata.
    """
    from importlib import metadata

    versions: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and "-" in name:
                dist, _, version = name[: -len(".dist-info")].rpartition("-")
            elif name.endswith(".egg-info"):
                found = metadata.Distribution.at(os.path.join(entry or ".", name))
                dist, version = (found.metadata.get("Name") or ""), found.version
            else:
                continue
            if dist:
                versions.setdefault(dist.lower().replace("_", "-"), version)
    versions["python"] = sys.version
    return dict(sorted(versions.items()))


def text_hash(value: Any) -> str:
    """sha256 of a JSON-serialisable value in canonical form."""
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def notebook_digests(path: Path) -> tuple[str, str]:
    """(code, text) hashes of a notebook, read once. Code: what its execution depends on, its code cells' tags and
    sources in order and its ``cnfs`` metadata, never outputs or execution counts. Text: each cell's type and tags
    in order, and the sources and attachments of its markdown and raw cells; a change there alone changes the
    report, not what its execution computes."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb.get("cells", [])
    code = [[sorted(c.get("metadata", {}).get("tags", [])), _source(c)] for c in cells if c.get("cell_type") == "code"]
    text = [
        [c.get("cell_type"), sorted(c.get("metadata", {}).get("tags", []))]
        + ([] if c.get("cell_type") == "code" else [_source(c), c.get("attachments", {})])
        for c in cells
    ]
    return text_hash({"cells": code, "cnfs": nb.get("metadata", {}).get("cnfs", {})}), text_hash(text)


def notebook_hash(path: Path) -> str:
    """Hash of what a notebook's execution depends on (``notebook_digests``' first)."""
    return notebook_digests(path)[0]


def notebook_text_hash(path: Path) -> str:
    """Hash of a notebook's text (``notebook_digests``' second)."""
    return notebook_digests(path)[1]


def shared_components(
    hasher: FileHasher,
    inputs: Mapping[str, Path] | None = None,
    versions: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Hash every shared input (lib, codebook, …) and the package versions, one entry per input."""
    inputs = shared_inputs() if inputs is None else inputs
    comps = {f"input:{name}": hasher.tree(Path(p)) for name, p in sorted(inputs.items())}
    comps["packages"] = text_hash(package_versions() if versions is None else dict(versions))
    comps["scheme"] = KEY_SCHEME
    return comps


def execution_components(
    shared: Mapping[str, str],
    notebook_digest: str,
    parameters: Mapping[str, Any],
    data_digest: str,
    text_digest: str,
) -> dict[str, str]:
    """All components of one execution's key, kept separate so a re-run can say what changed."""
    comps = dict(shared)
    comps["notebook"] = notebook_digest
    comps[TEXT] = text_digest
    comps["parameters"] = text_hash(
        {k: relative(v) if isinstance(v, str) and os.path.isabs(v) else v for k, v in parameters.items()}
    )
    comps["data"] = data_digest
    return comps


def combine(components: Mapping[str, str]) -> str:
    """The cache key: one hash over all components."""
    return text_hash(dict(components))


#: The component of a key that only the report shows: when it alone changed, the report is made again from the
#: last execution's outputs, without executing (``cnfs.render.retext``).
TEXT = "notebook_text"


def changed(old: Mapping[str, str] | None, new: Mapping[str, str]) -> list[str]:
    """Names of components that differ between two component maps."""
    if not old:
        return ["nouveau"]
    names: Iterable[str] = sorted(set(old) | set(new))
    return [n for n in names if old.get(n) != new.get(n)]


__all__: Sequence[str] = [
    "FileHasher",
    "absolute",
    "relative",
    "changed",
    "combine",
    "execution_components",
    "notebook_digests",
    "notebook_hash",
    "notebook_text_hash",
    "package_versions",
    "shared_components",
    "shared_inputs",
    "text_hash",
]
