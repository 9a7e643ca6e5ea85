"""Shared fixtures: the synthetic twin (generated once per session) and the article text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from cnfs import paths  # noqa: E402

ARTICLE = paths.ROOT.parent / "shared" / "seed" / "000_e783f156907ed4b9.txt"


@pytest.fixture(scope="session")
def twin_path() -> Path:
    from cnfs.synth import ensure_synthetic

    return ensure_synthetic()


@pytest.fixture(scope="session")
def survey(twin_path):
    from cnfs.loader import load_survey

    return load_survey()


@pytest.fixture(scope="session")
def article_text() -> str:
    if not ARTICLE.exists():
        pytest.skip(f"article not found at {ARTICLE}")
    return ARTICLE.read_text(encoding="utf-8")
