"""What a section notebook calls: one object that loads the data, shows results the article's way,
and writes every table (CSV, with its title and base beside it for the spreadsheet) and chart (PNG)
under the output folder.

Each method returns a ``Result`` that Jupyter renders as a title, a French table, a chart and notes;
``result.data`` is the tidy table behind it, after disclosure control (cnfs.disclosure). Tables and
charts are drawn from the same ordered tidy table, so they agree.

This module is the report's core (data, disclosure control, writers, header, the wave comparison); the
results are built per concern in ``cnfs.report_descriptive``, ``cnfs.report_comparisons``,
``cnfs.report_methodology`` and ``cnfs.report_figures``; ``Result`` and the shared names live in
``cnfs.result`` (all re-exported here).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from cnfs import disclosure, paths
from cnfs.atomic import write_text
from cnfs.formatting import (
    NARROW_NBSP,
    SUPPRESSED,
    colon,
    display_path,
    fmt_date,
    fmt_num,
)
from cnfs.loader import Survey, describe_source, load_survey
from cnfs.outputs import resolve_output_dir, write_figure, write_table
from cnfs.provenance import SYNTHETIC_WARNING
from cnfs.report_comparisons import ComparisonResults, _format_tests  # noqa: F401
from cnfs.report_descriptive import DescriptiveResults
from cnfs.report_figures import PublishedFigures
from cnfs.report_methodology import MethodologyResults
from cnfs.result import (  # noqa: F401  (re-exported: the notebooks' and other modules' names)
    BY_PHRASES,
    BY_TITLES,
    DERIVED_SUBGROUPS,
    HEADER_MIME,
    META_DIR,
    STATUS_STYLE,
    WAVE_NOTE,
    WITHHELD_TEST,
    Result,
    _Header,
)


def output_folder(wave: str, weighting: str = "none") -> Path:
    """Default output folder of a wave, the renderer's: outputs/wave-1, outputs/wave-2, outputs/all (with
    the suffix of weighted reports, e.g. outputs/wave-1-pondere, when weighted)."""
    from cnfs.render.plan import WEIGHTED_SUFFIX, wave_folder

    return paths.OUTPUTS / (wave_folder(str(wave)) + ("" if weighting == "none" else WEIGHTED_SUFFIX))


class Report(DescriptiveResults, ComparisonResults, MethodologyResults, PublishedFigures):
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
        self._full: pd.DataFrame | None = None
        self._family: dict[str, pd.DataFrame] | None = None
        self._computed: dict[str, Any] = {}  # published figures computed on this report's data (cnfs.compare)
        set_theme()

    # ------------------------------------------------------------ files
    def protect(self, tidy: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        """Disclosure control of a tidy table with the report's thresholds (see cnfs.disclosure)."""
        if "n" not in tidy.columns:
            return tidy
        return disclosure.suppress(
            tidy, min_count=self.policy.min_count, fragile_base=self.policy.fragile_base, **kwargs
        )

    def protect_linked(self, tidy: pd.DataFrame, compute: Callable[[pd.DataFrame], pd.DataFrame], **kwargs: Any):
        """Disclosure control of a table linked to the same table of the other waves and of the waves pooled
        (pooled = wave 1 + wave 2): ``compute(data)`` makes the table from another wave's data (unweighted:
        counts and bases are unweighted anyway), and a row withheld in only one of them is withheld in another
        wave's too (``cnfs.disclosure.suppress_linked``), so that no wave's count is pooled minus the other's."""
        if "n" not in tidy.columns:
            return tidy
        family = {self.wave: tidy}
        for name, part in self._wave_family().items():
            family[name] = compute(part)
        linked = disclosure.suppress_linked(
            family, min_count=self.policy.min_count, fragile_base=self.policy.fragile_base, **kwargs
        )
        return linked[self.wave]

    def _wave_family(self) -> dict[str, pd.DataFrame]:
        """The data of the other waves and of the waves pooled, the tables of this report's are linked to (split
        once per report: the linked tables of every result need them; read-only)."""
        if self._family is None:
            full = self._all_waves()
            wave = full[self.codebook.wave_column].astype(str)
            waves = [w for w in self.codebook.waves if (wave == w).any()]
            parts = {"all": full, **{w: full[wave == w] for w in waves}} if len(waves) >= 2 else {}
            self._family = {name: part for name, part in parts.items() if name != self.wave}
        return dict(self._family)

    def _by_on(self, df: pd.DataFrame, by: str | None, levels: Sequence[str] | None = None) -> Any:
        """``by`` as a subgroup of ``df`` (derived subgroups computed on it), restricted to ``levels``."""
        s = DERIVED_SUBGROUPS[by](df) if by in DERIVED_SUBGROUPS else by
        if levels is not None and s is not None:
            from cnfs.contrasts import restrict_levels

            s = restrict_levels(df, s, levels)
        return s

    def protect_tests(self, tests: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
        """Test rows with group sizes under the threshold withheld (see cnfs.disclosure.withhold_group_sizes),
        and those whose base the comparison's protected ``table`` withholds (linked across waves)."""
        from cnfs.plots import by_column

        withheld: list[str] = []
        if table is not None and (by := by_column(table)):
            withheld = disclosure.withheld_groups(table, by)
        return disclosure.withhold_group_sizes(tests, self.policy.min_count, withheld=withheld)

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

    def _write_memo_figure(self, name: str, inputs: Sequence[Any], draw: Callable[[], Any]) -> bytes:
        """A chart that depends only on ``inputs`` (not on the wave): drawn once per render (``cnfs.memo``, keyed
        on the inputs and the matplotlib style too), its PNG written under figures/ and those bytes returned."""
        from cnfs.atomic import write_bytes
        from cnfs.memo import cached, style_fingerprint

        fresh: list[bytes] = []

        def drawn() -> bytes:
            fresh.append(self._write_figure(draw(), name))
            return fresh[0]

        png = cached(f"figure_{name}", [*inputs, style_fingerprint()], drawn)
        if not fresh:  # read from the memo: written here as the drawing run wrote it
            write_bytes(self.out / "figures" / f"{self.prefix}{name}.png", png)
        return png

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

    def _all_waves(self) -> pd.DataFrame:
        """The data of every wave (the report's own data when its wave is already "all")."""
        if self.wave == "all":
            return self.df
        if self._full is None:  # read once: the linked tables of every result need it
            self._full = load_survey(self.data_path, "all").data
        return self._full

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
