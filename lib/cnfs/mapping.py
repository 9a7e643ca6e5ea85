"""The mapping file (YAML): what the codebook-driven rules cannot guess about an export.

::

    columns:        # export column -> codebook column (question id, or q__code for a multi-select option)
      Q01: structure_sector
      "Q05[SQ003]": experience__accueil_publics
    ignore: [G00Q99, interviewtime]           # export columns to leave out
    recode:         # question id -> {value in the export: option code}
      structure_sector: {"Fonction publique": public}
    subquestions:   # multi-select question or battery -> {subquestion code: option code or item id}
      experience: {SQ001: accueil_publics}
    wave: "2"       # every row of the export belongs to this wave

``cnfs mapping draft EXPORT > mapping.yaml`` writes a draft listing every column and how it matched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cnfs.codebook import Codebook
from cnfs.errors import InputError

KEYS = ("columns", "ignore", "recode", "subquestions", "wave", "unmatched_questions")


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file (empty when there is none)."""

    columns: dict[str, str | None] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    recode: dict[str, dict[str, str]] = field(default_factory=dict)
    subquestions: dict[str, dict[str, str]] = field(default_factory=dict)
    wave: str | None = None
    path: Path | None = None
    sha256: str | None = None

    @property
    def fingerprint(self) -> str:
        return self.sha256 or "none"


NO_MAPPING = Mapping()


