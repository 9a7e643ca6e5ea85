"""The advisors' population at each wave (data/population.yaml): size in post and sourced margins.

Every value carries its source, date and status (``published`` or ``assumption``). Margins are
percentages of the population size on codebook single-choice questions; every option of the question
has one and they sum to 100, so that the raking totals of one variable sum to the population size.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cnfs import paths
from cnfs.codebook import Codebook

POPULATION: Path = paths.POPULATION  # the project's file; paths.population_file() is the one in use
STATUSES = ("published", "assumption")
STATUS_LABELS = {"published": "publié", "assumption": "hypothèse"}
ALL_WAVES = "all"


class PopulationError(ValueError):
    """A population file that does not match its schema or the codebook (names the file and the key)."""


@dataclass(frozen=True)
class Sourced:
    """One sourced figure: value, date, source key, status and an optional note."""

    value: float
    date: str
    source: str
    status: str
    note: str = ""
    unit: str = ""


@dataclass(frozen=True)
class WavePopulation:
    """Population of one wave: its size and its margins (question id -> option code -> percent)."""

    wave: str
    size: Sourced
    margins: dict[str, dict[str, Sourced]]
    period: str = ""


@dataclass(frozen=True)
class Population:
    """All waves of a population file, the sources it cites and which wave the pooled sample refers to."""

    waves: dict[str, WavePopulation]
    sources: dict[str, dict[str, str]]
    pooled_population_of: str
    context: tuple[dict[str, Any], ...] = ()
    path: Path | None = None

    def wave(self, wave: str) -> WavePopulation:
        """The population a wave's sample is drawn from; ``"all"`` maps to ``pooled_population_of``."""
        key = self.pooled_population_of if str(wave) == ALL_WAVES else str(wave)
        if key not in self.waves:
            raise PopulationError(
                f"{self.path} : aucune population pour la vague {wave!r} ; vagues du fichier : {sorted(self.waves)}"
            )
        return self.waves[key]

    def size(self, wave: str) -> float:
        """Population size (advisors in post) for a wave."""
        return float(self.wave(wave).size.value)


def _sourced(doc: Any, where: str, sources: dict[str, Any], path: Path) -> Sourced:
    if not isinstance(doc, dict):
        raise PopulationError(f"{path} : {where} : attendu : une table avec les clés value, date, source et status")
    missing = [k for k in ("value", "date", "source", "status") if doc.get(k) in (None, "")]
    if missing:
        raise PopulationError(f"{path} : {where} : clés manquantes {missing}")
    if doc["status"] not in STATUSES:
        raise PopulationError(f"{path} : {where} : status {doc['status']!r}, attendu : l'un de {STATUSES}")
    if doc["source"] not in sources:
        raise PopulationError(
            f"{path} : {where} : la source {doc['source']!r} n'est pas déclarée sous « sources » : {sorted(sources)}"
        )
    try:
        value = float(doc["value"])
    except (TypeError, ValueError):
        raise PopulationError(f"{path} : {where} : la valeur {doc['value']!r} n'est pas un nombre") from None
    return Sourced(
        value,
        str(doc["date"]),
        str(doc["source"]),
        str(doc["status"]),
        str(doc.get("note", "")).strip(),
        str(doc.get("unit", "")),
    )


