"""Equivalence of two waves (TOST): a question is homogeneous when its difference is shown to be small.

A non-significant test does not show that waves are alike; equivalence does: the 90 % interval of the
difference (second wave minus first) lies inside ± the margin stated in ``data/analysis_assumptions.yaml``.
Shares: ``statsmodels.stats.proportion.tost_proportions_2indep`` (Wald, difference in percentage points);
means: ``statsmodels.stats.weightstats.ttost_ind`` (Welch), margin in pooled standard deviations.
A question is equivalent when all its option rows are (intersection-union test).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from statsmodels.stats.proportion import confint_proportions_2indep, tost_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttost_ind

from cnfs import paths
from cnfs.codebook import NUMERIC_TYPES, Codebook
from cnfs.scoring import asked, option_codes

ANALYSIS_ASSUMPTIONS: Path = paths.DATA / "analysis_assumptions.yaml"
EQUIVALENT, NOT_SHOWN = "équivalence démontrée", "équivalence non démontrée"
#: Verdict of a row withheld by disclosure control (``cnfs.disclosure.withhold_group_sizes``), and its summary label.
WITHHELD, WITHHELD_LABEL = "[c]", "masquée (secret statistique : une vague compte trop peu de répondants)"
COLUMNS = [
    "question",
    "question_label",
    "option",
    "label",
    "groups",
    "n_by",
    "difference",
    "ci_low",
    "ci_high",
    "margin",
    "unit",
    "p_value",
    "equivalent",
    "verdict",
    "question_equivalent",
]


def equivalence_margins(path: str | Path | None = None) -> dict[str, float]:
    """The equivalence margins and alpha (``proportion_points``, ``standardized_mean``, ``alpha``)."""
    doc = yaml.safe_load(Path(path or ANALYSIS_ASSUMPTIONS).read_text(encoding="utf-8"))
    eq = doc["equivalence"]
    return {k: float(eq[k]) for k in ("proportion_points", "standardized_mean", "alpha")}


def _share_row(
    common: dict, code: str, label: str, hits: list[int], ns: list[int], margin_pp: float, alpha: float
) -> dict:
    # statsmodels compares sample 1 minus sample 2: pass the second wave first
    low, upp = -margin_pp / 100, margin_pp / 100
    p = float(tost_proportions_2indep(hits[1], ns[1], hits[0], ns[0], low, upp, method="wald", correction=False).pvalue)
    ci = confint_proportions_2indep(
        hits[1], ns[1], hits[0], ns[0], method="wald", compare="diff", alpha=2 * alpha, correction=False
    )
    diff = hits[1] / ns[1] - hits[0] / ns[0]
    return {
        **common,
        "option": code,
        "label": label,
        "difference": 100 * diff,
        "ci_low": 100 * float(ci[0]),
        "ci_high": 100 * float(ci[1]),
        "margin": margin_pp,
        "unit": "points de pourcentage",
        "p_value": p,
    }


def _mean_row(common: dict, label: str, a: np.ndarray, b: np.ndarray, margin_sd: float, alpha: float) -> dict:
    na, nb = len(a), len(b)
    pooled = np.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    margin = margin_sd * pooled
    p = float(ttost_ind(b, a, -margin, margin, usevar="unequal")[0])
    low, high = CompareMeans(DescrStatsW(b), DescrStatsW(a)).tconfint_diff(alpha=2 * alpha, usevar="unequal")
    return {
        **common,
        "option": "mean",
        "label": label,
        "difference": float(b.mean() - a.mean()),
        "ci_low": float(low),
        "ci_high": float(high),
        "margin": float(margin),
        "unit": f"unités de la question ({margin_sd:g} écart-type commun)",
        "p_value": p,
    }


def wave_equivalence(
    df: pd.DataFrame,
    codebook: Codebook,
    qids: str | Sequence[str],
    *,
    waves: Sequence[str] | None = None,
    margins: dict[str, float] | None = None,
) -> pd.DataFrame:
    """TOST equivalence of two waves for each question (one row per option, or one ``mean`` row): COLUMNS.

    Questions asked in one wave only, or with fewer than two answers in a wave, get NaN and "non calculable".
    """
    m = margins or equivalence_margins()
    alpha = m["alpha"]
    col = codebook.wave_column
    present = codebook.waves_in(df) if waves is None else list(waves)
    if len(present) != 2:
        raise ValueError(f"equivalence compares exactly two waves; found {present}")
    rows: list[dict] = []
    for qid in [qids] if isinstance(qids, str) else list(qids):
        q = codebook[qid]
        if q.type == "text":
            continue
        mask = asked(df, codebook, qid)
        in_wave = [mask & (df[col].astype(str) == w) for w in present]
        ns = [int(x.sum()) for x in in_wave]
        common = {
            "question": q.id,
            "question_label": q.short,
            "groups": " vs ".join(present),
            "n_by": " / ".join(map(str, ns)),
        }
        start = len(rows)
        if min(ns) < 2:
            rows.append(
                {
                    **common,
                    "option": pd.NA,
                    "label": q.label,
                    "difference": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "margin": np.nan,
                    "unit": "",
                    "p_value": np.nan,
                }
            )
        elif q.type == "single":
            codes = option_codes(df, q)
            for o in q.options:
                hits = [int((codes[w] == o.code).sum()) for w in in_wave]
                rows.append(_share_row(common, o.code, o.label, hits, ns, m["proportion_points"], alpha))
        elif q.type == "multi":
            for o, c in zip(q.options, q.columns):
                hits = [int(df.loc[w, c].astype(bool).sum()) for w in in_wave]
                rows.append(_share_row(common, o.code, o.label, hits, ns, m["proportion_points"], alpha))
        elif q.type in NUMERIC_TYPES:
            a, b = (pd.to_numeric(df.loc[w, qid]).astype("Float64").to_numpy(dtype=float) for w in in_wave)
            rows.append(_mean_row(common, q.label, a, b, m["standardized_mean"], alpha))
        part = rows[start:]
        for r in part:
            r["equivalent"] = bool(r["p_value"] < alpha) if r["p_value"] == r["p_value"] else pd.NA
            r["verdict"] = (
                "non calculable" if r["equivalent"] is pd.NA else (EQUIVALENT if r["equivalent"] else NOT_SHOWN)
            )
        overall = pd.NA if any(r["equivalent"] is pd.NA for r in part) else all(r["equivalent"] for r in part)
        for r in part:
            r["question_equivalent"] = overall
    return pd.DataFrame(rows, columns=COLUMNS)


def equivalence_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Questions by verdict: how many are shown equivalent, not shown, not computable (French labels)."""
    first = table.drop_duplicates("question")
    withheld = first["verdict"] == WITHHELD
    labels = first["question_equivalent"].map(
        lambda v: "non calculable" if v is pd.NA or v is None else (EQUIVALENT if v else NOT_SHOWN)
    )
    labels[withheld] = WITHHELD_LABEL
    order = [EQUIVALENT, NOT_SHOWN, "non calculable"] + ([WITHHELD_LABEL] if withheld.any() else [])
    counts = labels.value_counts().reindex(order, fill_value=0)
    per_q = first
    return pd.DataFrame({"Questions": counts, "Part (%)": (100 * counts / max(len(per_q), 1)).round(1)})
