"""The small language of ``option_or_subgroup`` in the published-figures table.

``<options> | <filter>`` where ``<options>`` is ``code``, ``code1+code2`` (union), ``2..5`` or
``>=2`` / ``<=1`` (numeric range), or ``among: q1+q2`` (the items a rank is taken among), and
``<filter>`` is ``question=code1+code2``, ``question>=x`` or ``question<=x`` joined by ``&``;
``<filter> vs <filter>`` compares two subgroups. Shared by the comparison and the synthetic twin.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

_COND = re.compile(r"^\s*([A-Za-z_][\w]*)\s*(>=|<=|=)\s*(.+?)\s*$")


@dataclass(frozen=True)
class Filter:
    """A condition on one column: codes in a set, or a numeric value within [min, max]."""

    question: str
    codes: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None

    def mask(self, df: pd.DataFrame, values: dict[str, str] | None = None) -> pd.Series:
        """Rows meeting the condition; ``values`` maps codes to what the column holds (labels)."""
        col = df[self.question]
        if self.codes:
            wanted = [values.get(c, c) if values else c for c in self.codes]
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


@dataclass(frozen=True)
class FigureSpec:
    options: tuple[str, ...] = ()
    value_range: tuple[float, float] | None = None
    among: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    versus: tuple[Filter, ...] = ()

    @property
    def has_versus(self) -> bool:
        return bool(self.versus)


def _parse_filter(text: str) -> tuple[Filter, ...]:
    out = []
    for part in text.split("&"):
        m = _COND.match(part)
        if not m:
            raise ValueError(f"cannot read the subgroup condition {part.strip()!r}; expected q=code, q>=x or q<=x")
        q, op, v = m.groups()
        if op == "=":
            out.append(Filter(q, codes=tuple(c.strip() for c in v.split("+"))))
        elif op == ">=":
            out.append(Filter(q, min=float(v)))
        else:
            out.append(Filter(q, max=float(v)))
    return tuple(out)


def _parse_options(text: str) -> dict:
    text = text.strip()
    if not text:
        return {}
    if text.startswith("among:"):
        return {"among": tuple(t.strip() for t in text[len("among:"):].split("+"))}
    if ".." in text:
        lo, hi = text.split("..")
        return {"value_range": (float(lo), float(hi))}
    if text.startswith(">="):
        return {"value_range": (float(text[2:]), math.inf)}
    if text.startswith("<="):
        return {"value_range": (-math.inf, float(text[2:]))}
    return {"options": tuple(t.strip() for t in text.split("+"))}


def parse_spec(text: str) -> FigureSpec:
    """Parse an ``option_or_subgroup`` cell."""
    left, _, right = (text or "").partition("|")
    kw = _parse_options(left)
    right = right.strip()
    if right:
        first, _, second = right.partition(" vs ")
        kw["filters"] = _parse_filter(first)
        if second.strip():
            kw["versus"] = _parse_filter(second)
    return FigureSpec(**kw)


def combine(filters: tuple[Filter, ...], df: pd.DataFrame, values: dict[str, dict[str, str]] | None = None) -> pd.Series:
    """Rows meeting every filter (``values``: per question, code -> value held in the column)."""
    m = pd.Series(True, index=df.index)
    for f in filters:
        m &= f.mask(df, (values or {}).get(f.question))
    return m
