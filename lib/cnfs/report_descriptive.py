"""Descriptive results of one question or battery: shares, scores, distributions.

A part of ``cnfs.notebook.Report``: its methods use the report's data, codebook, disclosure
control and writers (``self.df``, ``self.codebook``, ``self.protect_linked``, ``self._write_table``…)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cnfs.formatting import (
    NARROW_NBSP,
    colon,
    display,
    fmt_num,
    fmt_pct,
)
from cnfs.result import Result


class DescriptiveResults:
    """Descriptive results of one question or battery: shares, scores, distributions."""

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
        t = self.protect_linked(
            self._ordered_shares(t, qid), lambda d: shares(d, self.codebook, qid, by=self._by_on(d, by, levels))
        )
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

        def table(d: pd.DataFrame, design: Any = None) -> pd.DataFrame:
            parts = [shares(d, self.codebook, q.id, design=design).assign(item=q.label) for q in items]
            return pd.concat(parts, ignore_index=True)

        t = self.protect_linked(table(self.df, self.design), table, by=["item"])
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
            group = items

            def summary(d: pd.DataFrame, design: Any = None) -> pd.DataFrame:
                return battery_summary(d, self.codebook, group, design=design)

            title, name = self.codebook.groups[items].wording, items
        else:
            ids = [items] if isinstance(items, str) else list(items)

            def summary(d: pd.DataFrame, design: Any = None) -> pd.DataFrame:
                return scale_summary(d, self.codebook, ids, design=design)

            title, name = self.codebook[ids[0]].wording, "_".join(ids[:2])
        t = summary(self.df, self.design)
        t = self.protect_linked(t.sort_values("rank", kind="stable").reset_index(drop=True), summary)
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

        bins = self._bins(qid)
        t = self.protect_linked(
            distribution(self.df, self.codebook, qid, bins=bins, design=self.design),
            lambda d: distribution(d, self.codebook, qid, bins=bins),
        )
        title = colon("Distribution", self.codebook[qid].label)
        caption, notes = table_caption(t), self._notes(t) + self._weight_notes(t)
        self._write_table(t, f"{qid}_distribution", title, caption, notes)
        png = self._write_figure(plot_distribution(t), f"{qid}_distribution")
        return Result(title, t, None, caption, png, notes)