def _str_map(path: Path, where: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(
            path,
            f"« {where} » doit être un dictionnaire (clé: valeur)",
            "voir l'exemple produit par cnfs mapping draft",
        )
    return {str(k).strip(): (None if v is None else v) for k, v in raw.items()}


def parse_mapping(doc: Any, codebook: Codebook, path: Path | None = None, sha256: str | None = None) -> Mapping:
    """Check a parsed mapping document against the codebook and build a Mapping (InputError when wrong)."""
    where = path or Path("mapping")
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise InputError(
            where, "une correspondance doit être un document YAML de clés columns/ignore/recode/subquestions/wave"
        )
    unknown = sorted(set(doc) - set(KEYS))
    if unknown:
        raise InputError(where, f"clés inconnues : {unknown}", f"clés possibles : {list(KEYS)}")
    targets = set(codebook.data_columns())
    columns = {
        k: (None if v is None else str(v).strip()) for k, v in _str_map(where, "columns", doc.get("columns")).items()
    }
    bad = {k: v for k, v in columns.items() if v is not None and v not in targets}
    if bad:
        shown = ", ".join(f"{k!r} → {v!r}" for k, v in list(bad.items())[:5])
        raise InputError(
            where,
            f"colonnes du codebook inconnues dans « columns » : {shown}",
            "utilisez un identifiant de question (ou question__option pour un choix multiple) du codebook",
        )
    ignore = doc.get("ignore") or []
    if not isinstance(ignore, list):
        raise InputError(where, "« ignore » doit être une liste de colonnes")
    recode: dict[str, dict[str, str]] = {}
    for qid, table in _str_map(where, "recode", doc.get("recode")).items():
        if qid not in codebook.questions or codebook[qid].type not in ("single", "multi"):
            raise InputError(where, f"« recode » : {qid!r} n'est pas une question à choix du codebook")
        codes = codebook[qid].codes
        entries = {
            str(k).strip(): (None if v is None else str(v).strip())
            for k, v in _str_map(where, f"recode.{qid}", table).items()
        }
        wrong = {k: v for k, v in entries.items() if v is not None and v not in codes}
        if wrong:
            raise InputError(
                where, f"« recode.{qid} » : codes inconnus {sorted(set(wrong.values()))}", f"codes possibles : {codes}"
            )
        recode[qid] = {k: v for k, v in entries.items() if v is not None}
    subq: dict[str, dict[str, str]] = {}
    for owner, table in _str_map(where, "subquestions", doc.get("subquestions")).items():
        if owner in codebook.questions and codebook[owner].type == "multi":
            allowed = codebook[owner].codes
        elif owner in codebook.groups:
            allowed = list(codebook.groups[owner].items)
        else:
            raise InputError(
                where,
                f"« subquestions » : {owner!r} n'est ni une question à choix multiples ni une batterie du codebook",
            )
        entries = {
            str(k).strip(): str(v).strip()
            for k, v in _str_map(where, f"subquestions.{owner}", table).items()
            if v is not None
        }
        wrong = sorted(set(entries.values()) - set(allowed))
        if wrong:
            raise InputError(where, f"« subquestions.{owner} » : {wrong} inconnus", f"possibles : {allowed}")
        subq[owner] = entries
    wave = doc.get("wave")
    if wave is not None:
        wave = str(wave).strip()
        if wave not in codebook.waves:
            raise InputError(
                where, f"« wave » : vague {wave!r} inconnue", f"vagues du codebook : {codebook.waves} (meta.waves)"
            )
    return Mapping(columns, tuple(str(c).strip() for c in ignore), recode, subq, wave, path, sha256)


def load_mapping(path: str | Path | Mapping | None, codebook: Codebook) -> Mapping:
    """Read and check a mapping file; NO_MAPPING when path is None."""
    if path is None:
        return NO_MAPPING
    if isinstance(path, Mapping):
        return path
    p = Path(path)
    if not p.is_file():
        raise InputError(
            p,
            "fichier de correspondance introuvable" if not p.exists() else "ce n'est pas un fichier",
            "créez-le avec : cnfs mapping draft EXPORT > mapping.yaml",
        )
    data = p.read_bytes()
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as e:
        raise InputError(p, f"correspondance illisible (YAML attendu, en UTF-8) : {e}") from None
    return parse_mapping(doc, codebook, p, hashlib.sha256(data).hexdigest())


def _q(s: str) -> str:
    """A YAML scalar, quoted when needed."""
    return yaml.safe_dump(s, default_style=None, allow_unicode=True, width=1000).strip().removesuffix("\n...").strip()


def draft_mapping(
    source: str, matches: list[Any], codebook: Codebook, unrecognised_values: dict[str, list[str]]
) -> str:
    """A mapping draft (YAML text) that lists every export column, how it matched, and what is left to do."""
    lines = [
        f"# Correspondance entre l'export {source} et le codebook (brouillon écrit par cnfs mapping draft).",
        "# Complétez les « null », vérifiez les correspondances devinées, puis :",
        f"#   cnfs import {source} --mapping mapping.yaml -o data/raw/enquete.parquet",
        "columns:",
    ]
    ignored = []
    for m in matches:
        if m.target is None and m.how.startswith("ignorée"):
            ignored.append(m)
            continue
        target = "null" if m.target is None else _q(m.target)
        lines.append(f"  {_q(m.column)}: {target}  # {m.how}")
    lines.append("ignore:")
    lines += [f"  - {_q(m.column)}  # {m.how}" for m in ignored] or ["  []"]
    if lines[-1] == "  []":
        lines[-2:] = ["ignore: []"]
    lines.append("recode:")
    if unrecognised_values:
        for qid, values in unrecognised_values.items():
            lines.append(f"  {qid}:  # codes possibles : {', '.join(codebook[qid].codes)}")
            lines += [f"    {_q(v)}: null" for v in values]
    else:
        lines[-1] = "recode: {}  # toutes les réponses reconnues"
    lines.append(
        "subquestions: {}  # ordre des sous-questions SQ001… = ordre des options du codebook, sauf indication ici"
    )
    lines.append(
        "wave: null  # une vague pour tout le fichier, si l'export n'a pas de colonne wave ni de dates dans les périodes"
    )
    matched = {m.target for m in matches if m.target}
    missing = [c for c in codebook.data_columns() if c not in matched]
    lines.append(
        "unmatched_questions:  # colonnes du codebook sans colonne dans l'export (information, ignorée à la lecture)"
    )
    lines += [f"  - {_q(c)}" for c in missing] or ["  []"]
    if missing == []:
        lines[-2:] = ["unmatched_questions: []  # chaque colonne du codebook a sa colonne dans l'export"]
    return "\n".join(lines) + "\n"


def draft_for(path: str | Path, codebook: Codebook, mapping: Mapping | None = None, sheet: str | None = None) -> str:
    """Read an export and write the mapping draft for it (columns matched, answers not recognised, questions missing)."""
    from cnfs.normalise import MISSING_TOKENS, _choices, _ticks, match_columns
    from cnfs.readers import read_table

    table = read_table(path, sheet).data
    table = table.mask(table.isin(list(MISSING_TOKENS)))
    mapping = mapping or NO_MAPPING
    matches = match_columns(list(table.columns), codebook, mapping, table)
    unrecognised: dict[str, list[str]] = {}
    for i, m in enumerate(matches):
        if not m.target or m.target in codebook.meta_columns:
            continue
        qid, _code = codebook.column_owner(m.target)
        q = codebook[qid]
        if q.type not in ("single", "multi"):
            continue
        s = table.iloc[:, i].astype("string")
        coded = (
            _choices(s, q, mapping.recode.get(qid, {}))
            if q.type == "single"
            else _ticks(s, mapping.recode.get(qid, {}))
        )
        allowed = q.codes if q.type == "single" else ["0", "1"]
        bad = s[coded.notna() & ~coded.isin(allowed)].dropna().unique()
        if len(bad):
            merged = unrecognised.setdefault(qid, [])
            merged += [str(v) for v in sorted(bad)[:30] if str(v) not in merged]
    return draft_mapping(str(path), matches, codebook, unrecognised)
