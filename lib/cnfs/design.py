"""Design-based estimates (weighted means and proportions with linearised standard errors), as R's survey.

The design is one stage, no strata, no clusters: ``svydesign(ids = ~1, weights, fpc)``, optionally raked
with ``calibrate(..., calfun = "raking")``. Estimates reproduce ``svymean`` exactly:

- a domain (those asked a filtered question, a subgroup) is ``subset()`` of the whole design: the
  linearised variable is zero outside it and the variance is over all n respondents;
- a raked design uses the calibration residuals (regression of the linearised variable on the raking
  indicators, weighted by the base weights), as R does after ``calibrate``;
- the finite-population correction multiplies the variance by 1 − n / N (``fpc = N``); base weights are
  then N / n;
- ``deff`` is R's ``svymean(..., deff = TRUE)``: the variance over that of a simple random sample without
  replacement of the same size from a population of size Σw (the domain's weights). For the unweighted
  design without population size (weights 1, where that formula is undefined) it is R's
  ``deff = "replace"``: over the with-replacement simple random sample variance;
- intervals are Wald (normal) intervals, estimate ± z × se, as R's ``confint`` of a ``svymean``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from cnfs.codebook import NUMERIC_TYPES, Codebook
from cnfs.population import Population, margin_totals
from cnfs.weights import RakingResult, calibration_matrix, rake

WEIGHTINGS = ("none", "raking")
ESTIMATE_COLUMNS = ["option", "label", "estimate", "se", "ci_low", "ci_high", "n", "deff"]
INTERVAL_METHOD = "intervalle de Wald (normal) sur l'erreur-type linéarisée, comme confint() du paquet R survey"


@dataclass(frozen=True)
class Design:
    """Weights of the respondents and what the variance needs: base weights, raking matrix, population size."""

    weights: np.ndarray
    base_weights: np.ndarray
    index: pd.Index
    calibration: np.ndarray | None = None
    population_size: float | None = None
    weighting: str = "none"
    raking: RakingResult | None = None

    @property
    def fpc(self) -> bool:
        return self.population_size is not None

    @property
    def label(self) -> str:
        """French description of the weights, for captions."""
        if self.weighting == "raking" and self.raking is not None:
            text = "pondération par calage (raking) sur " + ", ".join(self.raking.variables)
        else:
            text = "sans pondération"
        if self.fpc:
            size = f"{self.population_size:,.0f}".replace(",", "\u202f")
            text += f", correction de population finie (N = {size})"
        return text


def simple_design(index: pd.Index, population_size: float | None = None) -> Design:
    """Equal-probability design: weights 1, or N / n with a finite-population correction."""
    n = len(index)
    if population_size is not None and population_size < n:
        raise ValueError(f"population size {population_size:g} is smaller than the sample ({n})")
    d = np.full(n, 1.0 if population_size is None else population_size / n)
    return Design(d, d.copy(), index, None, population_size, "none")


def raked_design(
    df: pd.DataFrame, codebook: Codebook, margins: pd.DataFrame, population_size: float | None = None, **rake_options
) -> Design:
    """Design raked to ``margins`` (variable, code, total); base weights 1, or N / n with the FPC."""
    base = simple_design(df.index, population_size)
    result = rake(df, codebook, margins, base_weights=base.base_weights, **rake_options)
    if not result.converged:
        raise ValueError(
            f"raking did not converge in {result.iterations} iterations (largest margin error {result.max_error:.2e})"
        )
    X = calibration_matrix(df, codebook, result.variables)
    return Design(result.weights.to_numpy(), base.base_weights, df.index, X, population_size, "raking", result)


def make_design(
    df: pd.DataFrame,
    codebook: Codebook,
    *,
    weighting: str = "none",
    fpc: bool = False,
    population: Population | None = None,
    wave: str = "all",
) -> Design:
    """The design of a wave's data: ``weighting`` "none" or "raking" (to the wave's margins), with or without FPC."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, not {weighting!r}")
    if weighting == "none" and not fpc:
        return simple_design(df.index)
    if population is None:
        from cnfs.population import load_population

        population = load_population(codebook=codebook)
    size = population.size(wave) if fpc else None
    if weighting == "none":
        return simple_design(df.index, size)
    return raked_design(df, codebook, margin_totals(population, wave, codebook), size)


