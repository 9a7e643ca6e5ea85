"""Outcomes of a render and their text summaries for the terminal: the plan, the final table, the failures."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cnfs.render.plan import Job, wave_label


@dataclass
class Outcome:
    """What happened to one job in this run."""

    job: Job
    state: str  # "cached", "ok", "retext" (report made again, not executed: text only), "failed", "cancelled"
    duration: float = 0.0
    reasons: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    failed_notebook: Path | None = None


@dataclass
class RenderReport:
    """Result of a render: one outcome per planned job, and the exit code."""

    outcomes: list[Outcome]
    exit_code: int
    output_root: Path
    elapsed: float = 0.0
    io_error: str | None = None

    @property
    def executed(self) -> list[Outcome]:
        """Outcomes of jobs actually executed in this run."""
        return [o for o in self.outcomes if o.state in ("ok", "failed")]


STATE_LABELS = {
    "cached": "à jour",
    "ok": "exécuté",
    "retext": "texte refait",
    "failed": "ÉCHEC",
    "cancelled": "interrompu",
}


def _rel(path: Path) -> str:
    """Path relative to the current directory when shorter."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _table(rows: list[list[str]], stream: TextIO) -> None:
    """Print rows as an aligned text table, first row as header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip(), file=stream)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=stream)


def print_plan(report: RenderReport, stream: TextIO) -> None:
    """What a render would do (dry run): each job, whether it is up to date, and why not."""
    rows = [["notebook", "vague", "état", "raison"]]
    for o in report.outcomes:
        state = {"cached": "à jour", "retext": "texte à refaire, sans exécution"}.get(o.state, "à exécuter")
        rows.append([o.job.notebook.stem, wave_label(o.job.wave), state, ", ".join(o.reasons)])
    if len(rows) == 1:
        print("Aucun notebook à rendre.", file=stream)
        return
    _table(rows, stream)


def print_summary(report: RenderReport, stream: TextIO) -> None:
    """Final table (notebook, wave, state, duration), then each failure with its cell, error and notebook."""
    rows = [["notebook", "vague", "état", "durée", "raison"]]
    for o in report.outcomes:
        dur = f"{o.duration:.1f} s" if o.state in ("ok", "failed") else ""
        rows.append(
            [
                o.job.notebook.stem,
                wave_label(o.job.wave),
                STATE_LABELS[o.state],
                dur,
                ", ".join(o.reasons) if o.state != "cached" else "",
            ]
        )
    print(file=stream)
    if len(rows) > 1:
        _table(rows, stream)
    else:
        print("Aucun notebook à rendre.", file=stream)
    counts = {s: sum(1 for o in report.outcomes if o.state == s) for s in STATE_LABELS}
    print(
        f"\n{counts['ok']} exécuté(s), {counts['cached']} à jour, {counts['failed']} en échec"
        + (f", {counts['retext']} au texte refait sans exécution" if counts["retext"] else "")
        + (f", {counts['cancelled']} interrompu(s)" if counts["cancelled"] else "")
        + f" — {report.elapsed:.1f} s. Index : {_rel(report.output_root / 'index.html')}",
        file=stream,
    )
    for o in report.outcomes:
        if o.state != "failed":
            continue
        err = o.error or {}
        cell = err.get("cell_index")
        where = f"cellule {cell}" if cell is not None else "hors cellule"
        if err.get("execution_count") is not None:
            where += f" (In [{err['execution_count']}])"
        print(f"\n✗ {o.job.notebook.stem} — {wave_label(o.job.wave)} — {where}", file=stream)
        print(f"  {err.get('ename', 'Erreur')}: {err.get('evalue', '')}", file=stream)
        if _disk_full(err):
            print(f"  disque plein : libérez de l'espace sous {_rel(report.output_root)} puis relancez", file=stream)
        if err.get("source"):
            for line in str(err["source"]).splitlines():
                print(f"  | {line}", file=stream)
        if o.failed_notebook is not None:
            print(f"  notebook exécuté : {_rel(o.failed_notebook)}", file=stream)
        old_html = o.job.wave_dir / f"{o.job.notebook.stem}.html"
        if old_html.exists():
            print(f"  rapport précédent conservé : {_rel(old_html)}", file=stream)
    if report.io_error:
        print(f"\nIndex non écrit ({report.io_error}) : l'index précédent est conservé.", file=stream)
    if report.exit_code > 128:
        print(f"\n{interrupted_message(report.exit_code)}", file=stream)


def interrupted_message(exit_code: int) -> str:
    """What a render stopped by a signal says (exit code 128 + signal number)."""
    import signal

    how = {signal.SIGTERM: " (SIGTERM)", signal.SIGHUP: " (SIGHUP)"}.get(exit_code - 128, "")
    return f"Interrompu{how} : aucun fichier partiel laissé dans les sorties."


def _disk_full(error: dict[str, Any]) -> bool:
    """Whether a failure is the disk being full (errno 28), to say so plainly."""
    text = f"{error.get('ename', '')} {error.get('evalue', '')}"
    return "No space left on device" in text or "Errno 28" in text
