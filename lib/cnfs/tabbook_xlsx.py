"""Tab book spreadsheets (.xlsx, openpyxl) laid out as the UK Analysis Function's guidance on releasing
statistics in spreadsheets asks: a cover sheet, a contents sheet, a notes sheet, then one table per sheet
(title and description above one header row, no merged cells, no blank rows inside, numbers as numbers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cnfs.provenance import SYNTHETIC_WARNING

SOURCE = "Enquête auprès des conseillers numériques France Services (programme de recherche ANCT), traitements cnfs-notebooks"
FORBIDDEN = set("[]:*?/\\")


def sheet_name(i: int, label: str) -> str:
    """A valid, short sheet name: "T1_Vague" (at most 31 characters, no forbidden character)."""
    clean = "".join("_" if ch in FORBIDDEN or ch.isspace() else ch for ch in label)
    return f"T{i}_{clean}"[:31]


def _autosize(ws, widths: Sequence[int]) -> None:
    from openpyxl.utils import get_column_letter

    for j, wdt in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(j)].width = max(10, min(60, wdt))


def write_workbook(
    path: Path,
    *,
    title: str,
    wave: str,
    weighting: str,
    synthetic: bool,
    tables: Sequence[tuple[str, pd.DataFrame]],
    notes: Sequence[str],
) -> Path:
    """Write the workbook atomically (a failed write leaves the previous file in place); returns ``path``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    bold = Font(bold=True)
    cover = wb.active
    cover.title = "Couverture"
    lines = [
        (title, True),
        ("Vague : " + ("toutes vagues réunies" if wave == "all" else f"vague {wave}"), False),
        ("Pondération : " + weighting, False),
        ("Source : " + SOURCE, False),
        ("Produit le " + dt.datetime.now(dt.UTC).astimezone().strftime("%d/%m/%Y"), False),
        ("Contenu : voir la feuille « Sommaire » ; notes et méthodes : feuille « Notes ».", False),
    ]
    if synthetic:
        lines.insert(1, ("ATTENTION : " + SYNTHETIC_WARNING, True))
    for i, (text, strong) in enumerate(lines, 1):
        cover.cell(row=i, column=1, value=text).font = bold if strong else Font()
    _autosize(cover, [120])

    names = [sheet_name(i, label) for i, (label, _) in enumerate(tables, 1)]
    contents = wb.create_sheet("Sommaire")
    contents.append(["Sommaire"])
    contents["A1"].font = bold
    contents.append(["Feuille", "Tableau"])
    for name, (label, _) in zip(names, tables):
        contents.append([name, f"{title} — selon : {label}"])
        contents.cell(row=contents.max_row, column=1).hyperlink = f"#'{name}'!A1"
    _autosize(contents, [32, 100])

    notes_ws = wb.create_sheet("Notes")
    notes_ws.append(["Notes"])
    notes_ws["A1"].font = bold
    notes_ws.append(["Note", "Texte"])
    for i, text in enumerate(notes, 1):
        notes_ws.append([f"Note {i}", text])
    _autosize(notes_ws, [10, 140])

    for name, (label, table) in zip(names, tables):
        ws = wb.create_sheet(name)
        ws.append([f"{title} — selon : {label}"])
        ws["A1"].font = bold
        ws.append(
            [
                "Valeurs : pourcentages (0 à 100) de la colonne parmi les répondants à qui la question a été "
                "posée, ou moyennes ; base (n) non pondérée ; « [c] » (cellule vide) : masqué par le secret "
                "statistique ; lettres : voir les notes."
            ]
        )
        ws.append(list(table.columns))
        for c in range(1, len(table.columns) + 1):
            ws.cell(row=3, column=c).font = bold
        for row in table.itertuples(index=False):
            ws.append(
                [
                    None
                    if (v is None or (not isinstance(v, str) and pd.isna(v)))
                    else (float(v) if not isinstance(v, (str, bool)) else v)
                    for v in row
                ]
            )
        ws.freeze_panes = "A4"
        _autosize(ws, [max(len(str(c)), 12) for c in table.columns])

    from cnfs.atomic import replacing

    with replacing(path) as f:
        wb.save(f)
    return path
