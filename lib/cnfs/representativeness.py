"""How far the sample is from the advisors' population: sample shares against the population margins per
wave, a goodness-of-fit test, and the chart.

The test is Pearson's chi-square of the sample counts against n × population shares
(``scipy.stats.chisquare``); when an expected count is below 5 the p-value is a seeded Monte Carlo one
over multinomial samples drawn from the population shares (p = (1 + #{simulated ≥ observed}) / (B + 1)).
The population margins are those of ``data/population.yaml`` (statut publié / hypothèse shown).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from cnfs.codebook import Codebook
from cnfs.contrasts import MONTE_CARLO_REPLICATES, MONTE_CARLO_SEED
from cnfs.population import STATUS_LABELS, Population, margin_totals
from cnfs.scoring import option_codes


def goodness_of_fit(
    observed: Sequence[int],
    shares: Sequence[float],
    *,
    replicates: int = MONTE_CARLO_REPLICATES,
    seed: int = MONTE_CARLO_SEED,
) -> dict:
    """Chi-square of observed counts against population shares (percent); Monte Carlo p when an expected count < 5."""
    obs = np.asarray(observed, dtype=float)
    p = np.asarray(shares, dtype=float) / np.sum(shares)
    n = obs.sum()
    expected = n * p
    keep = expected > 0
    res = stats.chisquare(obs[keep], expected[keep])
    out = {"test": "chi2", "statistic": float(res.statistic), "dof": int(keep.sum() - 1), "p_value": float(res.pvalue)}
    if expected[keep].min() < 5:
        sims = np.random.default_rng(seed).multinomial(int(n), p[keep], size=replicates)
        simulated = ((sims - expected[keep]) ** 2 / expected[keep]).sum(axis=1)
        out.update(
            test="chi2_mc", p_value=float((1 + np.sum(simulated >= res.statistic * (1 - 1e-12))) / (replicates + 1))
        )
    return out


def sample_vs_population(
    df: pd.DataFrame, codebook: Codebook, population: Population, waves: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per wave and margin option: sample n and %, population % and its status; and one test row per wave × variable.

    ``df`` holds every wave (the codebook's wave column); "all" means every row, compared with the
    population the pooled sample refers to.
    """
    wcol = codebook.wave_column
    rows, tests = [], []
    for wave in waves:
        part = df if wave == "all" else df[df[wcol].astype(str) == str(wave)]
        margins = margin_totals(population, wave, codebook)
        size = population.size(wave)
        for var, m in margins.groupby("variable", sort=False):
            codes = option_codes(part, codebook[var])
            counts = [int((codes == c).sum()) for c in m["code"]]
            n = sum(counts)
            for (_, r), k in zip(m.iterrows(), counts):
                rows.append(
                    {
                        "wave": wave,
                        "variable": var,
                        "code": r["code"],
                        "label": r["label"],
                        "sample_n": k,
                        "sample_percent": 100 * k / n if n else np.nan,
                        "population_percent": r["share"],
                        "difference": (100 * k / n if n else np.nan) - r["share"],
                        "population_status": STATUS_LABELS[r["status"]],
                        "population_size": size,
                        "n": n,
                    }
                )
            tests.append(
                {
                    "wave": wave,
                    "variable": var,
                    "n": n,
                    "population_size": size,
                    "sampling_fraction": n / size,
                    **goodness_of_fit(counts, m["share"].to_numpy()),
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(tests)


def plot_representativeness(table: pd.DataFrame, codebook: Codebook, *, title: str | None = None, caption: str = ""):
    """Sample against population shares, one panel per wave (bars: sample, markers: population)."""
    import matplotlib.pyplot as plt

    from cnfs.formatting import set_tick_format
    from cnfs.plots import FIG_WIDTH, _finish, _wrap, colors

    waves = list(dict.fromkeys(table["wave"]))
    fig, axes = plt.subplots(1, len(waves), figsize=(FIG_WIDTH, 3.8), squeeze=False, sharey=True)
    pal = colors(2)
    for ax, wave in zip(axes[0], waves):
        part = table[table["wave"] == wave]
        y = np.arange(len(part))
        ax.barh(y, part["sample_percent"], color=pal[0], label="échantillon")
        ax.scatter(part["population_percent"], y, color=pal[1], marker="D", zorder=3, label="population (marges)")
        ax.set_yticks(y, [_wrap(lab, 20) for lab in part["label"]], fontsize="small")
        ax.invert_yaxis()
        ax.set_xlabel("% des CnFS")
        set_tick_format(ax, "x")
        ax.set_title("toutes vagues" if wave == "all" else f"vague {wave}", fontsize="medium")
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="x-small", frameon=False)
    var = table["variable"].iloc[0]
    return _finish(fig, title or f"{codebook[var].short} : échantillon et population", caption)
