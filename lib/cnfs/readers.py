"""Read a survey export in any format a survey team produces, as a table of text cells.

CSV (delimiter and encoding detected, optionally gzip- or zip-compressed), XLSX, SPSS ``.sav`` /
``.zsav`` and Stata ``.dta`` (value labels applied) and Parquet. Every cell comes back as trimmed
text, NA when empty, so that one set of codebook-driven rules (``cnfs.normalise``) reads them all.
A file that cannot be read raises ``InputError`` naming it; the file itself is only ever read.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cnfs.errors import InputError

#: Extension -> reader. ``.gz`` and ``.zip`` hold a CSV.
FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".gz": "csv",
    ".zip": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".sav": "spss",
    ".zsav": "spss",
    ".dta": "stata",
    ".parquet": "parquet",
}
ACCEPTED = ".csv (ou .tsv, .txt), .csv.gz, .zip (contenant un CSV), .xlsx, .sav, .zsav, .dta, .parquet"
DELIMITERS = ",;\t|"
#: Encodings a survey export comes in; charset-normalizer chooses among them when UTF-8 fails.
ENCODINGS = ["utf_8", "cp1252", "latin_1", "utf_16"]

_MAGIC = {
    "zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "gzip": (b"\x1f\x8b",),
    "parquet": (b"PAR1",),
    "spss": (b"$FL2", b"$FL3"),
    "ole2": (b"\xd0\xcf\x11\xe0",),
}
_DESCRIBE = {
    "xlsx": "un classeur Excel (XLSX)",
    "zip": "une archive ZIP",
    "gzip": "un fichier compressé gzip",
    "parquet": "un fichier Parquet",
    "spss": "un fichier SPSS (.sav)",
    "stata": "un fichier Stata (.dta)",
    "ole2": "un ancien classeur Excel (.xls) ou un document Office",
    "text": "un texte (CSV ?)",
    "binary": "des octets binaires (ni texte ni format d'export connu)",
    "empty": "un fichier vide",
}
_SUFFIX_FOR = {
    "xlsx": ".xlsx",
    "zip": ".zip",
    "gzip": ".csv.gz",
    "parquet": ".parquet",
    "spss": ".sav",
    "stata": ".dta",
    "text": ".csv",
    "ole2": ".xlsx (après l'avoir enregistré au format .xlsx)",
}


@dataclass(frozen=True)
class Table:
    """An export's cells as text (header trimmed, NA for empty cells) and how it was read."""

    data: pd.DataFrame
    reader: str
    options: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- paths and sniffing
def format_of(path: str | Path) -> str:
    """The reader for a file name, or InputError for an extension no reader takes."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        shown = suffix or "(sans extension)"
        hint = f"formats acceptés : {ACCEPTED}"
        if suffix in (".xls", ".ods", ".numbers"):
            hint = "ouvrez-le dans un tableur et enregistrez-le en .xlsx ou en CSV ; " + hint
        raise InputError(p, f"format non pris en charge : {shown}", hint)
    return FORMATS[suffix]


def check_path(path: str | Path) -> Path:
    """The path if it names an existing, readable file of a supported format; else InputError."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "fichier introuvable", "vérifiez le chemin (relatif au dossier courant)")
    if p.is_dir():
        raise InputError(p, "c'est un dossier, pas un fichier d'export", "donnez le chemin du fichier lui-même")
    format_of(p)
    return p


def read_bytes(path: Path) -> bytes:
    """The file's bytes (the single place an export is opened), errors as InputError."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except PermissionError:
        raise InputError(path, "fichier illisible (droits d'accès insuffisants)", "vérifiez ses permissions") from None
    except OSError as e:
        raise InputError(path, f"fichier illisible ({e.strerror or e})") from None


def sniff(data: bytes) -> str:
    """What a file's bytes say it is (see ``_DESCRIBE``), from its first bytes."""
    head = data[:4096]
    if not head.strip():
        return "empty"
    for kind, magics in _MAGIC.items():
        if head.startswith(magics):
            if kind == "zip" and _is_workbook(data):
                return "xlsx"
            return kind
    if head.startswith(b"<stata_dta>") or (
        len(head) > 2 and head[0] in range(0x66, 0x78) and head[1] in (1, 2) and head[2] == 1
    ):
        return "stata"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text"
    if b"\x00" in head:
        return "binary"
    return "text"


