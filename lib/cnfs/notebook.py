"""What a section notebook calls: one object that loads the data, shows results the article's way,
and writes every table (CSV) and chart (PNG) under the output folder.

Each method returns a ``Result`` that Jupyter renders as a caption, a French-formatted table and a
chart; ``result.data`` is the tidy table behind it. Notebooks stay thin: no logic of their own.
"""
from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from cnfs import paths
from cnfs.formatting import base_caption, fmt_num, fmt_p, fmt_pct
from cnfs.loader import Survey, describe_source, load_survey
from cnfs.outputs import resolve_output_dir, write_figure, write_table
from cnfs.provenance import SYNTHETIC_WARNING
from cnfs.status import STYLE

WAVE_NOTE = (
    "Les chiffres publiés portent sur les deux vagues réunies : sur une seule vague, un écart au chiffre "
    "publié est attendu et ne signale pas une erreur."
)
STATUS_STYLE = STYLE  # one status vocabulary (cnfs.status)


def _subgroup_site_mode(df: pd.DataFrame) -> pd.Series:
    from cnfs.subgroups import site_mode

    return site_mode(df)


#: Subgroups derived from answers, usable as ``by=`` by name.
DERIVED_SUBGROUPS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {"site_mode": _subgroup_site_mode}


@dataclass
class Result:
    """A cell's output: title, French table, optional chart and caption; ``data`` is the tidy table."""

    title: str
    data: pd.DataFrame
    table: pd.DataFrame | None = None
    caption: str = ""
    png: bytes | None = None
    notes: list[str] = field(default_factory=list)
    styler: Any = None

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}</h4>"]
        if self.styler is not None:
            parts.append(self.styler.to_html())
        elif self.table is not None:
            parts.append(self.table.to_html(escape=True, border=0, classes="cnfs-table"))
        if self.png:
            b64 = base64.b64encode(self.png).decode()
            parts.append(f'<img alt="{html.escape(self.title)}" src="data:image/png;base64,{b64}"/>')
        for line in [self.caption, *self.notes]:
            if line:
                parts.append(f"<p><em>{html.escape(line)}</em></p>")
        return "\n".join(parts)

    def __repr__(self) -> str:
        body = (self.table if self.table is not None else self.data).to_string()
        return f"{self.title}\n{body}\n{self.caption}"


