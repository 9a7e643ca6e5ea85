"""French number formatting for tables, captions and figures (1 071 ; 37,1 % ; p = 0,012).

Thousands are separated by a narrow no-break space (U+202F) and decimals by a comma, as in
French typography; the same narrow space precedes « % » and follows « n = ».
"""
from __future__ import annotations

import math

NARROW_NBSP = "\u202f"
THOUSANDS_SEP = NARROW_NBSP


def _is_missing(x: object) -> bool:
    """True for None, NaN and pandas NA (which cannot be compared)."""
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN and pd.NA (pd.NA != pd.NA is NA -> TypeError in bool)
    except TypeError:
        return True


def fmt_num(x: float | int | None, decimals: int = 0, missing: str = "–") -> str:
    """A number in French style: ``fmt_num(1071)`` -> "1 071", ``fmt_num(8.537, 2)`` -> "8,54"."""
    if _is_missing(x):
        return missing
    value = float(x)  # type: ignore[arg-type]
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0,.") == "":  # no "-0" or "-0,0"
        text = text.lstrip("-")
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", THOUSANDS_SEP)


def fmt_pct(x: float | None, decimals: int = 1, missing: str = "–") -> str:
    """A percentage given on the 0–100 scale: ``fmt_pct(37.14)`` -> "37,1 %"."""
    if _is_missing(x):
        return missing
    return f"{fmt_num(x, decimals)}{NARROW_NBSP}%"


def fmt_n(n: int | float | None) -> str:
    """A sample size as printed in captions: ``fmt_n(1071)`` -> "n = 1 071"."""
    return f"n = {fmt_num(n)}"


def fmt_p(p: float | None, threshold: float = 0.001) -> str:
    """A p-value: "p < 0,001" below ``threshold``, else "p = 0,012" (three decimals)."""
    if _is_missing(p):
        return "p non calculable"
    if float(p) < threshold:  # type: ignore[arg-type]
        return f"p < {fmt_num(threshold, 3)}"
    return f"p = {fmt_num(p, 3)}"


def fmt_n_range(values: list[int] | tuple[int, ...]) -> str:
    """One or several sample sizes: "n = 1 071" when all equal, else "n = 512 à 559"."""
    vals = sorted({int(v) for v in values if not _is_missing(v)})
    if not vals:
        return "n = 0"
    if len(vals) == 1:
        return fmt_n(vals[0])
    return f"n = {fmt_num(vals[0])} à {fmt_num(vals[-1])}"


def base_caption(base: str, n: int | list[int] | tuple[int, ...]) -> str:
    """The caption stating who was counted: "Base : ensemble des répondants (n = 1 071)"."""
    size = fmt_n_range(n) if isinstance(n, (list, tuple)) else fmt_n(n)
    return f"Base{NARROW_NBSP}: {base} ({size})"
