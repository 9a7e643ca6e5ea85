"""The synthetic twin: respondent-level data calibrated exactly to every published figure.

Generated deterministically from a seed, from the codebook (what was asked and of whom), the
published-figures table (every share and mean, met exactly on the pooled data) and the
assumptions file (everything the article does not say). Labelled synthetic wherever it goes.
"""

from __future__ import annotations

import io
import itertools
import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cnfs import paths
from cnfs.atomic import write_bytes as atomic_write_bytes
from cnfs.atomic import write_text as atomic_write_text
from cnfs.calibrate import (
    CalibrationError,
    apportion,
    closest_count,
    feasible_counts,
    feasible_sums,
    integerize,
    ipf,
    largest_remainder,
    window,
)
from cnfs.codebook import MULTI_SEP, Codebook, Condition, Question, load_codebook, mask_all
from cnfs.figspec import parse_spec
from cnfs.ordering import topological_order
from cnfs.provenance import SYNTHETIC_WARNING, sha256_file
from cnfs.reference import load_published

GENERATOR_VERSION = "1.1.0"


# ---------------------------------------------------------------- targets from the published table
@dataclass(frozen=True)
class Target:
    """One published share or mean the twin must reproduce: at its published precision, or within bounds."""

    figure_id: str
    statistic: str
    value: float
    decimals: int
    options: tuple[str, ...] = ()
    value_range: tuple[float, float] | None = None
    filters: tuple[Condition, ...] = ()
    comparison: str = "rounded"
    lower: float | None = None
    upper: float | None = None

    def counts(self, n: int) -> list[int]:
        """Whole counts out of n whose share meets this target."""
        if self.comparison == "between":
            lo, hi = Fraction(str(self.lower)), Fraction(str(self.upper))
            return list(range(max(0, math.ceil(lo * n / 100)), min(n, math.floor(hi * n / 100)) + 1))
        return feasible_counts(n, self.value, self.decimals)

    def sums(self, n: int, bounds: tuple[int, int]) -> list[int]:
        """Whole totals of n answers whose mean (or reversed mean, min + max - mean) meets this target."""
        if self.statistic != "mean_complement":
            return feasible_sums(n, self.value, self.decimals)
        lo, hi = window(self.value, self.decimals)
        c = bounds[0] + bounds[1]  # reversed mean c - S/n in [lo, hi)  <=>  S in (n(c - hi), n(c - lo)]
        return list(range(math.floor(n * (c - hi)) + 1, math.floor(n * (c - lo)) + 1))


#: Statistics and comparisons the generator calibrates exactly (others hold by the assumptions, and tests check them).
CALIBRATED = {("share", "rounded"), ("mean", "rounded"), ("mean_complement", "rounded"), ("share", "between")}


def published_targets(published: pd.DataFrame, codebook: Codebook) -> dict[str, list[Target]]:
    """Exact targets per question: computable shares and means, at their published rounding or bounds."""
    out: dict[str, list[Target]] = {}
    calibrated = pd.Series(
        [(s, c) in CALIBRATED for s, c in zip(published["statistic"], published["comparison"])], index=published.index
    )
    rows = published[
        (published["computable"] == "yes") & calibrated & published["question"].isin(list(codebook.questions))
    ]
    for _, r in rows.iterrows():
        spec = parse_spec(r["option_or_subgroup"])
        between = r["comparison"] == "between"
        out.setdefault(r["question"], []).append(
            Target(
                r["id"],
                r["statistic"],
                float(r["value"]) if r["value"] else math.nan,
                int(r["decimals"] or 0),
                spec.options,
                spec.value_range,
                spec.filters,
                r["comparison"],
                float(r["lower"]) if between else None,
                float(r["upper"]) if between else None,
            )
        )
    return out


def _rounded(targets: list[Target]) -> list[Target]:
    return [t for t in targets if t.comparison == "rounded"]


