"""Spreadsheets of result tables, following the UK Analysis Function's guidance on releasing statistics
in spreadsheets (gptables): a cover sheet, a contents sheet, a notes sheet, then one table per sheet
with its title, base and n above a single header row; no merged cells, no blank rows inside a table,
numbers stored as numbers, "[c]" for a value withheld by disclosure control and "[x]" for none.

Reusable API: build :class:`SheetTable` objects (a tidy DataFrame with a title, base and notes) and
call :func:`write_workbook`; :func:`wave_workbook` does so for a wave folder's ``tables/*.csv``.
"""

from __future__ import annotations

import json
import re
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnfs.atomic import write_bytes
from cnfs.formatting import SUPPRESSED, colon, fmt_date, fmt_num

if TYPE_CHECKING:  # pandas is imported by the functions that need it: naming a workbook stays light
    import pandas as pd

NOT_AVAILABLE = "[x]"
META_DIR = "meta"
#: Value columns withheld when a row is suppressed (cnfs.disclosure).
WITHHELD_COLUMNS = ("count", "percent", "ci_low", "ci_high", "mean", "sd", "median", "top_box", "se", "deff")
UNITS = {"percent": "%", "ci_low": "%", "ci_high": "%", "top_box": "%"}
#: Headings gptables writes in English, and their French.
FRENCH = {
    "Introductory information": "Présentation",
    "About these data": "À propos des données",
    "Contact": "Contact",
    "Note number": "Numéro de la note",
}


@dataclass
class SheetTable:
    """One table of a workbook: tidy data (column names kept), its title, base, n and notes."""

    name: str
    title: str
    data: pd.DataFrame
    base: str = ""
    n: int | None = None
    notes: list[str] = field(default_factory=list)
    source: str = ""


@dataclass
class CoverInfo:
    """What the cover sheet says: title, source, synthetic warning, date and weighting."""

    title: str
    source: str
    synthetic_warning: str | None = None
    produced: Any = None
    weighting: str = "Aucune pondération : résultats bruts sur les répondants."
    extra: list[str] = field(default_factory=list)


_MEANINGFUL = re.compile(r"[A-Za-z0-9]")


def _cell_values(table: pd.DataFrame) -> pd.DataFrame:
    """Numbers stay numbers; withheld values read "[c]", other missing values "[x]"."""
    import numpy as np
    import pandas as pd

    withheld = (
        table["suppressed"].fillna(False).astype(bool).to_numpy()
        if "suppressed" in table
        else np.zeros(len(table), dtype=bool)
    )
    missing = table.isna().to_numpy()
    cells = table.to_numpy(dtype=object, copy=True)
    columns: dict[int, Any] = {}  # by position; each list is typed by pandas as the former per-cell lists were
    for i, (col, dtype) in enumerate(zip(table.columns, table.dtypes)):
        if pd.api.types.is_bool_dtype(dtype):
            columns[i] = table.iloc[:, i]
            continue
        if col == "suppression":
            s = table.iloc[:, i]
            columns[i] = s.astype(object).where(s.notna() & (s.astype(str) != ""), "aucune")
            continue
        values, na = cells[:, i], missing[:, i]
        if pd.api.types.is_numeric_dtype(dtype):
            if pd.api.types.is_integer_dtype(dtype):
                values[~na] = [int(v) for v in values[~na]]
            values[na] = NOT_AVAILABLE
            if col in WITHHELD_COLUMNS:
                values[na & withheld] = SUPPRESSED
            columns[i] = list(values)
        else:  # a text cell of symbols only ("–", "") says nothing: marked as no value
            values[na] = NOT_AVAILABLE
            columns[i] = [NOT_AVAILABLE if isinstance(v, str) and not _MEANINGFUL.search(v) else v for v in values]
    out = pd.DataFrame(columns, index=table.index)
    out.columns = table.columns
    return out.reset_index(drop=True)


def _table_name(i: int, name: str) -> str:
    return re.sub(r"\W", "_", f"T{i}_{name}")[:250]


