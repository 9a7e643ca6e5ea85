"""Comparisons: a question across subgroups, and every question between the waves.

A part of ``cnfs.notebook.Report``: its methods use the report's data, codebook, disclosure
control and writers (``self.df``, ``self.codebook``, ``self.protect_linked``, ``self._write_table``…)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from cnfs import disclosure
from cnfs.formatting import (
    CI_HEADER,
    NARROW_NBSP,
    SUPPRESSED,
    base_caption,
    effect_text,
    fmt_ci,
    fmt_num,
    fmt_p,
    fmt_pct,
    label,
    magnitude,
)
from cnfs.result import (
    BY_PHRASES,
    BY_TITLES,
    WITHHELD_TEST,
    Result,
)


class ComparisonResults:
    """Comparisons: a question across subgroups, and every question between the waves."""

    def contrast(self, qid: str, by: str, levels: Sequence[str] | None = None) -> Result:
        """A subgroup comparison: the table by group, the test, the effect size and its verdict."""
        from cnfs.contrasts import compare_groups
        from cnfs.plots import plot_comparison, table_caption

        comp = compare_groups(self.df, self.codebook, qid, self._by(by), levels=levels)
        table = comp.tables[qid]
        if "percent" in table:
            table = self._ordered_shares(table, qid)
        from cnfs.scoring import scale_summary, shares

        describe = shares if "percent" in table else scale_summary
        comp.tables[qid] = table = self.protect_linked(
            table, lambda d: describe(d, self.codebook, qid, by=self._by_on(d, by, levels))
        )
        name = f"{qid}_selon_{by}"
        title = f"{self.codebook[qid].short} selon {self._by_label(by)}"
        caption, notes = table_caption(table), self._notes(table)
        if self.design is not None:
            notes.append(
                "Comparaison non pondérée : les tests entre groupes portent sur les répondants "
                "(pas de test du plan de sondage)."
            )
        # the test shows no group size the linked table withholds (pooled minus a wave would give it back)
        comp = replace(comp, tests=self.protect_tests(comp.tests, table))
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

    def wave_homogeneity(self) -> Result:
        """Every question compared between waves: test, BH-adjusted p, effect size and its verdict."""
        from cnfs.contrasts import VERDICTS
        from cnfs.plots import plot_effects

        comp = self._wave_comparison()
        tests = comp.tests
        title = "Homogénéité des deux vagues"
        sections = {q.id: q.section for q in self.codebook.questions.values()}
        notes_size = self._size_notes(tests)
        self._write_table(tests, "homogeneite_vagues", title, notes=notes_size)
        chart = "Écarts entre les vagues : tailles d'effet par question"
        png = self._write_memo_figure(  # the same for every wave's report: drawn once per render (issue 12)
            "homogeneite_vagues",
            [tests, self.codebook, chart],
            lambda: plot_effects(tests, sections=sections, section_titles=self.codebook.sections, title=chart),
        )
        counts = tests["verdict"].value_counts()
        counts = counts.reindex(
            [v for v in VERDICTS if v in counts.index] + [v for v in counts.index if v not in VERDICTS]
        )
        summary = pd.DataFrame(
            {"Comparaisons": counts.map(fmt_num), "Part": (100 * counts / counts.sum()).map(lambda x: fmt_pct(x, 1))}
        )
        summary.index = [WITHHELD_TEST if v == SUPPRESSED else magnitude(v) for v in summary.index]
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
        return Result(title, tests, summary, "", png, notes + notes_size)

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

    def wave_equivalence(self) -> Result:
        """Homogeneity judged by equivalence (TOST, margins in data/analysis_assumptions.yaml), per question."""
        from cnfs.equivalence import equivalence_margins, equivalence_summary, wave_equivalence
        from cnfs.memo import cached

        full = self._all_waves()
        title = "Homogénéité des vagues jugée par équivalence"
        if len(waves := self.codebook.waves_in(full)) != 2:  # an export of one wave: nothing to compare
            return Result(
                title,
                pd.DataFrame(),
                caption=f"Non calculable : l'équivalence compare deux vagues, les données en contiennent "
                f"{len(waves)} ({', '.join(waves) or 'aucune'}).",
            )
        qids = [q.id for q in self.codebook.questions.values() if q.type != "text"]
        m = equivalence_margins()
        # the same for every wave's report: computed once per render (issue 12)
        t = cached(
            "wave_equivalence",
            [full, self.codebook, qids, m],
            lambda: wave_equivalence(full, self.codebook, qids, margins=m),
        )
        t = self.protect_tests(t)
        self._write_table(t, "equivalence_vagues", notes=self._size_notes(t))
        counts = equivalence_summary(t)
        summary = pd.DataFrame(
            {"Questions": counts["Questions"].map(fmt_num), "Part": counts["Part (%)"].map(lambda x: fmt_pct(x, 1))}
        ).rename_axis("Verdict")
        notes = [
            f"Équivalence : intervalle de confiance à {fmt_pct(100 * (1 - 2 * m['alpha']), 0)} de l'écart (vague 2 − vague 1) "
            f"contenu dans ± {fmt_num(m['proportion_points'], 0)} points pour une part, ± {fmt_num(m['standardized_mean'], 1)} "
            "écart-type commun pour une moyenne (deux tests unilatéraux, TOST) ; une question est équivalente si toutes "
            "ses modalités le sont. Marges : data/analysis_assumptions.yaml."
        ] + self._size_notes(t)
        return Result(
            title,
            t,
            summary,
            base_caption("répondants interrogés sur chaque question", len(full)),
            None,
            notes,
        )


def _format_tests(tests: pd.DataFrame) -> pd.DataFrame:
    """A reader's view of test rows: words for the test, effect and verdict; p-values never split; the
    results of a row whose group is withheld (disclosure control) shown as "[c]"."""
    label_col = tests["label"] if "label" in tests else pd.Series(pd.NA, index=tests.index)
    # the option or item compared; empty when it would only repeat the question
    item = label_col.where(label_col.astype(str) != tests["question_label"].astype(str)).fillna("")
    nan = pd.Series(np.nan, index=tests.index)
    hidden = disclosure.withheld_rows(tests)
    shown = pd.DataFrame(
        {
            "Question": tests["question_label"],
            "Modalité / item": item,
            "Groupes": tests["groups"],
            "n": tests["n_by"].astype(str).str.replace(" ", NARROW_NBSP),
            "Test": tests["test"].map(label),
            "p": tests["p_value"].map(fmt_p),
            "p ajusté (BH)": tests["p_adjusted"].map(fmt_p),
            "Taille d'effet": [effect_text(e, v) for e, v in zip(tests["effect"], tests["effect_size"])],
            f"{CI_HEADER} de l'effet": [
                fmt_ci(lo, hi) for lo, hi in zip(tests.get("effect_ci_low", nan), tests.get("effect_ci_high", nan))
            ],
            "Ampleur": tests["verdict"].map(lambda v: str(v)),
        }
    )
    results = ["p", "p ajusté (BH)", "Taille d'effet", f"{CI_HEADER} de l'effet", "Ampleur"]
    shown.loc[hidden.to_numpy(), results] = SUPPRESSED
    return shown.set_index("Question")
