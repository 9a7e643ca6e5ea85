"""Statistical disclosure control of output tables: small counts withheld, totals unable to give them back.

Respondents are advisors who can be recognised in small subgroups, so every table a report writes
(HTML, CSV, spreadsheet, executed notebook) goes through :func:`suppress` first::

    safe = suppress(tidy, min_count=10)          # DataFrame in, DataFrame out
    safe[safe["suppressed"]]                     # the withheld rows, with their reason

Rules (the UK Analysis Function's threshold approach):

* **primary**: a count of 1 to ``min_count − 1`` is withheld with its percentage and interval; a
  summary (mean, median…) on fewer than ``min_count`` respondents is withheld; a subgroup with
  fewer than ``min_count`` respondents is withheld whole (its n too);
* **secondary**: in a set of rows whose counts add up to their base (the options of a single choice,
  the bins of a distribution) a single withheld count could be recovered by subtraction, so the
  next smallest count of the set is withheld as well;
* **linked**: tables that add up across each other (each wave and the waves pooled) are suppressed
  together (:func:`suppress_linked`): pooled = sum of the waves, so a row withheld in only one table of
  the family is withheld in one more (another wave's first, so the pooled table stays whole), reason "liée";
* **fragile**: a percentage or mean on a base under ``fragile_base`` (30) is kept but flagged.

Zero counts are shown (they name nobody). Published figures are public and are not suppressed.
The output has three more columns: ``suppressed`` (bool), ``suppression`` ("", "primaire",
"secondaire", "liée") and ``fragile`` (bool); withheld values are NaN (shown as "[c]" by cnfs.formatting).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_MIN_COUNT = 10
DEFAULT_FRAGILE_BASE = 30
PRIMARY, SECONDARY, LINKED = "primaire", "secondaire", "liée"
#: Columns whose values are withheld with a suppressed row (those present in a table).
VALUE_COLUMNS = ("count", "percent", "ci_low", "ci_high", "mean", "sd", "median", "top_box", "se", "deff")
#: Columns that identify a row and never hold results.
KEY_COLUMNS = ("question", "question_label", "option", "label", "item", "item_label", "base", "value")


@dataclass(frozen=True)
class Policy:
    """Thresholds of disclosure control: withheld below ``min_count``, fragile below ``fragile_base``."""

    min_count: int = DEFAULT_MIN_COUNT
    fragile_base: int = DEFAULT_FRAGILE_BASE

    def note(self) -> str:
        """The French note a table carries when the rule applies."""
        return (
            f"Secret statistique : les effectifs de 1 à {self.min_count - 1} répondants et les résultats calculés "
            f"sur moins de {self.min_count} répondants sont masqués ([c]), ainsi qu'un second effectif lorsque "
            "le total permettrait de les retrouver ; une cellule masquée pour une seule vague l'est aussi "
            f"pour une autre vague, pour que les vagues réunies ne la redonnent pas. Les résultats sur moins de {self.fragile_base} répondants "
            "sont fragiles."
        )


def policy(codebook: Any = None, min_count: int | None = None) -> Policy:
    """The policy of the codebook's ``meta.disclosure`` (min_count, fragile_base), ``min_count`` overriding."""
    meta = dict((getattr(codebook, "meta", None) or {}).get("disclosure", {}) or {})
    k = int(min_count if min_count is not None else meta.get("min_count", DEFAULT_MIN_COUNT))
    fragile = int(meta.get("fragile_base", DEFAULT_FRAGILE_BASE))
    if k < 1:
        raise ValueError(f"Seuil de secret statistique invalide : {k} (attendu : un entier ≥ 1)")
    return Policy(k, fragile)


def _groups(table: pd.DataFrame, by: Sequence[str] | None) -> list[str]:
    """Columns that split a table into independent sets of rows (subgroups, question, item)."""
    if by is not None:
        return list(by)
    return [
        c
        for c in table.columns
        if c not in KEY_COLUMNS
        and c not in VALUE_COLUMNS
        and c not in ("n", "rank", "sd_rank", "top_box_threshold", "mean_items", "suppressed", "suppression", "fragile")
    ] + [c for c in ("question", "item") if c in table.columns]


