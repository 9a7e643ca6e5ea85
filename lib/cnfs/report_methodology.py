"""The survey's methodology: responses per wave, sample facts, representativeness.

A part of ``cnfs.notebook.Report``: its methods use the report's data, codebook, disclosure
control and writers (``self.df``, ``self.codebook``, ``self.protect_linked``, ``self._write_table``…)."""

from __future__ import annotations

import pandas as pd

from cnfs.formatting import (
    SUPPRESSED,
    base_caption,
    fmt_date,
    fmt_num,
    fmt_p,
    fmt_pct,
)
from cnfs.loader import load_survey
from cnfs.result import Result


class MethodologyResults:
    """The survey's methodology: responses per wave, sample facts, representativeness."""

    def representativeness(self) -> Result:
        """Sample against the population's margins per wave (data/population.yaml), with a goodness-of-fit test."""
        from cnfs.population import load_population
        from cnfs.representativeness import plot_representativeness, sample_vs_population

        full = self._all_waves()
        waves = [*self.codebook.waves_in(full), "all"]  # an export may hold one wave
        population = load_population(codebook=self.codebook)
        t, tests = sample_vs_population(full, self.codebook, population, waves)
        self._write_table(t, "representativite")
        self._write_table(tests, "representativite_test")
        shown = pd.DataFrame(
            {
                "Vague": t["wave"].map(lambda w: "toutes" if w == "all" else w),
                "Modalité": t["label"],
                "Échantillon": t["sample_percent"].map(lambda x: fmt_pct(x, 1)),
                "n": t["sample_n"].map(fmt_num),
                "Population": t["population_percent"].map(lambda x: fmt_pct(x, 1)),
                "Écart (points)": t["difference"].map(lambda x: fmt_num(x, 1)),
                "Statut de la marge": t["population_status"],
            }
        ).set_index(["Vague", "Modalité"])
        from cnfs import paths
        from cnfs.formatting import display_path

        # the file in use (cnfs render --population), not always data/population.yaml
        source = f"Population : {display_path(paths.population_file())} (source, date et statut de chaque valeur)."
        png = self._write_figure(plot_representativeness(t, self.codebook, caption=source), "representativite")
        notes = [
            f"Vague {'toutes' if r.wave == 'all' else r.wave} : n = {fmt_num(r.n)} sur N = {fmt_num(r.population_size)} "
            f"(taux de sondage {fmt_pct(100 * r.sampling_fraction, 1)}), khi-deux d'ajustement = {fmt_num(r.statistic, 1)}, "
            f"{fmt_p(r.p_value)}{' (Monte Carlo)' if r.test == 'chi2_mc' else ''}"
            for r in tests.itertuples()
        ]
        from cnfs.population import margin_totals
        from cnfs.weights import rake

        full = self._all_waves()
        for w in waves:
            part = full if w == "all" else full[full[self.codebook.wave_column].astype(str) == w]
            ws = rake(part, self.codebook, margin_totals(population, w, self.codebook)).summary()
            notes.append(
                f"Poids de calage, vague {'toutes' if w == 'all' else w} : de {fmt_num(ws['min'], 2)} à "
                f"{fmt_num(ws['max'], 2)}, coefficient de variation {fmt_num(ws['cv'], 2)}, effet de plan de Kish "
                f"{fmt_num(ws['kish_deff'], 2)}, n effectif {fmt_num(ws['effective_n'], 0)} (sur {fmt_num(ws['n'])})."
            )
        return Result(
            "Échantillon et population : statut de la structure d'accueil",
            t,
            shown,
            source,
            png,
            notes,
        )

    def response_counts(self) -> Result:
        """Complete answers per wave with the first and last answer dates (all waves, whatever the parameter)."""
        full = self._all_waves()
        w, d = self.codebook.wave_column, self.codebook.date_column
        g = full.groupby(w, observed=True)
        t = pd.DataFrame(
            {"n": g.size(), "premiere_reponse": g[d].min().dt.date, "derniere_reponse": g[d].max().dt.date}
        )
        t["part"] = 100 * t["n"] / t["n"].sum()
        small = t["n"] < self.policy.min_count  # first/last dates of a small wave could point to its respondents
        t[["premiere_reponse", "derniere_reponse"]] = (
            t[["premiere_reponse", "derniere_reponse"]].astype(object).where(~small, None)
        )
        t = t.reset_index().rename(columns={w: "vague"})
        title = "Réponses complètes par vague"
        caption = base_caption("ensemble des répondants", int(t["n"].sum()))
        self._write_table(t, "reponses_par_vague", title, caption)
        shown = pd.DataFrame(
            {
                "Vague": t["vague"].astype(str),
                "n": t["n"].map(fmt_num),
                "Part": t["part"].map(lambda x: fmt_pct(x, 1)),
                "Première réponse": t["premiere_reponse"].map(lambda d: fmt_date(d, SUPPRESSED)),
                "Dernière réponse": t["derniere_reponse"].map(lambda d: fmt_date(d, SUPPRESSED)),
            }
        ).set_index("Vague")
        return Result(title, t, shown, caption)

    def sample_facts(self) -> Result:
        """Panel members (same id in two waves) and incomplete answers left out at import (cnfs.sample)."""
        from cnfs.sample import sample_facts

        t = sample_facts(self.survey if self.wave == "all" else load_survey(self.data_path, "all"))
        self._write_table(t, "echantillon")
        return Result(
            "Réponses retenues, panel et réponses écartées",
            t,
            t.assign(valeur=t["valeur"].map(fmt_num)).set_index("fait"),
        )
