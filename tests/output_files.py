"""The files a render gives a reader, as text, for tests that scan every output."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path


def reader_files(out: Path) -> Iterator[tuple[Path, str]]:
    """Every output file a reader gets (the renderer's own cache excluded), as text; xlsx as their XML parts."""
    for p in sorted(out.rglob("*")):
        if not p.is_file() or ".cache" in p.relative_to(out).parts:
            continue
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                yield p, "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
        elif p.suffix == ".png":
            continue
        else:
            yield p, p.read_text(encoding="utf-8")
