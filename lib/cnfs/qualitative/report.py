"""What notebook 08 calls: one object that reads the qualitative study and shows each result.

The qualitative study does not depend on the survey export or the wave: its only inputs are the
folder of YAML files (``qualitative_dir``, ``data/qualitative`` by default) and the output folder.
Each method writes its tidy table (CSV) and chart (PNG) under ``output_dir`` and returns a
``cnfs.notebook.Result`` whose ``data`` is that table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cnfs import paths
from cnfs.notebook import Result
from cnfs.outputs import resolve_output_dir, write_figure, write_table
from cnfs.qualitative import analysis, plots
from cnfs.qualitative.figures import compare_with_published, computed_figures
from cnfs.qualitative.load import load_qualitative
from cnfs.qualitative.outputs import resolve_data_dir
from cnfs.status import CONTEXT, REPRODUCED, STYLE, TRANSCRIBED, check_all_reproduced, counts

#: French headers of the tidy tables' columns, for readers (the CSV keeps the column names); columns
#: mapped to None hold codes already shown by a label column and are left out of the reader's view.
HEADERS: dict[str, str | None] = {
    "territory": "Territoire",
    "feature": "Caractéristique",
    "present": "Observé",
    "coordinator": None,
    "coordinator_label": "Coordinateur",
    "initiator_label": "À l'initiative de",
    "has_coordinator": "Coordinateur identifié",
    "already_engaged": "Coordinateur déjà engagé",
    "origin": "Origine",
    "measure": "Mesure",
    "value": "Valeur",
    "quote": "Citation de l'article",
    "actor_type": None,
    "type": None,
    "code": None,
    "label": "Libellé",
    "structures": "Structures",
    "territories": "Territoires",
    "excerpts": "Extraits",
    "question": None,
    "option_or_subgroup": None,
    "published": "Publié",
    "computed": "Calculé",
    "status": "Statut",
}
#: The numbers of each territory, in words.
MEASURES = {
    "advisors_guaranteed": "CnFS garantis",
    "advisors_in_efs": "CnFS dans des Espaces France Services",
    "advisors_recruited_by_coordinator": "CnFS recrutés par le coordinateur",
    "advisors_validated": "CnFS validés par le Comité de sélection",
    "cities_studied": "Villes étudiées",
    "collectivities_capturing_most_advisors": "Collectivités captant la plupart des CnFS",
    "communes_served": "Communes desservies",
    "coordination_fte": "Temps de coordination (ETP)",
    "coordinator_funding_share": "Part des postes financée par le coordinateur (%)",
    "field_sites": "Terrains d'enquête",
}


def reader_view(table: pd.DataFrame) -> pd.DataFrame:
    """A tidy table as readers see it: French headers, oui / non, French numbers, words for measures and
    figures, no row numbers (the first column names each row)."""
    from cnfs.compare import unique_labels
    from cnfs.formatting import fmt_num

    out = table.copy()
    if "measure" in out:
        out["measure"] = out["measure"].map(lambda m: MEASURES.get(m, m))
    if "id" in out:
        out["id"] = out["id"].map(_figure_labels())
        out = out.rename(columns={"id": "Chiffre"})
    for col in out.columns:
        values = out[col]
        if values.dtype == bool or set(values.dropna().map(type)) <= {bool, np.bool_} and values.notna().any():
            out[col] = values.map(lambda v: "–" if pd.isna(v) else ("oui" if v else "non"))
        elif pd.api.types.is_float_dtype(values) or pd.api.types.is_integer_dtype(values):
            out[col] = values.map(lambda v: fmt_num(v, 0 if float(v).is_integer() else 2) if pd.notna(v) else "–")
    out = out.rename(columns={c: HEADERS[c] for c in out.columns if HEADERS.get(c)})
    out = out.drop(columns=[c for c in out.columns if c in HEADERS and HEADERS[c] is None])
    if isinstance(out.index, pd.RangeIndex):
        first = out.columns[0]
        out = out.drop(columns=first).set_index(unique_labels(out[first].astype(str)).rename(first))
    return out.fillna("–")


def _figure_labels() -> dict[str, str]:
    """Figure id → the label readers see (cnfs.compare.figure_label)."""
    from cnfs.codebook import load_codebook
    from cnfs.compare import figure_label
    from cnfs.reference import load_published

    codebook = load_codebook()
    return {r["id"]: figure_label(r, codebook) for _, r in load_published().iterrows()}


class MarkdownText(str):
    """A string that Jupyter renders as Markdown."""

    def _repr_markdown_(self) -> str:
        return str(self)


def verbatims_markdown(verbatims: pd.DataFrame) -> MarkdownText:
    """Verbatims grouped under one heading per theme (input: ``verbatims_by_theme``)."""
    parts: list[str] = []
    for theme, group in verbatims.groupby("Thème", sort=False):
        parts.append(f"#### {theme} ({len(group)} verbatim{'s' if len(group) > 1 else ''})")
        for r in group.itertuples(index=False):
            quote = str(r.Verbatim).replace("\n", "  \n> ")
            parts.append(f"> « {quote} »  \n> — {r.Locuteur}, {r.Structure}, territoire {r.Territoire} ({r.Extrait})")
    return MarkdownText("\n\n".join(parts))


class QualitativeReport:
    """Notebook 08's view of the qualitative study, writing its tables and figures under ``output_dir``."""

    def __init__(self, qualitative_dir: str | Path | None = None, output_dir: str | Path | None = None):
        from cnfs.plots import set_theme

        self.data = load_qualitative(resolve_data_dir(qualitative_dir))
        self.out = resolve_output_dir(output_dir) if output_dir else paths.OUTPUTS / "all"
        set_theme()

    # ------------------------------------------------------------ files
    def _result(self, title: str, table: pd.DataFrame, name: str, fig: Any = None, index: bool = False) -> Result:
        """Write the table (and chart) under the output folder; the result shows both."""
        write_table(table, self.out, name, index=index)
        png = None
        if fig is not None:
            import matplotlib.pyplot as plt

            png = write_figure(fig, self.out, name).read_bytes()  # drawn once: the page shows the written file
            plt.close(fig)
        return Result(title, table, reader_view(table), png=png)

    # ------------------------------------------------------------ results, in the article's order
    def overview(self) -> Result:
        """The comparison matrix of the five territories."""
        return self._result(
            "Matrice de comparaison des territoires", analysis.territory_overview(self.data), "qual_matrice_territoires"
        )

    def features(self) -> Result:
        """Yes/no features of each territory, as a grid."""
        t = analysis.territory_features(self.data)
        fig = plots.plot_presence_matrix(
            t,
            "feature",
            "territory",
            "present",
            "Cinq territoires : caractéristiques présentes (oui) ou absentes (non)",
        )
        return self._result("Caractéristiques des territoires", t, "qual_caracteristiques_territoires", fig)

    def coordinators(self) -> Result:
        """Who coordinates in each territory."""
        t = analysis.coordinators(self.data)
        return self._result("Coordinateurs par territoire", t, "qual_coordinateurs", plots.plot_coordinators(t))

    def contracts(self) -> Result:
        """The coordination "contracts" (recruitment, funding, links)."""
        return self._result(
            "Contrats de coordination", analysis.coordination_contracts(self.data), "qual_contrats_coordination"
        )

    def numbers(self) -> Result:
        """Numbers per territory: stated in the article (typed into the data) and computed from the records."""
        return self._result(
            "Chiffres par territoire", analysis.territory_numbers(self.data), "qual_chiffres_territoires"
        )

    def actors(self) -> Result:
        """Types of actors met at the meso level."""
        return self._result("Types d'acteurs", analysis.actor_types(self.data), "qual_types_acteurs")

    def appropriation(self) -> Result:
        """Appropriation types observed per territory (not exclusive)."""
        t = analysis.appropriation_matrix(self.data)
        fig = plots.plot_presence_matrix(
            t, "label", "territory", "present", "Types d'appropriation observés par territoire (non exclusifs)"
        )
        return self._result("Types d'appropriation par territoire", t, "qual_appropriation", fig)

    def appropriation_evidence(self) -> Result:
        """The article's evidence for each appropriation type attributed."""
        return self._result(
            "Éléments de l'article", analysis.appropriation_evidence(self.data), "qual_appropriation_elements"
        )

    def needs(self) -> Result:
        """The instances of "needs" used in the excerpts."""
        return self._result("Instances de la notion de besoins", analysis.needs_instances(self.data), "qual_besoins")

    def code_matrix(self) -> Result:
        """Coded excerpts per theme and territory."""
        m = analysis.code_territory_matrix(self.data)
        fig = plots.plot_count_matrix(m, "Nombre d'extraits codés, par thème et par territoire")
        return self._result(
            "Extraits codés par thème et territoire", m, "qual_matrice_codes_territoires", fig, index=True
        )

    def verbatims(self) -> MarkdownText:
        """The interview verbatims grouped by theme (table written, Markdown shown)."""
        v = analysis.verbatims_by_theme(self.data)
        write_table(v, self.out, "qual_verbatims_par_theme")
        return verbatims_markdown(v)

    def check(self) -> Result:
        """Every qualitative row of the published table against the data; fails on a mismatch."""
        t = compare_with_published(computed_figures(self.data))
        res = self._result("Chiffres publiés de l'enquête qualitative", t, "qual_verification_chiffres_publies")
        res.styler = res.table.style.map(lambda v: STYLE.get(v, ""), subset=["Statut"])
        check_all_reproduced(t)
        n = counts(t["status"])
        res.notes.append(
            f"{n[REPRODUCED]} chiffre(s) recalculé(s) à partir des fiches et reproduit(s) ; {n[TRANSCRIBED]} chiffre(s) "
            "recopié(s) de l'article dans les fiches et retrouvé(s) (vérification de transcription, pas une reproduction) ; "
            f"{n[CONTEXT]} de contexte."
        )
        return res
