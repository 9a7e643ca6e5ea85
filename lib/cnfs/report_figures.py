"""Published figures beside their computed values (each section's table, notebook 09's whole table).

A part of ``cnfs.notebook.Report``: its methods use the report's data, codebook, disclosure
control and writers (``self.df``, ``self.codebook``, ``self.protect_linked``, ``self._write_table``…)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cnfs.formatting import fmt_num
from cnfs.result import (
    STATUS_STYLE,
    WAVE_NOTE,
    Result,
)


class PublishedFigures:
    """Published figures beside their computed values (each section's table, notebook 09's whole table)."""

    def figures(self, *ids: str) -> Result:
        """The published figures beside their computed values (interval, n, base, status)."""
        from cnfs.compare import display_table, reproduction_table

        table = reproduction_table(
            self.df, self.codebook, ids=list(ids), context=self._context(), computed_cache=self._computed
        )
        shown = display_table(table)
        styler = shown.style.map(lambda v: STATUS_STYLE.get(v, ""), subset=["Statut"])
        return Result("Chiffres publiés et recalculés", table, shown, styler=styler)

    def _context(self) -> dict[str, Any]:
        from cnfs.compare import population_context

        return population_context()

    def section_figures(self) -> Result:
        """Every figure of this notebook's section, with the count reproduced; written as CSV."""
        from cnfs.compare import display_table, headline, reproduction_table

        table = reproduction_table(
            self.df, self.codebook, section=self.section, context=self._context(), computed_cache=self._computed
        )
        title = f"Section {self.section} — {headline(table)}"
        self._write_table(table.drop(columns=["quote"]), "chiffres_publies", title)
        shown = display_table(table)
        styler = shown.style.map(lambda v: STATUS_STYLE.get(v, ""), subset=["Statut"])
        notes = [] if self.wave == "all" else [WAVE_NOTE]
        return Result(title, table, shown, styler=styler, notes=notes)

    def reproduction(self) -> Result:
        """Every published figure, survey and qualitative: published, computed, interval, status."""
        from cnfs.compare import display_summary, display_table, full_reproduction_table, headline, summary_by_section

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
        res.summary = display_summary(summary)  # type: ignore[attr-defined]
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
