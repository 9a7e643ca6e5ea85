"""On-disk memo of deterministic results that several executions of one render compute identically.

Notebook 01 compares every question between waves over the full data, once for each of its wave
reports (1, 2, all): the same inputs, the same result. ``cached`` stores such a result once, keyed on
the content of everything it is computed from (frames by value, the codebook, any other argument) and
on the code that computes it (every source file of ``cnfs``, and the versions of the numerical
packages), so an edit of the data, the codebook or the library is never served a stale result.

The memo is on only where ``$CNFS_MEMO_DIR`` names a folder: ``cnfs render`` points its kernels at
``outputs/.cache/memo/``; a notebook run by hand or by the tests computes everything itself. Entries
are written atomically under a per-key lock: kernels racing on the same key compute it once, the others
wait and read it; an unreadable entry is recomputed, never trusted. Only aggregate results go there
(test tables), never respondent rows.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

MEMO_ENV = "CNFS_MEMO_DIR"
KEEP_PER_NAME = 8  # entries kept per memoised function (older data/code versions go first)
_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels")


def memo_dir() -> Path | None:
    """The memo folder, or None when memoisation is off (``$CNFS_MEMO_DIR`` unset or empty)."""
    value = os.environ.get(MEMO_ENV)
    return Path(value) if value else None


def tree_fingerprint(root: Path) -> str:
    """Hash of every file under a folder (names and bytes), compiled caches left out."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.endswith((".pyc", ".pyo")) and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the ``cnfs`` package's source files and of the numerical packages' versions (once per process)."""
    import cnfs

    versions = [f"{name}={getattr(importlib.import_module(name), '__version__', '?')}" for name in _PACKAGES]
    return hashlib.sha256(
        "\n".join([sys.version, *versions, tree_fingerprint(Path(cnfs.__file__).parent)]).encode()
    ).hexdigest()


def style_fingerprint() -> str:
    """Hash of what draws a chart besides its data: the matplotlib and seaborn versions and every rcParam in force."""
    import matplotlib

    seaborn = sys.modules.get("seaborn")
    parts = [
        matplotlib.__version__,
        getattr(seaborn, "__version__", "-"),
        repr(sorted(dict(matplotlib.rcParams).items())),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def fingerprint(value: Any) -> str:
    """Content hash of one input: a DataFrame by its values, index, columns and dtypes; a file by its bytes;
    anything else by its repr (dataclasses such as the codebook have a complete, ordered repr)."""
    digest = hashlib.sha256()
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(value, pandas.DataFrame):
        digest.update(repr((list(value.columns), [str(t) for t in value.dtypes], value.shape)).encode())
        digest.update(pandas.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
        for name in value.columns:  # category order and levels are part of the data
            dtype = value[name].dtype
            if isinstance(dtype, pandas.CategoricalDtype):
                digest.update(repr((name, list(dtype.categories), dtype.ordered)).encode())
    elif isinstance(value, Path):
        digest.update(value.read_bytes())
    else:
        digest.update(repr(value).encode())
    return digest.hexdigest()


def key(name: str, inputs: Sequence[Any]) -> str:
    """The memo key of a result: its name, the code fingerprint and the fingerprint of each input."""
    parts = [name, code_fingerprint(), *(fingerprint(v) for v in inputs)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive POSIX lock on a key's lock file (released by the OS if its holder dies)."""
    with open(path, "a") as fh:
        fcntl.lockf(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(fh, fcntl.LOCK_UN)


def _read(path: Path) -> tuple[bool, Any]:
    """(True, value) for a readable entry, (False, None) otherwise (absent or damaged)."""
    try:
        return True, pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return False, None
    except Exception:  # damaged entry (cut short, other pickle format): recomputed and replaced
        return False, None


def _trim(folder: Path, name: str, keep: Path) -> None:
    """Keep the most recent entries of one name only."""
    entries = sorted(folder.glob(f"{name}-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in entries if p != keep][KEEP_PER_NAME - 1 :]:
        old.unlink(missing_ok=True)
        old.with_suffix(".lock").unlink(missing_ok=True)


def cached(name: str, inputs: Sequence[Any], compute: Callable[[], T]) -> T:
    """``compute()``, or its stored result when the same name, inputs and code computed it before.

    ``inputs`` must be everything the result depends on besides the ``cnfs`` code; with the memo off
    (no ``$CNFS_MEMO_DIR``) this is just ``compute()``.
    """
    folder = memo_dir()
    if folder is None:
        return compute()
    from cnfs.atomic import write_bytes

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only or full: compute without storing
        return compute()
    entry = folder / f"{name}-{key(name, inputs)}.pickle"
    found, value = _read(entry)
    if found:
        return value
    with _locked(entry.with_suffix(".lock")):
        found, value = _read(entry)  # computed by another kernel while this one waited
        if found:
            return value
        value = compute()
        try:
            write_bytes(entry, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            _trim(folder, name, entry)
        except OSError:  # a full disk costs the memo, never the result
            pass
    return value


__all__ = [
    "MEMO_ENV",
    "cached",
    "code_fingerprint",
    "fingerprint",
    "key",
    "memo_dir",
    "style_fingerprint",
    "tree_fingerprint",
]