def _floats(values: pd.Series) -> np.ndarray:
    """A column as floats, NaN where missing or not a number."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _masked(values: pd.Series, hide: np.ndarray) -> pd.arrays.FloatingArray:
    """A column as nullable floats, missing where ``hide``."""
    kept = values.astype("Float64").array
    return pd.arrays.FloatingArray(kept.to_numpy(float, na_value=0.0), np.asarray(kept.isna()) | hide)


def _sets(table: pd.DataFrame, by: Sequence[str] | None) -> list[np.ndarray]:
    """Positions of each independent set of rows (see ``_groups``), in table order."""
    keys = _groups(table, by)
    if not keys:
        return [np.arange(len(table))]
    grouped = table.groupby(keys if len(keys) > 1 else keys[0], sort=False, dropna=False, observed=True)
    return [np.sort(rows) for rows in grouped.indices.values()]


def _secondary(
    reason: np.ndarray, counts: np.ndarray, bases: np.ndarray, rows: np.ndarray, additive: bool | None
) -> None:
    """Withhold the next smallest count of a set of rows adding up to its base when it has one withheld count."""
    known = bases[~np.isnan(bases)]
    adds_up = (
        additive
        if additive is not None
        else bool(not np.isnan(counts).any() and len(np.unique(known)) == 1 and counts.sum() == bases[0])
    )
    if not adds_up:
        return
    hidden = reason[rows] != ""
    if hidden.sum() == 1 and counts[hidden][0] > 0:
        candidates = np.flatnonzero(~hidden & (counts > 0))
        if len(candidates):
            reason[rows[candidates[np.argmin(counts[candidates])]]] = SECONDARY


def suppress(
    table: pd.DataFrame,
    *,
    min_count: int = DEFAULT_MIN_COUNT,
    fragile_base: int = DEFAULT_FRAGILE_BASE,
    count: str = "count",
    base: str = "n",
    by: Sequence[str] | None = None,
    additive: bool | None = None,
    force: pd.Series | None = None,
    force_base: pd.Series | None = None,
) -> pd.DataFrame:
    """A copy of ``table`` with small counts withheld (NaN) and the columns suppressed/suppression/fragile.

    ``count``/``base`` name the cell count and the base of each row; ``by`` the columns whose values
    delimit independent sets of rows (default: subgroup columns plus question/item). ``additive``
    says whether a set's counts add up to its base (default: detected) and so need secondary suppression.
    ``force`` / ``force_base`` (boolean Series on the rows) withhold rows, or rows with their base, withheld
    in a linked table (``suppress_linked``), before the secondary pass.
    """
    out = table.copy()
    n = _floats(out[base]) if base in out else np.full(len(out), np.nan)
    c = _floats(out[count]) if count in out else None
    small_base = (n > 0) & (n < min_count)
    primary = small_base.copy()
    if c is not None:
        primary |= (c > 0) & (c < min_count)
    reason = np.where(primary, PRIMARY, "").astype(object)
    linked = np.zeros(len(out), dtype=bool)
    if force is not None:
        linked |= force.reindex(out.index, fill_value=False).astype(bool).to_numpy()
    if force_base is not None:
        extra = force_base.reindex(out.index, fill_value=False).astype(bool).to_numpy() & (n > 0)
        small_base |= extra
        linked |= extra
    reason[linked & (reason == "")] = LINKED
    if c is not None:
        for rows in _sets(out, by):
            _secondary(reason, c[rows], n[rows], rows, additive)
    withheld = reason != ""
    for col in VALUE_COLUMNS:
        if col in out.columns and col != count:
            values = (out[col] if out[col].dtype == np.float64 else out[col].astype(float)).to_numpy(copy=True)
            values[withheld] = np.nan
            out[col] = values
    if base in out.columns:
        out[base] = _masked(out[base], small_base).astype("Int64")
    if count in out.columns:
        kept = _masked(out[count], withheld & (count in VALUE_COLUMNS))
        out[count] = pd.arrays.FloatingArray(np.round(kept.to_numpy(float, na_value=0.0)), kept.isna()).astype("Int64")
    out["suppressed"] = withheld
    out["suppression"] = reason
    out["fragile"] = (n < fragile_base) & ~withheld
    return out


def row_keys(table: pd.DataFrame) -> list[str]:
    """The columns that identify a row of a tidy table across waves (subgroup, question, item, option, bin)."""
    keys = [c for c in _groups(table, None) if c in table.columns]
    return keys + [c for c in ("option", "label", "value") if c in table.columns and c not in keys]


def suppress_linked(
    tables: dict[str, pd.DataFrame], *, min_count: int = DEFAULT_MIN_COUNT, pooled: str = "all", **options: Any
) -> dict[str, pd.DataFrame]:
    """Disclosure control of tables that add up across each other (each wave and the waves ``pooled``).

    pooled = sum of the waves, so a row withheld in exactly one table of the family (primary or secondary)
    could be given back from the others; it is then withheld in one more table (reason "liée"), another
    wave's where there is one (the one with the smallest count), so that the pooled table stays whole, with
    its base when that was the reason; secondary suppression runs again, until nothing changes. Two withheld
    cells of one row leave a range, not a value. Every table gets the same result whichever report asks.
    """
    keys = [k for k in row_keys(next(iter(tables.values()))) if all(k in t.columns for t in tables.values())]

    def ids(t: pd.DataFrame) -> pd.Series:
        return pd.Series(list(zip(*(t[k].astype(str) for k in keys))), index=t.index) if keys else t.index.to_series()

    row_ids = {name: ids(t) for name, t in tables.items()}
    counts = {
        name: dict(zip(row_ids[name], pd.to_numeric(t.get("count", pd.Series(0, index=t.index)), errors="coerce")))
        for name, t in tables.items()
    }
    forced: dict[str, set] = {name: set() for name in tables}
    forced_base: dict[str, set] = {name: set() for name in tables}

    def partner(row: Any, withheld_in: str) -> str | None:
        """The table that withholds ``row`` too: another wave's (smallest count first), else the pooled one."""
        others = [n for n in tables if n != withheld_in and row in counts[n]]
        others.sort(key=lambda n: (n == pooled, counts[n].get(row, 0), str(n)))
        return others[0] if others else None

    out = {name: suppress(t, min_count=min_count, **options) for name, t in tables.items()}
    # the forcing each table of ``out`` was computed with: a table whose forcing is unchanged is not recomputed
    # (suppress is a function of the table and of the rows forced, none at first)
    done: dict[str, tuple[frozenset, frozenset]] = {name: (frozenset(), frozenset()) for name in tables}
    for _ in range(4 * len(tables) + 4):
        for target, mark in ((forced, "suppressed"), (forced_base, "base")):
            withheld: dict[Any, list[str]] = {}
            for name, o in out.items():
                if mark == "suppressed":
                    gone = o["suppressed"]
                else:
                    gone = (
                        pd.to_numeric(tables[name].get("n"), errors="coerce").gt(0)
                        & o.get("n", pd.Series(0, index=o.index)).isna()
                    )
                for row in row_ids[name][gone.to_numpy()]:
                    withheld.setdefault(row, []).append(name)
            for row, names in withheld.items():
                if len(names) == 1 and (other := partner(row, names[0])) is not None:
                    target[other].add(row)
        wanted = {name: (frozenset(forced[name]), frozenset(forced_base[name])) for name in tables}
        if wanted == done:  # nothing newly forced: the same tables again
            return out
        new = {
            name: out[name]
            if wanted[name] == done[name]
            else suppress(
                t,
                min_count=min_count,
                force=row_ids[name].isin(forced[name]),
                force_base=row_ids[name].isin(forced_base[name]),
                **options,
            )
            for name, t in tables.items()
        }
        done = wanted
        if all(
            new[k]["suppressed"].equals(out[k]["suppressed"])
            and new[k].get("n", pd.Series()).equals(out[k].get("n", pd.Series()))
            for k in out
        ):
            return new
        out = new
    return out


