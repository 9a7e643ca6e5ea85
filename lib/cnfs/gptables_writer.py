"""gptables' workbook with a cheaper table writer, for ``cnfs.spreadsheet``.

gptables (2.0) builds, for each table, a DataFrame holding one format dict per cell, filled row by row, then
writes and measures every cell with its own dict. In a table without index columns or extra formatting every
data cell of a column has the same format, so :class:`TableWorksheet` works out one heading format and one data
format per column and makes the same xlsxwriter calls (cells, formats, widths, table definition: tests compare
the files with gptables' own writer). A column's alignment (numbers right) follows gptables' pandas typing, worked
out from the kinds of its cells (:func:`right_aligned`, tested against gptables' own). Any other table goes
through gptables' own method.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from math import ceil
from typing import Any

import numpy as np
import pandas as pd
from gptables import Cover, GPTable
from gptables.core.wrappers import GPWorkbook, GPWorksheet
from xlsxwriter.utility import cell_autofit_width
from xlsxwriter.workbook import Workbook

_PLAIN = (str, int, float, bool)
_GRIDLINES = {"show_all": 0, "hide_printed": 1, "hide_all": 2}


_MEANINGFUL = re.compile(r"[a-zA-Z0-9]")


def _blank(value: Any) -> bool:
    """Whether gptables turns a cell into an empty one: text of whitespace only (its regex ``^\\s*$``)."""
    return isinstance(value, str) and (value == "" or value.isspace())


def _check(table: pd.DataFrame, name: str) -> None:
    """gptables' checks of a table: not empty, no empty row, no cell of symbols only (a warning for empty cells)."""
    missing = table.isna().to_numpy()
    if missing.all():
        raise ValueError(f"{name} contains only null or whitespace cells: give a table with data.")
    if missing.all(axis=1).any():
        raise ValueError(f"Empty or null row found in {name}: remove blank rows.")
    if missing.any():
        warnings.warn(f"Empty or null cell found in {name}.", stacklevel=3)
    cells = table.to_numpy(dtype=object)[~missing]  # as text, as gptables' astype("string") check reads them
    if any(not _MEANINGFUL.search(v if isinstance(v, str) else str(v)) for v in cells):
        raise ValueError(f"Cell found in {name} containing only special characters.")


_SHORTHAND = re.compile(r"\[[\w\s]+\]")  # gptables' pattern of a mark ("[x]", "[c]", "[note 1]"): not a value
_NUMPY_KINDS = "biufO"  # numpy bool, integer, float and object columns


