"""Derived subgroup columns (mono/multi-site, grouped options) to pass as ``by=`` to the scoring helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cnfs.codebook import Codebook

SITE_MODE_LABELS = ("Mono-site", "Multi-sites")


def cut_numeric(
    df: pd.DataFrame,
    column: str,
    bins: Sequence[float],
    labels: Sequence[str],
    name: str | None = None,
    right: bool = False,
) -> pd.Series:
    """Bin a numeric column into an ordered Categorical of ``labels`` (NA stays NA).

    With ``right=False`` (default) bins are closed on the left: bins=[1, 2, inf] gives [1, 2) and [2, inf),
    i.e. "== 1" and ">= 2" for integers. Values outside every bin become NA.
    """
    if len(labels) != len(bins) - 1:
        raise ValueError(f"{len(bins)} bin edges need {len(bins) - 1} labels, got {len(labels)}")
    values = pd.to_numeric(df[column], errors="coerce").astype("Float64").astype(float)
    out = pd.cut(values, bins=list(bins), labels=list(labels), right=right, include_lowest=True, ordered=True)
    return pd.Series(out, index=df.index, name=name or f"{column}_group")


def site_mode(df: pd.DataFrame, column: str = "n_sites", name: str = "site_mode") -> pd.Series:
    """ "Mono-site" (one site) vs "Multi-sites" (two or more) from the number of intervention sites."""
    return cut_numeric(df, column, [-np.inf, 2, np.inf], list(SITE_MODE_LABELS), name=name, right=False)


def group_options(
    df: pd.DataFrame,
    codebook: Codebook,
    qid: str,
    groups: Mapping[str, Sequence[str]],
    name: str | None = None,
) -> pd.Series:
    """Regroup the options of a single-choice question, e.g. {"A ou B": ["A", "B"], "C": ["C"]}.

    Returns an ordered Categorical of the group names (in mapping order); respondents whose answer
    is in no group, or who were not asked, are NA.
    """
    q = codebook[qid]
    if q.type != "single":
        raise TypeError(f"group_options needs a single-choice question; {qid!r} is {q.type}")
    to_group: dict[str, str] = {}
    for group, codes in groups.items():
        for code in codes:
            label = q.label_of(code)  # KeyError on unknown codes
            to_group[label] = group
            to_group[code] = group
    values = df[qid].astype("string").map(to_group)
    out = pd.Categorical(values, categories=list(groups), ordered=True)
    return pd.Series(out, index=df.index, name=name or f"{qid}_group")


def with_subgroup(df: pd.DataFrame, subgroup: pd.Series) -> pd.DataFrame:
    """A copy of ``df`` with the derived subgroup column added under its name."""
    if subgroup.name is None:
        raise ValueError("the subgroup Series needs a name")
    return df.assign(**{str(subgroup.name): subgroup})
