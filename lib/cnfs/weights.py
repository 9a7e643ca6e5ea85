"""Raking weights (iterative proportional fitting) to population margins, with a convergence report.

Weights are returned as a Series aligned on the data (the input frame is never changed); ``with_weights``
adds them as a column of a copy. Without bounds the result is R's ``calibrate(..., calfun = "raking")``
(the raking solution is unique; IPF reaches it). With ``bounds`` the ratios to the base weights are
clipped into the bounds after each cycle and the cycle repeated ("rake and trim"), which is not R's
bounded calibration: the report says whether margins and bounds hold together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cnfs.codebook import Codebook
from cnfs.scoring import option_codes

WEIGHT_COLUMN = "weight"


class RakingError(ValueError):
    """Raking cannot proceed: a margin variable is missing, has missing answers, or an empty cell."""


@dataclass(frozen=True)
class RakingResult:
    """Raked weights and how they were obtained."""

    weights: pd.Series
    base_weights: pd.Series
    margins: pd.DataFrame  # variable, code, total, achieved, sample_n
    converged: bool
    iterations: int
    max_error: float  # largest |achieved / total - 1| over the margin cells
    bounds: tuple[float, float] | None = None
    variables: tuple[str, ...] = field(default=())

    def summary(self) -> dict[str, float]:
        """Weights' summary: n, sum, min, max, mean, CV, Kish's design effect and effective n."""
        return weight_summary(self.weights) | {
            "iterations": self.iterations,
            "converged": self.converged,
            "max_error": self.max_error,
        }


def weight_summary(weights: pd.Series | np.ndarray) -> dict[str, float]:
    """n, sum, min, max, mean, coefficient of variation (population sd / mean), Kish deff = 1 + CV², effective n."""
    w = np.asarray(weights, dtype=float)
    n = len(w)
    mean = float(w.mean())
    cv = float(w.std(ddof=0) / mean)
    return {
        "n": n,
        "sum": float(w.sum()),
        "min": float(w.min()),
        "max": float(w.max()),
        "mean": mean,
        "cv": cv,
        "kish_deff": float(n * np.sum(w**2) / w.sum() ** 2),
        "effective_n": float(w.sum() ** 2 / np.sum(w**2)),
    }


def category_codes(df: pd.DataFrame, codebook: Codebook, variable: str) -> pd.Series:
    """Option codes of a margin variable, with an error naming the rows where it is missing."""
    if variable not in df.columns:
        raise RakingError(f"variable de calage {variable!r} : absente des colonnes des données")
    codes = option_codes(df, codebook[variable])
    if codes.isna().any():
        rows = df.index[codes.isna()][:10].tolist()
        raise RakingError(
            f"variable de calage {variable!r} : {int(codes.isna().sum())} réponse(s) manquante(s) (lignes {rows}) ; "
            "chaque répondant doit avoir une valeur pour être pondéré"
        )
    return codes


def rake(
    df: pd.DataFrame,
    codebook: Codebook,
    margins: pd.DataFrame,
    *,
    base_weights: pd.Series | np.ndarray | None = None,
    bounds: tuple[float, float] | None = None,
    max_iter: int = 1000,
    tol: float = 1e-12,
) -> RakingResult:
    """Rake base weights (1 by default) so that weighted counts meet ``margins`` (variable, code, total).

    Raises RakingError when a category has respondents but a zero total or a positive total but no respondent.
    """
    need = {"variable", "code", "total"}
    if not need <= set(margins.columns):
        raise RakingError(f"marges : colonnes attendues {sorted(need)}, reçues {list(margins.columns)}")
    n = len(df)
    d = np.ones(n) if base_weights is None else np.asarray(base_weights, dtype=float)
    if len(d) != n or np.any(~np.isfinite(d)) or np.any(d <= 0):
        raise RakingError("poids de départ : un par ligne, positifs et finis")
    variables = list(dict.fromkeys(margins["variable"]))
    cells: list[tuple[str, str, np.ndarray, float]] = []
    for var in variables:
        codes = category_codes(df, codebook, var).to_numpy()
        m = margins[margins["variable"] == var]
        present = set(codes)
        for code, total in zip(m["code"], m["total"].astype(float)):
            mask = codes == code
            if total > 0 and not mask.any():
                raise RakingError(
                    f"marge {var}={code} : total de population {total:g} mais aucun répondant dans l'échantillon"
                )
            if total <= 0 and mask.any():
                raise RakingError(
                    f"marge {var}={code} : {int(mask.sum())} répondant(s) mais un total de population de {total:g}"
                )
            cells.append((var, code, mask, float(total)))
        uncovered = sorted(present - set(m["code"]))
        if uncovered:
            raise RakingError(
                f"variable de calage {var!r} : les codes {uncovered} présents dans les données n'ont pas de total de population"
            )
    w = d.copy()
    lo, hi = bounds if bounds is not None else (0.0, np.inf)
    converged, it, err = False, 0, np.inf
    for it in range(1, max_iter + 1):  # noqa: B007 (the count is reported after the loop)
        for _, _, mask, total in cells:
            if total > 0:
                w[mask] *= total / w[mask].sum()
        if bounds is not None:
            w = np.clip(w / d, lo, hi) * d
        err = max(abs(w[mask].sum() / total - 1) for _, _, mask, total in cells if total > 0)
        if err < tol:
            converged = True
            break
    report = pd.DataFrame(
        [
            {"variable": v, "code": c, "total": t, "achieved": float(w[mask].sum()), "sample_n": int(mask.sum())}
            for v, c, mask, t in cells
        ]
    )
    return RakingResult(
        pd.Series(w, index=df.index, name=WEIGHT_COLUMN),
        pd.Series(d, index=df.index, name="base_weight"),
        report,
        converged,
        it,
        float(err),
        bounds,
        tuple(variables),
    )


def calibration_matrix(df: pd.DataFrame, codebook: Codebook, variables: list[str] | tuple[str, ...]) -> np.ndarray:
    """Indicator columns of every category of the margin variables (the raking model's matrix, intercept included)."""
    blocks = []
    for var in variables:
        codes = category_codes(df, codebook, var)
        blocks.append(np.column_stack([(codes == c).to_numpy(dtype=float) for c in codebook[var].codes]))
    return np.hstack(blocks) if blocks else np.ones((len(df), 1))


def with_weights(df: pd.DataFrame, result: RakingResult, column: str = WEIGHT_COLUMN) -> pd.DataFrame:
    """A copy of ``df`` with the raked weights as a column (the input is left unchanged)."""
    if column in df.columns:
        raise RakingError(f"la colonne {column!r} existe déjà dans les données")
    return df.assign(**{column: result.weights.to_numpy()})