def suppressed_cells(table: pd.DataFrame) -> int:
    """Number of rows withheld in a table that went through :func:`suppress`."""
    return int(table["suppressed"].sum()) if "suppressed" in table else 0


#: Results of a test or equivalence row that could give a withheld group's counts back (with the other
#: group's size and results): withheld with the group's size.
TEST_RESULT_COLUMNS = (
    "statistic",
    "dof",
    "p_value",
    "p_adjusted",
    "effect_size",
    "effect_ci_low",
    "effect_ci_high",
    "difference",
    "ci_low",
    "ci_high",
    "margin",
)
#: Verdict-like columns of such a row, shown as "[c]" (or missing for booleans).
TEST_VERDICT_COLUMNS = ("verdict",)
TEST_FLAG_COLUMNS = ("significant", "equivalent", "question_equivalent")


def withhold_group_sizes(
    tests: pd.DataFrame,
    min_count: int = DEFAULT_MIN_COUNT,
    sizes: str = "n_by",
    total: str = "n",
    withheld: Collection[str] = (),
    groups: str = "groups",
) -> pd.DataFrame:
    """Test rows with each group size under ``min_count`` in ``sizes`` ("87 / 365") shown as "[c]", and
    the size of each group named in ``withheld`` (the groups of ``groups``, "A vs B", in the same order).

    ``withheld`` is for sizes a linked table withholds (:func:`withheld_groups`): a group's size shown in the
    test of one wave would give back, with the pooled waves', the small size the other wave withholds. A row
    whose sizes cannot be matched to its groups then has all of them withheld.
    The total ``n`` of such a row is withheld too (total minus the shown sizes would give it back), and so
    are its results (p-value, effect size and interval, difference…: ``TEST_RESULT_COLUMNS``), which with
    the other group's size could give the small group's counts back; its verdict shows "[c]".
    """
    from cnfs.formatting import SUPPRESSED

    out = tests.copy()
    if sizes not in out.columns:
        return out
    hidden_groups = {str(g) for g in withheld}
    names = out[groups] if groups in out.columns else pd.Series(None, index=out.index, dtype=object)

    def mask(text: Any, label: Any) -> tuple[str, bool]:
        if not isinstance(text, str):
            return text, False
        parts = [p.strip() for p in text.split("/")]
        small = [p.isdigit() and 0 < int(p) < min_count for p in parts]
        if hidden_groups:
            levels = [g.strip() for g in label.split(" vs ")] if isinstance(label, str) else []
            # sizes that cannot be matched to their groups are all withheld: a withheld group never shows
            hide = [g in hidden_groups for g in levels] if len(levels) == len(parts) else [True] * len(parts)
            small = [s or h for s, h in zip(small, hide)]
        return " / ".join(SUPPRESSED if s else p for p, s in zip(parts, small)), any(small)

    masked = [mask(v, g) for v, g in zip(out[sizes], names)]
    hidden = pd.Series([h for _, h in masked], index=out.index, dtype=bool)
    out[sizes] = [v for v, _ in masked]
    if total in out.columns:
        out[total] = pd.to_numeric(out[total], errors="coerce").astype("Float64").where(~hidden).round().astype("Int64")
    if hidden.any():
        for col in TEST_RESULT_COLUMNS:
            if col in out.columns:
                out[col] = pd.to_numeric(out[col], errors="coerce").astype(float).where(~hidden)
        for col in TEST_VERDICT_COLUMNS:
            if col in out.columns:
                out[col] = out[col].astype(object).where(~hidden, SUPPRESSED)
        for col in TEST_FLAG_COLUMNS:
            if col in out.columns:
                out[col] = out[col].astype(object).where(~hidden, pd.NA)
    return out


def withheld_groups(table: pd.DataFrame, by: str, base: str = "n") -> list[str]:
    """The groups of a protected tidy table whose base (column ``base``) is shown in none of their rows (primary
    or linked suppression): their sizes must not be shown elsewhere, in the test of the same comparison for one."""
    if by not in table.columns or base not in table.columns:
        return []
    shown = pd.to_numeric(table[base], errors="coerce").notna().groupby(table[by].astype(str), sort=False).any()
    return [str(g) for g, any_shown in shown.items() if not any_shown]


def withheld_rows(tests: pd.DataFrame, sizes: str = "n_by") -> pd.Series:
    """Rows of a test table whose group sizes were withheld by :func:`withhold_group_sizes`."""
    from cnfs.formatting import SUPPRESSED

    if sizes not in tests.columns:
        return pd.Series(False, index=tests.index)
    return tests[sizes].astype(str).str.contains(SUPPRESSED, regex=False)