def _is_workbook(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return any(n.startswith("xl/") for n in z.namelist())
    except zipfile.BadZipFile:
        return False


def _expect(path: Path, data: bytes, wanted: tuple[str, ...], reader: str) -> None:
    kind = sniff(data)
    if kind == "empty":
        raise InputError(path, "fichier vide (aucune ligne)", "exportez à nouveau le questionnaire")
    if kind in wanted:
        return
    what = _DESCRIBE[kind]
    if kind == "binary":
        raise InputError(
            path, f"contenu illisible : {what}", f"attendu : un export {reader.upper()} ; formats acceptés : {ACCEPTED}"
        )
    hint = f"renommez-le en {_SUFFIX_FOR[kind]}" if kind in _SUFFIX_FOR else f"formats acceptés : {ACCEPTED}"
    raise InputError(
        path, f"l'extension {path.suffix} annonce un fichier {reader.upper()}, mais son contenu est {what}", hint
    )


# ---------------------------------------------------------------- cells as text
def _cell(x: Any) -> Any:
    if x is None or x is pd.NA or x is pd.NaT:
        return pd.NA
    if isinstance(x, bool):
        return "True" if x else "False"
    if isinstance(x, float):
        if math.isnan(x):
            return pd.NA
        return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
    if isinstance(x, (pd.Timestamp, dt.datetime)):
        ts = pd.Timestamp(x)
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, dt.time):
        return x.isoformat()
    s = str(x).strip()
    return s if s else pd.NA


def to_text(s: pd.Series) -> pd.Series:
    """A column of any dtype as trimmed text: whole floats without '.0', dates in ISO, NA for empty."""
    if pd.api.types.is_datetime64_any_dtype(s):
        times = s.dropna()
        fmt = "%Y-%m-%d" if (times == times.dt.normalize()).all() else "%Y-%m-%d %H:%M:%S"
        return s.dt.strftime(fmt).astype("string")
    if pd.api.types.is_string_dtype(s) and not pd.api.types.is_object_dtype(s):
        out = s.astype("string").str.strip()
        return out.mask(out == "")
    return pd.Series([_cell(x) for x in s.astype(object)], index=s.index, dtype="string")


def _with_header(path: Path, cells: pd.DataFrame) -> pd.DataFrame:
    """First row of a header-less grid as column names (trimmed), the rest as text data."""
    if cells.shape[0] == 0 or cells.shape[1] == 0:
        raise InputError(path, "fichier vide (aucune ligne)", "exportez à nouveau le questionnaire")
    header = [("" if pd.isna(h) else str(_cell(h) if not isinstance(h, str) else h)).strip() for h in cells.iloc[0]]
    body = cells.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    out = pd.DataFrame({i: to_text(body[i]) for i in body.columns}, index=body.index)
    out.columns = header
    return _check_header(path, out)


def _check_header(path: Path, df: pd.DataFrame) -> pd.DataFrame:
    names = [str(c).strip() for c in df.columns]
    df.columns = names
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if n:
            seen.setdefault(n, []).append(i + 1)
    dup = {n: pos for n, pos in seen.items() if len(pos) > 1}
    if dup:
        shown = "; ".join(f"{n!r} (colonnes {', '.join(map(str, pos))})" for n, pos in list(dup.items())[:5])
        raise InputError(
            path, f"colonnes en double dans l'en-tête : {shown}", "chaque colonne doit avoir un nom unique"
        )
    return df


