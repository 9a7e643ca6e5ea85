"""Integer calibration: turn published percentages and means into exact counts and sums.

The synthetic twin is calibrated exactly, not by luck of the draw: each published share becomes
an integer count whose percentage rounds to the published value at its published precision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np


class CalibrationError(ValueError):
    """The published figures and the assumptions cannot be met with whole respondents."""


def window(value: float, decimals: int) -> tuple[Fraction, Fraction]:
    """Values that display as ``value`` at ``decimals`` decimals, rounding half up: [value - u/2, value + u/2).

    The generator's own reading of the published precision (the checker, ``cnfs.status``, applies the
    same rule with its own code): 37.1 at one decimal covers 37.05 included to 37.15 excluded.
    """
    v = Fraction(str(value))
    half = Fraction(1, 2 * 10 ** int(decimals))
    return v - half, v + half


def feasible_counts(n: int, percent: float, decimals: int) -> list[int]:
    """Whole counts k out of n whose percentage 100·k/n displays as ``percent``."""
    lo, hi = window(percent, decimals)
    k_lo = max(0, math.ceil(lo * n / 100))
    k_hi = min(n, math.ceil(hi * n / 100) - 1)
    return list(range(k_lo, k_hi + 1))


def closest_count(n: int, percent: float, decimals: int, what: str) -> int:
    """The feasible count nearest to percent × n; CalibrationError when none exists."""
    ks = feasible_counts(n, percent, decimals)
    if not ks:
        raise CalibrationError(
            f"{what}: no whole count out of n={n} gives {percent:.{decimals}f}% "
            f"at {decimals} decimal(s); change the base size in the assumptions file"
        )
    return min(ks, key=lambda k: (abs(k - percent * n / 100), k))


def feasible_sums(n: int, mean: float, decimals: int) -> list[int]:
    """Whole sums S of n integer answers whose mean S/n displays as ``mean``."""
    lo, hi = window(mean, decimals)
    return list(range(math.ceil(lo * n), math.ceil(hi * n)))


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into whole parts proportional to ``weights`` (Hamilton's method)."""
    w = np.asarray(weights, dtype=float)
    if total < 0:
        raise CalibrationError(f"cannot split a negative total ({total})")
    if len(w) == 0:
        if total:
            raise CalibrationError(f"{total} left to split but no option to take it")
        return []
    if w.sum() <= 0:
        w = np.ones_like(w)
    raw = total * w / w.sum()
    base = np.floor(raw).astype(int)
    short = total - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:short]] += 1
    return base.tolist()


def apportion(
    n: int,
    options: Sequence[str],
    constraints: Sequence[tuple[tuple[str, ...], float, int]],
    weights: Mapping[str, float],
    fixed: Mapping[str, int] | None = None,
    what: str = "question",
) -> dict[str, int]:
    """Counts per option summing to n that meet every (options, percent, decimals) constraint.

    Atomic constraints are met first, unions after (their unset members share the rest by
    weight); options no constraint reaches share what is left by weight.
    """
    counts: dict[str, int] = dict(fixed or {})
    for opts, percent, decimals in sorted(constraints, key=lambda c: len(c[0])):
        free = [o for o in opts if o not in counts]
        if not free:  # fixed by the assumptions: they must agree with the published figure
            k = sum(counts[o] for o in opts)
            if k not in feasible_counts(n, percent, decimals):
                raise CalibrationError(
                    f"{what}: fixed count {k}/{n} for {'+'.join(opts)} does not round to the published {percent}%"
                )
            continue
        k = closest_count(n, percent, decimals, f"{what} {'+'.join(opts)}")
        rest = k - sum(counts[o] for o in opts if o in counts)
        if rest < 0 or (not free and rest != 0):
            raise CalibrationError(f"{what}: {'+'.join(opts)} = {percent}% cannot be met given the other constraints")
        for o, c in zip(free, _split(rest, free, weights, what)):
            counts[o] = c
    free = [o for o in options if o not in counts]
    rest = n - sum(counts.values())
    if rest < 0:
        raise CalibrationError(f"{what}: published and fixed counts exceed the base (n={n})")
    if not free and rest:
        raise CalibrationError(f"{what}: {rest} respondents left with no free option to take them")
    for o, c in zip(free, _split(rest, free, weights, what)):
        counts[o] = c
    return {o: counts[o] for o in options}


def _split(total: int, free: Sequence[str], weights: Mapping[str, float], what: str) -> list[int]:
    """Share ``total`` among the free options by weight (a lone option takes it all)."""
    if len(free) == 1:
        return [total]
    return largest_remainder(total, [_weight(weights, o, what) for o in free])


def _weight(weights: Mapping[str, float], option: str, what: str) -> float:
    if option not in weights:
        raise CalibrationError(
            f"{what}: option {option!r} has neither a published share nor a weight in the assumptions file"
        )
    return float(weights[option])


def ipf(seed: np.ndarray, row_sums: Sequence[float], col_sums: Sequence[float], iterations: int = 500) -> np.ndarray:
    """Iterative proportional fitting of a positive seed table to the given margins."""
    t = np.asarray(seed, dtype=float).copy()
    r = np.asarray(row_sums, dtype=float)
    c = np.asarray(col_sums, dtype=float)
    for _ in range(iterations):
        rs = t.sum(axis=1)
        t *= np.divide(r, rs, out=np.zeros_like(r), where=rs > 0)[:, None]
        cs = t.sum(axis=0)
        t *= np.divide(c, cs, out=np.zeros_like(c), where=cs > 0)[None, :]
        if np.allclose(t.sum(axis=1), r, atol=1e-9):
            break
    return t


def integerize(table: np.ndarray, row_sums: Sequence[int], col_sums: Sequence[int]) -> np.ndarray:
    """Round a real table to whole numbers keeping both margins exactly (controlled rounding)."""
    t = np.asarray(table, dtype=float)
    out = np.floor(t + 1e-12).astype(int)
    row_def = np.asarray(row_sums, dtype=int) - out.sum(axis=1)
    col_def = np.asarray(col_sums, dtype=int) - out.sum(axis=0)
    if row_def.sum() != col_def.sum() or (row_def < 0).any() or (col_def < 0).any():
        raise CalibrationError("margins of the table are inconsistent")
    frac = t - out
    for flat in np.argsort(-frac, axis=None, kind="stable"):
        i, j = np.unravel_index(flat, t.shape)
        if row_def[i] > 0 and col_def[j] > 0:
            out[i, j] += 1
            row_def[i] -= 1
            col_def[j] -= 1
    while row_def.sum() > 0:
        i = int(np.flatnonzero(row_def > 0)[0])
        j = int(np.flatnonzero(col_def > 0)[0])
        out[i, j] += 1
        row_def[i] -= 1
        col_def[j] -= 1
    return out