class Report:
    """The notebook's view of one survey file and wave, writing its tables and figures under ``output_dir``."""

    def __init__(self, wave: str = "all", data_path: str | None = None, output_dir: str | None = None, section: int | None = None,
                 weighting: str = "none"):
        from cnfs.plots import set_theme

        self.wave = str(wave)
        self.weighting = weighting  # "none" (the article) or "raking" (cnfs.design: weighted tables with their deff)
        self._design: Any = None
        self.data_path = data_path
        self.survey: Survey = load_survey(data_path, self.wave)
        self.df, self.codebook = self.survey
        self.section = section
        default = paths.OUTPUTS / ("all" if self.wave == "all" else f"wave-{self.wave}")
        self.out = resolve_output_dir(output_dir) if output_dir else default
        self.prefix = f"{section:02d}_" if section is not None else ""
        self._waves: Any = None
        set_theme()

    # ------------------------------------------------------------ files
    def _write_table(self, df: pd.DataFrame, name: str) -> Path:
        return write_table(df, self.out, f"{self.prefix}{name}")

    def _write_figure(self, fig: Any, name: str) -> bytes:
        """Save the chart as PNG under figures/ and return a smaller copy to embed in the notebook."""
        import matplotlib.pyplot as plt

        write_figure(fig, self.out, f"{self.prefix}{name}")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        return buf.getvalue()

    @property
    def design(self) -> Any:
        """The survey design of weighted tables (None when ``weighting == "none"``): raked to the wave's margins, with FPC."""
        if self.weighting == "none":
            return None
        if self._design is None:
            from cnfs.design import make_design

            # with the FPC, so that the design effect compares with a simple random sample from the same N (R's deff)
            self._design = make_design(self.df, self.codebook, weighting=self.weighting, fpc=True, wave=self.wave)
        return self._design

    def _weight_notes(self, t: pd.DataFrame) -> list[str]:
        if "weights" not in t:
            return []
        from cnfs.design import INTERVAL_METHOD

        return [f"Estimations pondérées ({t['weights'].iloc[0]}) ; {INTERVAL_METHOD} ; « Effet de plan » : "
                "variance rapportée à celle d'un sondage aléatoire simple de même taille (n et effectifs non pondérés)."]

    def _by(self, by: str | None) -> str | pd.Series | None:
        if by in DERIVED_SUBGROUPS:
            return DERIVED_SUBGROUPS[by](self.df)
        return by

    # ------------------------------------------------------------ header
    def header(self) -> Result | _Banner:
        """Parameters and provenance, with the synthetic-data warning when it applies."""
        src = describe_source(self.survey)
        facts = pd.DataFrame(
            {
                "Paramètre": ["Vague", "Fichier de données", "Empreinte SHA-256", "Données synthétiques", "Répondants (n)", "Pondération"],
                "Valeur": [
                    "toutes (vagues réunies)" if self.wave == "all" else self.wave,
                    src["fichier"],
                    src["sha256"],
                    "OUI" if src["synthetique"] else "non",
                    fmt_num(src["n"]),
                    "aucune (comme l'article)" if self.weighting == "none" else self.design.label,
                ],
            }
        ).set_index("Paramètre")
        notes = [] if self.wave == "all" else [WAVE_NOTE]
        res = Result("Paramètres et provenance des données", facts, facts, notes=notes)
        if self.survey.is_synthetic:
            banner = (
                '<div style="border:3px solid #b00020;background:#fdecea;padding:10px;margin:8px 0;'
                'font-weight:bold;color:#b00020">⚠ ' + html.escape(SYNTHETIC_WARNING) + "</div>"
            )
            return _Banner(banner, res)
        return res

    # ------------------------------------------------------------ published figures
    def figures(self, *ids: str) -> Result:
        """The published figures beside their computed values (interval, n, base, status)."""
        from cnfs.compare import display_table, reproduction_table

        table = reproduction_table(self.df, self.codebook, ids=list(ids), context=self._context())
        shown = display_table(table)
        styler = shown.style.map(lambda v: STATUS_STYLE.get(v, ""), subset=["Statut"])
        return Result("Chiffres publiés et recalculés", table, shown, styler=styler)

    def _context(self) -> dict[str, Any]:
        from cnfs.compare import population_context

        return population_context()

    def section_figures(self) -> Result:
        """Every figure of this notebook's section, with the count reproduced; written as CSV."""
        from cnfs.compare import display_table, headline, reproduction_table

        table = reproduction_table(self.df, self.codebook, section=self.section, context=self._context())
        self._write_table(table.drop(columns=["quote"]), "chiffres_publies")
        shown = display_table(table)
        styler = shown.style.map(lambda v: STATUS_STYLE.get(v, ""), subset=["Statut"])
        title = f"Section {self.section} — {headline(table)}"
        notes = [] if self.wave == "all" else [WAVE_NOTE]
        return Result(title, table, shown, styler=styler, notes=notes)

    # ------------------------------------------------------------ descriptive results
    def shares(self, qid: str, by: str | None = None, levels: Sequence[str] | None = None, chart: bool = True) -> Result:
        """Share of each option among those asked (multi-select: percent of respondents), with Wilson CI."""
        from cnfs.plots import plot_shares
        from cnfs.scoring import shares

        by_s = self._by(by)
        if levels is not None and by_s is not None:
            from cnfs.contrasts import restrict_levels

            by_s = restrict_levels(self.df, by_s, levels)
        t = shares(self.df, self.codebook, qid, by=by_s, design=self.design)
        name = qid if by is None else f"{qid}_par_{by}"
        self._write_table(t, name)
        shown = _format_shares(t)
        png = self._write_figure(plot_shares(t, legend_title=self._by_title(by)), name) if chart else None
        notes = self._weight_notes(t)
        if "mean_items" in t:
            notes.append(f"Nombre moyen d'items cochés : {fmt_num(t['mean_items'].iloc[0], 2)} (choix multiples : les pourcentages sont des parts de répondants et dépassent 100 % au total).")
        return Result(self.codebook[qid].wording, t, shown, _caption(t), png, notes)

    def battery_shares(self, group: str) -> Result:
        """Shares of each option for every item of a single-choice battery (e.g. exchange frequencies)."""
        from cnfs.plots import plot_share_heatmap
        from cnfs.scoring import shares

        items = self.codebook.items(group)
        t = pd.concat(
            [shares(self.df, self.codebook, q.id, design=self.design).assign(item=q.label) for q in items], ignore_index=True
        )
        self._write_table(t, group)
        shown = t.pivot_table(index="item", columns="label", values="percent", sort=False, observed=True)
        shown = shown.reindex(index=[q.label for q in items], columns=[o.label for o in items[0].options])
        shown = shown.map(lambda x: fmt_pct(x, 1))
        png = self._write_figure(plot_share_heatmap(t, title=self.codebook.groups[group].short), group)
        return Result(self.codebook.groups[group].wording, t, shown, _caption(t), png, self._weight_notes(t))

    def scores(self, items: str | Sequence[str], chart: bool = True) -> Result:
        """Mean, sd, median, top-box and t interval of a battery (group id) or of listed items, ranked."""
        from cnfs.plots import plot_scores
        from cnfs.scoring import battery_summary, scale_summary

        if isinstance(items, str) and items in self.codebook.groups:
            t = battery_summary(self.df, self.codebook, items, design=self.design)
            title, name = self.codebook.groups[items].wording, items
        else:
            ids = [items] if isinstance(items, str) else list(items)
            t = scale_summary(self.df, self.codebook, ids, design=self.design)
            title, name = self.codebook[ids[0]].wording, "_".join(ids[:2])
        self._write_table(t, name)
        png = self._write_figure(plot_scores(t), name) if chart else None
        return Result(title, t, _format_scores(t), _caption(t), png, self._weight_notes(t))

    def distribution(self, qid: str) -> Result:
        """How the answers to one numeric item are spread."""
        from cnfs.plots import plot_distribution
        from cnfs.scoring import distribution

        t = distribution(self.df, self.codebook, qid, design=self.design)
        self._write_table(t, f"{qid}_distribution")
        png = self._write_figure(plot_distribution(t), f"{qid}_distribution")
        return Result(f"Distribution : {self.codebook[qid].label}", t, None, _caption(t), png, self._weight_notes(t))

    def contrast(self, qid: str, by: str, levels: Sequence[str] | None = None) -> Result:
        """A subgroup comparison: the table by group, the test, the effect size and its verdict."""
        from cnfs.contrasts import compare_groups
        from cnfs.plots import plot_comparison

        comp = compare_groups(self.df, self.codebook, qid, self._by(by), levels=levels)
        name = f"{qid}_selon_{by}"
        self._write_table(comp.table, name)
        self._write_table(comp.tests, f"{name}_test")
        png = self._write_figure(plot_comparison(comp, legend_title=self._by_title(by)), name)
        notes = [] if self.design is None else [
            "Comparaison non pondérée : les tests entre groupes portent sur les répondants (pas de test du plan de sondage)."]
        return Result(f"{self.codebook[qid].short} selon {self._by_label(by)}", comp.tests, _format_tests(comp.tests), _caption(comp.table), png, notes)

    def _by_title(self, by: str | None) -> str | None:
        if by is None:
            return None
        if by in self.codebook:
            return self.codebook[by].short
        return {"site_mode": "Nombre de sites", "wave": "Vague"}.get(by, by)

    def _by_label(self, by: str) -> str:
        if by in self.codebook:
            return f"« {self.codebook[by].short} »"
        return {"site_mode": "le nombre de sites (mono-site / multi-sites)", "wave": "la vague"}.get(by, by)

    # ------------------------------------------------------------ methodology
    def representativeness(self) -> Result:
        """Sample against the population's margins per wave (data/population.yaml), with a goodness-of-fit test."""
        from cnfs.population import load_population
        from cnfs.representativeness import plot_representativeness, sample_vs_population

        waves = [w for w in self.codebook.waves] + ["all"]
        population = load_population(codebook=self.codebook)
        t, tests = sample_vs_population(self._all_waves(), self.codebook, population, waves)
        self._write_table(t, "representativite")
        self._write_table(tests, "representativite_test")
        shown = pd.DataFrame({
            "Vague": t["wave"].map(lambda w: "toutes" if w == "all" else w), "Modalité": t["label"],
            "Échantillon": t["sample_percent"].map(lambda x: fmt_pct(x, 1)), "n": t["sample_n"].map(fmt_num),
            "Population": t["population_percent"].map(lambda x: fmt_pct(x, 1)),
            "Écart (points)": t["difference"].map(lambda x: fmt_num(x, 1)), "Statut de la marge": t["population_status"],
        }).set_index(["Vague", "Modalité"])
        png = self._write_figure(plot_representativeness(t, self.codebook), "representativite")
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
            notes.append(f"Poids de calage, vague {'toutes' if w == 'all' else w} : de {fmt_num(ws['min'], 2)} à "
                         f"{fmt_num(ws['max'], 2)}, coefficient de variation {fmt_num(ws['cv'], 2)}, effet de plan de Kish "
                         f"{fmt_num(ws['kish_deff'], 2)}, n effectif {fmt_num(ws['effective_n'], 0)} (sur {fmt_num(ws['n'])}).")
        return Result("Échantillon et population : statut de la structure d'accueil", t, shown,
                      "Population : data/population.yaml (source, date et statut de chaque valeur).", png, notes)

    def wave_equivalence(self) -> Result:
        """Homogeneity judged by equivalence (TOST, margins in data/analysis_assumptions.yaml), per question."""
        from cnfs.equivalence import equivalence_margins, equivalence_summary, wave_equivalence

        full = self._all_waves()
        qids = [q.id for q in self.codebook.questions.values() if q.type != "text"]
        t = wave_equivalence(full, self.codebook, qids)
        self._write_table(t, "equivalence_vagues")
        m = equivalence_margins()
        summary = equivalence_summary(t)
        notes = [f"Équivalence : intervalle de confiance à {fmt_pct(100 * (1 - 2 * m['alpha']), 0)} de l'écart (vague 2 − vague 1) "
                 f"contenu dans ± {fmt_num(m['proportion_points'], 0)} points pour une part, ± {fmt_num(m['standardized_mean'], 1)} "
                 "écart-type commun pour une moyenne (deux tests unilatéraux, TOST) ; une question est équivalente si toutes "
                 "ses modalités le sont. Marges : data/analysis_assumptions.yaml."]
        return Result("Homogénéité des vagues jugée par équivalence", t, summary,
                      base_caption("répondants interrogés sur chaque question", len(full)), None, notes)

    def response_counts(self) -> Result:
        """Complete answers per wave with the first and last answer dates (all waves, whatever the parameter)."""
        full = self._all_waves()
        w, d = self.codebook.wave_column, self.codebook.date_column
        g = full.groupby(w, observed=True)
        t = pd.DataFrame({"n": g.size(), "premiere_reponse": g[d].min().dt.date, "derniere_reponse": g[d].max().dt.date})
        t["part"] = 100 * t["n"] / t["n"].sum()
        t = t.reset_index().rename(columns={w: "vague"})
        self._write_table(t, "reponses_par_vague")
        shown = t.assign(
            n=t["n"].map(fmt_num), part=t["part"].map(lambda x: fmt_pct(x, 1))
        ).rename(columns={"vague": "Vague", "premiere_reponse": "Première réponse", "derniere_reponse": "Dernière réponse", "part": "Part"}).set_index("Vague")
        return Result("Réponses complètes par vague", t, shown, base_caption("ensemble des répondants", int(t["n"].sum())))

    def sample_facts(self) -> Result:
        """Panel members (same id in two waves) and incomplete answers left out at import (cnfs.sample)."""
        from cnfs.sample import sample_facts

        t = sample_facts(self.survey if self.wave == "all" else load_survey(self.data_path, "all"))
        self._write_table(t, "echantillon")
        return Result("Réponses retenues, panel et réponses écartées", t, t.assign(valeur=t["valeur"].map(fmt_num)).set_index("fait"))

    def _all_waves(self) -> pd.DataFrame:
        """The data of every wave (the report's own data when its wave is already "all")."""
        return self.df if self.wave == "all" else load_survey(self.data_path, "all").data

    def _wave_comparison(self) -> Any:
        """compare_waves over every question of the full data, computed once per report."""
        if self._waves is None:
            from cnfs.contrasts import compare_waves

            full = self._all_waves()
            qids = [q.id for q in self.codebook.questions.values() if q.type != "text"]
            self._waves = compare_waves(full, self.codebook, qids)
        return self._waves

    def wave_homogeneity(self) -> Result:
        """Every question compared between waves: test, BH-adjusted p, effect size and its verdict."""
        from cnfs.plots import plot_effects

        comp = self._wave_comparison()
        tests = comp.tests
        self._write_table(tests, "homogeneite_vagues")
        png = self._write_figure(plot_effects(comp, title="Écarts entre les vagues : tailles d'effet par question"), "homogeneite_vagues")
        verdicts = tests["verdict"].value_counts()
        summary = pd.DataFrame({"Comparaisons": verdicts, "Part": (100 * verdicts / verdicts.sum()).map(lambda x: fmt_pct(x, 1))})
        sig = int(tests["significant"].sum())
        from cnfs.contrasts import EFFECT_LABELS

        notes = [
            f"{len(tests)} comparaisons (une par question, une par option pour les choix multiples), "
            f"{sig} significative(s) au seuil de 5 % après correction de Benjamini-Hochberg ({comp.family}). "
            "Taille d'effet : V de Cramér pour les choix (seuils selon la taille du tableau), corrélation bisériale "
            "des rangs pour les échelles et les modalités ordonnées (test de tendance entre vagues), d de Cohen pour "
            "les nombres ; chaque mesure a son échelle, les plus grands écarts sont donnés mesure par mesure.",
        ]
        for effect, part in tests.dropna(subset=["effect_size"]).groupby("effect", sort=False):
            worst = part.loc[part["effect_size"].abs().idxmax()]
            label = worst["label"] if isinstance(worst["label"], str) else worst["question_label"]
            notes.append(f"Plus grand écart ({EFFECT_LABELS.get(effect, effect)}) : « {label} » "
                         f"({fmt_num(worst['effect_size'], 3)}, ampleur {worst['verdict']}).")
        return Result("Homogénéité des deux vagues", tests, summary, "", png, notes)

    def wave_differences(self, top: int = 10) -> Result:
        """The largest wave differences, to read beside the homogeneity summary."""
        tests = self._wave_comparison().tests
        # effect sizes of different metrics are not on one scale: rank by verdict, then by adjusted p
        from cnfs.contrasts import VERDICTS

        severity = tests["verdict"].map({v: i for i, v in enumerate(VERDICTS)}).fillna(-1)
        order = pd.DataFrame({"s": -severity, "p": tests["p_adjusted"].fillna(1.0)}).sort_values(["s", "p"], kind="stable").index
        largest = tests.reindex(order).head(top)
        return Result(f"Les {top} plus grands écarts entre vagues", largest, _format_tests(largest))

    # ------------------------------------------------------------ reproduction (notebook 09)
    def reproduction(self) -> Result:
        """Every published figure, survey and qualitative: published, computed, interval, status."""
        from cnfs.compare import display_table, full_reproduction_table, headline, summary_by_section

        table = full_reproduction_table(self.df, self.codebook, context=self._context())
        self._write_table(table.drop(columns=["quote"]), "reproduction")
        summary = summary_by_section(table)
        self._write_table(summary.reset_index(), "reproduction_par_section")
        title = headline(table)
        shown = self._with_weighted(table, display_table(table))
        styler = shown.style.map(lambda v: STATUS_STYLE.get(v, ""), subset=["Statut"])
        res = Result(title, table, shown, styler=styler, notes=([] if self.wave == "all" else [WAVE_NOTE]) + self._weighted_note())
        res.summary = summary  # type: ignore[attr-defined]
        return res

    def _with_weighted(self, table: pd.DataFrame, shown: pd.DataFrame) -> pd.DataFrame:
        """The reader's table with the weighted estimate beside the unweighted one (the article's), when weighting."""
        if self.design is None:
            return shown
        from cnfs.design import weighted_figure

        values = [weighted_figure(r, self.df, self.codebook, self.design) for _, r in table.iterrows()]
        table["weighted"] = values
        shown = shown.copy()
        shown.insert(list(shown.columns).index("Calculé") + 1, "Pondéré", [fmt_num(v, 2) if v == v else "–" for v in values])
        return shown

    def _weighted_note(self) -> list[str]:
        if self.design is None:
            return []
        return [f"« Calculé » : non pondéré, comme l'article (c'est lui qui est jugé) ; « Pondéré » : {self.design.label}, "
                "parts et moyennes seulement, chaque sous-groupe étant un domaine de l'ensemble du plan."]

    def check_reproduced(self, result: Result) -> str:
        """On the synthetic twin with all waves, fail loudly if any published figure is not reproduced."""
        from cnfs.compare import check_all_reproduced

        if not (self.survey.is_synthetic and self.wave == "all"):
            return "Vérification stricte réservée au jumeau synthétique, toutes vagues : non appliquée ici."
        check_all_reproduced(result.data)
        return f"Tous les chiffres calculables sont reproduits sur le jumeau synthétique ({len(result.data)} lignes vérifiées)."