def _kind(value: Any) -> str | None:
    """How gptables' column typing sees a cell: "num", "bool", "str", "" (a mark or NaN: no value), None (other)."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "num" if value == value else ""
    if isinstance(value, str):
        return "" if _SHORTHAND.search(value) else "str"
    return None


def right_aligned(table: pd.DataFrame) -> list[bool] | None:
    """gptables' alignment of each column (numbers right, anything else and the first column left) from the kinds
    of its cells, or None for a table outside the cases this covers (gptables' own code then decides).

    gptables types each column with the heading row on top and marks read as missing (a column of text and marks
    is then text), drops the heading row unless one heading is itself read as a mark, and types the rest again:
    numeric when its cells are numbers, or all flags.
    """
    heads = list(table.columns)
    if not all(isinstance(h, str) for h in heads) or len(set(heads)) != len(heads):
        return None
    kept = any(_SHORTHAND.search(h) for h in heads)
    out = []
    for i, (head, dtype) in enumerate(zip(heads, table.dtypes)):
        if isinstance(dtype, pd.StringDtype):
            out.append(False)  # text columns stay text
            continue
        if not isinstance(dtype, np.dtype) or dtype.kind not in _NUMPY_KINDS:
            return None
        kinds = {_kind(v) for v in table.iloc[:, i].tolist()}
        if None in kinds:
            return None
        kinds.discard("")
        if not kinds and dtype.kind != "O":
            return None  # a number column without numbers takes the heading's type: gptables' own code decides
        heading = {_kind(head)} - {""}  # "str", or nothing for a heading read as a mark
        if kinds | heading == {"str"}:
            out.append(False)  # text and marks only: typed as text, heading row included
            continue
        kinds |= heading if kept else set()
        out.append(kinds <= {"num"} or kinds == {"bool"})
    return [False, *out[1:]] if out else out


class TableWorksheet(GPWorksheet):
    """A gptables worksheet that writes a plain table with one heading and one data format per column."""

    def _write_table_elements(self, pos: list, gptable: GPTable, auto_width: bool) -> list:
        """The table and its heading row, as gptables writes them (same cells, formats and widths)."""
        if gptable.index_columns or gptable.additional_formatting:
            return super()._write_table_elements(pos, gptable, auto_width)
        table = gptable.table
        if any(_blank(v) for v in table.to_numpy(dtype=object).ravel()):
            table.replace({r"^\s*$": None}, inplace=True, regex=True)
        _check(table, gptable.table_name)
        right = right_aligned(table)
        if right is None:  # gptables' own typing, on the table with its heading row on top
            data = pd.DataFrame(table, copy=True)
            data.loc[-1] = data.columns
            data.index = data.index + 1
            data.sort_index(inplace=True)
            rows = data.values.tolist()
            frame = pd.DataFrame([[{} for _ in data.columns]], columns=data.columns)
            self._apply_column_alignments(data, frame, [])
            align = list(frame.iloc[0])
        else:
            rows = [list(table.columns), *table.to_numpy(dtype=object).tolist()]
            align = [{"align": "right" if r else "left"} for r in right]
        heading = [{**self.theme.column_heading_format, **a} for a in align]
        body = [{**self.theme.data_format, **a} for a in align]
        self._write_table_rows(gptable.data_range[0], rows, heading, body)
        if auto_width:
            self._set_column_widths(self._table_widths(rows, heading, body))
        self._mark_data_as_worksheet_table(gptable, pd.DataFrame([heading]))
        return [gptable.data_range[0] + len(rows), 0]

    def _parse_table_urls(self, gptable: GPTable) -> None:
        """gptables' markdown links in cells (``[text](url)``); a table without any is left as it is."""
        if any(isinstance(v, str) and "](" in v for v in gptable.table.to_numpy(dtype=object).ravel()):
            super()._parse_table_urls(gptable)

    def _write_table_rows(self, top: int, rows: list[list[Any]], heading: list[dict], body: list[dict]) -> None:
        """Write the heading row and the data rows from row ``top``, each cell as gptables' ``_smart_write``."""
        formats = [[self._workbook.add_format(f) for f in fmts] for fmts in (heading, body)]
        for r, row in enumerate(rows):
            dicts, objects = (heading, formats[0]) if r == 0 else (body, formats[1])
            for c, value in enumerate(row):
                if type(value) not in _PLAIN:
                    self._smart_write(top + r, c, value, dicts[c])
                elif value != value:  # NaN
                    self.write_blank(top + r, c, None, objects[c])
                else:
                    self.write(top + r, c, value, objects[c])

    def _table_widths(self, rows: list[list[Any]], heading: list[dict], body: list[dict]) -> list[int]:
        """gptables' automatic column widths (widest cell of each column), each distinct text measured once."""
        seen: dict[tuple[Any, ...], int] = {}
        widths = []
        for c in range(len(heading)):
            best = 0
            for r, row in enumerate(rows):
                value, fmt = row[c], heading[c] if r == 0 else body[c]
                key = (r == 0, type(value), value) if type(value) in _PLAIN and value == value else None
                width = seen.get(key) if key is not None else None
                if width is None:
                    text = self._get_longest_line(value)
                    width = ceil(cell_autofit_width(text) * self._get_scaling_factor(fmt, text))
                    if key is not None:
                        seen[key] = width
                best = max(best, width)
            widths.append(best)
        return widths


class TableWorkbook(GPWorkbook):
    """gptables' workbook whose sheets are :class:`TableWorksheet`."""

    def add_worksheet(self, name: str | None = None, gridlines: str = "hide_all") -> TableWorksheet:
        """A new sheet, set up as gptables sets up its own (theme, workbook, gridlines)."""
        worksheet = Workbook.add_worksheet(self, name, TableWorksheet)
        worksheet.theme = self.theme
        worksheet._workbook = self
        worksheet.hide_gridlines(_GRIDLINES[gridlines])
        return worksheet


def write_workbook(
    *,
    filename: str,
    sheets: Mapping[str, GPTable],
    cover: Cover,
    notes_table: pd.DataFrame,
    contentsheet_label: str,
    contentsheet_options: dict[str, Any],
    notesheet_label: str,
    notesheet_options: dict[str, Any],
) -> None:
    """``gptables.write_workbook`` with these arguments (the others at their defaults): the cover, the contents and
    notes sheets, then the tables, written through :class:`TableWorkbook` (in memory: no temporary file per sheet)."""
    wb = TableWorkbook(filename, options={"in_memory": True})
    wb.add_worksheet(cover.cover_label, gridlines="hide_all").write_cover(cover)
    contents = wb.make_table_of_contents(dict(sheets), **contentsheet_options)
    wb._update_annotations(dict(sheets))
    notes = wb.make_notesheet(notes_table, **notesheet_options)
    for label, gptable in {contentsheet_label: contents, notesheet_label: notes, **sheets}.items():
        wb.add_worksheet(label, gridlines="hide_all").write_gptable(gptable, True, wb._annotations)
    wb.close()