def parse_population(doc: dict[str, Any], codebook: Codebook, path: Path | None = None) -> Population:
    """Check a parsed population file against its schema and the codebook; every problem names the key."""
    p = path or Path("<population>")
    sources = doc.get("sources") or {}
    waves_doc = doc.get("waves")
    if not isinstance(waves_doc, dict) or not waves_doc:
        raise PopulationError(f"{p} : « waves » doit associer à chaque vague sa population")
    waves: dict[str, WavePopulation] = {}
    for label, w in waves_doc.items():
        label = str(label)
        size = _sourced(w.get("size"), f"waves.{label}.size", sources, p)
        if size.value <= 0:
            raise PopulationError(f"{p} : waves.{label}.size : l'effectif doit être positif, il vaut {size.value:g}")
        margins: dict[str, dict[str, Sourced]] = {}
        for qid, opts in (w.get("margins") or {}).items():
            where = f"waves.{label}.margins.{qid}"
            if qid not in codebook:
                raise PopulationError(f"{p} : {where} : {qid!r} n'est pas une question du codebook")
            q = codebook[qid]
            if q.type != "single" or q.universe is not None:
                raise PopulationError(
                    f"{p} : {where} : une marge porte sur une question à choix unique posée à tous ; "
                    f"{qid!r} est de type {q.type}{' avec un filtre' if q.universe else ''}"
                )
            unknown = sorted(set(opts) - set(q.codes))
            absent = [c for c in q.codes if c not in opts]
            if unknown or absent:
                raise PopulationError(
                    f"{p} : {where} : les codes d'options doivent être exactement {q.codes} ; inconnus {unknown}, manquants {absent}"
                )
            margins[qid] = {c: _sourced(opts[c], f"{where}.{c}", sources, p) for c in q.codes}
            total = sum(s.value for s in margins[qid].values())
            if abs(total - 100) > 1e-9 or any(s.value < 0 for s in margins[qid].values()):
                raise PopulationError(
                    f"{p} : {where} : les parts doivent être positives ou nulles et sommer à 100 ; leur somme vaut {total:g}"
                )
        waves[label] = WavePopulation(label, size, margins, str(w.get("period", "")))
    pooled = str(doc.get("pooled_population_of", ""))
    if pooled not in waves:
        raise PopulationError(f"{p} : pooled_population_of {pooled!r} doit être l'une des vagues {sorted(waves)}")
    return Population(waves, sources, pooled, tuple(doc.get("context") or ()), path)


def load_population(path: str | Path | None = None, codebook: Codebook | None = None) -> Population:
    """Read and check a population file (by default ``paths.population_file()``: data/population.yaml)."""
    from cnfs.codebook import load_codebook

    p = Path(path) if path is not None else paths.population_file()
    if not p.exists():
        raise PopulationError(f"{p} : fichier de population introuvable")
    try:
        doc = _parsed(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise PopulationError(f"{p} : YAML invalide ({e})") from None
    if not isinstance(doc, dict):
        raise PopulationError(f"{p} : attendu : une table de clés au premier niveau")
    return parse_population(copy.deepcopy(doc), codebook or load_codebook(), p)


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> Any:
    """The YAML of a population file, parsed once per content in a process (read-only: callers deep-copy it)."""
    return yaml.safe_load(text)


def margin_totals(
    population: Population, wave: str, codebook: Codebook, variables: list[str] | None = None
) -> pd.DataFrame:
    """Raking totals of a wave: one row per option of each margin variable (variable, code, total, ...).

    Columns: variable, code, label, share (percent), total (= share / 100 × size), status, source, date.
    The totals of one variable sum to the population size.
    """
    wp = population.wave(wave)
    names = list(wp.margins) if variables is None else list(variables)
    rows = []
    for qid in names:
        if qid not in wp.margins:
            raise PopulationError(
                f"{population.path} : la vague {wp.wave!r} n'a pas de marge pour {qid!r} ; marges : {sorted(wp.margins)}"
            )
        for code, s in wp.margins[qid].items():
            rows.append(
                {
                    "variable": qid,
                    "code": code,
                    "label": codebook[qid].label_of(code),
                    "share": s.value,
                    "total": s.value / 100.0 * wp.size.value,
                    "status": s.status,
                    "source": s.source,
                    "date": s.date,
                }
            )
    return pd.DataFrame(rows, columns=["variable", "code", "label", "share", "total", "status", "source", "date"])


def size_table(population: Population, waves: list[str]) -> pd.DataFrame:
    """Population size per wave with its status and source, for a report (French status labels)."""
    rows = []
    for w in waves:
        s = population.wave(w).size
        rows.append(
            {
                "vague": w,
                "effectif": s.value,
                "statut": STATUS_LABELS[s.status],
                "source": population.sources[s.source].get("title", s.source),
                "date": s.date,
                "note": s.note,
            }
        )
    return pd.DataFrame(rows)
