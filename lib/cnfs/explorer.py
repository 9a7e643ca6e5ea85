"""The JupyterLab explorer (notebook 10): any question of the codebook by any banner variable, weighted or not.

``Explorer.view()`` gives the table (column percentages or means, bases, significance letters: the tab
book's rows for one question and one breakdown, withheld jointly with every wave's book as the tab book
files are, so that no export gives back a cell another table withholds), the chart and the test, as
the ``Result`` objects the section notebooks show. ``Explorer.widget()`` puts them behind ipywidgets
(wave, question by its French wording, breakdown, weighting) with a button that writes the current
table as CSV and spreadsheet. The notebook holds no logic: everything is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cnfs import tabbook as tb
from cnfs.formatting import base_caption, fmt_num, fmt_p
from cnfs.loader import load_survey
from cnfs.notebook import Result

TOTAL_CHOICE = ("Aucune (ensemble des répondants)", tb.TOTAL_ID)
WEIGHTING_LABELS = {"none": "Sans pondération (comme l'article)", "raking": "Calage (raking) sur la population"}


@dataclass
class View:
    """What the explorer shows for one choice: table, chart and test (each a ``Result``)."""

    wave: str
    question: str
    banner: str
    weighting: str
    tidy: pd.DataFrame
    table: Result
    chart: Result
    test: Result

    def results(self) -> list[Result]:
        return [self.table, self.chart, self.test]

    def _repr_html_(self) -> str:
        return "\n".join(r._repr_html_() for r in self.results())

    def __repr__(self) -> str:
        return "\n\n".join(repr(r) for r in self.results())


class Explorer:
    """One survey file explored question by question; defaults to the first single-choice question by the first banner."""

    def __init__(
        self,
        wave: str = "all",
        data_path: str | None = None,
        output_dir: str | None = None,
        min_count: int | None = None,
    ):
        self.data_path = data_path
        self.survey = load_survey(data_path, "all")
        self.df, self.codebook = self.survey
        self.banners = tb.load_banners(self.codebook)
        self.min_count = min_count
        self.wave = str(wave)
        from cnfs.outputs import resolve_output_dir

        base = (
            resolve_output_dir(output_dir)
            if output_dir
            else tb.paths.OUTPUTS / ("all" if self.wave == "all" else f"wave-{self.wave}")
        )
        self.out = Path(base)
        self._weighted: dict[str, pd.DataFrame] = {}
        self._books: dict[str, dict[str, pd.DataFrame]] = {}
        qs = tb.tab_questions(self.codebook)
        default_q = next((q.id for q in qs if q.type == "single" and q.universe is None), qs[0].id)
        default_b = next((b.id for b in self.banners if b.id != "wave"), self.banners[0].id)
        self.current: dict[str, str] = {
            "wave": self.wave,
            "question": default_q,
            "banner": default_b,
            "weighting": "none",
        }
        self.last: View | None = None

    # ------------------------------------------------------------ choices
    def wave_choices(self) -> list[tuple[str, str]]:
        waves = self.codebook.waves_in(self.df)
        return [("Toutes vagues", "all")] + [(f"Vague {w}", w) for w in waves]

    def question_choices(self) -> list[tuple[str, str]]:
        """(French wording, id) of every question of the tab book; battery items add their item label."""
        return [(f"{q.wording} — {q.item}" if q.item else q.wording, q.id) for q in tb.tab_questions(self.codebook)]

    def banner_choices(self) -> list[tuple[str, str]]:
        return [TOTAL_CHOICE] + [(b.label, b.id) for b in self.banners]

    def weighting_choices(self) -> list[tuple[str, str]]:
        keys = ["none", "raking"] if tb.population_available() else ["none"]
        return [(WEIGHTING_LABELS[k], k) for k in keys]

    # ------------------------------------------------------------ data
    def data(self, wave: str, weighting: str) -> pd.DataFrame:
        """The wave's rows, with raking weights (computed once per wave) when asked."""
        df = self.df if wave == "all" else self.df[self.df[self.codebook.wave_column].astype(str) == wave]
        if weighting == "none":
            return df
        if weighting != "raking":
            raise ValueError(f"pondération inconnue : {weighting!r} (attendu : none ou raking)")
        if wave not in self._weighted:
            self._weighted[wave] = tb.with_raking_weights(df, self.codebook, wave)
        return self._weighted[wave]

    def book(self, wave: str, weighting: str) -> pd.DataFrame:
        """The disclosed tab book of ``wave``: the tab book files' own cells, withheld jointly with the books of
        all waves and of each (computed once per weighting), so that no table exported from here gives back, by
        subtraction, a cell that another table or a tab book file withholds."""
        if weighting not in self._books:
            waves = [w for _, w in self.wave_choices()[1:]]
            self._books[weighting] = tb.linked_books(self.df, self.codebook, ["all", *waves], weighting, self.min_count)
        return self._books[weighting][wave]

    def view(
        self,
        wave: str | None = None,
        question: str | None = None,
        banner: str | None = None,
        weighting: str | None = None,
    ) -> View:
        """Table, chart and test of ``question`` by ``banner`` (current choices for what is not given)."""
        c = self.current
        c.update(
            {
                k: v
                for k, v in dict(wave=wave, question=question, banner=banner, weighting=weighting).items()
                if v is not None
            }
        )
        if c["question"] not in self.codebook:
            raise KeyError(f"{c['question']!r} n'est pas une question du codebook")
        df = self.data(c["wave"], c["weighting"])
        banners = [b for b in self.banners if b.id == c["banner"]]
        if c["banner"] != tb.TOTAL_ID and not banners:
            raise KeyError(f"{c['banner']!r} n'est pas une variable de ventilation ({[b.id for b in self.banners]})")
        wcol = tb.WEIGHT_COLUMN if c["weighting"] == "raking" else None
        book = self.book(c["wave"], c["weighting"])
        tidy = book[(book["question"] == c["question"]) & book["banner"].isin([tb.TOTAL_ID, c["banner"]])]
        if banners and not (tidy["banner"] == c["banner"]).any():  # the wave banner within one wave: its column
            pooled = self.book("all", c["weighting"])  # in the pooled book, the same cells as the wave's Ensemble
            own = (pooled["question"] == c["question"]) & (pooled["banner"] == c["banner"])
            column = pooled[own & (pooled["column"] == tb.wave_heading(c["wave"]))]
            tidy = pd.concat([tidy, column.assign(letter="A", sig="")])  # one column: nothing to compare
        tidy = tidy.reset_index(drop=True)
        self.last = View(
            c["wave"],
            c["question"],
            c["banner"],
            c["weighting"],
            tidy,
            self._table(tidy),
            self._chart(df, tidy, wcol),
            self._test(df, banners, tidy),
        )
        return self.last

    # ------------------------------------------------------------ the three results
    def _title(self) -> str:
        q = self.codebook[self.current["question"]]
        by = dict((k, v) for v, k in self.banner_choices()).get(self.current["banner"], "")
        wave = dict((k, v) for v, k in self.wave_choices()).get(self.current["wave"], self.current["wave"])
        return f"{q.label} — {by if self.current['banner'] != tb.TOTAL_ID else 'ensemble'} ({wave.lower()})"

    def _table(self, tidy: pd.DataFrame) -> Result:
        shown = tb.display_table(tidy)
        q = self.codebook[self.current["question"]]
        n = int(tidy.loc[tidy["banner"] == tb.TOTAL_ID, "base_n"].max())
        notes = [tb.weighting_label(self.current["weighting"])]
        if bool(tidy.get("suppressed", pd.Series(dtype=bool)).any()):
            notes.append(str(tidy.attrs.get("disclosure_note", "")) or "Cellules masquées (secret statistique).")
        if bool(tidy.get("fragile", pd.Series(dtype=bool)).any()):
            notes.append(tb.FRAGILE_NOTE)
        if self.current["banner"] != tb.TOTAL_ID:
            notes += tb.TEST_NOTES[:2]
        return Result(self._title(), tidy, shown, base_caption(self.codebook.base_label(q.id), n), notes=notes)

    def _chart(self, df: pd.DataFrame, tidy: pd.DataFrame, wcol: str | None) -> Result:
        import matplotlib.pyplot as plt

        from cnfs.intervals import proportion_ci
        from cnfs.plots import plot_scores, plot_shares, png_bytes

        q = self.codebook[self.current["question"]]
        by = self.current["banner"]
        part = tidy[(tidy["banner"] == by) & tidy["base_n"].notna() & (tidy["base_n"] > 0)].copy()
        part["n"] = part["base_n"].astype(int)
        levels = list(dict.fromkeys(part["column"]))
        if part["value"].notna().sum() == 0:  # every column withheld by disclosure control: nothing to draw
            return Result(
                "Graphique", part, None, "Aucun graphique : toutes les colonnes sont masquées (secret statistique)."
            )
        if q.type in ("single", "multi"):
            part = part[part["stat"] == "percent"]
            lo, hi = proportion_ci(part["value"].fillna(0) / 100 * part["base_effective"], part["base_effective"])
            frame = pd.DataFrame(
                {
                    "groupe": pd.Categorical(part["column"], categories=levels, ordered=True),
                    "question": q.id,
                    "question_label": q.label,
                    "option": part["option"],
                    "label": part["label"],
                    "count": part["count"],
                    "n": part["n"],
                    "percent": part["value"],
                    "ci_low": np.where(part["value"].notna(), lo, np.nan),
                    "ci_high": np.where(part["value"].notna(), hi, np.nan),
                    "base": part.get("base"),
                }
            )
            if by == tb.TOTAL_ID:
                frame = frame.drop(columns="groupe")
            fig = plot_shares(frame, title=q.label, sort=not q.ordered, legend_title=self._banner_label(by))
        else:
            frame = self._means(df, q.id, by, wcol, part)
            if by == tb.TOTAL_ID:
                frame = frame.drop(columns="groupe")
            fig = plot_scores(frame, title=q.label, legend_title=self._banner_label(by))
        png = png_bytes(fig)
        plt.close(fig)
        return Result("Graphique", frame, None, "", png)

    def _means(self, df: pd.DataFrame, qid: str, by: str, wcol: str | None, part: pd.DataFrame) -> pd.DataFrame:
        """Mean and 95 % interval per column (weighted mean, variance and effective base when weighted)."""
        from scipy import stats

        from cnfs.scoring import asked

        mask = asked(df, self.codebook, qid)
        groups = (
            pd.Series(tb.TOTAL_LABEL, index=df.index)
            if by == tb.TOTAL_ID
            else tb.banner_series(df, self.codebook, next(b for b in self.banners if b.id == by)).astype(object)
        )
        w = df[wcol].to_numpy(dtype=float) if wcol else np.ones(len(df))
        x = pd.to_numeric(df[qid], errors="coerce").to_numpy(dtype=float)
        rows = []
        for _, r in part[part["stat"] == "mean"].iterrows():
            m = (mask & (groups == r["column"])).to_numpy()
            mean, var, neff = tb._wstats(x[m], w[m])
            half = stats.t.ppf(0.975, neff - 1) * np.sqrt(var / neff) if neff > 1 else np.nan
            keep = not np.isnan(r["value"])
            rows.append(
                {
                    "groupe": r["column"],
                    "question": qid,
                    "label": self.codebook[qid].label,
                    "n": int(r["n"]),
                    "mean": r["value"],
                    "ci_low": mean - half if keep else np.nan,
                    "ci_high": mean + half if keep else np.nan,
                    "base": self.codebook.base_label(qid),
                    "question_label": self.codebook[qid].label,
                }
            )
        out = pd.DataFrame(rows)
        out["groupe"] = pd.Categorical(out["groupe"], categories=list(dict.fromkeys(out["groupe"])), ordered=True)
        return out

    def _banner_label(self, by: str) -> str | None:
        return None if by == tb.TOTAL_ID else next(b.label for b in self.banners if b.id == by)

    def _test(self, df: pd.DataFrame, banners: list[tb.Banner], tidy: pd.DataFrame) -> Result:
        """The global test of the question across the breakdown's columns (unweighted, as in the section notebooks);
        a column whose base the table withholds has its size withheld here too."""
        from cnfs.contrasts import EFFECT_LABELS, TEST_LABELS, compare_groups
        from cnfs.disclosure import policy, withheld_groups, withhold_group_sizes

        qid = self.current["question"]
        q = self.codebook[qid]
        if not banners:
            return Result("Test", pd.DataFrame(), None, "Choisissez une ventilation pour obtenir un test.")
        by = tb.banner_series(df, self.codebook, banners[0])
        comp = compare_groups(df, self.codebook, qid, by)  # the section notebooks' choice of test (rank for scales)
        hidden = withheld_groups(tidy[tidy["banner"] == banners[0].id], "column", base="base_n")
        t = withhold_group_sizes(comp.tests, policy(self.codebook, self.min_count).min_count, withheld=hidden)
        shown = pd.DataFrame(
            {
                "Modalité / item": t["label"].fillna(t["question_label"]) if "label" in t else t["question_label"],
                "Groupes comparés": t["groups"],
                "Effectifs": t["n_by"],
                "Test": t["test"].map(lambda s: TEST_LABELS.get(s, s)),
                "p": t["p_value"].map(fmt_p),
                "p ajusté (BH)": t["p_adjusted"].map(fmt_p),
                "Taille d'effet": [
                    f"{EFFECT_LABELS.get(e, e)} = {fmt_num(v, 3)}" for e, v in zip(t["effect"], t["effect_size"])
                ],
            }
        )
        notes = [
            "Test global entre les colonnes, sur les données non pondérées ; les lettres du tableau "
            "donnent les comparaisons deux à deux."
        ]
        if self.current["weighting"] != "none":
            notes.append("Les pourcentages du tableau sont pondérés ; ce test ne l'est pas.")
        return Result(
            f"Test : {q.label} selon {banners[0].label.lower()}", t, shown.set_index("Modalité / item"), notes=notes
        )

    # ------------------------------------------------------------ export
    def export(self) -> list[Path]:
        """Write the current table (tidy, under disclosure control) as CSV and spreadsheet; returns the paths."""
        from cnfs.outputs import write_table

        view = self.last or self.view()
        stem = f"exploration_{view.question}_par_{view.banner}_{'vague-' + view.wave if view.wave != 'all' else 'toutes-vagues'}_{view.weighting}"
        paths = [write_table(view.tidy.drop(columns=["wording"]), self.out, stem)]
        paths.append(
            tb.write_spreadsheet(
                view.tidy,
                self.out / "tables" / f"{stem}.xlsx",
                title=view.table.title,
                wave=view.wave,
                weighting=view.weighting,
                synthetic=self.survey.is_synthetic,
            )
        )
        return paths

    # ------------------------------------------------------------ widgets
    def widget(self) -> Any:
        """Dropdowns (wave, question, breakdown, weighting), the current view and an export button."""
        import ipywidgets as w
        from IPython.display import display

        style = {"description_width": "8rem"}
        layout = w.Layout(width="60rem")
        pick = {
            "wave": w.Dropdown(
                options=self.wave_choices(), value=self.current["wave"], description="Vague", style=style
            ),
            "question": w.Dropdown(
                options=self.question_choices(),
                value=self.current["question"],
                description="Question",
                style=style,
                layout=layout,
            ),
            "banner": w.Dropdown(
                options=self.banner_choices(), value=self.current["banner"], description="Ventilation", style=style
            ),
            "weighting": w.Dropdown(
                options=self.weighting_choices(),
                value=self.current["weighting"],
                description="Pondération",
                style=style,
            ),
        }
        out = w.Output()
        status = w.HTML()
        button = w.Button(
            description="Exporter le tableau (CSV et tableur)", icon="download", layout=w.Layout(width="22rem")
        )

        def refresh(_: Any = None) -> None:
            with out:
                out.clear_output(wait=True)
                display(self.view(**{k: d.value for k, d in pick.items()}))

        def export(_: Any) -> None:
            written = self.export()
            status.value = "Écrit : " + ", ".join(
                f"<code>{p.relative_to(tb.paths.ROOT) if p.is_relative_to(tb.paths.ROOT) else p.name}</code>"
                for p in written
            )

        for d in pick.values():
            d.observe(refresh, names="value")
        button.on_click(export)
        refresh()
        return w.VBox([*pick.values(), w.HBox([button, status]), out])
