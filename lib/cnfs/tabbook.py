"""Tab book: every question of the codebook crossed with the banner variables (data/banners.yaml).

One tidy row per question × option (or mean) × banner column: the column percentage (of those asked
the question in that column; multi-select options are a percent of respondents asked) or the mean,
the column's base (unweighted n, sum of weights and Kish effective base when weighted), and the
significance letters: a cell carries the letter of every other column of the same banner variable
it is significantly higher than, at 95 %, after a Holm correction over the pairs of columns of that
banner for that row. Tests (stated in ``TEST_NOTES``):

- percentages: two-sample z test of proportions with the pooled proportion, on the effective bases
  (unweighted: exactly ``statsmodels.stats.proportion.proportions_ztest``);
- 1–10 and 0–100 scales, and the distribution of an ordered single choice: rank-based, Mann–Whitney
  U (``scipy.stats.mannwhitneyu``, two-sided, asymptotic with tie correction); weighted: z test of the
  weighted mean ridits (weighted mid-ranks) on the effective bases;
- plain numbers (age, counts): Welch t test (weighted: weighted means and variances, effective bases).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from string import ascii_uppercase
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import special

from cnfs import paths
from cnfs.codebook import Codebook, Question
from cnfs.tabbook_files import TABBOOK_STEM

BANNERS_FILE: Path = paths.DATA / "banners.yaml"
TAB_TYPES = ("single", "multi", "scale10", "slider100", "number")
ORDINAL_TYPES = ("scale10", "slider100")
TOTAL_ID = "total"
TOTAL_LABEL = "Ensemble"
ALPHA = 0.05
CORRECTION = "holm"

#: French labels of the tests (the tidy table keeps the codes).
TEST_LABELS = {
    "z_prop": "test z de comparaison de proportions",
    "mannwhitney": "test de Mann-Whitney",
    "ridit_z": "test z des ridits pondérés (rangs)",
    "welch_t": "test t de Welch",
}
TEST_NOTES = [
    "Lettres de significativité : une cellule porte la lettre de chaque autre colonne de la même variable "
    "de ventilation dont elle est significativement plus élevée au seuil de 5 %, tests bilatéraux deux à deux.",
    "Correction pour comparaisons multiples : Holm, sur l'ensemble des paires de colonnes d'une variable de "
    "ventilation pour une même ligne du tableau.",
    "Pourcentages : test z de comparaison de deux proportions (proportion commune), sur les bases effectives "
    "quand les données sont pondérées.",
    "Échelles de 1 à 10, curseurs de 0 à 100 et distribution des questions à modalités ordonnées : test de rang "
    "de Mann-Whitney ; pondéré, test z des ridits moyens pondérés sur les bases effectives.",
    "Nombres (âge, nombre de sites, parts de temps) : test t de Welch ; pondéré, moyennes et variances pondérées "
    "sur les bases effectives.",
    "Base : répondants à qui la question a été posée, dans la colonne ; choix multiples : part des répondants "
    "(le total dépasse 100 %). Base effective (Kish) : (Σw)² / Σw².",
]

COLUMNS = [
    "question",
    "question_label",
    "wording",
    "type",
    "stat",
    "option",
    "label",
    "banner",
    "banner_label",
    "column",
    "letter",
    "value",
    "count",
    "base_n",
    "base_weighted",
    "base_effective",
    "sig",
    "test",
    "weighting",
    "base",
]


# -- banner variables ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Banner:
    """One breakdown: a single-choice question (optionally regrouped) or a derived variable."""

    id: str
    label: str
    question: str | None = None
    derived: str | None = None
    groups: Mapping[str, Sequence[str]] | None = field(default=None, hash=False)


def wave_heading(wave: str) -> str:
    """The tab book's column heading of a wave: the wave banner's columns, which a wave's Ensemble is linked to."""
    return f"Vague {wave}"


def _wave(df: pd.DataFrame, codebook: Codebook) -> pd.Series:
    w = df[codebook.wave_column].astype("string")
    waves = codebook.waves_in(df) + sorted(set(w.dropna()) - set(codebook.waves))
    labels = {x: wave_heading(x) for x in waves}
    return pd.Series(pd.Categorical(w.map(labels), categories=list(labels.values()), ordered=True), index=df.index)


def _site_mode(df: pd.DataFrame, codebook: Codebook) -> pd.Series:
    from cnfs.subgroups import site_mode

    return site_mode(df)


#: Derived banner variables by name: a function of (data, codebook) giving an aligned Categorical.
DERIVED: dict[str, Callable[[pd.DataFrame, Codebook], pd.Series]] = {"wave": _wave, "site_mode": _site_mode}


def parse_banners(doc: Any, codebook: Codebook, where: str = "banners") -> list[Banner]:
    """Banners from the parsed YAML, checked against the codebook; every problem named at once."""
    problems: list[str] = []
    raw = (doc or {}).get("banners") if isinstance(doc, dict) else None
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where} : attendu : une liste non vide sous « banners »")
    out: list[Banner] = []
    for i, b in enumerate(raw, 1):
        at = f"{where} : variable de croisement {i} ({b.get('id') if isinstance(b, dict) else b!r})"
        if not isinstance(b, dict) or not b.get("id") or not b.get("label"):
            problems.append(f"{at} : attendu : une table avec « id » et « label »")
            continue
        q, d = b.get("question"), b.get("derived")
        if bool(q) == bool(d):
            problems.append(f"{at} : indiquez soit « question », soit « derived », pas les deux")
            continue
        if q:
            if q not in codebook:
                problems.append(f"{at} : la question {q!r} n'est pas dans le codebook")
                continue
            if codebook[q].type != "single":
                problems.append(
                    f"{at} : la question {q!r} est de type {codebook[q].type} ; un croisement demande une question à choix unique"
                )
                continue
            for codes in (b.get("groups") or {}).values():
                bad = [c for c in codes if c not in codebook[q].codes]
                if bad:
                    problems.append(
                        f"{at} : les regroupements utilisent des codes {bad} qui ne sont pas des options de {q!r}"
                    )
        elif d not in DERIVED:
            problems.append(f"{at} : variable dérivée {d!r} inconnue ; connues : {sorted(DERIVED)}")
            continue
        out.append(Banner(str(b["id"]), str(b["label"]), q, d, b.get("groups")))
    ids = [b.id for b in out]
    if len(set(ids)) != len(ids) or TOTAL_ID in ids:
        problems.append(
            f"{where} : les « id » des croisements doivent être uniques et différents de {TOTAL_ID!r} : {ids}"
        )
    if problems:
        raise ValueError("\n".join(problems))
    return out


