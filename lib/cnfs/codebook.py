"""The questionnaire codebook (data/codebook.yaml) as typed objects.

Everything that needs to know the questionnaire — loader, validator, synthetic twin, scoring
helpers, notebooks — reads it from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cnfs import paths

TYPES = ("single", "multi", "scale10", "slider100", "number", "text")
NUMERIC_TYPES = ("scale10", "slider100", "number")
TYPE_BOUNDS = {"scale10": (1, 10), "slider100": (0, 100)}
MULTI_SEP = "__"


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    inferred: bool = False


@dataclass(frozen=True)
class Condition:
    """A condition on one answer: its code in ``codes``, or its number within [min, max].

    The one type for who was asked a question (a codebook universe) and for a subgroup of a
    published figure (``cnfs.figspec``); used on raw exports, the typed frame and the twin alike.
    """

    question: str
    codes: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None

    def mask(self, df: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.Series:
        """Rows meeting the condition (missing answers never do).

        ``labels`` maps option codes to what the column holds when it holds labels (the typed frame);
        without it the column is compared with the codes themselves (raw export, synthetic twin).
        """
        col = df[self.question]
        if self.codes:
            wanted = [labels.get(c, c) for c in self.codes] if labels else list(self.codes)
            return col.astype("string").isin(wanted).fillna(False).astype(bool)
        num = pd.to_numeric(col, errors="coerce")
        m = num.notna()
        if self.min is not None:
            m &= num >= self.min
        if self.max is not None:
            m &= num <= self.max
        return m.fillna(False).astype(bool)

    def __str__(self) -> str:
        if self.codes:
            return f"{self.question}={'+'.join(self.codes)}"
        if self.min is not None and self.max is None:
            return f"{self.question}>={self.min:g}"
        if self.max is not None and self.min is None:
            return f"{self.question}<={self.max:g}"
        return f"{self.question}={self.min:g}..{self.max:g}"


def mask_all(df: pd.DataFrame, conditions: Iterable[Condition], codebook: Codebook | None = None) -> pd.Series:
    """Rows meeting every condition; with a codebook, single-choice codes are matched as their labels."""
    m = pd.Series(True, index=df.index)
    for c in conditions:
        m &= c.mask(df, codebook.labels(c.question) if codebook is not None else None)
    return m


@dataclass(frozen=True)
class Question:
    id: str
    section: int
    type: str
    wording: str
    short: str
    options: tuple[Option, ...] = ()
    ordered: bool = False
    universe: Condition | None = None
    waves: tuple[str, ...] = ()
    group: str | None = None
    item: str | None = None
    min: int | None = None
    max: int | None = None
    unit: str | None = None
    inferred: bool = False
    sum_max_with: str | None = None

    @property
    def label(self) -> str:
        """Short French label: the battery item when there is one, else the short title."""
        return self.item or self.short

    @property
    def bounds(self) -> tuple[int, int] | None:
        """Allowed range of a numeric answer."""
        if self.type in TYPE_BOUNDS:
            return TYPE_BOUNDS[self.type]
        if self.type == "number":
            return (self.min, self.max)  # type: ignore[return-value]
        return None

    @property
    def codes(self) -> list[str]:
        return [o.code for o in self.options]

    @property
    def columns(self) -> list[str]:
        """Data columns holding this question: one per option for multi-select, else one."""
        if self.type == "multi":
            return [f"{self.id}{MULTI_SEP}{o.code}" for o in self.options]
        return [self.id]

    def option(self, code: str) -> Option:
        for o in self.options:
            if o.code == code:
                return o
        raise KeyError(f"question {self.id!r} has no option {code!r}; options: {self.codes}")

    def label_of(self, code: str) -> str:
        return self.option(code).label


@dataclass(frozen=True)
class Group:
    id: str
    section: int
    type: str
    wording: str
    short: str
    items: tuple[str, ...] = ()


@dataclass
class Codebook:
    meta: dict[str, Any]
    sections: dict[int, str]
    questions: dict[str, Question]
    groups: dict[str, Group]
    path: Path | None = None
    _by_column: dict[str, tuple[str, str | None]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for q in self.questions.values():
            if q.type == "multi":
                for o in q.options:
                    self._by_column[f"{q.id}{MULTI_SEP}{o.code}"] = (q.id, o.code)
            else:
                self._by_column[q.id] = (q.id, None)

    # -- lookup -------------------------------------------------------------
    @property
    def waves(self) -> list[str]:
        return [str(w) for w in self.meta.get("waves", [])]

    def waves_in(self, df: pd.DataFrame) -> list[str]:
        """The codebook's waves that have at least one row in ``df``, in codebook order (an export may hold one wave)."""
        present = set(df[self.wave_column].dropna().astype(str))
        return [w for w in self.waves if w in present]

    @property
    def id_column(self) -> str:
        return self.meta.get("id_column", "respondent_id")

    @property
    def wave_column(self) -> str:
        return self.meta.get("wave_column", "wave")

    @property
    def date_column(self) -> str:
        return self.meta.get("date_column", "submitted_at")

    @property
    def meta_columns(self) -> list[str]:
        return [self.id_column, self.wave_column, self.date_column]

    def __getitem__(self, qid: str) -> Question:
        try:
            return self.questions[qid]
        except KeyError:
            raise KeyError(f"{qid!r} is not a question of the codebook {self.path}") from None

    def __contains__(self, qid: object) -> bool:
        return qid in self.questions

    def data_columns(self) -> list[str]:
        """Every column a survey file must have, in codebook order."""
        cols = list(self.meta_columns)
        for q in self.questions.values():
            cols.extend(q.columns)
        return cols

    def column_owner(self, column: str) -> tuple[str, str | None]:
        """(question id, option code or None) for a data column."""
        return self._by_column[column]

    def items(self, group: str) -> list[Question]:
        """The questions of a battery, in codebook order."""
        if group not in self.groups:
            raise KeyError(f"{group!r} is not a group of the codebook; groups: {sorted(self.groups)}")
        return [self.questions[i] for i in self.groups[group].items]

    def labels(self, qid: str) -> dict[str, str]:
        """Option code -> label of a single-choice question (empty for other questions)."""
        if qid in self.questions and self.questions[qid].type == "single":
            return {o.code: o.label for o in self.questions[qid].options}
        return {}

    def base_label(self, qid: str) -> str:
        """French description of who was asked the question (the denominator of its percentages)."""
        q = self[qid]
        if q.universe is None:
            return "ensemble des répondants"
        u = q.universe
        src = self[u.question]
        if u.codes:
            labels = " ou ".join(f"« {src.label_of(c)} »" for c in u.codes)
            return f"répondants ayant répondu {labels} à « {src.short} »"
        parts = []
        if u.min is not None:
            parts.append(f"au moins {u.min:g}")
        if u.max is not None:
            parts.append(f"au plus {u.max:g}")
        return f"répondants dont « {src.short} » vaut {' et '.join(parts)}"

    def dependency_order(self) -> list[str]:
        """Question ids ordered so that each comes after the questions its universe depends on."""
        from cnfs.ordering import topological_order

        def deps(qid: str) -> list[str]:
            q = self.questions[qid]
            return [d for d in [q.universe.question if q.universe else None, q.sum_max_with] if d in self.questions]

        return topological_order(self.questions, deps)

    # -- checks -------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every inconsistency of the codebook, as readable messages (empty when consistent)."""
        out: list[str] = []
        where = str(self.path or "codebook")
        waves = set(self.waves)
        if not waves:
            out.append(f"{where}: meta.waves is empty")
        for q in self.questions.values():
            at = f"{where}: question {q.id!r}"
            if q.type not in TYPES:
                out.append(f"{at}: unknown type {q.type!r}; expected one of {TYPES}")
            if q.section not in self.sections:
                out.append(f"{at}: section {q.section} is not in sections {sorted(self.sections)}")
            if q.type in ("single", "multi"):
                if len(q.options) < 2:
                    out.append(f"{at}: a {q.type} question needs at least two options")
                codes = q.codes
                if len(set(codes)) != len(codes):
                    out.append(f"{at}: duplicate option codes {codes}")
                if any(MULTI_SEP in c for c in codes):
                    out.append(f"{at}: option codes must not contain {MULTI_SEP!r}")
            elif q.options:
                out.append(f"{at}: a {q.type} question has no options")
            if q.type == "number" and (q.min is None or q.max is None or q.min >= q.max):
                out.append(f"{at}: a number question needs min < max")
            if not q.wording or not q.short:
                out.append(f"{at}: wording and short label are required")
            if not set(q.waves) <= waves:
                out.append(f"{at}: waves {q.waves} not within meta.waves {sorted(waves)}")
            if q.group and q.group not in self.groups:
                out.append(f"{at}: unknown group {q.group!r}")
            if q.universe is not None:
                u = q.universe
                if u.question not in self.questions:
                    out.append(f"{at}: universe refers to unknown question {u.question!r}")
                else:
                    src = self.questions[u.question]
                    if u.codes and src.type != "single":
                        out.append(
                            f"{at}: universe by codes needs a single-choice question, {u.question!r} is {src.type}"
                        )
                    bad = [c for c in u.codes if c not in src.codes]
                    if bad:
                        out.append(f"{at}: universe codes {bad} are not options of {u.question!r}")
                    if (u.min is not None or u.max is not None) and src.type not in NUMERIC_TYPES:
                        out.append(f"{at}: universe by range needs a numeric question, {u.question!r} is {src.type}")
                    if not u.codes and u.min is None and u.max is None:
                        out.append(f"{at}: universe needs 'in' codes or a min/max")
            if q.sum_max_with and q.sum_max_with not in self.questions:
                out.append(f"{at}: sum_max_with refers to unknown question {q.sum_max_with!r}")
        for g in self.groups.values():
            if not g.items:
                out.append(f"{where}: group {g.id!r} has no items")
        try:
            self.dependency_order()
        except ValueError as e:
            out.append(f"{where}: {e}")
        return out


