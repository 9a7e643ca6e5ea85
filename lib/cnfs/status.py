"""The status of a published figure once checked, and the one rule that judges a computed value.

One vocabulary for every table, summary and index: a figure is *reproduit* (recomputed from data and
matching), *non reproduit*, *transcrit* (a number typed from the article into a data file and found
again: a transcription check, not a reproduction), *transcription divergente* (the typed number
differs), *non calculable* (the data needed are missing, e.g. a population size), *contexte* (a
number the article states but that no data can recompute) or *hors enquête quantitative* (a figure
of the qualitative study, in a survey-only table).

Rounding rule (the only one in the project): a published value with ``d`` decimals is reproduced
when the computed value, rounded half away from zero to ``d`` decimals, equals it — the way
spreadsheets and statistical software round for display. So 2.5 reproduces a published 3 and not 2,
and 37.05 reproduces 37.1. Binary float noise (37.049999999 for 37.05) is removed first by rounding
to 9 decimals.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported by the callers that pass frames; `cnfs render` with nothing to do stays light
    import pandas as pd


class Status(str, Enum):
    """What checking a published figure against data gave (French values, shown as is)."""

    REPRODUCED = "reproduit"
    NOT_REPRODUCED = "non reproduit"
    TRANSCRIBED = "transcrit"
    TRANSCRIPTION_MISMATCH = "transcription divergente"
    NOT_COMPUTABLE = "non calculable"
    CONTEXT = "contexte"
    ELSEWHERE = "hors enquête quantitative"

    def __str__(self) -> str:
        return self.value


REPRODUCED = Status.REPRODUCED.value
NOT_REPRODUCED = Status.NOT_REPRODUCED.value
TRANSCRIBED = Status.TRANSCRIBED.value
TRANSCRIPTION_MISMATCH = Status.TRANSCRIPTION_MISMATCH.value
NOT_COMPUTABLE = Status.NOT_COMPUTABLE.value
CONTEXT = Status.CONTEXT.value
ELSEWHERE = Status.ELSEWHERE.value

#: Statuses that make a check fail (a figure recomputed or transcribed that does not match).
FAILED = frozenset({NOT_REPRODUCED, TRANSCRIPTION_MISMATCH})
#: Statuses of figures recomputed from data (reproduced or not): the denominator of "reproduced out of".
RECOMPUTED = frozenset({REPRODUCED, NOT_REPRODUCED})
#: Statuses of transcription checks.
TRANSCRIPTION = frozenset({TRANSCRIBED, TRANSCRIPTION_MISMATCH})

#: Cell styles for HTML tables (green for a match, red for a failure, grey for the rest).
STYLE = {
    REPRODUCED: "background-color:#d9f0d3",
    NOT_REPRODUCED: "background-color:#f4cccc",
    TRANSCRIBED: "background-color:#eef3fb",
    TRANSCRIPTION_MISMATCH: "background-color:#f4cccc",
    NOT_COMPUTABLE: "color:#8a5a00",
    CONTEXT: "color:#666",
    ELSEWHERE: "color:#666",
}


class ReproductionError(AssertionError):
    """A computable published figure is not reproduced (or a transcription differs)."""


# ---------------------------------------------------------------- the judge
def round_half_away(x: float, decimals: int) -> Decimal:
    """``x`` rounded half away from zero to ``decimals`` decimals (after removing float noise)."""
    clean = Decimal(repr(float(x))).quantize(Decimal("1e-9"), rounding=ROUND_HALF_EVEN)
    return clean.quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_UP)


def rounds_to(x: float, value: float | str, decimals: int) -> bool:
    """True when ``x`` rounded half away from zero to ``decimals`` decimals equals the published ``value``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return False
    return round_half_away(x, decimals) == Decimal(str(value)).quantize(Decimal(1).scaleb(-int(decimals)))


def _missing(x: Any) -> bool:
    pandas = sys.modules.get("pandas")  # pd.NA can only exist once pandas is imported
    return x is None or (pandas is not None and x is pandas.NA) or (isinstance(x, float) and math.isnan(x))


def _number(x: Any) -> float:
    return float(x) if x not in ("", None) else math.nan


def matches(row: Mapping[str, Any], computed: Any) -> bool:
    """Whether a computed value passes the row's comparison (rounded, equal, bounds, dates)."""
    comp = row["comparison"]
    if _missing(computed):
        return False
    if comp == "date_on_or_after":
        return str(computed) >= str(row["value"])
    if comp == "date_on_or_before":
        return str(computed) <= str(row["value"])
    c = float(computed)
    if comp == "rounded":
        return rounds_to(c, row["value"], int(row["decimals"] or 0))
    v = _number(row.get("value"))
    tests = {
        "equal": lambda: math.isclose(c, v, rel_tol=0, abs_tol=1e-9),
        "gt": lambda: c > v,
        "lt": lambda: c < v,
        "ge": lambda: c >= v,
        "le": lambda: c <= v,
        "between": lambda: _number(row["lower"]) <= c <= _number(row["upper"]),
    }
    if comp not in tests:
        raise ValueError(f"figure {row.get('id', '?')}: comparison {comp!r} cannot be judged")
    return tests[comp]()


def is_context(row: Mapping[str, Any]) -> bool:
    """A row no data can recompute (the article's context)."""
    return row["comparison"] == "context" or row.get("computable") == "no"


def judge(row: Mapping[str, Any], computed: Any, transcription: bool = False) -> str:
    """The status of one published figure given its computed (or, for a transcription, typed) value."""
    if is_context(row):
        return CONTEXT
    ok = matches(row, computed)
    if transcription:
        return TRANSCRIBED if ok else TRANSCRIPTION_MISMATCH
    return REPRODUCED if ok else NOT_REPRODUCED


# ---------------------------------------------------------------- summaries and the strict check
def counts(statuses: Iterable[str]) -> dict[str, int]:
    """Number of figures per status, every status present (0 when absent), in Status order."""
    s = Counter(statuses)
    return {st.value: int(s.get(st.value, 0)) for st in Status}


def failures(table: pd.DataFrame) -> pd.DataFrame:
    """Rows whose status is a failure (not reproduced, transcription differs)."""
    return table[table["status"].isin(FAILED)]


def check_all_reproduced(table: pd.DataFrame) -> None:
    """Raise ReproductionError naming every figure not reproduced and every transcription that differs."""
    bad = failures(table)
    if len(bad):
        lines = "\n".join(
            f"  {r['id']}: publié {r['published']}, calculé {r['computed']} ({r['status']})" for _, r in bad.iterrows()
        )
        raise ReproductionError(f"{len(bad)} chiffre(s) publié(s) non reproduit(s) :\n{lines}")