def load_banners(codebook: Codebook, path: str | Path | None = None) -> list[Banner]:
    """The banner variables of ``data/banners.yaml`` (or ``path``)."""
    p = Path(path) if path else BANNERS_FILE
    with open(p, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return parse_banners(doc, codebook, str(p))


def banner_series(df: pd.DataFrame, codebook: Codebook, banner: Banner) -> pd.Series:
    """The banner's values as an ordered Categorical of French labels, aligned on ``df`` (NA = no column)."""
    if banner.derived:
        s = DERIVED[banner.derived](df, codebook)
    elif banner.groups:
        from cnfs.subgroups import group_options

        s = group_options(df, codebook, banner.question, banner.groups)  # type: ignore[arg-type]
    else:
        from cnfs.scoring import option_codes

        q = codebook[banner.question]  # type: ignore[index]
        labels = [o.label for o in q.options]
        s = pd.Series(
            pd.Categorical(
                option_codes(df, q).map({o.code: o.label for o in q.options}), categories=labels, ordered=True
            ),
            index=df.index,
        )
    return s.rename(banner.id)


def tab_questions(codebook: Codebook) -> list[Question]:
    """Every question a tab book crosses: single, multi-select, scale and number (not free text)."""
    return [q for q in codebook.questions.values() if q.type in TAB_TYPES]


def letters(n: int) -> list[str]:
    """Column letters A, B, … Z, AA, AB, …"""
    out = []
    for i in range(n):
        s, k = "", i
        while True:
            s = ascii_uppercase[k % 26] + s
            k = k // 26 - 1
            if k < 0:
                break
        out.append(s)
    return out


# -- pairwise tests --------------------------------------------------------------------------------
def normal_sf(x: Any) -> Any:
    """Upper tail of the standard normal, as ``scipy.stats.norm.sf`` computes it (``ndtr(-x)``) without its
    per-call argument handling (thousands of calls per tab book; tests check the values are identical)."""
    return special.ndtr(-np.asarray(x, dtype=float))


def t_sf(x: Any, df: Any) -> Any:
    """Upper tail of Student's t, as ``scipy.stats.t.sf`` computes it (``stdtr(df, -x)``), without its overhead."""
    df = np.asarray(df, dtype=float)
    return np.where(df > 0, special.stdtr(df, -np.asarray(x, dtype=float)), np.nan)


def _z_props(p: np.ndarray, neff: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided p-values and signs (a − b) of the pooled z test between columns a and b, for every row of p."""
    pa, pb, na, nb = p[:, a], p[:, b], neff[a], neff[b]
    with np.errstate(divide="ignore", invalid="ignore"):
        pool = (na * pa + nb * pb) / (na + nb)
        se = np.sqrt(pool * (1 - pool) * (1 / na + 1 / nb))
        z = (pa - pb) / se
    pv = np.where(se > 0, 2 * normal_sf(np.abs(z)), np.nan)
    return pv, np.sign(pa - pb)


def _wstats(x: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """Weighted mean, variance (ddof on the effective n: the sample variance when w = 1) and Kish n."""
    sw = w.sum()
    m = float((w * x).sum() / sw)
    neff = float(sw**2 / (w**2).sum())
    var = float((w * (x - m) ** 2).sum() / sw) * neff / (neff - 1) if neff > 1 else float("nan")
    return m, var, neff


def _welch(xa: np.ndarray, wa: np.ndarray, xb: np.ndarray, wb: np.ndarray) -> tuple[float, float]:
    """Welch t test (weighted means and variances, effective bases): p-value and sign of mean(a) − mean(b)."""
    ma, va, na = _wstats(xa, wa)
    mb, vb, nb = _wstats(xb, wb)
    sa, sb = va / na, vb / nb
    se2 = sa + sb
    if not se2 > 0:
        return float("nan"), float(np.sign(ma - mb))
    dof = se2**2 / (sa**2 / (na - 1) + sb**2 / (nb - 1))
    t = (ma - mb) / np.sqrt(se2)
    return float(2 * t_sf(abs(t), dof)), float(np.sign(ma - mb))


def _ridits(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted mid-rank of each value in the pooled sample, scaled to 0–1 (ridit)."""
    values, inverse = np.unique(x, return_inverse=True)
    at = np.bincount(inverse, weights=w, minlength=len(values))
    below = np.cumsum(at) - at
    return ((below + at / 2) / w.sum())[inverse]


def _mann_whitney(xa: np.ndarray, xb: np.ndarray) -> tuple[float, float]:
    """Two-sided Mann–Whitney U test, normal approximation with tie and continuity corrections (as
    ``scipy.stats.mannwhitneyu(method="asymptotic")``, without its per-call overhead): p-value and sign of U − n₁n₂/2."""
    n1, n2 = len(xa), len(xb)
    n = n1 + n2
    values, inverse, ties = np.unique(np.concatenate([xa, xb]), return_inverse=True, return_counts=True)
    midrank = np.cumsum(ties) - (ties - 1) / 2.0
    u1 = float(midrank[inverse[:n1]].sum()) - n1 * (n1 + 1) / 2
    mu = n1 * n2 / 2
    var = n1 * n2 / 12 * ((n + 1) - float((ties**3 - ties).sum()) / (n * (n - 1)))
    if not var > 0:  # every value tied: no difference (scipy's p = 1)
        return 1.0, 0.0
    z = (max(u1, n1 * n2 - u1) - mu - 0.5) / np.sqrt(var)
    return float(min(1.0, 2 * normal_sf(z))), float(np.sign(u1 - mu))


def _rank_test(xa: np.ndarray, wa: np.ndarray, xb: np.ndarray, wb: np.ndarray, weighted: bool) -> tuple[float, float]:
    """Rank-based comparison: Mann–Whitney U unweighted; z test of weighted mean ridits when weighted."""
    if len(xa) < 1 or len(xb) < 1:
        return float("nan"), 0.0
    if not weighted:
        return _mann_whitney(xa, xb)
    r = _ridits(np.concatenate([xa, xb]), np.concatenate([wa, wb]))
    ra, rb = r[: len(xa)], r[len(xa) :]
    ma, va, na = _wstats(ra, wa)
    mb, vb, nb = _wstats(rb, wb)
    se = np.sqrt(va / na + vb / nb)
    if not se > 0:
        return float("nan"), float(np.sign(ma - mb))
    return float(2 * normal_sf(abs((ma - mb) / se))), float(np.sign(ma - mb))


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (as statsmodels' ``multipletests(method="holm")``, without its per-call gc)."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def _letters_from(
    pvals: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]], k: int, n_rows: int, cols: list[str], alpha: float
) -> list[list[str]]:
    """Holm-adjust each row's pairwise p-values and give each cell the letters of the columns it beats."""
    out = [["" for _ in range(k)] for _ in range(n_rows)]
    pairs = list(pvals)
    if not pairs:
        return out
    P = np.column_stack([np.atleast_1d(pvals[pr][0]) for pr in pairs])
    S = np.column_stack([np.atleast_1d(pvals[pr][1]) for pr in pairs])
    for r in range(n_rows):
        ok = ~np.isnan(P[r])
        if not ok.any():
            continue
        adj = np.full(len(pairs), np.nan)
        adj[ok] = holm(P[r, ok])
        for j, (a, b) in enumerate(pairs):
            if adj[j] < alpha:
                winner, loser = (a, b) if S[r, j] > 0 else (b, a)
                if S[r, j] != 0:
                    out[r][winner] += cols[loser]
    for r in range(n_rows):  # letters in column order
        out[r] = ["".join(sorted(s, key=cols.index)) if len(cols[0]) == 1 else s for s in out[r]]
    return out


