"""Compute the qualitative study's counts and compare them with the published-figures table."""
from __future__ import annotations

import math

import pandas as pd

from cnfs.qualitative import analysis
from cnfs.qualitative.errors import ReproductionError
from cnfs.qualitative.load import QualitativeData
from cnfs.reference import figures_for

REPRODUCED = "reproduit"
NOT_REPRODUCED = "non reproduit"
CONTEXT = "contexte"


def computed_figures(data: QualitativeData) -> pd.DataFrame:
    """Every count of the qualitative study keyed like the reference (question, option_or_subgroup)."""
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
    rows += [("qual:territory_numbers", f"{r.territory}:{r.measure}", r.value)
             for r in analysis.territory_numbers(data).itertuples(index=False)]
    out = pd.DataFrame(rows, columns=["question", "option_or_subgroup", "computed"])
    out["computed"] = out["computed"].astype(float)
    return out


def _matches(published: str, computed: float, comparison: str, decimals: str) -> bool:
    """Whether a computed value reproduces a published one under the row's comparison rule."""
    if computed is None or pd.isna(computed):
        return False
    target = float(published)
    if comparison == "equal":
        return math.isclose(computed, target, rel_tol=0, abs_tol=1e-9)
    if comparison == "rounded":
        return round(computed, int(decimals or 0)) == target
    raise ValueError(f"published_figures.csv: comparison {comparison!r} is not supported for the qualitative study")


def compare_with_published(computed: pd.DataFrame, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tidy table id, question, option_or_subgroup, published, computed, status (reproduit/non reproduit/contexte)."""
    ref = figures_for("qual:") if published is None else published
    dupes = computed.duplicated(["question", "option_or_subgroup"])
    if dupes.any():
        raise ValueError(f"computed figures have duplicated keys: {computed[dupes].to_dict('records')}")
    merged = ref.merge(computed, on=["question", "option_or_subgroup"], how="left")
    status = []
    for r in merged.itertuples(index=False):
        if r.computable != "yes" or r.comparison == "context":
            status.append(CONTEXT)
        else:
            ok = _matches(r.value, r.computed, r.comparison, r.decimals)
            status.append(REPRODUCED if ok else NOT_REPRODUCED)
    return pd.DataFrame({
        "id": merged["id"], "question": merged["question"],
        "option_or_subgroup": merged["option_or_subgroup"], "published": merged["value"],
        "computed": merged["computed"], "status": status,
    })


def check_all_reproduced(table: pd.DataFrame) -> None:
    """Raise ``ReproductionError`` listing every computable row that is not reproduced."""
    bad = table[table["status"] == NOT_REPRODUCED]
    if not bad.empty:
        lines = "\n".join(f"  - {r.id}: published {r.published}, computed {r.computed}" for r in bad.itertuples())
        raise ReproductionError(f"{len(bad)} qualitative figure(s) not reproduced:\n{lines}")