def write_workbook(path: str | Path, tables: Sequence[SheetTable], cover: CoverInfo) -> Path:
    """Write the workbook (cover, contents, notes, one sheet per table) atomically; returns its path."""
    import gptables as gpt
    import pandas as pd

    from cnfs import gptables_writer

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    notes: dict[str, str] = {}  # note text -> reference
    sheets = {}
    tables = [t for t in tables if not t.data.empty and t.data.notna().any().any()]  # a table says something
    for i, t in enumerate(tables, start=1):
        refs = []
        for text in dict.fromkeys(t.notes):
            if text not in notes:
                notes[text] = f"note {len(notes) + 1}"
            refs.append(f"$${notes[text]}$$")
        subtitles = [s for s in (t.base, colon("Effectif (n)", fmt_num(t.n)) if t.n is not None else "") if s]
        data = _cell_values(t.data)
        units = {c: u for c, u in UNITS.items() if c in data.columns}
        sheets[f"Tableau_{i}"] = gpt.GPTable(
            table=data,
            table_name=_table_name(i, t.name),
            title=f"{t.title} {' '.join(refs)}".strip(),
            subtitles=subtitles,
            units=units or None,
            source=t.source or cover.source,
            instructions="Cette feuille contient un seul tableau, sous son titre, sa base, son effectif et sa source.",
        )
    about = [
        colon("Source", cover.source),
        colon("Date de production", fmt_date(cover.produced) if cover.produced else "–"),
        colon("Pondération", cover.weighting),
        "Les valeurs masquées par le secret statistique sont notées [c] ; les valeurs sans objet ou manquantes [x].",
        *cover.extra,
    ]
    intro = [f"AVERTISSEMENT — {cover.synthetic_warning}"] if cover.synthetic_warning else []
    intro.append(
        f"Ce classeur contient {len(tables)} tableau{'x' if len(tables) > 1 else ''}, un par feuille, listés dans la feuille Sommaire ; "
        "les notes sont dans la feuille Notes."
    )
    gcover = gpt.Cover(cover_label="Couverture", title=cover.title, intro=intro, about=about)
    notes_table = pd.DataFrame({"Référence de la note": list(notes.values()), "Texte de la note": list(notes.keys())})
    if notes_table.empty:
        notes_table = pd.DataFrame({"Référence de la note": ["note 1"], "Texte de la note": ["Aucune note."]})
    with tempfile.TemporaryDirectory() as tmpdir:  # gptables writes a file; it is then moved in one step
        tmp = Path(tmpdir) / target.name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gptables_writer.write_workbook(
                filename=str(tmp),
                sheets=sheets,
                cover=gcover,
                notes_table=notes_table,
                contentsheet_label="Sommaire",
                contentsheet_options={
                    "title": "Sommaire",
                    "column_names": ["Feuille", "Titre du tableau"],
                    "additional_elements": ["subtitles"],
                    "instructions": "Cette feuille contient un seul tableau : la liste des feuilles.",
                },
                notesheet_label="Notes",
                notesheet_options={
                    "title": "Notes",
                    "instructions": "Cette feuille contient un seul tableau : "
                    "les notes citées dans les titres des tableaux.",
                },
            )
        _translate(tmp)
        write_bytes(target, tmp.read_bytes())
    return target


def _translate(path: str | Path) -> None:
    """Put the few headings gptables writes in English into French, in the file's shared strings and table
    definitions (the XML parts that hold them), without loading and rewriting the whole workbook."""
    import zipfile
    from xml.sax.saxutils import escape, quoteattr

    src = Path(path)
    out = src.with_name(src.name + ".fr")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/sharedStrings.xml" or item.filename.startswith(("xl/tables/", "xl/worksheets/")):
                text = data.decode("utf-8")
                for en, fr in FRENCH.items():
                    text = text.replace(f">{escape(en)}<", f">{escape(fr)}<")
                    text = text.replace(f"name={quoteattr(en)}", f"name={quoteattr(fr)}")
                data = text.encode("utf-8")
            zout.writestr(item, data)
    out.replace(src)


def read_tables(wave_dir: str | Path) -> list[SheetTable]:
    """The tables a wave folder holds (tables/*.csv with their tables/meta/*.json), in file order."""
    import pandas as pd

    folder = Path(wave_dir) / "tables"
    out = []
    for csv in sorted(folder.glob("*.csv")):
        meta_path = folder / META_DIR / f"{csv.stem}.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        out.append(
            SheetTable(
                name=csv.stem,
                title=str(meta.get("title") or csv.stem),
                data=pd.read_csv(csv),
                base=str(meta.get("caption") or ""),
                n=meta.get("n"),
                notes=list(meta.get("notes") or []),
            )
        )
    return out


def workbook_name(wave_dir: str | Path) -> str:
    """File name of a wave folder's workbook: cnfs_all.xlsx, cnfs_wave-1.xlsx…"""
    return f"cnfs_{Path(wave_dir).name}.xlsx"


def wave_workbook(wave_dir: str | Path, *, synthetic: bool, produced: Any = None, label: str = "") -> Path | None:
    """Write ``<wave_dir>/cnfs_<wave>.xlsx`` from the wave's tables; None when it has none."""
    from cnfs.provenance import SYNTHETIC_WARNING

    tables = read_tables(wave_dir)
    tables = [t for t in tables if not t.data.empty and t.data.notna().any().any()]
    if not tables:
        return None
    cover = CoverInfo(
        title=f"Conseillers numériques France Services : tableaux de résultats{f' ({label})' if label else ''}",
        source="Enquête par questionnaire auprès des conseillers numériques France Services (programme de recherche "
        "CnFS, ANCT)" + (" — jumeau synthétique" if synthetic else ""),
        synthetic_warning=SYNTHETIC_WARNING if synthetic else None,
        produced=produced,
    )
    return write_workbook(Path(wave_dir) / workbook_name(wave_dir), tables, cover)