@dataclass
class _Banner:
    banner: str
    result: Result

    def _repr_html_(self) -> str:
        return self.banner + self.result._repr_html_()

    def __repr__(self) -> str:
        return f"{SYNTHETIC_WARNING}\n{self.result!r}"


# ------------------------------------------------------------ French tables
def _caption(t: pd.DataFrame) -> str:
    if t.empty or "base" not in t:
        return ""
    return base_caption(str(t["base"].iloc[0]), sorted(set(int(n) for n in t["n"])) if "n" in t else 0)


def _ci(lo: Any, hi: Any, pct: bool) -> str:
    f = (lambda x: fmt_pct(x, 1)) if pct else (lambda x: fmt_num(x, 2))
    return f"[{f(lo)} ; {f(hi)}]"


def _format_shares(t: pd.DataFrame) -> pd.DataFrame:
    by = [c for c in t.columns if c not in {"question", "question_label", "option", "label", "count", "n", "percent", "ci_low", "ci_high", "rank", "base", "mean_items", "se", "deff", "weights"}]
    out = pd.DataFrame(
        {
            **{c: t[c].astype(str) for c in by},
            "Réponse": t["label"],
            "Part": t["percent"].map(lambda x: fmt_pct(x, 1)),
            "IC 95 %": [_ci(a, b, True) for a, b in zip(t["ci_low"], t["ci_high"])],
            "Effectif": t["count"].map(fmt_num),
            "n": t["n"].map(fmt_num),
            **({"Effet de plan": t["deff"].map(lambda x: fmt_num(x, 2))} if "deff" in t else {}),
        }
    )
    return out.set_index(by + ["Réponse"]) if by else out.set_index("Réponse")