# -- one question × one banner ---------------------------------------------------------------------
def _indicators(df: pd.DataFrame, q: Question, asked: np.ndarray) -> tuple[list[str], list[str], np.ndarray]:
    """(option codes, labels, 0/1 matrix over the rows asked) of a single or multi-select question."""
    if q.type == "multi":
        Y = df.loc[asked, q.columns].astype(bool).to_numpy(dtype=float)
    else:
        from cnfs.scoring import option_codes

        codes = option_codes(df.loc[asked], q).to_numpy(dtype=object)
        Y = np.column_stack([(codes == o.code) for o in q.options]).astype(float)
    return q.codes, [o.label for o in q.options], Y


def _cross(
    q: Question,
    Y: np.ndarray | None,
    x: np.ndarray | None,
    w: np.ndarray,
    g: np.ndarray,
    cols: list[str],
    weighted: bool,
    alpha: float,
    test_letters: bool,
) -> list[dict]:
    """Rows of one question for one banner: per column value, counts, bases and letters."""
    k = len(cols)
    G = np.zeros((len(g), k))
    ok = g >= 0
    G[np.flatnonzero(ok), g[ok]] = 1.0
    base_n = G.sum(axis=0)
    W = G.T @ w
    W2 = G.T @ (w**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        neff = np.where(W2 > 0, W**2 / W2, 0.0)
    letter_of = letters(k)
    rows: list[dict] = []

    def common(c):
        return {
            "column": cols[c],
            "letter": letter_of[c] if test_letters else "",
            "base_n": int(base_n[c]),
            "base_weighted": float(W[c]),
            "base_effective": float(neff[c]),
        }

    pairs = [(a, b) for a, b in combinations(range(k), 2) if base_n[a] > 0 and base_n[b] > 0] if test_letters else []
    if Y is not None:
        counts = G.T @ Y
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = 100 * (G.T @ (w[:, None] * Y)) / W[:, None]
        pv = {pr: _z_props(pct.T / 100, neff, *pr) for pr in pairs}
        sig = _letters_from(pv, k, Y.shape[1], letter_of, alpha)
        for j, (code, label) in enumerate(zip(q.codes, [o.label for o in q.options])):
            for c in range(k):
                rows.append(
                    {
                        "stat": "percent",
                        "option": code,
                        "label": label,
                        **common(c),
                        "value": float(pct[c, j]),
                        "count": int(counts[c, j]),
                        "sig": sig[j][c],
                        "test": "z_prop",
                    }
                )
        if q.type == "single" and q.ordered:
            pos = Y @ np.arange(1, Y.shape[1] + 1)
            rows += _numeric_rows(
                pos,
                w,
                g,
                k,
                pairs,
                common,
                letter_of,
                weighted,
                alpha,
                "rank",
                "Position moyenne (test de rang)",
                rank=True,
            )
    else:
        rank = q.type in ORDINAL_TYPES
        rows += _numeric_rows(x, w, g, k, pairs, common, letter_of, weighted, alpha, "mean", "Moyenne", rank=rank)
    return rows


def _numeric_rows(
    x: np.ndarray,
    w: np.ndarray,
    g: np.ndarray,
    k: int,
    pairs: list,
    common: Callable,
    letter_of: list[str],
    weighted: bool,
    alpha: float,
    option: str,
    label: str,
    rank: bool,
) -> list[dict]:
    parts = [(x[g == c], w[g == c]) for c in range(k)]
    pv = {}
    for a, b in pairs:
        xa, wa = parts[a]
        xb, wb = parts[b]
        p, s = _rank_test(xa, wa, xb, wb, weighted) if rank else _welch(xa, wa, xb, wb)
        pv[(a, b)] = (np.array([p]), np.array([s]))
    sig = _letters_from(pv, k, 1, letter_of, alpha)[0]
    test = ("ridit_z" if weighted else "mannwhitney") if rank else "welch_t"
    return [
        {
            "stat": "mean",
            "option": option,
            "label": label,
            **common(c),
            "value": float((xc * wc).sum() / wc.sum()) if len(xc) else float("nan"),
            "count": np.nan,
            "sig": sig[c],
            "test": test,
        }
        for c, (xc, wc) in enumerate(parts)
    ]


# -- the tab book ----------------------------------------------------------------------------------
def _weights(df: pd.DataFrame, weights: str | None, where: str = "données") -> np.ndarray:
    if weights is None:
        return np.ones(len(df))
    if weights not in df.columns:
        raise KeyError(f"{where} : la colonne de poids {weights!r} est absente des données")
    w = pd.to_numeric(df[weights], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~(w > 0) | ~np.isfinite(w))
    if len(bad):
        raise ValueError(
            f"{where} : la colonne de poids {weights!r} doit être positive et finie ; lignes {[int(i) + 1 for i in bad[:5]]}"
        )
    return w


def tabbook(
    df: pd.DataFrame,
    codebook: Codebook,
    banners: Sequence[Banner] | None = None,
    *,
    weights: str | None = None,
    questions: Sequence[str] | None = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Every question (or ``questions``) × the total and each banner variable, as a tidy table (``COLUMNS``).

    ``value`` is a percent (0–100) of those asked in the column (``stat == "percent"``) or a mean
    (``stat == "mean"``: option "mean", or "rank" for the mean position of an ordered single choice,
    which carries the rank test). ``count`` is the unweighted number of respondents ticking the option;
    ``base_n`` the unweighted base, ``base_weighted`` Σw, ``base_effective`` Kish's (Σw)²/Σw² (= base_n
    unweighted). ``sig`` holds the letters of the columns the cell is significantly higher than.
    """
    banners = list(banners) if banners is not None else load_banners(codebook)
    qs = [codebook[q] for q in questions] if questions is not None else tab_questions(codebook)
    w_all = _weights(df, weights)
    weighted = weights is not None
    from cnfs.scoring import asked as asked_mask

    spec: list[tuple[str, str, np.ndarray, list[str], bool]] = [
        (TOTAL_ID, TOTAL_LABEL, np.zeros(len(df), dtype=int), [TOTAL_LABEL], False)
    ]
    for b in banners:
        s = banner_series(df, codebook, b)
        cols = [str(c) for c in s.cat.categories]
        spec.append((b.id, b.label, s.cat.codes.to_numpy(dtype=int), cols, True))
    rows: list[dict] = []
    for q in qs:
        if q.type not in TAB_TYPES:
            raise TypeError(f"question {q.id!r} is {q.type}: the tab book crosses {TAB_TYPES}")
        m = asked_mask(df, codebook, q.id).to_numpy()
        Y = x = None
        if q.type in ("single", "multi"):
            Y = _indicators(df, q, m)[2]
        else:
            x = pd.to_numeric(df.loc[m, q.id], errors="coerce").to_numpy(dtype=float)
        w = w_all[m]
        head = {
            "question": q.id,
            "question_label": q.label,
            "wording": q.wording,
            "type": q.type,
            "base": codebook.base_label(q.id),
        }
        for bid, blabel, codes, cols, test in spec:
            for r in _cross(q, Y, x, w, codes[m], cols, weighted, alpha, test and len(cols) > 1):
                rows.append({**head, "banner": bid, "banner_label": blabel, **r})
    out = pd.DataFrame(rows)
    out["weighting"] = weights or "none"
    out["count"] = out["count"].astype("Int64")
    return out[COLUMNS]


# -- weighting and disclosure control --------------------------------------------------------------
WEIGHTINGS = ("none", "raking")
WEIGHT_COLUMN = "poids_calage"


def population_available() -> bool:
    """Whether a population file is there to rake to (then tab books come weighted and unweighted)."""
    from cnfs import paths

    return paths.population_file().is_file()


def with_raking_weights(df: pd.DataFrame, codebook: Codebook, wave: str, column: str = WEIGHT_COLUMN) -> pd.DataFrame:
    """A copy of ``df`` with raking weights (``cnfs.design``, to the wave's population margins) as ``column``."""
    from cnfs.design import make_design

    design = make_design(df, codebook, weighting="raking", wave=wave)
    return df.assign(**{column: design.weights})


def weighting_label(weighting: str, codebook: Codebook | None = None, wave: str = "all") -> str:
    """French description of the weighting of a tab book."""
    if weighting == "none":
        return "sans pondération (comme l'article)"
    from cnfs import paths
    from cnfs.formatting import display_path

    where = display_path(paths.population_file())
    return f"pondéré par calage (raking) sur les marges de la population des conseillers ({where})"


CROSS_NOTE = (
    "Secret statistique entre colonnes : lorsqu'une seule cellule (ou une seule colonne) d'une variable de "
    "ventilation est masquée sur une ligne, une seconde l'est aussi (la plus petite), pour que la colonne "
    "« Ensemble » moins les autres colonnes ne la redonne pas ; de même entre les modalités d'une question "
    "à choix unique, dont le total est la base ; de même entre les tableaux croisés de l'ensemble des vagues "
    "et ceux de chaque vague, dont les cellules s'additionnent."
)


def _lone_sets(keys: np.ndarray, hidden: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
    """Whether each row's set (same key) holds exactly one hidden value (``extra`` adds hidden values outside the rows)."""
    codes, inverse = np.unique(keys, return_inverse=True)
    n = np.bincount(inverse, weights=hidden.astype(float), minlength=len(codes))
    if extra is not None:
        n += np.bincount(inverse, weights=extra.astype(float), minlength=len(codes)) > 0
    return (n == 1)[inverse]


def _pick_smallest(keys: np.ndarray, candidate: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Rows to withhold: in each set with a candidate, the candidate of smallest positive size (else the smallest)."""
    idx = np.flatnonzero(candidate)
    if not len(idx):
        return idx
    order = np.lexsort((size[idx], size[idx] <= 0, keys[idx]))
    chosen = idx[order]
    first = np.r_[True, keys[chosen][1:] != keys[chosen][:-1]]
    return chosen[first]


def secondary_across(
    tab: pd.DataFrame, hidden: np.ndarray, withheld: np.ndarray, linked: Sequence[np.ndarray] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Secondary suppression across the columns of each banner variable (and the options of a column).

    ``hidden`` marks the cells already withheld, ``withheld`` the cells of columns withheld whole (base
    under the threshold). The Ensemble column is the sum of a banner's columns (plus those outside them),
    so a lone withheld cell of a row, or a lone withheld column of a banner, could be given back by
    subtraction: the next smallest is withheld too. A single choice's options add up to the column's
    base: a lone withheld option is joined by the next smallest. Repeated until nothing changes.
    ``linked``: arrays naming, for each row, a set of columns (of other tab books concatenated in ``tab``)
    that add up or are equal ("" for none); a lone withheld column or cell of such a set takes a second.
    Returns the new (hidden, withheld) masks.
    """
    hidden, withheld = hidden.copy(), withheld.copy()
    q, b, c = (tab[k].to_numpy(dtype=object).astype(str) for k in ("question", "banner", "column"))
    stat, opt = tab["stat"].to_numpy(dtype=object).astype(str), tab["option"].to_numpy(dtype=object).astype(str)
    banner = b != TOTAL_ID
    base = tab["base_n"].to_numpy(dtype=float)
    count = pd.to_numeric(tab["count"], errors="coerce").to_numpy(dtype=float)
    size = np.where(stat == "percent", count, base)
    qb, col = q + "|" + b, q + "|" + b + "|" + c
    row = q + "|" + stat + "|" + opt
    # columns withheld whole: a banner with one such column gets a second (its smallest other non-empty column)
    first = banner & ~pd.Series(col).duplicated().to_numpy() & (base > 0)
    lone = _lone_sets(qb[first], withheld[first])
    extra_cols = _pick_smallest(qb[first], lone & ~withheld[first], base[first])
    if len(extra_cols):
        withheld |= np.isin(col, col[first][extra_cols])
    for key in linked:  # the same column in linked tab books (a wave's and all waves')
        on = (key != "") & ~pd.Series(col).duplicated().to_numpy() & (base > 0)
        lone = _lone_sets(key[on], withheld[on])
        extra = _pick_smallest(key[on], lone & ~withheld[on], base[on])
        if len(extra):
            withheld |= np.isin(col, col[on][extra])
    hidden |= withheld
    cell_links = [(key != "", np.where(key != "", key + "|" + stat + "|" + opt, "")) for key in linked]
    single = (tab["type"].to_numpy(dtype=object) == "single") & (stat == "percent")
    where_b, where_t = np.flatnonzero(banner), np.flatnonzero(~banner)
    rk = row[banner] + "|" + b[banner]
    for _ in range(50):
        before = hidden.sum()
        # rows: Ensemble = Σ columns, so one withheld value among the Ensemble and a banner's columns needs a second
        total_hidden = pd.Series(hidden[where_t], index=row[where_t])
        t_hidden = total_hidden[~total_hidden.index.duplicated()].reindex(row[banner], fill_value=False)
        lone = _lone_sets(rk, hidden[banner], t_hidden.to_numpy(dtype=bool))
        pick = _pick_smallest(rk, lone & ~hidden[banner] & (base[banner] > 0), size[banner])
        hidden[where_b[pick]] = True
        stuck = sorted(set(rk[lone]) - set(rk[pick]))  # a lone withheld cell and no other column to withhold…
        if stuck:  # …so the Ensemble cell of that row goes
            hidden[where_t[np.isin(row[where_t], [k.rsplit("|", 1)[0] for k in stuck])]] = True
        # a single choice's options add up to the column's base
        ck, h, pos = col[single], hidden[single], count[single] > 0
        n_h = pd.Series(h.astype(int)).groupby(ck).transform("sum").to_numpy()
        lone = (n_h == 1) & _lone_sets(ck, h & pos)
        pick = _pick_smallest(ck, lone & ~h & pos, count[single])
        hidden[np.flatnonzero(single)[pick]] = True
        for on, key in cell_links:
            lone = _lone_sets(key[on], hidden[on])
            pick = _pick_smallest(key[on], lone & ~hidden[on] & (base[on] > 0), size[on])
            hidden[np.flatnonzero(on)[pick]] = True
        if hidden.sum() == before:
            break
    return hidden, withheld


def disclose(
    tab: pd.DataFrame,
    min_count: int | None = None,
    codebook: Codebook | None = None,
    linked: Sequence[np.ndarray] = (),
) -> pd.DataFrame:
    """The tab book under the project's disclosure control (``cnfs.disclosure``), withheld cells blanked.

    Each set of rows of one question, statistic, banner and column is one table for the rule: counts of
    1 to min_count − 1 and results on fewer than min_count respondents are withheld (value, count, letters),
    with a second count of a single choice's column when the base would give the first back; then
    :func:`secondary_across` keeps the Ensemble column minus the other columns from giving any back.
    """
    from cnfs import disclosure

    pol = disclosure.policy(codebook, min_count)
    work = tab.assign(
        n=tab["base_n"],
        percent=tab["value"].where(tab["stat"] == "percent"),
        mean=tab["value"].where(tab["stat"] == "mean"),
    )
    safe = disclosure.suppress(
        work,
        min_count=pol.min_count,
        fragile_base=pol.fragile_base,
        count="count",
        base="n",
        by=[],
        additive=False,  # primary rule only: secondary_across applies the second counts, within and across columns
    )
    out = tab.copy()
    hidden = safe["suppressed"].to_numpy(dtype=bool)
    # the mean position of an ordered choice would narrow down its withheld counts: withheld with them
    cell = tab["question"] + "|" + tab["banner"] + "|" + tab["column"]
    rank = (tab["option"] == "rank").to_numpy()
    small = ((tab["base_n"] > 0) & (tab["base_n"] < pol.min_count)).to_numpy()
    cell_codes = pd.factorize(cell)[0]
    for _ in range(10):
        any_hidden = np.bincount(cell_codes, weights=hidden & ~rank, minlength=cell_codes.max() + 1) > 0
        hidden = hidden | (any_hidden[cell_codes] & rank)
        before = (hidden.sum(), small.sum())
        hidden, small = secondary_across(tab, hidden, small, linked)
        if (hidden.sum(), small.sum()) == before:
            break
    reason = safe["suppression"].to_numpy(dtype=object).copy()
    reason[hidden & (reason == "")] = "secondaire"
    out["value"] = out["value"].where(~hidden)
    out["count"] = out["count"].where(~hidden)
    out["sig"] = out["sig"].where(~hidden, "")
    for col in ("base_n", "base_weighted", "base_effective"):
        out[col] = out[col].where(~small)
    out["base_n"] = out["base_n"].astype("Int64")
    # no letter may point at a withheld cell of the same row, nor at a column withheld whole
    row = tab["question"] + "|" + tab["stat"] + "|" + tab["option"] + "|" + tab["banner"]
    gone = pd.Series(tab["letter"].to_numpy()[hidden | small]).groupby(row.to_numpy()[hidden | small]).agg("".join)
    qb = (tab["question"] + "|" + tab["banner"]).to_numpy()
    whole = pd.Series(tab["letter"].to_numpy()[small]).groupby(qb[small]).agg("".join)
    gone_d, whole_d = gone.to_dict(), whole.to_dict()
    drop = [gone_d.get(r, "") + whole_d.get(k, "") for r, k in zip(row, qb)]
    out["sig"] = [s if not (s and d) else "".join(ch for ch in s if ch not in d) for s, d in zip(out["sig"], drop)]
    out["suppressed"] = hidden
    out["suppression"] = reason
    out["fragile"] = safe["fragile"].to_numpy(dtype=bool) & ~hidden
    out.attrs["disclosure_note"] = pol.note() + " " + CROSS_NOTE
    return out


BOOK_SEP = "\x1f"


def disclose_books(
    tabs: Mapping[str, pd.DataFrame], min_count: int | None = None, codebook: Codebook | None = None
) -> dict[str, pd.DataFrame]:
    """The tab books of all waves (key "all") and of each wave (key: the wave) under one disclosure control.

    A cell of all waves is the sum of the same cell of each wave, and a wave's Ensemble the all-waves
    book's column of that wave: a cell withheld in one book alone would come back by subtraction from
    the others, so these sets get a second withheld cell too (:func:`secondary_across`).
    """
    parts = []
    for book, t in tabs.items():
        q = t["question"].astype(str)
        if book == "all":
            wave_col = t["banner"] == "wave"
            summed = np.where(~wave_col, "S|" + q + "|" + t["banner"] + "|" + t["column"], "")
            same = np.where(wave_col, "I|" + q + "|" + t["column"], "")
        else:
            summed = ("S|" + q + "|" + t["banner"] + "|" + t["column"]).to_numpy(dtype=object)
            same = np.where(t["banner"] == TOTAL_ID, "I|" + q + "|" + wave_heading(book), "")
        parts.append(t.assign(question=book + BOOK_SEP + q, _book=book, _sum=summed, _same=same))
    joint = pd.concat(parts, ignore_index=True)
    links = [joint.pop(k).to_numpy(dtype=object).astype(str) for k in ("_sum", "_same")]
    book = joint.pop("_book")
    safe = disclose(joint, min_count, codebook, links)
    out = {}
    for name, t in tabs.items():
        part = safe[book.to_numpy() == name].copy()
        part["question"] = part["question"].str.split(BOOK_SEP, n=1).str[1]
        part.index = t.index
        part.attrs = safe.attrs
        out[name] = part
    return out


# -- presentation ----------------------------------------------------------------------------------
SUPPRESSED_MARK = "[c]"


FRAGILE_NOTE = "Entre parenthèses : résultat fragile, calculé sur une base de moins de 30 répondants."


def _cell_text(value: Any, stat: str, sig: str, suppressed: bool, fragile: bool = False) -> str:
    from cnfs.formatting import fmt_num, fmt_pct

    if suppressed:
        return SUPPRESSED_MARK
    text = fmt_pct(value, 1) if stat == "percent" else fmt_num(value, 2)
    if fragile and value == value:
        text = f"({text})"
    return f"{text} {sig}".strip() if sig else text


def column_headers(tab: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(banner, column) -> header text: "Ensemble", then each column with its letter, "Structure publique (A)"."""
    triples = dict.fromkeys(zip(tab["banner"], tab["column"], tab["letter"]))
    return {(b, c): (f"{c} ({let})" if let else c) for b, c, let in triples}


@dataclass(frozen=True)
class ShownTable:
    """A French table as plain lists: its columns (banner label, header), row labels and cell texts."""

    columns: list[tuple[str, str]]
    rows: list[str]
    body: list[list[str]]

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame: rows are options (and the bases), columns (banner label, header)."""
        wide = pd.DataFrame(self.body, index=self.rows, columns=pd.MultiIndex.from_tuples(self.columns))
        wide.index.name = "Réponse"
        return wide


_LISTED = ("banner", "banner_label", "column", "letter", "label", "base_n", "base_effective", "weighting")


def _as_lists(tab: pd.DataFrame) -> dict[str, list]:
    """The columns French tables are built from, as Python lists, and each cell's text (once per tab book)."""
    cols = {k: tab[k].tolist() for k in _LISTED}
    hidden = tab["suppressed"].tolist() if "suppressed" in tab else [False] * len(tab)
    fragile = tab["fragile"].tolist() if "fragile" in tab else [False] * len(tab)
    cols["text"] = [
        _cell_text(v, s, g, bool(x), bool(f))
        for v, s, g, x, f in zip(tab["value"].tolist(), tab["stat"].tolist(), tab["sig"].tolist(), hidden, fragile)
    ]
    return cols


def _shown(rows: Sequence[int], cols: Mapping[str, list]) -> ShownTable:
    """The French table of the tab book's rows ``rows`` (``cols`` from :func:`_as_lists`), bases last."""
    from cnfs.formatting import fmt_num

    b, c, let = cols["banner"], cols["column"], cols["letter"]
    heads = {(x, y): (f"{y} ({z})" if z else y) for x, y, z in dict.fromkeys((b[i], c[i], let[i]) for i in rows)}
    header = {i: (cols["banner_label"][i], heads[(b[i], c[i])]) for i in rows}
    first: dict[tuple[str, str], int] = {}
    for i in rows:
        first.setdefault(header[i], i)
    order = list(first)
    labels = list(dict.fromkeys(cols["label"][i] for i in rows))
    cells = {(cols["label"][i], header[i]): cols["text"][i] for i in rows}
    body = [[cells.get((r, h), "") for h in order] for r in labels]
    n = [cols["base_n"][first[h]] for h in order]
    body.append([fmt_num(x) if pd.notna(x) else SUPPRESSED_MARK for x in n])
    labels.append("Base (n)")
    if any(cols["weighting"][i] != "none" for i in rows):
        neff = [cols["base_effective"][first[h]] for h in order]
        body.append([fmt_num(x, 1) if pd.notna(x) else SUPPRESSED_MARK for x in neff])
        labels.append("Base effective (Kish)")
    return ShownTable(order, labels, body)


def display_table(tab: pd.DataFrame) -> pd.DataFrame:
    """French table of one question: rows are options (and the bases), columns (banner, column with its letter)."""
    return _shown(range(len(tab)), _as_lists(tab)).frame()


def _html_text(value: str) -> str:
    """A cell's text as pandas' ``to_html`` writes it: control characters shown escaped, & < > escaped, trimmed."""
    text = value.replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").strip()
    return text.replace("  ", "&nbsp;&nbsp;")


def table_html(shown: ShownTable) -> str:
    """The table as ``shown.frame().rename_axis(None).to_html(border=0)`` writes it, byte for byte (tests compare
    them), without building a DataFrame per question: the tab book page has one table per question."""
    spans: list[list[Any]] = []  # consecutive equal banner labels share one header cell, as pandas sparsifies them
    for label, _ in shown.columns:
        if spans and spans[-1][0] == label:
            spans[-1][1] += 1
        else:
            spans.append([label, 1])
    lines = ['<table class="dataframe">', "  <thead>", "    <tr>", "      <th></th>"]
    lines += [
        f'      <th colspan="{k}" halign="left">{_html_text(x)}</th>' if k > 1 else f"      <th>{_html_text(x)}</th>"
        for x, k in spans
    ]
    lines += [
        "    </tr>",
        "    <tr>",
        "      <th></th>",
        *(f"      <th>{_html_text(h)}</th>" for _, h in shown.columns),
    ]
    lines += ["    </tr>", "  </thead>", "  <tbody>"]
    for label, cells in zip(shown.rows, shown.body):
        lines += [
            "    <tr>",
            f"      <th>{_html_text(label)}</th>",
            *(f"      <td>{_html_text(x)}</td>" for x in cells),
        ]
        lines.append("    </tr>")
    lines += ["  </tbody>", "</table>"]
    return "\n".join(lines)


def _question_rows(tab: pd.DataFrame) -> list[list[int]]:
    """Positions of each question's rows, questions in order of first appearance (as ``groupby(sort=False)``)."""
    codes = pd.factorize(tab["question"])[0]
    order = np.argsort(codes, kind="stable")
    return [part.tolist() for part in np.split(order, np.cumsum(np.bincount(codes))[:-1])]


def sheet_table(tab: pd.DataFrame, banner: str) -> pd.DataFrame:
    """One banner variable as a publication table: one header row, one row per question × option, numbers as numbers.

    Columns: question id and wording, option, statistic, then for the total and each column of the banner
    its value, its unweighted base, (its effective base when weighted) and its significance letters.
    """
    part = tab[tab["banner"].isin([TOTAL_ID, banner])]
    heads = column_headers(part)
    weighted = (part["weighting"] != "none").any()
    keys = ["question", "question_label", "option", "label", "stat"]
    out = part[keys].drop_duplicates().reset_index(drop=True)
    out["stat"] = out["stat"].map({"percent": "Pourcentage", "mean": "Moyenne"})
    hidden = part["suppressed"].to_numpy(dtype=bool) if "suppressed" in part else np.zeros(len(part), dtype=bool)
    value = np.round(part["value"].to_numpy(dtype=float), 4).astype(object)
    value[hidden] = SUPPRESSED_MARK
    base_n = part["base_n"].astype(object).to_numpy(copy=True)
    base_n[~(part["base_n"].notna() | (part["base_weighted"] == 0)).to_numpy()] = SUPPRESSED_MARK
    effective = np.round(part["base_effective"].to_numpy(dtype=float), 1)
    sig = part["sig"]
    at = part.groupby(["banner", "column"], sort=False).indices  # each column's rows, in the order of ``out``
    columns: dict[str, pd.Series] = {}
    for (b, c), head in heads.items():
        rows = at[(b, c)]
        columns[f"{head} : valeur"] = pd.Series(value[rows], dtype=object)
        columns[f"{head} : base (n)"] = pd.Series(base_n[rows], dtype=object)
        if weighted:
            columns[f"{head} : base effective"] = pd.Series(effective[rows])
        if b != TOTAL_ID:
            columns[f"{head} : lettres"] = pd.Series(sig.to_numpy()[rows], dtype=sig.dtype)
    out = pd.concat([out, pd.DataFrame(columns, index=out.index)], axis=1)
    return out.rename(
        columns={
            "question": "Question (code)",
            "question_label": "Question",
            "option": "Réponse (code)",
            "label": "Réponse",
            "stat": "Statistique",
        }
    )


SOURCE = "Enquête auprès des conseillers numériques France Services (programme de recherche ANCT), traitements cnfs-notebooks"
SHEET_BASE = (
    "Base : dans chaque colonne, les répondants à qui la question a été posée (colonnes « base (n) », non "
    "pondérées{eff}) ; valeurs : pourcentages (0 à 100) de la colonne, ou moyennes."
)
LETTERS_NOTE = (
    "Colonnes « lettres » : lettres des colonnes de la même variable de ventilation dont la cellule est "
    "significativement plus élevée ; [x] : aucune différence significative ou pas de test. La colonne "
    "« Ensemble » ne porte pas de lettres."
)


def write_spreadsheet(
    tab: pd.DataFrame, path: str | Path, *, title: str, wave: str, weighting: str, synthetic: bool
) -> Path:
    """The tab book as an .xlsx through the project's publication writer (``cnfs.spreadsheet``): cover,
    contents, notes, then one table per banner variable (the total and the banner's columns side by side)."""
    from cnfs.provenance import SYNTHETIC_WARNING
    from cnfs.spreadsheet import CoverInfo, SheetTable, write_workbook

    banners = [b for b in dict.fromkeys(tab["banner"]) if b != TOTAL_ID] or [TOTAL_ID]
    labels = dict(zip(tab["banner"], tab["banner_label"]))
    weighted = bool((tab["weighting"] != "none").any())
    notes = [*TEST_NOTES, LETTERS_NOTE, weighting_label(weighting)]
    if "suppressed" in tab:
        notes.append(str(tab.attrs.get("disclosure_note", "")))
    total = tab.loc[tab["banner"] == TOTAL_ID, "base_n"]
    n = int(pd.to_numeric(total, errors="coerce").max()) if total.notna().any() else None
    base = SHEET_BASE.format(eff=" ; base effective de Kish quand les données sont pondérées" if weighted else "")
    tables = [
        SheetTable(
            name=b,
            title=f"{title} — selon : {labels[b]}" if b != TOTAL_ID else title,
            data=sheet_table(tab, b),
            base=base,
            n=n,
            notes=[x for x in notes if x],
        )
        for b in banners
    ]
    cover = CoverInfo(
        title=title,
        source=SOURCE,
        synthetic_warning=SYNTHETIC_WARNING if synthetic else None,
        produced=pd.Timestamp.now(tz="UTC").to_pydatetime(),
        weighting=weighting_label(weighting),
        extra=["Vague : " + ("toutes vagues réunies" if wave == "all" else f"vague {wave}")],
    )
    return write_workbook(Path(path), tables, cover)


# -- a tab book per wave folder --------------------------------------------------------------------


def html_page(tab: pd.DataFrame, *, title: str, notes: Sequence[str], synthetic: bool) -> str:
    """A self-contained French HTML page: one table per question, the total and every banner side by side."""
    import html as h

    from cnfs.provenance import SYNTHETIC_WARNING

    parts = [
        "<!DOCTYPE html>",
        '<html lang="fr"><head><meta charset="utf-8">',
        f"<title>{h.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#1d1d1d}table{border-collapse:collapse;"
        "margin:.5rem 0 2rem;font-size:.85rem}th,td{padding:.2rem .5rem;border-bottom:1px solid #ddd;text-align:right}"
        "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.banner{background:#fdecea;"
        "border:2px solid #b00020;color:#b00020;padding:.6rem;font-weight:600}nav ol{columns:2;font-size:.9rem}</style>",
        "</head><body>",
        f"<h1>{h.escape(title)}</h1>",
    ]
    if synthetic:
        parts.append(f'<p class="banner">⚠ {h.escape(SYNTHETIC_WARNING)}</p>')
    parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{h.escape(n)}</li>" for n in notes if n) + "</ul>")
    labels = tab.drop_duplicates("question").set_index("question")["question_label"]  # readers see the wording
    parts.append(
        "<h2>Questions</h2><nav><ol>"
        + "".join(f'<li><a href="#{h.escape(q)}">{h.escape(str(label))}</a></li>' for q, label in labels.items())
        + "</ol></nav>"
    )
    cols = _as_lists(tab)
    qid, qlabel, wording, base = (tab[k].tolist() for k in ("question", "question_label", "wording", "base"))
    for rows in _question_rows(tab):
        i = rows[0]
        parts.append(f'<h3 id="{h.escape(qid[i])}">{h.escape(str(qlabel[i]))}</h3>')
        parts.append(f"<p>{h.escape(str(wording[i]))}<br><small>Base : {h.escape(str(base[i]))}</small></p>")
        parts.append(table_html(_shown(rows, cols)))
    parts.append("</body></html>")
    return "\n".join(parts)


def _books(
    df: pd.DataFrame, codebook: Codebook, books: Sequence[str], weighting: str, min_count: int | None
) -> dict[str, pd.DataFrame]:
    """The disclosed tab books ``books`` ("all" or a wave) of ``df``, withheld together when there are several."""
    wc = codebook.wave_column
    waves = codebook.waves_in(df)
    banners = load_banners(codebook)
    out: dict[str, pd.DataFrame] = {}
    for book in books:
        data = df if book == "all" or book not in waves else df[df[wc].astype(str) == book]
        if weighting != "none":
            data = with_raking_weights(data, codebook, book)
        use = banners if book == "all" else [b for b in banners if b.derived != "wave"]
        out[book] = tabbook(data, codebook, use, weights=None if weighting == "none" else WEIGHT_COLUMN)
    if len(out) == 1:
        return {book: disclose(t, min_count, codebook) for book, t in out.items()}
    return disclose_books(out, min_count, codebook)


def linked_books(
    df: pd.DataFrame, codebook: Codebook, books: Sequence[str], weighting: str = "none", min_count: int | None = None
) -> dict[str, pd.DataFrame]:
    """:func:`_books`, computed once per render: every wave folder's tab book step needs the same books, so they
    go through the render's memo (``cnfs.memo``: keyed on the data, codebook, banners, population file, arguments
    and the code; off outside a render). Only disclosed aggregates are stored."""
    from cnfs import memo

    inputs: list[Any] = [df, codebook, BANNERS_FILE, list(books), weighting, min_count]
    if weighting != "none":
        inputs += [str(paths.population_file()), paths.population_file()]
    return memo.cached("tabbook_books", inputs, lambda: _books(df, codebook, books, weighting, min_count))


def linked_tabbook(
    df: pd.DataFrame, codebook: Codebook, wave: str = "all", weighting: str = "none", min_count: int | None = None
) -> pd.DataFrame:
    """The disclosed tab book of ``wave`` ("all" or one wave) from all waves' data ``df``, withheld jointly with
    the books of all waves and of every wave (:func:`disclose_books`): no wave folder's file gives back
    another's withheld cells. A wave folder leaves out the wave banner."""
    waves = codebook.waves_in(df)
    books = ["all", *waves] if (wave == "all" or wave in waves) else [wave]
    return linked_books(df, codebook, books, weighting, min_count)[wave]


def write_wave_tabbook(
    wave_dir: str | Path, wave: str = "all", data_path: str | None = None, min_count: int | None = None
) -> list[Path]:
    """Tab book of a wave folder: spreadsheet, HTML page and tidy CSV, unweighted and (population file present) raked.

    Every file is written atomically; disclosure control applies to all of them.
    """
    from cnfs.atomic import write_text as atomic_write_text
    from cnfs.loader import load_survey

    wave_dir = Path(wave_dir)
    from cnfs.errors import InputError

    try:  # every wave: the books of all waves and of each are withheld together
        survey = load_survey(data_path, "all")
        one_wave = wave != "all" and not (survey.data[survey.codebook.wave_column].astype(str) == wave).any()
    except InputError:  # an export that only reads as one wave (its wave given by the argument)
        if wave == "all":
            raise
        one_wave = True
    if one_wave:
        survey = load_survey(data_path, wave)
    df, codebook = survey
    written: list[Path] = []
    weightings = ["none", "raking"] if population_available() else ["none"]
    for weighting in weightings:
        tab = linked_tabbook(df, codebook, wave, weighting, min_count)
        stem = TABBOOK_STEM if weighting == "none" else f"{TABBOOK_STEM}_ponderes"
        wave_text = "toutes vagues" if wave == "all" else f"vague {wave}"
        title = f"Tableaux croisés — {wave_text}" + (" — pondérés" if weighting != "none" else "")
        notes = [weighting_label(weighting), *TEST_NOTES, str(tab.attrs.get("disclosure_note", "")), FRAGILE_NOTE]
        written.append(
            write_spreadsheet(
                tab,
                wave_dir / f"{stem}.xlsx",
                title=title,
                wave=wave,
                weighting=weighting,
                synthetic=survey.is_synthetic,
            )
        )
        page = wave_dir / f"{stem}.html"
        atomic_write_text(page, html_page(tab, title=title, notes=notes, synthetic=survey.is_synthetic))
        csv = wave_dir / f"{stem}.csv"
        atomic_write_text(csv, tab.drop(columns=["wording"]).to_csv(index=False, lineterminator="\n"))
        written += [page, csv]
    return written