def domain_means(design: Design, values: np.ndarray, domain: np.ndarray) -> pd.DataFrame:
    """Weighted means of the columns of ``values`` over ``domain`` rows, with linearised se and deff.

    ``values`` is n × k (rows outside the domain are ignored); returns estimate, se, deff, n per column.
    """
    Y = np.asarray(values, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    dom = np.asarray(domain, dtype=bool)
    n = len(dom)
    w = design.weights
    wd = np.where(dom, w, 0.0)
    nd = int(dom.sum())
    if nd == 0:
        nan = np.full(Y.shape[1], np.nan)
        return pd.DataFrame({"estimate": nan, "se": nan, "deff": nan, "n": 0})
    psum = wd.sum()
    Yd = np.where(dom[:, None], Y, 0.0)
    est = (wd[:, None] * Yd).sum(axis=0) / psum
    z = np.where(dom[:, None], (Yd - est) / psum, 0.0)
    x = w[:, None] * z
    if design.calibration is not None:
        sd = np.sqrt(design.base_weights)
        A = design.calibration * sd[:, None]
        b = z * sd[:, None]
        coef, *_ = np.linalg.lstsq(A, b, rcond=None)
        x = (b - A @ coef) * (w / sd)[:, None]
    xc = x - x.mean(axis=0)
    var = n / (n - 1) * (xc**2).sum(axis=0) if n > 1 else np.full(Y.shape[1], np.nan)
    if design.fpc:
        var = var * (1 - n / design.population_size)
    # R: svyvar of the domain values (n_D / (n_D - 1) times the weighted variance), then the SRS variance
    svyvar = (wd[:, None] * (Yd - est) ** 2).sum(axis=0) / psum * (nd / (nd - 1)) if nd > 1 else np.nan
    if design.weighting == "none" and not design.fpc:
        vsrs = svyvar / nd
    else:
        vsrs = svyvar * (psum - nd) / (psum * nd)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = var / vsrs
    return pd.DataFrame({"estimate": est, "se": np.sqrt(var), "deff": deff, "n": nd})


def wald_interval(estimate, se, level: float = 0.95) -> tuple:
    """estimate ± z × se (z the normal quantile of ``level``)."""
    z = norm.ppf(1 - (1 - level) / 2)
    return estimate - z * se, estimate + z * se


def question_matrix(df: pd.DataFrame, codebook: Codebook, qid: str) -> tuple[np.ndarray, list[str], list[str]]:
    """Analysis columns of a question: one 0/1 column per option (choices) or the value (numbers); codes, labels."""
    from cnfs.scoring import option_codes

    q = codebook[qid]
    if q.type == "single":
        codes = option_codes(df, q)
        Y = np.column_stack([(codes == c).fillna(False).to_numpy(dtype=float) for c in q.codes])
        return Y, list(q.codes), [o.label for o in q.options]
    if q.type == "multi":
        Y = np.column_stack([df[c].fillna(False).astype(bool).to_numpy(dtype=float) for c in q.columns])
        return Y, list(q.codes), [o.label for o in q.options]
    if q.type in NUMERIC_TYPES:
        y = pd.to_numeric(df[qid], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        return y[:, None], ["mean"], [q.label]
    raise TypeError(f"{qid!r} is {q.type}: no estimate for free text")


def estimate(
    df: pd.DataFrame,
    codebook: Codebook,
    qid: str,
    design: Design,
    *,
    domain: pd.Series | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Design-based estimate of a question among those asked (and in ``domain``): columns ESTIMATE_COLUMNS.

    Choices give a proportion in 0–1 per option (multi-select: of respondents asked); numbers one row ``mean``.
    """
    from cnfs.scoring import asked

    mask = asked(df, codebook, qid)
    if domain is not None:
        mask = mask & domain.fillna(False).astype(bool)
    Y, codes, labels = question_matrix(df, codebook, qid)
    out = domain_means(design, Y, mask.to_numpy())
    low, high = wald_interval(out["estimate"].to_numpy(), out["se"].to_numpy(), level)
    table = pd.DataFrame(
        {
            "option": codes,
            "label": labels,
            "estimate": out["estimate"],
            "se": out["se"],
            "ci_low": low,
            "ci_high": high,
            "n": out["n"].astype(int),
            "deff": out["deff"],
        }
    )
    return table[ESTIMATE_COLUMNS]


def weighted_figure(row, df: pd.DataFrame, codebook: Codebook, design: Design) -> float:
    """Design-based value of a published-figures row (shares and means only; NaN for other statistics).

    The subgroup of the row is a domain of the whole design (not a re-weighted subset); shares in percent.
    """
    from cnfs.codebook import mask_all
    from cnfs.figspec import parse_spec
    from cnfs.scoring import asked, option_codes

    stat, qid = str(row["statistic"]), str(row["question"])
    if stat not in ("share", "mean", "mean_complement") or ":" in qid or qid not in codebook:
        return float("nan")
    q = codebook[qid]
    spec = parse_spec(row["option_or_subgroup"])
    domain = asked(df, codebook, qid)
    if spec.filters:
        domain = domain & mask_all(df, spec.filters, codebook)
    values = (
        pd.to_numeric(df[qid], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        if q.type in NUMERIC_TYPES
        else None
    )
    if stat == "share":
        if spec.value_range is not None and values is not None:
            lo, hi = spec.value_range
            y = (values >= lo) & (values <= hi)
        elif q.type == "single":
            y = option_codes(df, q).isin(list(spec.options)).fillna(False).to_numpy(dtype=bool)
        elif q.type == "multi":
            y = df[[f"{qid}__{c}" for c in spec.options]].fillna(False).astype(bool).any(axis=1).to_numpy()
        else:
            return float("nan")
        return 100 * float(domain_means(design, y.astype(float), domain.to_numpy())["estimate"].iloc[0])
    if values is None:
        return float("nan")
    est = float(
        domain_means(design, np.nan_to_num(values), (domain & ~np.isnan(values)).to_numpy())["estimate"].iloc[0]
    )
    if stat == "mean_complement":
        lo, hi = q.bounds  # type: ignore[misc]
        return lo + hi - est
    return est
