"""The small language of ``option_or_subgroup`` in the published-figures table.

``<options> | <filter>`` where ``<options>`` is ``code``, ``code1+code2`` (union), ``2..5`` or
``>=2`` / ``<=1`` (numeric range), or ``among: q1+q2`` (the items a rank is taken among), and
``<filter>`` is ``question=code1+code2``, ``question>=x`` or ``question<=x`` joined by ``&``;
``<filter> vs <filter>`` compares two subgroups. Read by the comparison and by the synthetic twin (a parser, not a judge).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from cnfs.codebook import Condition

_COND = re.compile(r"^\s*([A-Za-z_][\w]*)\s*(>=|<=|=)\s*(.+?)\s*$")


@dataclass(frozen=True)
class FigureSpec:
    """A parsed cell: the options (or numeric range, or items ranked among) and the subgroups compared."""

    options: tuple[str, ...] = ()
    value_range: tuple[float, float] | None = None
    among: tuple[str, ...] = ()
    filters: tuple[Condition, ...] = ()
    versus: tuple[Condition, ...] = ()


def _parse_filter(text: str) -> tuple[Condition, ...]:
    out = []
    for part in text.split("&"):
        m = _COND.match(part)
        if not m:
            raise ValueError(f"cannot read the subgroup condition {part.strip()!r}; expected q=code, q>=x or q<=x")
        q, op, v = m.groups()
        if op == "=":
            out.append(Condition(q, codes=tuple(c.strip() for c in v.split("+"))))
        elif op == ">=":
            out.append(Condition(q, min=float(v)))
        else:
            out.append(Condition(q, max=float(v)))
    return tuple(out)


def _parse_options(text: str) -> dict:
    text = text.strip()
    if not text:
        return {}
    if text.startswith("among:"):
        return {"among": tuple(t.strip() for t in text[len("among:") :].split("+"))}
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