@dataclass
class Assumptions:
    raw: dict[str, Any]
    path: Path | None = None

    @property
    def seed(self) -> int:
        return int(self.raw["generator"]["seed"])

    @property
    def wave_sizes(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.raw["waves"]["sizes"].items()}

    def question(self, qid: str) -> dict[str, Any]:
        return dict((self.raw.get("questions") or {}).get(qid) or {})

    def group_rho(self, group: str | None) -> float:
        return float((self.raw.get("group_correlation") or {}).get(group, 0.0)) if group else 0.0


def load_assumptions(path: str | Path | None = None) -> Assumptions:
    p = Path(path) if path else paths.ASSUMPTIONS
    with open(p, encoding="utf-8") as f:
        return Assumptions(yaml.safe_load(f), p)


# ---------------------------------------------------------------- the generator
@dataclass
class _State:
    codebook: Codebook
    assumptions: Assumptions
    targets: dict[str, list[Target]]
    rng: np.random.Generator
    frame: pd.DataFrame
    factors: dict[str, np.ndarray] = field(default_factory=dict)

    def where(self, what: str) -> str:
        return f"synthetic twin, question {what!r}"


def _universe_mask(st: _State, q: Question) -> pd.Series:
    return mask_all(st.frame, [q.universe] if q.universe else [])


def _deps(q: Question, st: _State) -> list[str]:
    deps = [q.universe.question] if q.universe else []
    if q.sum_max_with:
        deps.append(q.sum_max_with)
    a = st.assumptions.question(q.id)
    deps.extend((a.get("by") or {}).keys())
    for t in st.targets.get(q.id, []):
        deps.extend(f.question for f in t.filters if f.question != q.id)
    for key in a.get("strata") or {}:
        deps.extend(f.question for f in parse_spec(f"x | {key}").filters)
    return [d for d in deps if d in st.codebook.questions]


def _order(st: _State) -> list[str]:
    """Questions after those their universe, subgroups and correlations depend on."""
    try:
        return topological_order(st.codebook.questions, lambda qid: _deps(st.codebook[qid], st))
    except ValueError as e:
        raise CalibrationError(f"synthetic twin: {e}") from None


def _assign_balanced(st: _State, rows: pd.Index, counts: dict[str, int]) -> pd.Series:
    """Give each option its exact count among ``rows``, spread across waves in proportion."""
    waves = st.frame.loc[rows, st.codebook.wave_column]
    labels = sorted(waves.unique())
    sizes = [int((waves == w).sum()) for w in labels]
    opts = list(counts)
    col_sums = [counts[o] for o in opts]
    table = integerize(np.outer(sizes, col_sums) / max(len(rows), 1), sizes, col_sums)
    out = pd.Series(pd.NA, index=rows, dtype="object")
    for wi, w in enumerate(labels):
        idx = waves.index[waves == w]
        vals = np.repeat(np.array(opts, dtype=object), table[wi])
        out.loc[idx] = st.rng.permutation(vals)
    return out


def _single(st: _State, q: Question, rows: pd.Index) -> pd.Series:
    a = st.assumptions.question(q.id)
    weights = {str(k): float(v) for k, v in (a.get("weights") or {}).items()}
    fixed = {str(k): int(v) for k, v in (a.get("counts") or {}).items()}
    targets = st.targets.get(q.id, [])
    what = st.where(q.id)
    _check_codes(q, [*weights, *fixed], what)
    n = len(rows)
    marginal = [t for t in targets if not t.filters]
    if len(q.codes) == 2 and any(t.comparison != "rounded" for t in marginal):
        fixed = {**fixed, **_two_option_counts(n, q, marginal, fixed, what)}
    marginal = _rounded(marginal)
    targets = _rounded(targets)
    self_base = [t for t in targets if t.filters and all(f.question == q.id for f in t.filters)]
    stratified = [t for t in targets if t.filters and any(f.question != q.id for f in t.filters)]

    if self_base:  # published shares over a base that excludes some options ("don't know")
        base_codes = self_base[0].filters[0].codes
        outside = [o for o in q.codes if o not in base_codes]
        missing = [o for o in outside if o not in fixed]
        if missing:
            raise CalibrationError(f"{what}: give counts for {missing} in the assumptions file")
        n_base = n - sum(fixed[o] for o in outside)
        sub = apportion(n_base, base_codes, [(t.options, t.value, t.decimals) for t in self_base], weights, what=what)
        return _assign_balanced(st, rows, {o: fixed.get(o, sub.get(o, 0)) for o in q.codes})

    if stratified:
        return _single_stratified(st, q, rows, marginal, stratified, weights, fixed, a)

    counts = apportion(n, q.codes, [(t.options, t.value, t.decimals) for t in marginal], weights, fixed, what)
    if a.get("by"):
        return _single_by(st, q, rows, counts, a["by"])
    return _assign_balanced(st, rows, counts)


