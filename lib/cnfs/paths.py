"""Where the project's files live, resolved from the package location (editable install)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT: Path = Path(__file__).resolve().parents[2]
DATA: Path = ROOT / "data"
CODEBOOK: Path = DATA / "codebook.yaml"
PUBLISHED: Path = DATA / "published_figures.csv"
ASSUMPTIONS: Path = DATA / "synthetic_assumptions.yaml"
ANALYSIS_ASSUMPTIONS: Path = DATA / "analysis_assumptions.yaml"
POPULATION: Path = DATA / "population.yaml"
BANNERS: Path = DATA / "banners.yaml"
SYNTHETIC_DIR: Path = DATA / "synthetic"
SYNTHETIC_SURVEY: Path = SYNTHETIC_DIR / "survey_synthetic.csv"
CACHE_DIR: Path = DATA / "cache"
QUALITATIVE_DIR: Path = DATA / "qualitative"
NOTEBOOKS: Path = ROOT / "notebooks"
#: Rendered outputs; ``CNFS_OUTPUTS`` moves them (the test suite points kernels at a temporary folder).
OUTPUTS: Path = Path(os.environ.get("CNFS_OUTPUTS") or ROOT / "outputs")
LIB: Path = ROOT / "lib"


def population_file() -> Path:
    """The population file in use: ``CNFS_POPULATION`` (set by ``cnfs render --population``), else POPULATION."""
    given = os.environ.get("CNFS_POPULATION")
    return Path(given) if given else POPULATION
