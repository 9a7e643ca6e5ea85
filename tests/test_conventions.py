"""One of each thing in the library: one atomic writer, one synthetic warning, one status vocabulary,
and no silenced broad exception."""

from __future__ import annotations

import ast
import re

from cnfs import paths

LIB = paths.LIB / "cnfs"
SOURCES = sorted(LIB.rglob("*.py"))


def _text(path) -> str:
    return path.read_text(encoding="utf-8")


def test_one_atomic_writer():
    """Only cnfs/atomic.py writes through a temporary file (the renderer also moves staged files into place)."""
    writers = [
        p.relative_to(LIB).as_posix() for p in SOURCES if "mkstemp" in _text(p) or re.search(r"\.tmp\b", _text(p))
    ]
    assert writers == ["atomic.py"]


def test_one_synthetic_warning():
    defined = [p.relative_to(LIB).as_posix() for p in SOURCES if re.search(r"^SYNTHETIC_WARNING\s*=", _text(p), re.M)]
    assert defined == ["provenance.py"]


def test_status_words_live_in_one_module():
    """The figure statuses are typed once, in cnfs/status.py; everything else imports them."""
    words = {"reproduit", "non reproduit", "transcrit", "transcription divergente", "hors enquête quantitative"}
    typed = sorted(
        {
            p.relative_to(LIB).as_posix()
            for p in SOURCES
            for n in ast.walk(ast.parse(_text(p)))
            if isinstance(n, ast.Constant) and n.value in words
        }
    )
    assert typed == ["status.py"]


def test_no_silenced_broad_exception():
    for path in SOURCES:
        for node in ast.walk(ast.parse(_text(path))):
            if isinstance(node, ast.ExceptHandler) and (
                node.type is None
                or (isinstance(node.type, ast.Name) and node.type.id in ("Exception", "BaseException"))
            ):
                assert not all(isinstance(s, ast.Pass) for s in node.body), f"{path.name}:{node.lineno}: silenced"
