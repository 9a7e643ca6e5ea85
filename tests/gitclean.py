"""What git would commit for a notebook: its text through the clean filter of .gitattributes, run as git
runs it (tools/git-nbclean.sh from the top of the working tree), so the tests judge the committed form
and not a working file JupyterLab has just saved with outputs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
from cnfs import paths

FILTER = paths.ROOT / "tools" / "git-nbclean.sh"


def clean(text: str) -> str:
    """The notebook text as git would store it."""
    res = subprocess.run(
        ["sh", str(FILTER.relative_to(paths.ROOT))],
        cwd=paths.ROOT,
        input=text.encode("utf-8"),
        capture_output=True,
        check=True,
    )
    return res.stdout.decode("utf-8")


def committed(path: str | Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` in the form git would commit it."""
    return nbformat.reads(clean(Path(path).read_text(encoding="utf-8")), as_version=4)


def filter_installed() -> bool:
    """Whether this clone's git config runs the filter (``make venv`` installs it in a main clone)."""
    res = subprocess.run(
        ["git", "config", "--get", "filter.nbstripout.clean"], cwd=paths.ROOT, capture_output=True, text=True
    )
    return res.returncode == 0 and "git-nbclean.sh" in res.stdout