def _format_scores(t: pd.DataFrame) -> pd.DataFrame:
    by = [c for c in t.columns if c not in {"question", "question_label", "label", "n", "mean", "sd", "median", "top_box", "top_box_threshold", "ci_low", "ci_high", "rank", "sd_rank", "base", "se", "deff", "weights"}]
    out = pd.DataFrame(
        {
            **{c: t[c].astype(str) for c in by},
            "Item": t["label"],
            "Moyenne": t["mean"].map(lambda x: fmt_num(x, 2)),
            "IC 95 %": [_ci(a, b, False) for a, b in zip(t["ci_low"], t["ci_high"])],
            "Écart type": t["sd"].map(lambda x: fmt_num(x, 2)),
            "Médiane": t["median"].map(lambda x: fmt_num(x, 1)),
            "Top-box": t["top_box"].map(lambda x: fmt_pct(x, 1)),
            "Rang": t["rank"].map(fmt_num),
            "Rang écart type": t["sd_rank"].map(fmt_num),
            "n": t["n"].map(fmt_num),
            **({"Effet de plan": t["deff"].map(lambda x: fmt_num(x, 2))} if "deff" in t else {}),
        }
    )
    return out.set_index(by + ["Item"]) if by else out.set_index("Item")


def _format_tests(tests: pd.DataFrame) -> pd.DataFrame:
    label = tests["label"].fillna(tests["question_label"]) if "label" in tests else tests["question_label"]
    return pd.DataFrame(
        {
            "Question": tests["question_label"],
            "Modalité / item": label,
            "Groupes": tests["groups"],
            "n": tests["n_by"],
            "Test": tests["test"],
            "p": tests["p_value"].map(fmt_p),
            "p ajusté (BH)": tests["p_adjusted"].map(fmt_p),
            "Taille d'effet": [f"{e} = {fmt_num(v, 3)}" for e, v in zip(tests["effect"], tests["effect_size"])],
            "Ampleur": tests["verdict"],
        }
    ).set_index("Question")