def _options(raw: list[dict[str, Any]] | None) -> tuple[Option, ...]:
    return tuple(Option(str(o["code"]), str(o["label"]), bool(o.get("inferred", False))) for o in raw or [])


def _universe(raw: dict[str, Any] | None) -> Condition | None:
    if not raw:
        return None
    return Condition(
        question=str(raw["question"]),
        codes=tuple(str(c) for c in raw.get("in", [])),
        min=raw.get("min"),
        max=raw.get("max"),
    )


def parse_codebook(doc: dict[str, Any], path: Path | None = None) -> Codebook:
    """Build a Codebook from the parsed YAML document (battery items inherit their group's fields)."""
    meta = dict(doc.get("meta", {}))
    meta["waves"] = [str(w) for w in meta.get("waves", [])]
    sections = {int(k): str(v) for k, v in (doc.get("sections") or {}).items()}
    option_sets = doc.get("option_sets") or {}
    raw_groups = doc.get("groups") or {}
    questions: dict[str, Question] = {}
    members: dict[str, list[str]] = {g: [] for g in raw_groups}
    for raw in doc.get("questions") or []:
        gid = raw.get("group")
        base: dict[str, Any] = dict(raw_groups.get(gid, {})) if gid else {}
        base.update(raw)
        set_name = base.get("option_set")
        if set_name:
            if set_name not in option_sets:
                raise ValueError(f"{path}: question {raw.get('id')!r} uses unknown option_set {set_name!r}")
            base.setdefault("options", option_sets[set_name]["options"])
            base.setdefault("ordered", option_sets[set_name].get("ordered", False))
        qid = str(base["id"])
        if qid in questions:
            raise ValueError(f"{path}: duplicate question id {qid!r}")
        questions[qid] = Question(
            id=qid,
            section=int(base.get("section", 0)),
            type=str(base.get("type", "")),
            wording=str(base.get("wording", "")),
            short=str(base.get("short", "")),
            options=_options(base.get("options")),
            ordered=bool(base.get("ordered", False)),
            universe=_universe(base.get("universe")),
            waves=tuple(str(w) for w in base.get("waves", meta["waves"])),
            group=gid,
            item=raw.get("item"),
            min=base.get("min"),
            max=base.get("max"),
            unit=base.get("unit"),
            inferred=bool(raw.get("inferred", False)),
            sum_max_with=base.get("sum_max_with"),
        )
        if gid:
            members.setdefault(gid, []).append(qid)
    groups = {
        gid: Group(
            id=gid,
            section=int(g.get("section", 0)),
            type=str(g.get("type", "")),
            wording=str(g.get("wording", "")),
            short=str(g.get("short", gid)),
            items=tuple(members.get(gid, [])),
        )
        for gid, g in raw_groups.items()
    }
    return Codebook(meta=meta, sections=sections, questions=questions, groups=groups, path=path)


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Codebook:
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return parse_codebook(doc, Path(path))


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read and parse the codebook (cached until the file changes)."""
    p = Path(path) if path else paths.CODEBOOK
    return _load(str(p), p.stat().st_mtime)
