"""Compute the qualitative study's counts and compare them with the published-figures table."""

from __future__ import annotations

import pandas as pd

from cnfs.qualitative import analysis
from cnfs.qualitative.load import QualitativeData
from cnfs.reference import figures_for
from cnfs.status import check_all_reproduced, judge

__all__ = ["check_all_reproduced", "compare_with_published", "computed_figures"]

#: Origin of a number typed from the article into territories.yaml: checking it is a transcription check.
STATED = "énoncé dans l'article"


def computed_figures(data: QualitativeData) -> pd.DataFrame:
    """Every count of the qualitative study keyed like the reference (question, option_or_subgroup).

    ``transcription`` is True for numbers typed from the article into ``territories.yaml``: finding
    them again checks the transcription, it reproduces nothing.
    """
    c = analysis.coordinators(data)
    excerpt_codes = analysis.excerpt_codes(data.excerpts)
    needs_codes = set(data.themes.loc[data.themes["dimension"] == "needs", "code"])
    rows = [
        ("qual:territories", "", len(data.territories)),
        ("qual:territories", "coordinator", int(c["has_coordinator"].sum())),
        ("qual:territories", "coordinator_already_engaged", int(c["already_engaged"].sum())),
        ("qual:structures", "actor_types", data.structures["actor_type"].nunique()),
        ("qual:needs", "", excerpt_codes.loc[excerpt_codes["code"].isin(needs_codes), "code"].nunique()),
        ("qual:appropriation_types", "", data.appropriation["type"].nunique()),
    ]
    rows = [(*r, False) for r in rows]
    rows += [
        ("qual:territory_numbers", f"{r.territory}:{r.measure}", r.value, r.origin == STATED)
        for r in analysis.territory_numbers(data).itertuples(index=False)
    ]
    out = pd.DataFrame(rows, columns=["question", "option_or_subgroup", "computed", "transcription"])
    out["computed"] = out["computed"].astype(float)
    return out


def compare_with_published(computed: pd.DataFrame, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tidy table id, question, option_or_subgroup, published, computed, status (``cnfs.status``).

    Counts recomputed from the records are "reproduit"/"non reproduit"; numbers typed from the article
    are "transcrit"/"transcription divergente"; uncomputable rows are "contexte".
    """
    ref = figures_for("qual:") if published is None else published
    dupes = computed.duplicated(["question", "option_or_subgroup"])
    if dupes.any():
        raise ValueError(f"computed figures have duplicated keys: {computed[dupes].to_dict('records')}")
    merged = ref.merge(computed, on=["question", "option_or_subgroup"], how="left")
    merged["transcription"] = merged["transcription"].fillna(False).astype(bool)
    status = [judge(r, r["computed"], transcription=r["transcription"]) for _, r in merged.iterrows()]
    return pd.DataFrame(
        {
            "id": merged["id"],
            "question": merged["question"],
            "option_or_subgroup": merged["option_or_subgroup"],
            "published": merged["value"],
            "computed": merged["computed"],
            "status": status,
        }
    )
