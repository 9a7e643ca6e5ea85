"""What a section notebook calls: one object that loads the data, shows results the article's way,
and writes every table (CSV, with its title and base beside it for the spreadsheet) and chart (PNG)
under the output folder.

Each method returns a ``Result`` that Jupyter renders as a title, a French table, a chart and notes;
``result.data`` is the tidy table behind it, after disclosure control (cnfs.disclosure). Tables and
charts are drawn from the same ordered tidy table, so they agree.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cnfs import disclosure, paths
from cnfs.atomic import write_text
from cnfs.formatting import (
    NARROW_NBSP,
    SUPPRESSED,
    base_caption,
    colon,
    display,
    display_path,
    effect_text,
    fmt_ci,
    fmt_date,
    fmt_num,
    fmt_p,
    fmt_pct,
    label,
    magnitude,
)
from cnfs.loader import Survey, describe_source, load_survey
from cnfs.outputs import resolve_output_dir, write_figure, write_table
from cnfs.provenance import SYNTHETIC_WARNING
from cnfs.status import STYLE

WAVE_NOTE = (
    "Les chiffres publiés portent sur les deux vagues réunies : sur une seule vague, un écart au chiffre "
    "publié est attendu et ne signale pas une erreur."
)
STATUS_STYLE = STYLE  # one status vocabulary (cnfs.status)
META_DIR = "meta"  # tables/meta/<name>.json: title, base, n and notes of each CSV, for the spreadsheet
HEADER_MIME = "application/vnd.cnfs.header+json"  # read by cnfs.render.export for the report header


def output_folder(wave: str, weighting: str = "none") -> Path:
    """Default output folder of a wave, the renderer's: outputs/wave-1, outputs/wave-2, outputs/all (with
    the suffix of weighted reports, e.g. outputs/wave-1-pondere, when weighted)."""
    from cnfs.render.plan import WEIGHTED_SUFFIX, wave_folder

    return paths.OUTPUTS / (wave_folder(str(wave)) + ("" if weighting == "none" else WEIGHTED_SUFFIX))


def _subgroup_site_mode(df: pd.DataFrame) -> pd.Series:
    from cnfs.subgroups import site_mode

    return site_mode(df)


#: Subgroups derived from answers, usable as ``by=`` by name.
DERIVED_SUBGROUPS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {"site_mode": _subgroup_site_mode}
BY_TITLES = {"site_mode": "Nombre de sites", "wave": "Vague"}
BY_PHRASES = {"site_mode": "le nombre de sites (mono-site / multi-sites)", "wave": "la vague"}


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
        parts = ['<div class="cnfs-result">', f"<h4>{html.escape(self.title)}</h4>"]
        if self.styler is not None:
            parts.append(self.styler.to_html())
        elif self.table is not None:
            parts.append(self.table.to_html(escape=True, border=0, classes="cnfs-table"))
        if self.png:
            b64 = base64.b64encode(self.png).decode()
            alt = html.escape(f"{self.title}. {self.caption}".strip())
            parts.append(f'<img alt="{alt}" style="max-width:100%" src="data:image/png;base64,{b64}"/>')
        elif self.caption:  # a chart states its base itself: the caption is written once
            parts.append(f"<p><em>{html.escape(self.caption)}</em></p>")
        parts += [f"<p><em>{html.escape(line)}</em></p>" for line in self.notes if line]
        return "\n".join(parts + ["</div>"])

    def __repr__(self) -> str:
        body = (self.table if self.table is not None else self.data).to_string()
        return "\n".join([self.title, body, self.caption, *self.notes]).strip()


@dataclass
class _Header:
    """Banner and four facts for JupyterLab; the HTML report shows its own header, so this one hides there."""

    html_text: str
    text: str
    facts: dict[str, Any] = field(default_factory=dict)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/html": f'<div class="cnfs-nb-header">{self.html_text}</div>',
            "text/plain": self.text,
            HEADER_MIME: self.facts,
        }

    def __repr__(self) -> str:
        return self.text


class Report:
    """The notebook's view of one survey file and wave, writing its tables and figures under ``output_dir``.

    ``output_dir=None`` follows the wave (outputs/wave-1, …, outputs/all); ``min_count=None`` takes the
    disclosure threshold of the codebook; ``weighting`` other than "none" gives design-based estimates.
    """

    def __init__(
        self,
        wave: str = "all",
        data_path: str | None = None,
        output_dir: str | None = None,
        section: int | None = None,
        min_count: int | None = None,
        weighting: str = "none",
    ):
        from cnfs.plots import set_theme

        self.wave = str(wave)
        self.weighting = weighting  # "none" (the article) or "raking" (cnfs.design: weighted tables with their deff)
        self._design: Any = None
        self.data_path = data_path
        self.survey: Survey = load_survey(data_path, self.wave)
        self.df, self.codebook = self.survey
        self.section = section
        self.out = resolve_output_dir(output_dir) if output_dir else output_folder(self.wave, weighting)
        self.prefix = f"{section:02d}_" if section is not None else ""
        self.policy = disclosure.policy(self.codebook, min_count)
        self._waves: Any = None
        set_theme()

    # ------------------------------------------------------------ files
    def protect(self, tidy: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        """Disclosure control of a tidy table with the report's thresholds (see cnfs.disclosure)."""
        if "n" not in tidy.columns:
            return tidy
        return disclosure.suppress(
            tidy, min_count=self.policy.min_count, fragile_base=self.policy.fragile_base, **kwargs
        )

    def protect_tests(self, tests: pd.DataFrame) -> pd.DataFrame:
        """Test rows with group sizes under the threshold withheld (see cnfs.disclosure.withhold_group_sizes)."""
        return disclosure.withhold_group_sizes(tests, self.policy.min_count)

    def _size_notes(self, tests: pd.DataFrame) -> list[str]:
        """The disclosure note when a group size of the test rows is withheld."""
        return (
            [self.policy.note()]
            if "n_by" in tests and tests["n_by"].astype(str).str.contains(SUPPRESSED, regex=False).any()
            else []
        )

    def _write_table(
        self, df: pd.DataFrame, name: str, title: str = "", caption: str = "", notes: Sequence[str] = ()
    ) -> Path:
        """tables/<name>.csv and, beside it, tables/meta/<name>.json (title, base, notes) for the spreadsheet."""
        stem = f"{self.prefix}{name}"
        path = write_table(df, self.out, stem)
        notes = list(dict.fromkeys([*notes, *([self.policy.note()] if disclosure.suppressed_cells(df) else [])]))
        meta = {
            "name": stem,
            "title": title or name,
            "caption": caption,
            "notes": notes,
            "wave": self.wave,
            "section": self.section,
            "n": int(df["n"].max()) if "n" in df and df["n"].notna().any() else None,
        }
        write_text(path.parent / META_DIR / f"{stem}.json", json.dumps(meta, ensure_ascii=False, indent=1))
        return path

    def _write_figure(self, fig: Any, name: str) -> bytes:
        """Save the chart once as PNG under figures/ and return the written file's bytes to embed."""
        import matplotlib.pyplot as plt

        path = write_figure(fig, self.out, f"{self.prefix}{name}")
        plt.close(fig)
        return path.read_bytes()

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

        return [
            f"Estimations pondérées ({t['weights'].iloc[0]}) ; {INTERVAL_METHOD} ; « Effet de plan » : "
            "variance rapportée à celle d'un sondage aléatoire simple de même taille (n et effectifs non pondérés)."
        ]

    def _by(self, by: str | None) -> str | pd.Series | None:
        if by in DERIVED_SUBGROUPS:
            return DERIVED_SUBGROUPS[by](self.df)
        return by

    def _notes(self, t: pd.DataFrame) -> list[str]:
        notes = []
        if disclosure.suppressed_cells(t):
            notes.append(self.policy.note())
        elif "fragile" in t and t["fragile"].any():
            notes.append(
                f"Résultats sur moins de {self.policy.fragile_base} répondants : fragiles, à lire avec prudence."
            )
        return notes

    # ------------------------------------------------------------ header
    def header(self) -> _Header:
        """Synthetic-data banner and four facts (vague, données, n, date); provenance in « Détails techniques »."""
        src = describe_source(self.survey)
        wave = "toutes (vagues réunies)" if self.wave == "all" else self.wave
        data = "jumeau synthétique" if src["synthetique"] else display_path(src["fichier"])
        facts = [
            ("Vague", wave),
            ("Données", data),
            ("Répondants", fmt_num(src["n"])),
            ("Date", fmt_date(pd.Timestamp.now(tz="UTC").to_pydatetime())),
        ]
        if self.weighting != "none":
            facts.insert(3, ("Pondération", self.design.label))
        details = [
            ("Fichier", display_path(src["fichier"])),
            ("Empreinte SHA-256 (début)", src["sha256"]),
            ("Graine du jumeau", src.get("graine")),
            ("Version du générateur", src.get("version_generateur")),
            ("Pondération", "aucune (comme l'article)" if self.weighting == "none" else self.design.label),
            ("Population", display_path(paths.population_file())),
            ("Secret statistique", f"effectifs < {self.policy.min_count} masqués"),
            ("Dossier de sortie", display_path(self.out)),
        ]
        parts = []
        if self.survey.is_synthetic:
            parts.append(
                '<div role="alert" style="border:3px solid #b00020;background:#fdecea;padding:10px;'
                f'margin:8px 0;font-weight:bold;color:#b00020">⚠ {html.escape(SYNTHETIC_WARNING)}</div>'
            )
        parts.append(
            "<p>"
            + " · ".join(f"<strong>{html.escape(k)}</strong>{NARROW_NBSP}: {html.escape(str(v))}" for k, v in facts)
            + "</p>"
        )
        if self.wave != "all":
            parts.append(f"<p><em>{html.escape(WAVE_NOTE)}</em></p>")
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in details if v is not None
        )
        parts.append(f"<details><summary>Détails techniques</summary><table>{rows}</table></details>")
        text = "\n".join(
            ([SYNTHETIC_WARNING] if self.survey.is_synthetic else []) + [colon(k, str(v)) for k, v in facts]
        )
        return _Header("\n".join(parts), text, {k: str(v) for k, v in facts})

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
        title = f"Section {self.section} — {headline(table)}"
        self._write_table(table.drop(columns=["quote"]), "chiffres_publies", title)
        shown = display_table(table)
        styler = shown.style.map(lambda v: STATUS_STYLE.get(v, ""), subset=["Statut"])
        notes = [] if self.wave == "all" else [WAVE_NOTE]
        return Result(title, table, shown, styler=styler, notes=notes)

    # ------------------------------------------------------------ descriptive results
    def _ordered_shares(self, t: pd.DataFrame, qid: str) -> pd.DataFrame:
        """Options in the order both table and chart show: codebook order for ordered scales, else by share."""
        if self.codebook[qid].ordered or "option" not in t:
            return t.reset_index(drop=True)
        mean = t.assign(option=t["option"].astype(str)).groupby("option")["percent"].mean()
        rank = t["option"].astype(str).map(mean.rank(ascending=False, method="first"))
        by = [c for c in t.columns[: list(t.columns).index("question")]] if "question" in t else []
        keys = [*by, "_rank"] if by else ["_rank"]
        return t.assign(_rank=rank).sort_values(keys, kind="stable").drop(columns="_rank").reset_index(drop=True)

    def shares(
        self, qid: str, by: str | None = None, levels: Sequence[str] | None = None, chart: bool = True
    ) -> Result:
        """Share of each option among those asked (multi-select: percent of respondents), with Wilson CI."""
        from cnfs.plots import plot_shares, table_caption
        from cnfs.scoring import shares

        by_s = self._by(by)
        if levels is not None and by_s is not None:
            from cnfs.contrasts import restrict_levels

            by_s = restrict_levels(self.df, by_s, levels)
        t = shares(self.df, self.codebook, qid, by=by_s, design=self.design)
        t = self.protect(self._ordered_shares(t, qid))
        name = qid if by is None else f"{qid}_par_{by}"
        title = self.codebook[qid].wording
        caption = table_caption(t)
        notes = self._notes(t) + self._weight_notes(t)
        if "mean_items" in t:
            notes.insert(
                0,
                f"Nombre moyen d'items cochés : {fmt_num(t['mean_items'].iloc[0], 2)} (choix multiples : "
                f"les pourcentages sont des parts de répondants et dépassent 100{NARROW_NBSP}% au total).",
            )
        self._write_table(t, name, title, caption, notes)
        shown = display(t, ["label", "percent", "ci", "count", "n", "deff", "fragile"], "label")
        png = self._write_figure(plot_shares(t, sort=False, legend_title=self._by_title(by)), name) if chart else None
        return Result(title, t, shown, caption, png, notes)

    def battery_shares(self, group: str) -> Result:
        """Shares of each option for every item of a single-choice battery (e.g. exchange frequencies)."""
        from cnfs.plots import plot_share_heatmap, table_caption
        from cnfs.scoring import shares

        items = self.codebook.items(group)
        t = pd.concat(
            [shares(self.df, self.codebook, q.id, design=self.design).assign(item=q.label) for q in items],
            ignore_index=True,
        )
        t = self.protect(t, by=["item"])
        title = self.codebook.groups[group].wording
        caption, notes = table_caption(t), self._notes(t) + self._weight_notes(t)
        self._write_table(t, group, title, caption, notes)
        shown = t.pivot_table(index="item", columns="label", values="percent", sort=False, observed=True, dropna=False)
        shown = shown.reindex(index=[q.label for q in items], columns=[o.label for o in items[0].options])
        shown = shown.map(lambda x: fmt_pct(x, 1) if x == x else "[c]").rename_axis(index="Item", columns="Réponse")
        png = self._write_figure(plot_share_heatmap(t, title=self.codebook.groups[group].short), group)
        return Result(title, t, shown, caption, png, notes)

    def scores(self, items: str | Sequence[str], chart: bool = True) -> Result:
        """Mean, sd, median, top-box and t interval of a battery (group id) or of listed items, ranked."""
        from cnfs.plots import plot_scores, table_caption
        from cnfs.scoring import battery_summary, scale_summary

        if isinstance(items, str) and items in self.codebook.groups:
            t = battery_summary(self.df, self.codebook, items, design=self.design)
            title, name = self.codebook.groups[items].wording, items
        else:
            ids = [items] if isinstance(items, str) else list(items)
            t = scale_summary(self.df, self.codebook, ids, design=self.design)
            title, name = self.codebook[ids[0]].wording, "_".join(ids[:2])
        t = self.protect(t.sort_values("rank", kind="stable").reset_index(drop=True))
        caption, notes = table_caption(t), self._notes(t) + self._weight_notes(t)
        self._write_table(t, name, title, caption, notes)
        png = self._write_figure(plot_scores(t), name) if chart else None
        shown = display(t, ["label", "mean", "ci", "sd", "median", "top_box", "n", "deff", "fragile"], "label")
        return Result(title, t, shown.rename_axis(index="Item"), caption, png, notes)

    def _bins(self, qid: str) -> list[int] | None:
        """Whole-number bins for a count (at most ten, the last one closed): 1–6, 7–12, … 55–60."""
        q = self.codebook[qid]
        if q.type != "number" or q.min is None or q.max is None:
            return None
        step = max(1, int(np.ceil((q.max - q.min + 1) / 10)))
        return [*range(int(q.min), int(q.max), step), int(q.max)]

    def distribution(self, qid: str) -> Result:
        """How the answers to one numeric item are spread (whole-number bins for counts)."""
        from cnfs.plots import plot_distribution, table_caption
        from cnfs.scoring import distribution

        t = self.protect(distribution(self.df, self.codebook, qid, bins=self._bins(qid), design=self.design))
        title = colon("Distribution", self.codebook[qid].label)
        caption, notes = table_caption(t), self._notes(t) + self._weight_notes(t)
        self._write_table(t, f"{qid}_distribution", title, caption, notes)
        png = self._write_figure(plot_distribution(t), f"{qid}_distribution")
        return Result(title, t, None, caption, png, notes)

    def contrast(self, qid: str, by: str, levels: Sequence[str] | None = None) -> Result:
        """A subgroup comparison: the table by group, the test, the effect size and its verdict."""
        from cnfs.contrasts import compare_groups
        from cnfs.plots import plot_comparison, table_caption

        comp = compare_groups(self.df, self.codebook, qid, self._by(by), levels=levels)
        table = comp.tables[qid]
        if "percent" in table:
            table = self._ordered_shares(table, qid)
        comp.tables[qid] = table = self.protect(table)
        name = f"{qid}_selon_{by}"
        title = f"{self.codebook[qid].short} selon {self._by_label(by)}"
        caption, notes = table_caption(table), self._notes(table)
        if self.design is not None:
            notes.append(
                "Comparaison non pondérée : les tests entre groupes portent sur les répondants "
                "(pas de test du plan de sondage)."
            )
        comp = replace(comp, tests=self.protect_tests(comp.tests))
        self._write_table(table, name, title, caption, notes)
        self._write_table(comp.tests, f"{name}_test", f"{title} : test", notes=self._size_notes(comp.tests))
        png = self._write_figure(plot_comparison(comp, sort=False, legend_title=self._by_title(by)), name)
        return Result(title, comp.tests, _format_tests(comp.tests), caption, png, notes)

    def _by_title(self, by: str | None) -> str | None:
        if by is None:
            return None
        return self.codebook[by].short if by in self.codebook else BY_TITLES.get(by, by)

    def _by_label(self, by: str) -> str:
        return f"« {self.codebook[by].short} »" if by in self.codebook else BY_PHRASES.get(by, by)

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
            notes.append(
                f"Poids de calage, vague {'toutes' if w == 'all' else w} : de {fmt_num(ws['min'], 2)} à "
                f"{fmt_num(ws['max'], 2)}, coefficient de variation {fmt_num(ws['cv'], 2)}, effet de plan de Kish "
                f"{fmt_num(ws['kish_deff'], 2)}, n effectif {fmt_num(ws['effective_n'], 0)} (sur {fmt_num(ws['n'])})."
            )
        return Result(
            "Échantillon et population : statut de la structure d'accueil",
            t,
            shown,
            "Population : data/population.yaml (source, date et statut de chaque valeur).",
            png,
            notes,
        )

    def wave_equivalence(self) -> Result:
        """Homogeneity judged by equivalence (TOST, margins in data/analysis_assumptions.yaml), per question."""
        from cnfs.equivalence import equivalence_margins, equivalence_summary, wave_equivalence

        full = self._all_waves()
        qids = [q.id for q in self.codebook.questions.values() if q.type != "text"]
        t = wave_equivalence(full, self.codebook, qids)
        self._write_table(t, "equivalence_vagues")
        m = equivalence_margins()
        summary = equivalence_summary(t)
        notes = [
            f"Équivalence : intervalle de confiance à {fmt_pct(100 * (1 - 2 * m['alpha']), 0)} de l'écart (vague 2 − vague 1) "
            f"contenu dans ± {fmt_num(m['proportion_points'], 0)} points pour une part, ± {fmt_num(m['standardized_mean'], 1)} "
            "écart-type commun pour une moyenne (deux tests unilatéraux, TOST) ; une question est équivalente si toutes "
            "ses modalités le sont. Marges : data/analysis_assumptions.yaml."
        ]
        return Result(
            "Homogénéité des vagues jugée par équivalence",
            t,
            summary,
            base_caption("répondants interrogés sur chaque question", len(full)),
            None,
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

    def _all_waves(self) -> pd.DataFrame:
        """The data of every wave (the report's own data when its wave is already "all")."""
        return self.df if self.wave == "all" else load_survey(self.data_path, "all").data

    def _wave_comparison(self) -> Any:
        """compare_waves over every question of the full data, computed once per report."""
        if self._waves is None:
            from cnfs.contrasts import compare_waves

            full = self._all_waves()
            qids = [q.id for q in self.codebook.questions.values() if q.type != "text"]
            from cnfs.memo import cached  # the same for every wave's report: computed once per render (issue 12)

            comp = cached(
                "compare_waves", [full, self.codebook, qids], lambda: compare_waves(full, self.codebook, qids)
            )
            self._waves = replace(comp, tests=self.protect_tests(comp.tests))
        return self._waves

    def wave_homogeneity(self) -> Result:
        """Every question compared between waves: test, BH-adjusted p, effect size and its verdict."""
        from cnfs.contrasts import VERDICTS
        from cnfs.plots import plot_effects

        comp = self._wave_comparison()
        tests = comp.tests
        title = "Homogénéité des deux vagues"
        sections = {q.id: q.section for q in self.codebook.questions.values()}
        self._write_table(tests, "homogeneite_vagues", title, notes=self._size_notes(tests))
        png = self._write_figure(
            plot_effects(
                tests,
                sections=sections,
                section_titles=self.codebook.sections,
                title="Écarts entre les vagues : tailles d'effet par question",
            ),
            "homogeneite_vagues",
        )
        counts = tests["verdict"].value_counts()
        counts = counts.reindex(
            [v for v in VERDICTS if v in counts.index] + [v for v in counts.index if v not in VERDICTS]
        )
        summary = pd.DataFrame(
            {"Comparaisons": counts.map(fmt_num), "Part": (100 * counts / counts.sum()).map(lambda x: fmt_pct(x, 1))}
        )
        summary.index = [magnitude(v) for v in summary.index]
        sig = int(tests["significant"].sum())
        notes = [
            f"{len(tests)} comparaisons (une par question, une par option pour les choix multiples), "
            f"{sig} significative(s) au seuil de 5{NARROW_NBSP}% après correction de Benjamini-Hochberg ({comp.family}). "
            "Taille d'effet : V de Cramér pour les choix (seuils selon la taille du tableau), corrélation bisériale "
            "des rangs pour les échelles et les modalités ordonnées (test de tendance entre vagues), d de Cohen pour "
            "les nombres ; chaque mesure a son échelle et son axe, les plus grands écarts sont donnés mesure par mesure.",
        ]
        for effect, part in tests.dropna(subset=["effect_size"]).groupby("effect", sort=False):
            worst = part.loc[part["effect_size"].abs().idxmax()]
            what = worst["label"] if isinstance(worst["label"], str) else worst["question_label"]
            notes.append(
                f"Plus grand écart ({label(effect)}) : « {what} » ({effect_text(effect, worst['effect_size'], 3)}, "
                f"{magnitude(worst['verdict']).lower()})."
            )
        return Result(title, tests, summary, "", png, notes)

    def wave_differences(self, top: int = 10) -> Result:
        """The largest wave differences, to read beside the homogeneity summary."""
        tests = self._wave_comparison().tests
        # effect sizes of different metrics are not on one scale: rank by verdict, then by adjusted p
        from cnfs.contrasts import VERDICTS

        severity = tests["verdict"].map({v: i for i, v in enumerate(VERDICTS)}).fillna(-1)
        order = (
            pd.DataFrame({"s": -severity, "p": tests["p_adjusted"].fillna(1.0)})
            .sort_values(["s", "p"], kind="stable")
            .index
        )
        largest = tests.reindex(order).head(top)
        return Result(f"Les {top} plus grands écarts entre vagues", largest, _format_tests(largest))

    # ------------------------------------------------------------ reproduction (notebook 09)
    def reproduction(self) -> Result:
        """Every published figure, survey and qualitative: published, computed, interval, status."""
        from cnfs.compare import display_table, full_reproduction_table, headline, summary_by_section

        table = full_reproduction_table(self.df, self.codebook, context=self._context())
        summary = summary_by_section(table)
        title = headline(table)
        self._write_table(table.drop(columns=["quote"]), "reproduction", title)
        self._write_table(summary.reset_index(), "reproduction_par_section", "Chiffres reproduits par section")
        shown = self._with_weighted(table, display_table(table))
        styler = shown.style.map(lambda v: STATUS_STYLE.get(v, ""), subset=["Statut"])
        res = Result(
            title,
            table,
            shown,
            styler=styler,
            notes=([] if self.wave == "all" else [WAVE_NOTE]) + self._weighted_note(),
        )
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
        shown.insert(
            list(shown.columns).index("Calculé") + 1, "Pondéré", [fmt_num(v, 2) if v == v else "–" for v in values]
        )
        return shown

    def _weighted_note(self) -> list[str]:
        if self.design is None:
            return []
        return [
            f"« Calculé » : non pondéré, comme l'article (c'est lui qui est jugé) ; « Pondéré » : {self.design.label}, "
            "parts et moyennes seulement, chaque sous-groupe étant un domaine de l'ensemble du plan."
        ]

    def check_reproduced(self, result: Result) -> str:
        """On the synthetic twin with all waves, fail loudly if any published figure is not reproduced."""
        from cnfs.compare import check_all_reproduced

        if not (self.survey.is_synthetic and self.wave == "all"):
            return "Vérification stricte réservée au jumeau synthétique, toutes vagues : non appliquée ici."
        check_all_reproduced(result.data)
        return f"Tous les chiffres calculables sont reproduits sur le jumeau synthétique ({len(result.data)} lignes vérifiées)."


# ------------------------------------------------------------ French tables
def _format_tests(tests: pd.DataFrame) -> pd.DataFrame:
    """A reader's view of test rows: words for the test, effect and verdict; p-values never split."""
    item = tests["label"].fillna(tests["question_label"]) if "label" in tests else tests["question_label"]
    nan = pd.Series(np.nan, index=tests.index)
    return pd.DataFrame(
        {
            "Question": tests["question_label"],
            "Modalité / item": item,
            "Groupes": tests["groups"],
            "n": tests["n_by"].astype(str).str.replace(" ", NARROW_NBSP),
            "Test": tests["test"].map(label),
            "p": tests["p_value"].map(fmt_p),
            "p ajusté (BH)": tests["p_adjusted"].map(fmt_p),
            "Taille d'effet": [effect_text(e, v) for e, v in zip(tests["effect"], tests["effect_size"])],
            f"IC 95{NARROW_NBSP}% de l'effet": [
                fmt_ci(lo, hi) for lo, hi in zip(tests.get("effect_ci_low", nan), tests.get("effect_ci_high", nan))
            ],
            "Ampleur": tests["verdict"].map(lambda v: str(v)),
        }
    ).set_index("Question")
