"""Facts about the sample that notebook 01 states: respondents per wave, panel members, excluded responses.

Counts only: no respondent-level rows leave this module.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def panel_members(df: pd.DataFrame, id_column: str = "respondent_id", wave_column: str = "wave") -> int:
    """Advisors who answered more than one wave (the same id in two waves)."""
    waves_per_id = (
        df[[id_column, wave_column]].dropna().drop_duplicates().groupby(id_column, observed=True)[wave_column].nunique()
    )
    return int((waves_per_id > 1).sum())


def sample_facts(survey: Any) -> pd.DataFrame:
    """Tidy table (fait, valeur): answers kept, per wave, panel members, incomplete answers excluded."""
    cb, df = survey.codebook, survey.data
    rows = [("Réponses complètes retenues", len(df))]
    for w, n in df[cb.wave_column].astype(str).value_counts().sort_index().items():
        rows.append((f"dont vague {w}", int(n)))
    rows.append(
        ("Conseillers ayant répondu à deux vagues (même identifiant)", panel_members(df, cb.id_column, cb.wave_column))
    )
    rows.append(("Réponses incomplètes écartées (sans date de soumission)", survey.excluded_incomplete))
    return pd.DataFrame(rows, columns=["fait", "valeur"])
