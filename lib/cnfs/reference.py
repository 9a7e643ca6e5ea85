"""The published-figures table: the only place the article's numbers live.

Each row is one number (or stated bound) with the French sentence it comes from and where it was
published: ``publication`` is ``interim`` (the interim article, whose every quote is in the article
text) or ``full_study`` (figures of the full study of May 2023 on the same 1,071 answers, as reported
by the press), with ``source`` and ``source_date``. Summaries count the two apart. Computed values are
compared against it, never copied from it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from cnfs import paths

COLUMNS = [
    "id",
    "section",
    "question",
    "option_or_subgroup",
    "statistic",
    "value",
    "unit",
    "base",
    "comparison",
    "decimals",
    "lower",
    "upper",
    "computable",
    "quote",
    "note",
    "publication",
    "source",
    "source_date",
]
PUBLICATIONS = {"interim", "full_study"}
COMPARISONS = {
    "rounded",
    "equal",
    "gt",
    "lt",
    "ge",
    "le",
    "between",
    "date_on_or_after",
    "date_on_or_before",
    "context",
}


@lru_cache(maxsize=4)
def _read(path: str, mtime: float) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected {COLUMNS}")
    return df


def load_published(path: str | Path | None = None) -> pd.DataFrame:
    """Return the published-figures table (all columns as text)."""
    p = Path(path) if path else paths.PUBLISHED
    return _read(str(p), p.stat().st_mtime).copy()


def figures_for(prefix: str, path: str | Path | None = None) -> pd.DataFrame:
    """Rows whose ``question`` starts with ``prefix`` (e.g. ``"qual:"`` for the qualitative study)."""
    df = load_published(path)
    return df[df["question"].str.startswith(prefix)].reset_index(drop=True)
