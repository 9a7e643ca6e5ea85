"""The parsed-survey cache: typed frames keyed on the export's content hash, bounded in size.

Where: ``data/cache/`` of the project (git-ignored), or ``$CNFS_CACHE_DIR``. Bound: the least recently
used entries go once the total exceeds ``$CNFS_CACHE_MAX_MB`` (default 200 MB). The key covers the
file's SHA-256, the codebook's, the mapping's, the reading options and the loader version, so an
edited file is never served stale. It is the only copy of respondent data the project makes;
``cnfs cache clear`` deletes it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from cnfs import paths

PREFIX = "survey-"
DEFAULT_MAX_MB = 200


def cache_dir() -> Path:
    """The cache folder (``$CNFS_CACHE_DIR`` or the project's ``data/cache``)."""
    return Path(os.environ.get("CNFS_CACHE_DIR") or paths.CACHE_DIR)


def max_bytes() -> int:
    try:
        return int(float(os.environ.get("CNFS_CACHE_MAX_MB", DEFAULT_MAX_MB)) * 1024 * 1024)
    except ValueError:
        return DEFAULT_MAX_MB * 1024 * 1024


def make_key(*parts: Any) -> str:
    """A short hash of everything that decides the parsed result."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _entry(key: str) -> Path:
    return cache_dir() / f"{PREFIX}{key}.parquet"


def entries() -> list[Path]:
    d = cache_dir()
    return sorted(d.glob(f"{PREFIX}*.parquet")) if d.is_dir() else []


def get(key: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The cached frame and its metadata, or None (a damaged entry is deleted, never trusted)."""
    import pyarrow.parquet as pq

    path = _entry(key)
    if not path.exists():
        return None
    try:
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {}).get(b"cnfs_cache", b"{}").decode("utf-8"))
        df = table.to_pandas()
        os.utime(path)  # least recently used goes first
        return df, meta
    except Exception:
        path.unlink(missing_ok=True)
        return None


def put(key: str, df: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Store a frame (atomically), then trim the cache to its bound; a read-only project just skips it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cnfs.atomic import write_bytes as atomic_write_bytes

    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), b"cnfs_cache": json.dumps(meta, default=str).encode()}
        )
        buf = io.BytesIO()
        pq.write_table(table, buf)
        atomic_write_bytes(_entry(key), buf.getvalue())
        trim(keep=_entry(key))
    except OSError:
        pass


def trim(keep: Path | None = None, limit: int | None = None) -> int:
    """Delete least recently used entries until the cache fits its bound; returns how many went."""
    limit = max_bytes() if limit is None else limit
    files = [(p, p.stat()) for p in entries()]
    total = sum(st.st_size for _, st in files)
    gone = 0
    for p, st in sorted(files, key=lambda x: x[1].st_mtime):
        if total <= limit:
            break
        if p == keep:
            continue
        p.unlink(missing_ok=True)
        total -= st.st_size
        gone += 1
    return gone


def clear() -> tuple[int, int]:
    """Delete every cached survey; returns (files, bytes) removed."""
    n = size = 0
    for p in entries():
        size += p.stat().st_size
        p.unlink(missing_ok=True)
        n += 1
    return n, size


def info() -> dict[str, Any]:
    files = entries()
    return {
        "dossier": str(cache_dir()),
        "fichiers": len(files),
        "octets": sum(p.stat().st_size for p in files),
        "plafond_octets": max_bytes(),
    }
