"""Load and validate the qualitative study's YAML files into tidy tables.

Files (``data/qualitative/``): ``vocabulary.yaml`` (controlled lists), ``themes.yaml`` (codebook),
``territories.yaml``, ``structures.yaml``, ``excerpts.yaml``. Every problem of every file is
collected and raised once as ``QualitativeDataError`` naming file, record and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cnfs import paths
from cnfs.qualitative.errors import Problems, QualitativeDataError

VOCABULARY_KEYS = [
    "coordinator_kinds",
    "actor_kinds",
    "actor_types",
    "diagnostic_tools",
    "funding_splits",
    "excerpt_kinds",
    "speaker_roles",
]
EXCERPT_COLUMNS = [
    "excerpt_id",
    "kind",
    "territory",
    "speaker_role",
    "structure_kind",
    "source",
    "text",
    "codes",
]
TERRITORY_FIELDS = [
    "id",
    "name",
    "headline",
    "selection_reason",
    "context",
    "coordination",
    "contract",
    "numbers",
    "allocation_keys",
    "diagnostic_tools",
    "appropriation",
]
COORDINATION_FIELDS = ["coordinator", "initiator", "origin", "already_engaged", "prefecture_role"]
CONTRACT_FIELDS = [
    "recruits",
    "coordinator_recruits",
    "funders",
    "funding_split",
    "hierarchical_link",
    "functional_link",
    "administrative_residence",
    "coordination_post",
]
STRUCTURE_FIELDS = ["id", "territory", "kind", "actor_type", "field_site", "description"]
EXCERPT_FIELDS = ["id", "kind", "speaker_role", "territory", "structure_kind", "source", "codes", "text"]
THEME_FIELDS = ["code", "label", "dimension", "description"]


@dataclass(frozen=True)
class QualitativeData:
    """All tables of the qualitative study, validated together."""

    vocabulary: dict[str, dict[str, str]]
    themes: pd.DataFrame
    territories: pd.DataFrame
    territory_numbers: pd.DataFrame
    appropriation: pd.DataFrame
    structures: pd.DataFrame
    excerpts: pd.DataFrame


def _read_yaml(path: Path, top_key: str, problems: Problems) -> Any:
    """Read one YAML file and return its ``top_key`` entry (None, with a problem, if unusable)."""
    if not path.exists():
        problems.add(path, "-", top_key, f"an existing file at {path}")
        return None
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        problems.add(path, "-", top_key, f"valid YAML ({exc})")
        return None
    if not isinstance(doc, dict) or top_key not in doc:
        problems.add(path, "-", top_key, f"a top-level mapping with key '{top_key}'")
        return None
    return doc[top_key]


def _records(path: Path, items: Any, key: str, fields: list[str], problems: Problems) -> list[tuple[str, dict]]:
    """Return (label, record) pairs of a list of mappings, flagging missing fields and duplicate ids."""
    if not isinstance(items, list):
        problems.add(path, "-", key, "a list of records", type(items).__name__)
        return []
    out, seen = [], set()
    for i, rec in enumerate(items):
        if not isinstance(rec, dict):
            problems.add(path, f"#{i}", "-", "a mapping", rec)
            continue
        ident = rec.get(fields[0])
        label = f"'{ident}' (#{i})" if ident is not None else f"#{i}"
        for f in fields:
            if f not in rec:
                problems.add(path, label, f, "a value (field is missing)")
        if ident is not None:
            if ident in seen:
                problems.add(path, label, fields[0], "a unique identifier", ident)
            seen.add(ident)
        out.append((label, rec))
    return out


def _check_in(
    path: Path,
    label: str,
    field: str,
    value: Any,
    allowed: dict | set | list,
    problems: Problems,
    nullable: bool = False,
) -> None:
    """Flag ``value`` when it is not one of ``allowed`` (None accepted when ``nullable``)."""
    if value is None and nullable:
        return
    if value not in allowed:
        problems.add(path, label, field, f"one of {sorted(allowed)}", value)


def _directory(directory: str | Path | None) -> Path:
    return Path(directory) if directory is not None else paths.QUALITATIVE_DIR


def load_vocabulary(path: str | Path | None = None) -> dict[str, dict[str, str]]:
    """Controlled vocabularies (identifier -> French label), used to validate the other files."""
    problems = Problems()
    vocab = _vocabulary(Path(path) if path else paths.QUALITATIVE_DIR / "vocabulary.yaml", problems)
    problems.raise_if_any()
    return vocab


def _vocabulary(path: Path, problems: Problems) -> dict[str, dict[str, str]]:
    if not path.exists():
        problems.add(path, "-", "-", f"an existing file at {path}")
        return {k: {} for k in VOCABULARY_KEYS}
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    vocab = {}
    for key in VOCABULARY_KEYS:
        entry = doc.get(key)
        if not isinstance(entry, dict) or not entry:
            problems.add(path, "-", key, "a non-empty mapping identifier -> label")
            entry = {}
        vocab[key] = {str(k): str(v) for k, v in entry.items()}
    return vocab


def load_themes(path: str | Path | None = None) -> pd.DataFrame:
    """The codebook of themes: one row per code with its label and dimension."""
    problems = Problems()
    themes = _themes(Path(path) if path else paths.QUALITATIVE_DIR / "themes.yaml", problems)
    problems.raise_if_any()
    return themes


def _themes(path: Path, problems: Problems) -> pd.DataFrame:
    dimensions = _read_yaml(path, "dimensions", problems) or {}
    codes = _read_yaml(path, "codes", problems) if path.exists() else None
    rows = []
    for label, rec in _records(path, codes or [], "codes", THEME_FIELDS, problems):
        _check_in(path, label, "dimension", rec.get("dimension"), dimensions, problems)
        rows.append(
            {
                "code": rec.get("code"),
                "label": rec.get("label"),
                "dimension": rec.get("dimension"),
                "dimension_label": dimensions.get(rec.get("dimension")),
                "description": rec.get("description"),
            }
        )
    cols = ["code", "label", "dimension", "dimension_label", "description"]
    return pd.DataFrame(rows, columns=cols)


def _territories(
    path: Path, vocab: dict, codes: pd.DataFrame, problems: Problems
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    items = _read_yaml(path, "territories", problems)
    appropriation_codes = set(codes.loc[codes["dimension"] == "appropriation", "code"])
    rows, numbers, approp = [], [], []
    for label, rec in _records(path, items or [], "territories", TERRITORY_FIELDS, problems):
        tid = rec.get("id")
        coord = rec.get("coordination")
        if not isinstance(coord, dict):
            problems.add(path, label, "coordination", "a mapping", coord)
            coord = {}
        for f in COORDINATION_FIELDS:
            if f not in coord:
                problems.add(path, label, f"coordination.{f}", "a value (field is missing)")
        _check_in(
            path, label, "coordination.coordinator", coord.get("coordinator"), vocab["coordinator_kinds"], problems
        )
        _check_in(path, label, "coordination.initiator", coord.get("initiator"), vocab["coordinator_kinds"], problems)
        if not isinstance(coord.get("already_engaged"), bool):
            problems.add(path, label, "coordination.already_engaged", "true or false", coord.get("already_engaged"))
        contract = rec.get("contract")
        if contract is None:
            if coord.get("coordinator") not in (None, "none"):
                problems.add(path, label, "contract", "a coordination contract when a coordinator exists")
            contract = {}
        elif not isinstance(contract, dict):
            problems.add(path, label, "contract", "a mapping or null", contract)
            contract = {}
        else:
            for f in CONTRACT_FIELDS:
                if f not in contract:
                    problems.add(path, label, f"contract.{f}", "a value (field is missing)")
            _check_in(path, label, "contract.recruits", contract.get("recruits"), vocab["actor_kinds"], problems)
            if not isinstance(contract.get("coordinator_recruits"), bool):
                problems.add(
                    path, label, "contract.coordinator_recruits", "true or false", contract.get("coordinator_recruits")
                )
            _check_in(
                path, label, "contract.funding_split", contract.get("funding_split"), vocab["funding_splits"], problems
            )
            funders = contract.get("funders")
            if not isinstance(funders, list) or not funders:
                problems.add(path, label, "contract.funders", "a non-empty list of actor kinds", funders)
                funders = []
            for f in funders:
                _check_in(path, label, "contract.funders", f, vocab["actor_kinds"], problems)
        tools = rec.get("diagnostic_tools") or []
        if not isinstance(tools, list):
            problems.add(path, label, "diagnostic_tools", "a list", tools)
            tools = []
        for t in tools:
            _check_in(path, label, "diagnostic_tools", t, vocab["diagnostic_tools"], problems)
        nums = rec.get("numbers") or {}
        if not isinstance(nums, dict):
            problems.add(path, label, "numbers", "a mapping measure -> {value, quote}", nums)
            nums = {}
        for measure, entry in nums.items():
            value = entry.get("value") if isinstance(entry, dict) else None
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                problems.add(path, label, f"numbers.{measure}.value", "a number", value)
                continue
            if not isinstance(entry.get("quote"), str) or not entry["quote"].strip():
                problems.add(path, label, f"numbers.{measure}.quote", "the article's sentence")
            numbers.append(
                {
                    "territory": tid,
                    "measure": measure,
                    "value": float(value),
                    "origin": "article",
                    "quote": entry.get("quote"),
                }
            )
        for j, entry in enumerate(rec.get("appropriation") or []):
            kind = entry.get("type") if isinstance(entry, dict) else None
            _check_in(path, label, f"appropriation[{j}].type", kind, appropriation_codes, problems)
            if not isinstance(entry, dict) or not entry.get("evidence"):
                problems.add(path, label, f"appropriation[{j}].evidence", "the evidence from the article")
            approp.append(
                {"territory": tid, "type": kind, "evidence": entry.get("evidence") if isinstance(entry, dict) else None}
            )
        rows.append(
            {
                "territory": tid,
                "name": rec.get("name"),
                "headline": rec.get("headline"),
                "selection_reason": rec.get("selection_reason"),
                "context": rec.get("context"),
                "coordinator": coord.get("coordinator"),
                "initiator": coord.get("initiator"),
                "coordination_origin": coord.get("origin"),
                "already_engaged": coord.get("already_engaged"),
                "prefecture_role": coord.get("prefecture_role"),
                "recruits": contract.get("recruits"),
                "coordinator_recruits": bool(contract.get("coordinator_recruits", False)),
                "funders": tuple(contract.get("funders") or ()),
                "funding_split": contract.get("funding_split"),
                "hierarchical_link": contract.get("hierarchical_link"),
                "functional_link": contract.get("functional_link"),
                "administrative_residence": contract.get("administrative_residence"),
                "coordination_post": contract.get("coordination_post"),
                "allocation_keys": rec.get("allocation_keys"),
                "diagnostic_tools": tuple(tools),
            }
        )
    territories = pd.DataFrame(
        rows,
        columns=[
            "territory",
            "name",
            "headline",
            "selection_reason",
            "context",
            "coordinator",
            "initiator",
            "coordination_origin",
            "already_engaged",
            "prefecture_role",
            *CONTRACT_FIELDS,
            "allocation_keys",
            "diagnostic_tools",
        ],
    )
    numbers_df = pd.DataFrame(numbers, columns=["territory", "measure", "value", "origin", "quote"])
    approp_df = pd.DataFrame(approp, columns=["territory", "type", "evidence"])
    return territories, numbers_df, approp_df


def _structures(path: Path, vocab: dict, territory_ids: set, problems: Problems) -> pd.DataFrame:
    items = _read_yaml(path, "structures", problems)
    rows = []
    for label, rec in _records(path, items or [], "structures", STRUCTURE_FIELDS, problems):
        _check_in(path, label, "territory", rec.get("territory"), territory_ids, problems)
        _check_in(path, label, "kind", rec.get("kind"), vocab["actor_kinds"], problems)
        _check_in(path, label, "actor_type", rec.get("actor_type"), vocab["actor_types"], problems)
        if not isinstance(rec.get("field_site"), bool):
            problems.add(path, label, "field_site", "true or false", rec.get("field_site"))
        rows.append({"structure_id": rec.get("id"), **{f: rec.get(f) for f in STRUCTURE_FIELDS[1:]}})
    return pd.DataFrame(rows, columns=["structure_id", *STRUCTURE_FIELDS[1:]])


def validate_excerpts(
    records: pd.DataFrame, vocab: dict, themes: pd.DataFrame, territory_ids: set, file: str | Path, problems: Problems
) -> None:
    """Check an excerpt table (YAML or REFI-QDA) against the vocabularies, codebook and territories."""
    known_codes = set(themes["code"])
    for row in records.itertuples(index=False):
        label = f"'{row.excerpt_id}'"
        _check_in(file, label, "kind", row.kind, vocab["excerpt_kinds"], problems)
        _check_in(file, label, "territory", _none(row.territory), territory_ids, problems, nullable=True)
        _check_in(file, label, "speaker_role", _none(row.speaker_role), vocab["speaker_roles"], problems, nullable=True)
        _check_in(
            file, label, "structure_kind", _none(row.structure_kind), vocab["actor_kinds"], problems, nullable=True
        )
        if not isinstance(row.text, str) or not row.text.strip():
            problems.add(file, label, "text", "a non-empty text", row.text)
        if not row.codes:
            problems.add(file, label, "codes", "at least one code of themes.yaml")
        for code in row.codes:
            _check_in(file, label, "codes", code, known_codes, problems)


def _none(value: Any) -> Any:
    return None if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)) else value


def _excerpts(path: Path, problems: Problems) -> pd.DataFrame:
    items = _read_yaml(path, "excerpts", problems)
    rows = []
    for label, rec in _records(path, items or [], "excerpts", EXCERPT_FIELDS, problems):
        codes = rec.get("codes")
        if not isinstance(codes, list):
            problems.add(path, label, "codes", "a list of codes", codes)
            codes = []
        rows.append(
            {
                "excerpt_id": rec.get("id"),
                "kind": rec.get("kind"),
                "territory": rec.get("territory"),
                "speaker_role": rec.get("speaker_role"),
                "structure_kind": rec.get("structure_kind"),
                "source": rec.get("source"),
                "text": rec.get("text"),
                "codes": tuple(codes),
            }
        )
    return excerpt_frame(rows)


def excerpt_frame(rows: list[dict]) -> pd.DataFrame:
    """Build the excerpt table (columns ``EXCERPT_COLUMNS``; ``codes`` holds a tuple per excerpt)."""
    df = pd.DataFrame(rows, columns=EXCERPT_COLUMNS)
    df["codes"] = df["codes"].astype(object)
    return df


def load_qualitative(directory: str | Path | None = None) -> QualitativeData:
    """Load and validate every file of the qualitative study; raise once listing all problems."""
    d = _directory(directory)
    problems = Problems()
    vocab = _vocabulary(d / "vocabulary.yaml", problems)
    themes = _themes(d / "themes.yaml", problems)
    territories, numbers, approp = _territories(d / "territories.yaml", vocab, themes, problems)
    ids = set(territories["territory"].dropna())
    structures = _structures(d / "structures.yaml", vocab, ids, problems)
    excerpts = _excerpts(d / "excerpts.yaml", problems)
    validate_excerpts(excerpts, vocab, themes, ids, d / "excerpts.yaml", problems)
    problems.raise_if_any()
    return QualitativeData(vocab, themes, territories, numbers, approp, structures, excerpts)


__all__ = [
    "QualitativeData",
    "QualitativeDataError",
    "load_qualitative",
    "load_themes",
    "load_vocabulary",
    "validate_excerpts",
    "excerpt_frame",
    "EXCERPT_COLUMNS",
]
