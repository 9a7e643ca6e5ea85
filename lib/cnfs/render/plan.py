"""What to run: numbered notebooks × waves, with the parameters injected into each execution."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOTEBOOK_PATTERN = re.compile(r"^(\d{2})_[\w-]+\.ipynb$")
ALL_WAVES = "all"
#: Folder suffix of weighted reports (``cnfs render --weighting raking``): outputs/wave-1-pondere/, …
WEIGHTED_SUFFIX = "-pondere"

WavesFn = Callable[[Path | None], list[str]]


@dataclass(frozen=True)
class Notebook:
    """One numbered notebook of the project."""

    path: Path
    number: str
    wave_independent: bool

    @property
    def stem(self) -> str:
        """File name without extension, e.g. '03_usages'."""
        return self.path.stem


@dataclass
class Job:
    """One execution: a notebook for a wave, with its parameters and destinations."""

    notebook: Notebook
    wave: str
    parameters: dict[str, Any]
    wave_dir: Path
    data_file: Path
    synthetic: bool
    key: str = ""
    components: dict[str, str] = field(default_factory=dict)
    folder: str = ""  # output folder name when not the wave's own (weighted reports)

    @property
    def label(self) -> str:
        """Short human label, e.g. '03_usages [vague 1]'."""
        return f"{self.notebook.stem} [{wave_label(self.wave)}]"

    @property
    def ident(self) -> str:
        """Stable identifier, used for manifests and staging folders."""
        return f"{self.folder or wave_folder(self.wave)}/{self.notebook.stem}"

    def to_payload(self) -> dict[str, Any]:
        """Plain-data description sent to a worker process."""
        return {
            "notebook": str(self.notebook.path),
            "stem": self.notebook.stem,
            "wave": self.wave,
            "parameters": dict(self.parameters),
            "wave_dir": str(self.wave_dir),
            "data_file": str(self.data_file),
            "synthetic": self.synthetic,
            "key": self.key,
            "components": dict(self.components),
        }


def wave_folder(wave: str) -> str:
    """Folder name of a wave under outputs/: 'wave-1', …, or 'all'."""
    return ALL_WAVES if wave == ALL_WAVES else f"wave-{wave}"


def wave_label(wave: str) -> str:
    """French label of a wave for reports."""
    return "toutes vagues" if wave == ALL_WAVES else f"vague {wave}"


def wave_sort_key(wave: str) -> tuple[int, Any]:
    """Numeric waves first in numeric order, then others, 'all' last."""
    if wave == ALL_WAVES:
        return (2, "")
    return (0, int(wave)) if wave.isdigit() else (1, wave)


def discover_notebooks(notebooks_dir: Path) -> list[Notebook]:
    """The numbered notebooks (NN_slug.ipynb) of a folder, in order."""
    found: list[Notebook] = []
    if not notebooks_dir.is_dir():
        return found
    for path in sorted(notebooks_dir.iterdir()):
        m = NOTEBOOK_PATTERN.match(path.name)
        if not m or not path.is_file():
            continue
        try:
            meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
        except ValueError:
            meta = {}
        independent = bool(meta.get("cnfs", {}).get("wave_independent", False))
        if meta.get("cnfs", {}).get("render", True) is False:  # interactive (the explorer): not a report
            continue
        found.append(Notebook(path=path.resolve(), number=m.group(1), wave_independent=independent))
    return found


def select_notebooks(notebooks: Sequence[Notebook], wanted: Iterable[str] | None) -> list[Notebook]:
    """Keep the notebooks matching a selection: numbers ('3', '03'), stems or file names."""
    if not wanted:
        return list(notebooks)
    tokens = [t.strip() for w in wanted for t in str(w).split(",") if t.strip()]
    chosen: list[Notebook] = []
    unknown: list[str] = []
    for token in tokens:
        hits = [
            nb
            for nb in notebooks
            if token in (nb.stem, nb.path.name)
            or (token.isdigit() and int(token) == int(nb.number))
            or nb.stem.startswith(token + "_")
        ]
        if not hits:
            unknown.append(token)
        chosen.extend(h for h in hits if h not in chosen)
    if unknown:
        known = ", ".join(nb.stem for nb in notebooks) or "aucun"
        raise ValueError(f"Notebook(s) inconnu(s) : {', '.join(unknown)} (disponibles : {known})")
    return sorted(chosen, key=lambda nb: nb.path.name)


def all_waves(data_waves: Iterable[str]) -> list[str]:
    """The waves found in the data plus 'all', in display order."""
    waves = {str(w) for w in data_waves}
    waves.add(ALL_WAVES)
    return sorted(waves, key=wave_sort_key)


def select_waves(waves: Sequence[str], wanted: Iterable[str] | None) -> list[str]:
    """Keep the requested waves; unknown waves are an error naming the available ones."""
    if not wanted:
        return list(waves)
    tokens = [t.strip() for w in wanted for t in str(w).split(",") if t.strip()]
    unknown = [t for t in tokens if t not in waves]
    if unknown:
        raise ValueError(f"Vague(s) absente(s) des données : {', '.join(unknown)} (disponibles : {', '.join(waves)})")
    return [w for w in waves if w in tokens]


def is_synthetic(data_file: Path, requested: Path | None) -> bool:
    """Whether the data are the synthetic twin: no file requested, or a file the provenance rules flag."""
    from cnfs.provenance import is_synthetic as flagged

    return requested is None or flagged(data_file)


def build_jobs(
    notebooks: Sequence[Notebook],
    waves: Sequence[str],
    output_root: Path,
    data_file: Path,
    requested_data: Path | None,
    weighting: str = "none",
) -> list[Job]:
    """One job per notebook and wave; wave-independent notebooks only for 'all', with ``output_dir`` only."""
    synthetic = is_synthetic(data_file, requested_data)
    jobs: list[Job] = []
    for nb in notebooks:
        for wave in waves:
            if nb.wave_independent and (wave != ALL_WAVES or weighting != "none"):
                continue
            folder = wave_folder(wave) + ("" if weighting == "none" else WEIGHTED_SUFFIX)
            wave_dir = (output_root / folder).resolve()
            params: dict[str, Any] = {"output_dir": str(wave_dir)}
            if not nb.wave_independent:  # a wave-independent notebook never gets the survey file
                params = {"wave": wave, "data_path": None if requested_data is None else str(data_file), **params}
                if weighting != "none":  # weighted reports (issue 10); unweighted parameters stay as they were
                    params["weighting"] = weighting
            jobs.append(
                Job(nb, wave, params, wave_dir, data_file, synthetic, folder=folder if weighting != "none" else "")
            )
    return jobs
