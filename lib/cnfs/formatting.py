"""French presentation of results: numbers (1 071 ; 37,1 % ; −0,15 ; p = 0,012), dates, reader labels for
internal codes, and the one table schema that gives both tables and charts their headers and formats.

Thousands are separated by a narrow no-break space (U+202F), decimals by a comma, negatives carry the
true minus sign (U+2212); a narrow no-break space precedes « % » and « : » so they never start a line.
Tidy tables, CSV files and spreadsheets keep the codes; only what a reader sees goes through here.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported where a table is formatted, so that dates and numbers stay light
    import pandas as pd


NARROW_NBSP = "\u202f"
NBSP = "\u00a0"
THOUSANDS_SEP = NARROW_NBSP
MINUS = "\u2212"
MISSING = "–"
#: Shown instead of a value withheld by disclosure control (see cnfs.disclosure).
SUPPRESSED = "[c]"
#: Header of a 95 % interval column, never broken across lines.
CI_HEADER = f"IC{NBSP}95{NARROW_NBSP}%"
TIMEZONE = "Europe/Paris"
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _is_missing(x: object) -> bool:
    """True for None, NaN and pandas NA (which cannot be compared)."""
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN and pd.NA (pd.NA != pd.NA is NA -> TypeError in bool)
    except TypeError:
        return True


def fmt_num(x: float | int | None, decimals: int = 0, missing: str = MISSING) -> str:
    """A number in French style: ``fmt_num(1071)`` -> "1 071", ``fmt_num(-8.537, 2)`` -> "−8,54"."""
    if _is_missing(x):
        return missing
    value = float(x)  # type: ignore[arg-type]
    if math.isinf(value):
        return "∞" if value > 0 else f"{MINUS}∞"
    text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0,.") == "":  # no "-0" or "-0,0"
        text = text.lstrip("-")
    text = text.replace(",", "\x00").replace(".", ",").replace("\x00", THOUSANDS_SEP)
    return text.replace("-", MINUS)


def fmt_pct(x: float | None, decimals: int = 1, missing: str = MISSING) -> str:
    """A percentage given on the 0–100 scale: ``fmt_pct(37.14)`` -> "37,1 %"."""
    if _is_missing(x):
        return missing
    return f"{fmt_num(x, decimals)}{NARROW_NBSP}%"


def fmt_n(n: int | float | None) -> str:
    """A sample size as printed in captions: ``fmt_n(1071)`` -> "n = 1 071"."""
    return f"n{NBSP}={NBSP}{fmt_num(n)}"


def fmt_p(p: float | None, threshold: float = 0.001) -> str:
    """A p-value: "p < 0,001" below ``threshold``, else "p = 0,012" (three decimals, never split)."""
    if _is_missing(p):
        return "p non calculable"
    if float(p) < threshold:  # type: ignore[arg-type]
        return f"p{NBSP}<{NBSP}{fmt_num(threshold, 3)}"
    return f"p{NBSP}={NBSP}{fmt_num(p, 3)}"


def fmt_n_range(values: Sequence[int] | Sequence[float]) -> str:
    """One or several sample sizes: "n = 1 071" when all equal, else "n = 512 à 559"."""
    vals = sorted({int(v) for v in values if not _is_missing(v)})
    if not vals:
        return fmt_n(0)
    if len(vals) == 1:
        return fmt_n(vals[0])
    return f"{fmt_n(vals[0])} à {fmt_num(vals[-1])}"


def colon(label: str, value: str) -> str:
    """ "label : value" with the no-break space French puts before the colon."""
    return f"{label}{NARROW_NBSP}: {value}"


def base_caption(base: str, n: int | Sequence[int]) -> str:
    """The caption stating who was counted: "Base : ensemble des répondants (n = 1 071)"."""
    size = fmt_n_range(n) if isinstance(n, (list, tuple)) else fmt_n(n)  # type: ignore[arg-type]
    return colon("Base", f"{base} ({size})")


def fmt_ci(low: Any, high: Any, pct: bool = False, decimals: int | None = None) -> str:
    """A 95 % interval "[34,2 % ; 40,1 %]" (missing bound: "–")."""
    if _is_missing(low) or _is_missing(high):
        return MISSING
    d = (1 if pct else 2) if decimals is None else decimals
    f = (lambda x: fmt_pct(x, d)) if pct else (lambda x: fmt_num(x, d))
    return f"[{f(low)}{NBSP};{NBSP}{f(high)}]"


def fmt_date(when: _dt.datetime | _dt.date | str | None, missing: str = MISSING) -> str:
    """« 28 novembre 2026 à 23 h 15 » in Paris time (a date alone: « 28 novembre 2026 »)."""
    if when is None or when == "":
        return missing
    if isinstance(when, str):
        try:
            when = _dt.datetime.fromisoformat(when)
        except ValueError:
            return when
    if not isinstance(when, _dt.datetime):
        return f"{when.day}{NBSP}{MONTHS[when.month - 1]}{NBSP}{when.year}"
    from zoneinfo import ZoneInfo

    local = (when if when.tzinfo else when.replace(tzinfo=_dt.UTC)).astimezone(ZoneInfo(TIMEZONE))
    return f"{local.day}{NBSP}{MONTHS[local.month - 1]}{NBSP}{local.year} à {local.hour}{NBSP}h{NBSP}{local.minute:02d}"


def fmt_duration(seconds: float | None) -> str:
    """A duration: "7,3 s", "2 min 05 s"."""
    if _is_missing(seconds):
        return MISSING
    s = float(seconds)  # type: ignore[arg-type]
    if s < 60:
        return f"{fmt_num(s, 1)}{NBSP}s"
    m, r = divmod(int(round(s)), 60)
    return f"{m}{NBSP}min{NBSP}{r:02d}{NBSP}s"


# -- reader labels for internal codes -----------------------------------------------------------------
#: Words a reader sees for the codes of tests, effect sizes and statuses (tidy data keep the codes).
CODE_LABELS: dict[str, str] = {
    "chi2": "Khi-deux",
    "chi2_mc": "Khi-deux (p-value par Monte Carlo)",
    "fisher": "Test exact de Fisher",
    "welch_t": "Test de Welch",
    "welch_anova": "ANOVA de Welch",
    "mannwhitney": "Test de Mann-Whitney",
    "kruskal": "Test de Kruskal-Wallis",
    "trend": "Test de tendance linéaire",
    "none": "Aucun test",
    "cramers_v": "V de Cramér",
    "cohens_d": "d de Cohen",
    "eta_squared": "η²",
}


def label(code: Any) -> str:
    """A reader's word for a code: tests and effect sizes by name (those cnfs.contrasts names too), other
    codes made readable."""
    if _is_missing(code):
        return MISSING
    text = str(code)
    if text in CODE_LABELS:
        return CODE_LABELS[text]
    try:  # names the statistics module gives to codes added there
        from cnfs.contrasts import EFFECT_LABELS, TEST_LABELS
    except ImportError:  # pragma: no cover
        EFFECT_LABELS, TEST_LABELS = {}, {}
    if text in EFFECT_LABELS:
        return str(EFFECT_LABELS[text])
    if text in TEST_LABELS:
        word = str(TEST_LABELS[text])
        return word[:1].upper() + word[1:]
    return text.replace("_", " ")


def magnitude(verdict: Any) -> str:
    """The verdict on an effect size as a reader sees it: "Ampleur : faible"."""
    return MISSING if _is_missing(verdict) else colon("Ampleur", str(verdict))


def effect_text(effect: Any, value: Any, decimals: int = 2) -> str:
    """ "V de Cramér = 0,24", "d de Cohen = −0,15"."""
    return f"{label(effect)}{NBSP}={NBSP}{fmt_num(value, decimals)}"


# -- one table schema for tables and charts ----------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """How a tidy column is shown: its French header, its formatter, and the axis label charts use."""

    header: str
    fmt: Callable[[Any], str]
    axis: str = ""


def _pct1(x: Any) -> str:
    return fmt_pct(x, 1)


def _num2(x: Any) -> str:
    return fmt_num(x, 2)


def _num1(x: Any) -> str:
    return fmt_num(x, 1)


def _int(x: Any) -> str:
    return fmt_num(x, 0)


#: The columns of the scoring/contrast tables as readers see them (order = display order).
SCHEMA: dict[str, Column] = {
    "label": Column("Réponse", str),
    "item": Column("Item", str),
    "percent": Column("Part", _pct1, "Part des répondants concernés (en\u00a0%)"),
    "ci": Column(CI_HEADER, str),
    "count": Column("Effectif", _int),
    "mean": Column("Moyenne", _num2, "Moyenne (intervalle de confiance à 95\u202f%)"),
    "sd": Column("Écart type", _num2),
    "median": Column("Médiane", _num1),
    "top_box": Column("Top-box", _pct1),
    "n": Column("n", _int),
    "deff": Column("Effet de plan", _num2),
    "test": Column("Test", label),
    "p_value": Column("p", fmt_p),
    "p_adjusted": Column("p ajusté (BH)", fmt_p),
    "verdict": Column("Ampleur", magnitude),
    "fragile": Column("Fragile", lambda x: "oui" if bool(x) else ""),
}
#: Columns of tidy tables that describe rather than group (anything else first in a table is a subgroup).
TIDY_COLUMNS = {
    "question",
    "question_label",
    "option",
    "label",
    "count",
    "n",
    "percent",
    "ci_low",
    "ci_high",
    "rank",
    "mean_items",
    "base",
    "mean",
    "sd",
    "median",
    "top_box",
    "top_box_threshold",
    "sd_rank",
    "value",
    "item_label",
    "item",
    "suppressed",
    "suppression",
    "fragile",
    "se",
    "deff",
    "weights",
}


def axis_label(column: str) -> str:
    """The axis label of a tidy column, as charts show it (same words as the table header)."""
    col = SCHEMA[column]
    return col.axis or col.header


def by_columns(table: pd.DataFrame) -> list[str]:
    """The subgroup columns of a tidy table (those before the descriptive ones)."""
    out = []
    for c in table.columns:
        if c in TIDY_COLUMNS:
            break
        out.append(str(c))
    return out


def display(
    table: pd.DataFrame, columns: Sequence[str], index: str, extra: Mapping[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """A reader's view of a tidy table: subgroup columns, then ``columns`` formatted by the schema.

    ``"ci"`` is the interval from ci_low/ci_high (a percentage when the table has ``percent``); values
    withheld by disclosure control read "[c]"; columns absent from ``table`` or entirely empty are left out.
    """
    import pandas as pd

    by = by_columns(table)
    suppressed = (
        table["suppressed"].fillna(False).astype(bool) if "suppressed" in table else pd.Series(False, index=table.index)
    )
    out: dict[str, Any] = {c: table[c].astype(str) for c in by}
    for c in columns:
        if c == "ci":
            if "ci_low" not in table:
                continue
            pct = "percent" in table
            vals = [fmt_ci(a, b, pct) for a, b in zip(table["ci_low"], table["ci_high"])]
        elif c not in table or table[c].isna().all():
            continue
        else:
            vals = [SCHEMA[c].fmt(v) if c in SCHEMA else str(v) for v in table[c]]
        if c in {"percent", "ci", "count", "mean", "sd", "median", "top_box"}:
            vals = [SUPPRESSED if s else v for v, s in zip(vals, suppressed)]
        header = SCHEMA[c].header if c in SCHEMA else c
        if c == "fragile" and not any(vals):
            continue
        out[header] = vals
    for header, vals in (extra or {}).items():
        out[header] = list(vals)
    frame = pd.DataFrame(out, index=table.index)
    keys = by + [SCHEMA[index].header if index in SCHEMA else index]
    return frame.set_index(keys)


def display_path(path: Any) -> str:
    """A file path as outputs show it: relative to the project when inside it, else its name only."""
    from pathlib import Path

    from cnfs import paths

    if path is None or path == "":
        return MISSING
    import os

    p = Path(os.path.abspath(str(path)))
    try:
        return p.relative_to(paths.ROOT).as_posix()
    except ValueError:
        return p.name


def set_tick_format(ax: Any, axis: str = "both", percent: bool = False) -> None:
    """French numbers on a matplotlib axis's numeric ticks: decimal comma, true minus, thin thousands space."""
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    def fmt(value: float, _pos: int | None = None) -> str:
        decimals = 0 if float(value).is_integer() else (1 if abs(value * 10 - round(value * 10)) < 1e-9 else 2)
        return fmt_pct(value, decimals) if percent else fmt_num(value, decimals)

    for name in ("x", "y") if axis == "both" else (axis,):
        a = getattr(ax, f"{name}axis")
        if a.get_scale() == "linear" and not isinstance(a.get_major_formatter(), FixedFormatter) and not a.units:
            a.set_major_formatter(FuncFormatter(fmt))
