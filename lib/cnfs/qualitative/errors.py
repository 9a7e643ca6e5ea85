"""Errors of the qualitative study: every problem names the file, the record and the field."""

from __future__ import annotations

from pathlib import Path

from cnfs.status import ReproductionError  # noqa: F401  (one error for every strict check, re-exported)


class QualitativeDataError(ValueError):
    """Raised once with ALL the problems found in the qualitative data files."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the qualitative data:\n{lines}")


class Problems:
    """Collects problems (file, record, field, expectation) so that they are reported together."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, file: str | Path, record: str, field: str, expected: str, got: object = None) -> None:
        """Record one problem; ``got`` is shown when given."""
        name = Path(file).name
        tail = "" if got is None else f", got {got!r}"
        self.items.append(f"{name}: record {record}, field '{field}': expected {expected}{tail}")

    def raise_if_any(self) -> None:
        """Raise a single ``QualitativeDataError`` listing every collected problem."""
        if self.items:
            raise QualitativeDataError(self.items)
