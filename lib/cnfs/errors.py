"""Errors caused by the user's input (a file, a mapping, an option), as opposed to bugs.

The command line prints such an error as one French message naming the file, with what to do, and
exits with status 2; anything else is a bug and keeps its traceback (``--debug`` always shows it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class InputError(ValueError):
    """A user's input cannot be used: ``str()`` is the whole message, naming the file."""

    def __init__(self, path: str | Path | None, message: str, hint: str = ""):
        self.path = str(path) if path is not None else ""
        self.message = message
        self.hint = hint
        where = f"{self.path} : " if self.path else ""
        tail = f" — {hint}" if hint else ""
        super().__init__(f"{where}{message}{tail}")


class ExportWarning(UserWarning):
    """Something in an export was left aside (columns not in the codebook): said, not fatal."""


MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class Problem:
    """One validation failure: where it is (file, column, 1-based data rows), what was expected, what was found."""

    file: str
    column: str
    rows: tuple[int, ...]
    expected: str
    found: str = ""

    def __str__(self) -> str:
        where = f"{self.file}, colonne {self.column!r}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:MAX_ROWS_SHOWN])
            more = f" et {len(self.rows) - MAX_ROWS_SHOWN} autres" if len(self.rows) > MAX_ROWS_SHOWN else ""
            where += f", lignes {shown}{more}"
        found = f" ; trouvé {self.found}" if self.found else ""
        return f"{where} : attendu {self.expected}{found}"


def rows_of(mask: pd.Series) -> tuple[int, ...]:
    """1-based data rows where ``mask`` holds (missing counts as false)."""
    return tuple(int(i) + 1 for i in mask.index[mask.fillna(False).to_numpy(dtype=bool)])


def problems_where(source: str, column: str, mask: pd.Series, expected: str, found: str) -> list[Problem]:
    """One problem naming the rows where ``mask`` holds, or none when it holds nowhere."""
    rows = rows_of(mask)
    return [Problem(source, column, rows, expected, found)] if rows else []


def values_shown(s: pd.Series, mask: pd.Series) -> str:
    """Up to five distinct offending values of ``s`` where ``mask`` holds, for a message."""
    vals = sorted(set(s[mask.fillna(False).to_numpy(dtype=bool)].fillna("<vide>").astype(str)))
    return "valeurs " + ", ".join(repr(v) for v in vals[:5])


class SurveyValidationError(InputError):
    """The survey file does not match the codebook; ``problems`` lists every failure."""

    def __init__(self, path: str | Path, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        ValueError.__init__(
            self,
            f"{path} : {len(problems)} problème(s) au regard du codebook "
            f"(lignes de données numérotées à partir de 1, en-tête non compté) :\n{lines}",
        )
        self.path = str(path)
        self.message = str(self)
        self.hint = ""