def _two_option_counts(n: int, q: Question, targets: list[Target], fixed: dict[str, int], what: str) -> dict[str, int]:
    """Counts of a two-option question meeting every published figure on either option (rounded or bounds)."""
    a, b = q.codes
    allowed = set(range(n + 1))
    for t in targets:
        if t.options not in ((a,), (b,)):
            raise CalibrationError(f"{what}: {t.figure_id} must publish the share of one option")
        ks = set(t.counts(n))
        allowed &= ks if t.options == (a,) else {n - k for k in ks}
    if a in fixed:
        allowed &= {fixed[a]}
    if b in fixed:
        allowed &= {n - fixed[b]}
    if not allowed:
        ids = ", ".join(t.figure_id for t in targets)
        raise CalibrationError(f"{what}: no whole count out of n={n} meets {ids} together")
    k = sorted(allowed)[len(allowed) // 2]  # the middle of what every figure allows
    return {a: k, b: n - k}


def _single_by(st: _State, q: Question, rows: pd.Index, counts: dict[str, int], by: dict[str, Any]) -> pd.Series:
    """Correlate with earlier answers: propensities by stratum, fitted to the exact margins."""
    keys = list(by)
    frame = st.frame.loc[rows, keys].astype("string").fillna("")
    strata = frame.apply(lambda r: tuple(r), axis=1)
    cells = sorted(strata.unique())
    seed = np.ones((len(cells), len(q.codes)))
    for i, cell in enumerate(cells):
        for key, val in zip(keys, cell):
            table = by[key].get(val, {})
            for j, o in enumerate(q.codes):
                seed[i, j] *= float(table.get(o, 1.0))
    sizes = [int((strata == c).sum()) for c in cells]
    col = [counts[o] for o in q.codes]
    table = integerize(ipf(seed, sizes, col), sizes, col)
    out = pd.Series(pd.NA, index=rows, dtype="object")
    for i, cell in enumerate(cells):
        idx = strata.index[strata == cell]
        out.loc[idx] = _assign_balanced(st, idx, dict(zip(q.codes, table[i].tolist())))
    return out


def _single_stratified(st, q, rows, marginal, stratified, weights, fixed, a) -> pd.Series:
    """Published shares inside subgroups (e.g. multi-site vs single-site), plus the margin if published."""
    what = st.where(q.id)
    groups: dict[tuple[Condition, ...], list[Target]] = {}
    for t in stratified:
        groups.setdefault(t.filters, []).append(t)
    masks = {f: mask_all(st.frame, f).loc[rows] for f in groups}
    covered = pd.Series(False, index=rows)
    for m in masks.values():
        if (covered & m).any():
            raise CalibrationError(f"{what}: published subgroups overlap")
        covered |= m
    rest = rows[~covered.to_numpy()]
    strata_w = {k: {str(o): float(v) for o, v in w.items()} for k, w in (a.get("strata") or {}).items()}

    def w_for(filters: tuple[Condition, ...]) -> dict[str, float]:
        return strata_w.get(" & ".join(str(f) for f in filters), weights)

    out = pd.Series(pd.NA, index=rows, dtype="object")
    if not marginal:
        for f, ts in groups.items():
            idx = rows[masks[f].to_numpy()]
            counts = apportion(
                len(idx), q.codes, [(t.options, t.value, t.decimals) for t in ts], w_for(f), what=f"{what} [{f}]"
            )
            out.loc[idx] = _assign_balanced(st, idx, counts)
        if len(rest):
            out.loc[rest] = _assign_balanced(st, rest, apportion(len(rest), q.codes, [], weights, what=what))
        return out

    margin = apportion(len(rows), q.codes, [(t.options, t.value, t.decimals) for t in marginal], weights, fixed, what)
    # Each subgroup publishes the share of one option of a two-option question: search the
    # feasible subgroup counts jointly so that what the margin leaves for the others is possible.
    fs = list(groups)
    if len(q.codes) != 2 or any(len(groups[f]) != 1 or len(groups[f][0].options) != 1 for f in fs):
        raise CalibrationError(
            f"{what}: a published margin with subgroups needs a two-option question and one share per subgroup"
        )
    options = {groups[f][0].options[0] for f in fs}
    if len(options) != 1:
        raise CalibrationError(f"{what}: the subgroups must publish the share of the same option")
    o = options.pop()
    other = [c for c in q.codes if c != o][0]
    idxs = [rows[masks[f].to_numpy()] for f in fs]
    cands = [feasible_counts(len(i), groups[f][0].value, groups[f][0].decimals) for f, i in zip(fs, idxs)]
    best = None
    for combo in itertools.product(*cands):
        rest_o = margin[o] - sum(combo)
        if not 0 <= rest_o <= len(rest):
            continue
        dev = sum(abs(k - groups[f][0].value * len(i) / 100) for f, i, k in zip(fs, idxs, combo))
        if best is None or dev < best[0]:
            best = (dev, combo, rest_o)
    if best is None:
        raise CalibrationError(f"{what}: no subgroup counts are compatible with the published margin")
    _, combo, rest_o = best
    for idx, k in zip(idxs, combo):
        out.loc[idx] = _assign_balanced(st, idx, {o: k, other: len(idx) - k})
    left = {o: rest_o, other: len(rest) - rest_o}
    if len(rest):
        out.loc[rest] = _assign_balanced(st, rest, left)
    return out


def _check_codes(q: Question, codes: list[str], what: str) -> None:
    bad = [c for c in codes if c not in q.codes]
    if bad:
        raise CalibrationError(f"{what}: assumptions name options {bad} that the codebook does not have ({q.codes})")


def _multi(st: _State, q: Question, rows: pd.Index) -> pd.DataFrame:
    a = st.assumptions.question(q.id)
    weights = {str(k): float(v) for k, v in (a.get("weights") or {}).items()}
    what = st.where(q.id)
    _check_codes(q, list(weights), what)
    n = len(rows)
    published = {t.options[0]: t for t in _rounded(st.targets.get(q.id, [])) if len(t.options) == 1 and not t.filters}
    lam = float(st.assumptions.raw.get("multi_breadth", 0.0))
    breadth = np.exp(lam * st.rng.standard_normal(n))
    waves = st.frame.loc[rows, st.codebook.wave_column].to_numpy()
    labels = sorted(set(waves))
    ticks = np.zeros((n, len(q.options)), dtype=int)
    for j, o in enumerate(q.codes):
        if o in published:
            t = published[o]
            k = closest_count(n, t.value, t.decimals, f"{what} {o}")
        elif o in weights:
            k = int(round(weights[o] * n / 100))
        else:
            raise CalibrationError(
                f"{what}: option {o!r} has neither a published share nor a weight in the assumptions file"
            )
        per_wave = largest_remainder(k, [(waves == w).sum() for w in labels])
        for w, kw in zip(labels, per_wave):
            pos = np.flatnonzero(waves == w)
            p = breadth[pos] / breadth[pos].sum()
            ticks[st.rng.choice(pos, size=kw, replace=False, p=p), j] = 1
    _ensure_one_tick(ticks, waves)
    cols = {f"{q.id}{MULTI_SEP}{o}": pd.array(ticks[:, j], dtype="Int64") for j, o in enumerate(q.codes)}
    return pd.DataFrame(cols, index=rows)


def _ensure_one_tick(ticks: np.ndarray, waves: np.ndarray) -> None:
    """Mandatory question: move a tick from a many-ticks respondent to each empty row, counts unchanged."""
    for i in np.flatnonzero(ticks.sum(axis=1) == 0):
        for same_wave in (True, False):
            donors = np.flatnonzero((ticks.sum(axis=1) >= 2) & ((waves == waves[i]) if same_wave else True))
            if len(donors):
                break
        else:
            raise CalibrationError("multi-select: not enough ticks for every respondent to tick one option")
        d = donors[0]
        j = int(np.argmax(ticks[d]))
        ticks[d, j], ticks[i, j] = 0, 1


def _discrete_normal(support: np.ndarray, mean: float, sd: float) -> np.ndarray:
    """Probabilities on an integer support: a truncated normal tuned to the target mean and sd."""
    from scipy.optimize import minimize
    from scipy.stats import norm

    edges = np.concatenate([support - 0.5, [support[-1] + 0.5]])

    def pmf(params: np.ndarray) -> np.ndarray:
        mu, log_s = params
        cdf = norm.cdf(edges, mu, np.exp(log_s))
        p = np.diff(cdf)
        total = p.sum()
        return p / total if total > 0 else np.full(len(p), 1 / len(p))

    def loss(params: np.ndarray) -> float:
        p = pmf(params)
        m = (p * support).sum()
        s = np.sqrt((p * (support - m) ** 2).sum())
        return (m - mean) ** 2 + (s - sd) ** 2

    res = minimize(
        loss,
        x0=np.array([mean, np.log(sd)]),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 4000},
    )
    return pmf(res.x)


