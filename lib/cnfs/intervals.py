"""Confidence intervals, delegated to statsmodels: Wilson for proportions, Student t for means."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

ArrayLike = Sequence[float] | np.ndarray | pd.Series


def proportion_ci(count: int | ArrayLike, nobs: int | ArrayLike, level: float = 0.95) -> tuple:
    """Wilson interval of count/nobs, in percent (0–100); NaN where nobs is 0.

    Scalars give a (low, high) pair of floats, arrays give a pair of arrays.
    """
    scalar = np.ndim(count) == 0 and np.ndim(nobs) == 0
    c = np.atleast_1d(np.asarray(count, dtype=float))
    n = np.atleast_1d(np.asarray(nobs, dtype=float))
    c, n = np.broadcast_arrays(c, n)
    low = np.full(c.shape, np.nan)
    high = np.full(c.shape, np.nan)
    ok = n > 0
    if ok.any():
        lo, hi = proportion_confint(c[ok], n[ok], alpha=1 - level, method="wilson")
        low[ok] = np.asarray(lo) * 100
        high[ok] = np.asarray(hi) * 100
    if scalar:
        return float(low[0]), float(high[0])
    return low, high


def mean_ci(values: ArrayLike, level: float = 0.95) -> tuple[float, float]:
    """Student t interval of the mean of the non-missing values; NaN with fewer than two values."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype=float)
    if len(x) < 2:
        return float("nan"), float("nan")
    if np.all(x == x[0]):  # zero variance: the interval collapses on the mean
        return float(x[0]), float(x[0])
    low, high = DescrStatsW(x).tconfint_mean(alpha=1 - level)
    return float(low), float(high)