# ---------------------------------------------------------------- text (CSV)
def decode(path: Path, data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, UTF-16 with BOM, else charset-normalizer's choice."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=ENCODINGS).best()
    if best is None:
        raise InputError(
            path,
            "encodage des caractères non reconnu (ni UTF-8 ni Windows-1252/Latin-1)",
            "réenregistrez le fichier en CSV UTF-8",
        )
    enc = best.encoding
    text = str(best)
    if _control_share(text) > 0.01:
        raise InputError(path, f"contenu illisible : {_DESCRIBE['binary']}", f"formats acceptés : {ACCEPTED}")
    return text, {"cp1252": "windows-1252", "latin_1": "latin-1"}.get(enc, enc)


def _control_share(text: str) -> float:
    sample = text[:20000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return bad / max(len(sample), 1)


def sniff_delimiter(text: str) -> str:
    """The field delimiter among , ; tab | (csv.Sniffer on the first lines, else the header's most frequent)."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    sample = "\n".join(lines)
    try:
        d = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        if d in DELIMITERS:
            return d
    except csv.Error:
        pass
    header = lines[0] if lines else ""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_csv_text(path: Path, text: str, options: dict[str, Any]) -> Table:
    if not text.strip():
        raise InputError(path, "fichier vide (aucune ligne)", "exportez à nouveau le questionnaire")
    if _control_share(text) > 0.01:
        raise InputError(path, f"contenu illisible : {_DESCRIBE['binary']}", f"formats acceptés : {ACCEPTED}")
    first, _, rest = text.partition("\n")
    hinted = re.fullmatch(r'"?sep=(.)"?\r?', first.strip("\ufeff"))
    if hinted:  # Excel's "sep=;" first line names the delimiter
        text = rest
    delim = hinted.group(1) if hinted else sniff_delimiter(text)
    try:
        cells = pd.read_csv(
            io.StringIO(text),
            sep=delim,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError) as e:
        raise InputError(
            path,
            f"CSV mal formé (séparateur détecté {delim!r}) : {e}",
            "vérifiez que chaque ligne a le même nombre de colonnes que l'en-tête",
        ) from None
    return Table(_with_header(path, cells), "csv", {**options, "delimiter": delim})


def read_csv(path: Path, data: bytes) -> Table:
    """CSV, possibly gzip- or zip-compressed: decompress, detect encoding and delimiter, parse as text."""
    suffix = path.suffix.lower()
    options: dict[str, Any] = {}
    if suffix == ".gz":
        _expect(path, data, ("gzip",), "csv.gz")
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise InputError(path, f"archive gzip endommagée ({e})") from None
        options["compression"] = "gzip"
    elif suffix == ".zip":
        _expect(path, data, ("zip",), "zip")
        data, member = _zip_member(path, data)
        options.update(compression="zip", member=member)
    _expect(path, data, ("text",), "csv")
    text, encoding = decode(path, data)
    return parse_csv_text(path, text, {**options, "encoding": encoding})


def _zip_member(path: Path, data: bytes) -> tuple[bytes, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = [n for n in z.namelist() if not n.endswith("/") and not n.startswith("__MACOSX")]
            text_names = [n for n in names if n.lower().endswith((".csv", ".tsv", ".txt"))]
            if len(text_names) != 1:
                raise InputError(
                    path,
                    f"l'archive doit contenir exactement un fichier CSV ; elle contient : {names[:10]}",
                    "décompressez-la et donnez le fichier voulu",
                )
            return z.read(text_names[0]), text_names[0]
    except zipfile.BadZipFile as e:
        raise InputError(path, f"archive ZIP endommagée ({e})") from None


# ---------------------------------------------------------------- binary formats
def read_xlsx(path: Path, data: bytes, sheet: str | None = None) -> Table:
    """The first sheet (or ``sheet``, by name or 1-based number) of a workbook, as text cells."""
    _expect(path, data, ("xlsx",), "xlsx")
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except Exception as e:  # openpyxl raises many types for a damaged workbook
        raise InputError(path, f"classeur Excel illisible ({type(e).__name__}: {e})") from None
    names = list(book.sheet_names)
    chosen: str | int = names[0] if names else 0
    if sheet is not None:
        if sheet in names:
            chosen = sheet
        elif str(sheet).isdigit() and 1 <= int(sheet) <= len(names):
            chosen = names[int(sheet) - 1]
        else:
            raise InputError(
                path,
                f"feuille {sheet!r} introuvable ; feuilles du classeur : {names}",
                "choisissez-en une avec --sheet",
            )
    cells = pd.read_excel(book, sheet_name=chosen, header=None, dtype=object)
    return Table(_with_header(path, cells), "xlsx", {"sheet": chosen, "sheets": names})


def read_spss(path: Path, data: bytes) -> Table:
    """SPSS .sav/.zsav through pyreadstat, value labels in place of codes."""
    _expect(path, data, ("spss",), "spss")
    import pyreadstat

    try:
        df, _meta = pyreadstat.read_sav(str(path), apply_value_formats=True, formats_as_category=False)
    except Exception as e:  # pyreadstat.ReadstatError and friends
        raise InputError(path, f"fichier SPSS illisible ({e})") from None
    return Table(
        _check_header(path, pd.DataFrame({c: to_text(df[c]) for c in df.columns})), "spss", {"value_labels": True}
    )


def read_stata(path: Path, data: bytes) -> Table:
    """Stata .dta through pyreadstat, value labels in place of codes."""
    _expect(path, data, ("stata",), "stata")
    import pyreadstat

    try:
        df, _meta = pyreadstat.read_dta(str(path), apply_value_formats=True, formats_as_category=False)
    except Exception as e:
        raise InputError(path, f"fichier Stata illisible ({e})") from None
    return Table(
        _check_header(path, pd.DataFrame({c: to_text(df[c]) for c in df.columns})), "stata", {"value_labels": True}
    )


def read_parquet(path: Path, data: bytes) -> Table:
    """Parquet with any column types (booleans, floats with NaN, datetimes), as text cells."""
    _expect(path, data, ("parquet",), "parquet")
    try:
        df = pd.read_parquet(io.BytesIO(data))
    except Exception as e:  # pyarrow.ArrowInvalid and friends
        raise InputError(path, f"fichier Parquet illisible ({e})") from None
    return Table(
        _check_header(path, pd.DataFrame({str(c): to_text(df[c]) for c in df.columns}, index=pd.RangeIndex(len(df)))),
        "parquet",
    )


def read_table(path: str | Path, sheet: str | None = None, data: bytes | None = None) -> Table:
    """Read any supported export as text cells; ``data`` is the file's bytes when already read."""
    p = check_path(path)
    kind = format_of(p)
    data = read_bytes(p) if data is None else data
    if kind == "csv":
        return read_csv(p, data)
    if kind == "xlsx":
        return read_xlsx(p, data, sheet)
    if kind == "spss":
        return read_spss(p, data)
    if kind == "stata":
        return read_stata(p, data)
    return read_parquet(p, data)
