"""No traceback for a user's mistake: every bad input gives one message naming the file, exit status 2,
the input stays byte-identical and nothing is written beside it; ``--debug`` shows the traceback."""

from __future__ import annotations

import io
import os
import zipfile

import pandas as pd
import pytest
from cnfs.cli import main


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CNFS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def small_csv(twin_path) -> bytes:
    raw = pd.read_csv(twin_path, dtype=str, keep_default_na=False)
    return raw.groupby("wave").head(20).to_csv(index=False).encode("utf-8")


def _xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame({"a": [1, 2]}).to_excel(buf, index=False)
    return buf.getvalue()


# name -> (file name, content or None for "do not create", expected words in the message)
CASES = {
    "missing path": ("absent.csv", None, "fichier introuvable"),
    "empty file": ("vide.csv", b"", "fichier vide"),
    "blank lines only": ("blanc.csv", b"\n\n  \n", "fichier vide"),
    "binary bytes": ("bruit.csv", bytes(range(256)) * 20, "contenu illisible"),
    "xlsx renamed .csv": ("classeur.csv", "xlsx", "son contenu est un classeur Excel (XLSX)"),
    "csv renamed .parquet": ("texte.parquet", b"a,b\n1,2\n", "son contenu est un texte (CSV ?)"),
    "unsupported extension": ("export.json", b'{"a": 1}', "format non pris en charge : .json"),
    "no extension": ("export", b"a,b\n1,2\n", "format non pris en charge : (sans extension)"),
    "header only": ("entete.csv", "header", "ne contient que la ligne d'en-tête"),
    "old xls": ("ancien.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "ancien classeur Excel"),
    "zip without csv": ("archive.zip", "zip", "exactement un fichier CSV"),
    "gzip renamed": ("export.csv.gz", b"a,b\n1,2\n", "son contenu est un texte"),
    "ragged csv": ("bancal.csv", b"a,b\n1,2,3,4\n", "CSV mal form"),
    "no codebook column": ("autre.csv", b"x,y\n1,2\n", "aucune colonne ne correspond au codebook"),
    "duplicate header": ("double.csv", b"age,age\n1,2\n", "colonnes en double"),
}


def _make(tmp_path, name, content, small_csv):
    path = tmp_path / name
    if content is None:
        return path
    if content == "xlsx":
        content = _xlsx_bytes()
    elif content == "header":
        content = small_csv.split(b"\n", 1)[0] + b"\n"
    elif content == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("notes.md", "rien")
        content = buf.getvalue()
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("command", ["validate", "figures", "import", "mapping"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_message_naming_the_file(case, command, tmp_path, capsys, small_csv):
    name, content, words = CASES[case]
    if command == "mapping" and case in ("header only", "no codebook column"):
        pytest.skip("a draft is written for any readable table: it is how such a file gets described")
    path = _make(tmp_path, name, content, small_csv)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    argv = {
        "validate": ["validate", str(path)],
        "figures": ["figures", "--path", str(path)],
        "import": ["import", str(path), "-o", str(tmp_path / "out.parquet")],
        "mapping": ["mapping", "draft", str(path)],
    }[command]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and out == ""
    assert str(path) in err and words in err, err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_directory_is_not_an_export(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} : c'est un dossier" in err


def test_an_unreadable_file_is_named(tmp_path, capsys, monkeypatch, small_csv):
    """As root, chmod 000 does not stop reading: the refusal is simulated where the file is opened."""
    path = tmp_path / "secret.csv"
    path.write_bytes(small_csv)
    os.chmod(path, 0)
    real_open = open

    def deny(file, *a, **k):  # noqa: ANN001, ANN002, ANN003
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(file, *a, **k)

    monkeypatch.setattr("builtins.open", deny)
    assert main(["validate", str(path)]) == 2
    assert f"{path} : fichier illisible (droits d'accès insuffisants)" in capsys.readouterr().err


def test_windows_1252_is_read_not_a_unicode_error(tmp_path, capsys, small_csv, twin_path):
    from cnfs.codebook import load_codebook

    cb = load_codebook()
    raw = pd.read_csv(io.BytesIO(small_csv), dtype=str, keep_default_na=False)
    raw["education"] = raw["education"].map(lambda c: cb["education"].label_of(c))  # 'Bac +3 et supérieur'
    path = tmp_path / "ansi.csv"
    path.write_bytes(raw.to_csv(index=False, sep=";").encode("cp1252"))
    assert main(["validate", str(path)]) == 0
    assert "conforme au codebook (40 répondants" in capsys.readouterr().out


def test_debug_shows_the_traceback(tmp_path, capsys):
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    assert main(["--debug", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "fichier vide" in err
    assert main(["validate", str(path), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_problems_against_the_codebook_exit_2_and_name_file_column_rows(tmp_path, capsys, small_csv):
    raw = pd.read_csv(io.BytesIO(small_csv), dtype=str, keep_default_na=False)
    raw.loc[3, "education"] = "doctorat"
    path = tmp_path / "faux.csv"
    raw.to_csv(path, index=False)
    assert main(["validate", str(path)]) == 2
    assert (
        f"{path}, colonne 'education', lignes 4 : attendu un code ou un libellé d'option parmi"
        in capsys.readouterr().err
    )


def test_bad_mapping_file_is_named(tmp_path, capsys, small_csv):
    data = tmp_path / "export.csv"
    data.write_bytes(small_csv)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("columns: {age: shoe_size}\n", encoding="utf-8")
    assert main(["validate", str(data), "--mapping", str(mapping)]) == 2
    assert (
        f"{mapping} : colonnes du codebook inconnues dans « columns » : 'age' → 'shoe_size'" in capsys.readouterr().err
    )
    mapping.write_text("columns: [unclosed\n", encoding="utf-8")
    assert main(["validate", str(data), "--mapping", str(mapping)]) == 2
    assert f"{mapping} : correspondance illisible" in capsys.readouterr().err