def _fix_sum(values: np.ndarray, target: int, lo: int, hi: int, centre: float) -> np.ndarray:
    """Move single answers by ±1 (those nearest the centre first) until the total is exact."""
    v = np.sort(values.copy())
    diff = int(target - v.sum())
    step = 1 if diff > 0 else -1
    while diff:
        movable = np.flatnonzero((v < hi) if step > 0 else (v > lo))
        if not len(movable):
            raise CalibrationError("cannot reach the target mean within the scale bounds")
        i = movable[np.argmin(np.abs(v[movable] - centre))]
        v[i] += step
        diff -= step
    return np.sort(v)


def _target_sum(st: _State, q: Question, n: int, a: dict[str, Any]) -> tuple[int, float]:
    """The whole total of the answers: one that meets every published mean (and reversed mean) of the item."""
    means = [
        t for t in _rounded(st.targets.get(q.id, [])) if t.statistic in ("mean", "mean_complement") and not t.filters
    ]
    if means:
        allowed = set.intersection(*(set(t.sums(n, q.bounds)) for t in means))  # type: ignore[arg-type]
        if not allowed:
            ids = ", ".join(t.figure_id for t in means)
            raise CalibrationError(f"{st.where(q.id)}: no whole total of {n} answers meets {ids} together")
        total = sorted(allowed)[len(allowed) // 2]
        return total, total / n
    if "mean" not in a:
        raise CalibrationError(f"{st.where(q.id)}: no published mean and no 'mean' in the assumptions file")
    return int(round(float(a["mean"]) * n)), float(a["mean"])


def _numeric(st: _State, q: Question, rows: pd.Index) -> pd.Series:
    a = st.assumptions.question(q.id)
    lo, hi = q.bounds  # type: ignore[misc]
    n = len(rows)
    total, mean = _target_sum(st, q, n, a)
    if a.get("bins"):
        values = _binned_values(st, q, n, total, a["bins"])
        order = st.rng.permutation(n)
        return pd.Series(pd.array(values[order], dtype="Int64"), index=rows)
    if "sd" not in a:
        raise CalibrationError(f"{st.where(q.id)}: give an 'sd' in the assumptions file")
    support = np.arange(lo, hi + 1)
    counts = largest_remainder(n, _discrete_normal(support, mean, float(a["sd"])))
    values = _fix_sum(np.repeat(support, counts), total, lo, hi, mean)
    if q.sum_max_with:
        return _paired_with_cap(st, q, rows, values)
    rho = st.assumptions.group_rho(q.group)
    if q.group and q.group not in st.factors:
        st.factors[q.group] = st.rng.standard_normal(len(st.frame))
    common = st.factors[q.group][st.frame.index.get_indexer(rows)] if q.group else 0.0
    latent = np.sqrt(rho) * common + np.sqrt(1 - rho) * st.rng.standard_normal(n)
    out = np.empty(n, dtype=int)
    out[np.argsort(latent, kind="stable")] = values
    return pd.Series(pd.array(out, dtype="Int64"), index=rows)


def _paired_with_cap(st: _State, q: Question, rows: pd.Index, values: np.ndarray) -> pd.Series:
    """Answers bounded by 100 minus a partner answer (time shares): sorted pairing, then feasible random swaps."""
    partner = st.frame.loc[rows, q.sum_max_with].astype(int).to_numpy()
    cap = 100 - partner
    out = np.empty(len(partner), dtype=int)
    out[np.argsort(cap, kind="stable")] = np.sort(values)
    if (out > cap).any():
        raise CalibrationError(f"{st.where(q.id)}: cannot keep {q.id} + {q.sum_max_with} within 100")
    pairs = st.rng.integers(0, len(out), size=(4 * len(out), 2))
    for i, j in pairs:
        if out[j] <= cap[i] and out[i] <= cap[j]:
            out[i], out[j] = out[j], out[i]
    return pd.Series(pd.array(out, dtype="Int64"), index=rows)


def _binned_values(st: _State, q: Question, n: int, total: int, bins: list[dict[str, Any]]) -> np.ndarray:
    """A number answered in published ranges (e.g. 2 to 5 sites): exact range counts, then exact mean."""
    what = st.where(q.id)
    ranged = {t.value_range: t for t in _rounded(st.targets.get(q.id, [])) if t.statistic == "share" and t.value_range}
    counts: list[int | None] = []
    for b in bins:
        lo, hi = b["range"]
        t = ranged.get((float(lo), float(hi)))
        if "count" in b:
            counts.append(int(b["count"]))
        elif t is not None:
            counts.append(closest_count(n, t.value, t.decimals, f"{what} {lo}..{hi}"))
        else:
            counts.append(None)
    free = [i for i, c in enumerate(counts) if c is None]
    if len(free) != 1:
        raise CalibrationError(f"{what}: exactly one range must take the remaining respondents")
    counts[free[0]] = n - sum(c for c in counts if c is not None)
    parts = []
    for b, c in zip(bins, counts):
        lo, hi = b["range"]
        support = np.arange(lo, hi + 1)
        w = b.get("weights") or [float(b.get("decay", 1.0)) ** k for k in range(len(support))]
        parts.append(np.repeat(support, largest_remainder(int(c), w)))
    last_lo, last_hi = bins[-1]["range"]
    head = np.concatenate(parts[:-1]) if len(parts) > 1 else np.array([], dtype=int)
    tail = _fix_sum(parts[-1], total - int(head.sum()), last_lo, last_hi, float(np.median(parts[-1])))
    return np.concatenate([head, tail]).astype(int)


def _text(st: _State, q: Question, rows: pd.Index) -> pd.Series:
    pool = (st.assumptions.raw.get("text_answers") or {}).get(q.id) or ["Réponse libre synthétique"]
    return pd.Series(st.rng.choice(np.array(pool, dtype=object), size=len(rows)), index=rows, dtype="object")


def _meta(codebook: Codebook, assumptions: Assumptions, rng: np.random.Generator) -> pd.DataFrame:
    sizes = assumptions.wave_sizes
    unknown = [w for w in sizes if w not in codebook.waves]
    if unknown:
        raise CalibrationError(f"assumptions waves {unknown} are not in the codebook waves {codebook.waves}")
    periods = codebook.meta.get("wave_periods", {})
    waves, dates = [], []
    for w, size in sizes.items():
        start = pd.Timestamp(periods[w]["start"])
        days = (pd.Timestamp(periods[w]["end"]) - start).days
        offs = np.sort(rng.integers(0, days + 1, size))
        waves.extend([w] * size)
        dates.extend((start + pd.to_timedelta(offs, unit="D")).strftime("%Y-%m-%d"))
    n = len(waves)
    return pd.DataFrame(
        {
            codebook.id_column: [f"SYN-{i:05d}" for i in range(1, n + 1)],
            codebook.wave_column: waves,
            codebook.date_column: dates,
        }
    )


def generate(
    seed: int | None = None,
    codebook: Codebook | None = None,
    published: pd.DataFrame | None = None,
    assumptions: Assumptions | None = None,
) -> pd.DataFrame:
    """Generate the twin as a coded frame (option codes, 0/1 ticks, integers; NA where not asked)."""
    codebook = codebook or load_codebook()
    published = published if published is not None else load_published()
    assumptions = assumptions or load_assumptions()
    rng = np.random.default_rng(assumptions.seed if seed is None else seed)
    st = _State(codebook, assumptions, published_targets(published, codebook), rng, _meta(codebook, assumptions, rng))
    extra = [q for q in (assumptions.raw.get("questions") or {}) if q not in codebook.questions]
    if extra:
        raise CalibrationError(f"{assumptions.path}: questions {extra} are not in the codebook")
    for qid in _order(st):
        q = codebook[qid]
        rows = st.frame.index[_universe_mask(st, q).to_numpy()]
        if q.type == "multi":
            block = _multi(st, q, rows).reindex(st.frame.index)
            st.frame = pd.concat([st.frame, block], axis=1)
            continue
        if q.type == "single":
            values = _single(st, q, rows)
        elif q.type == "text":
            values = _text(st, q, rows)
        else:
            values = _numeric(st, q, rows)
        st.frame[qid] = values.reindex(st.frame.index)
    return st.frame[codebook.data_columns()]


def provenance(seed: int, codebook_path: Path, published_path: Path, assumptions_path: Path, n: int) -> dict[str, Any]:
    """What the twin's files say about themselves: synthetic, by whom, from what."""
    return {
        "synthetic": True,
        "warning": SYNTHETIC_WARNING,
        "generator": "cnfs.synth",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "respondents": n,
        "inputs": {
            "codebook": sha256_file(codebook_path),
            "published_figures": sha256_file(published_path),
            "assumptions": sha256_file(assumptions_path),
        },
    }


def write_synthetic(out_dir: str | Path | None = None, seed: int | None = None) -> Path:
    """Generate the twin and write CSV + Parquet + provenance sidecar atomically; returns the CSV path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    assumptions = load_assumptions()
    seed = assumptions.seed if seed is None else seed
    frame = generate(seed=seed, assumptions=assumptions)
    out = Path(out_dir) if out_dir else paths.SYNTHETIC_DIR
    csv_path = out / paths.SYNTHETIC_SURVEY.name
    prov = provenance(seed, paths.CODEBOOK, paths.PUBLISHED, paths.ASSUMPTIONS, len(frame))
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    table = pa.Table.from_pandas(frame.astype("string"), preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"cnfs_provenance": json.dumps(prov).encode()}
    )
    pbuf = pa.BufferOutputStream()
    pq.write_table(table, pbuf)
    atomic_write_bytes(csv_path.with_suffix(".parquet"), pbuf.getvalue().to_pybytes())
    atomic_write_text(
        csv_path.with_name(csv_path.stem + ".provenance.json"), json.dumps(prov, indent=2, ensure_ascii=False) + "\n"
    )
    atomic_write_text(csv_path, buf.getvalue())
    return csv_path


def is_current(csv_path: str | Path) -> bool:
    """True when the twin on disk was made by this generator version from the current inputs."""
    from cnfs.provenance import read_provenance

    p = Path(csv_path)
    if not p.exists():
        return False
    prov = read_provenance(p)
    try:
        expected = provenance(prov["seed"], paths.CODEBOOK, paths.PUBLISHED, paths.ASSUMPTIONS, prov["respondents"])
    except KeyError:
        return False
    return prov.get("generator_version") == GENERATOR_VERSION and prov.get("inputs") == expected["inputs"]


def ensure_synthetic() -> Path:
    """The twin's CSV path, generating it on first use or when its inputs changed."""
    if not is_current(paths.SYNTHETIC_SURVEY):
        write_synthetic()
    return paths.SYNTHETIC_SURVEY
