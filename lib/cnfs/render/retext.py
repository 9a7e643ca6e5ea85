"""A report made again without executing: the notebook's text changed, nothing its execution depends on.

A render's key holds a notebook's code and its text apart (``fingerprint.notebook_hash`` and
``notebook_text_hash``). When only the text (markdown and raw cells, where they stand) changed since the last good
execution, the executed notebook keeps its code cells, outputs and papermill's injected parameters, cell for
cell; the new text is set around them and the HTML exported again: a fraction of a second, no kernel. The
execution's tables and figures stay as they are, and the report keeps the date and duration of the execution
that computed them. Only the executed notebook the render itself wrote is reused (its SHA-256 is in the manifest):
one edited by hand in the wave folder, outputs included, makes the notebook execute again.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

INJECTED = "injected-parameters"


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def splice(executed: Any, source: Any) -> Any | None:
    """The executed notebook with the source notebook's text cells: its code cells (outputs, execution counts) kept
    in order, papermill's injected cell after the cell tagged ``parameters`` (first when none is); None when the
    code cells differ, and the notebook must be executed."""
    injected = [c for c in executed.cells if INJECTED in _tags(c)]
    ran = [c for c in executed.cells if c.cell_type == "code" and INJECTED not in _tags(c)]
    code = [c for c in source.cells if c.cell_type == "code"]
    if [c.source for c in ran] != [c.source for c in code]:
        return None
    ran_cells = iter(ran)
    cells: list[Any] = []
    has_parameters = any("parameters" in _tags(c) for c in code)
    if not has_parameters:
        cells.extend(injected)
    for cell in source.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        cells.append(next(ran_cells))
        if "parameters" in _tags(cell):
            cells.extend(injected)
    out = copy.deepcopy(executed)
    out.cells = copy.deepcopy(cells)
    return out


def retext_job(payload: dict[str, Any], previous: dict[str, Any], staging_root: str) -> dict[str, Any] | None:
    """Write the spliced notebook and its HTML into staging_root/<wave>/<stem>/, as a worker would; None when the
    executed notebook is not the one the render recorded (its SHA-256 in the manifest) or the code changed after
    all (the job is then executed). The context is the last good execution's (its date and duration), with this
    key."""
    import hashlib

    import nbformat

    from cnfs.render.execute import report_context
    from cnfs.render.export import export_html, scrub_paths

    stem = payload["stem"]
    wave_dir = Path(payload["wave_dir"])
    try:
        data = (wave_dir / f"{stem}.ipynb").read_bytes()
        if hashlib.sha256(data).hexdigest() != previous.get("ipynb_sha256"):
            return None  # not the notebook this render wrote (edited by hand, or recorded before the hash was kept)
        executed = nbformat.reads(data.decode("utf-8"), as_version=4)
        source = nbformat.read(payload["notebook"], as_version=4)
    except (OSError, ValueError):
        return None
    nb = splice(executed, scrub_paths(source))
    if nb is None:
        return None
    stage = Path(staging_root) / wave_dir.name / stem
    stage.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(stage / f"{stem}.ipynb"))
    last = previous.get("last_ok") or {}
    export_html(nb, stage / f"{stem}.html", report_context(payload, last.get("executed_at"), last.get("duration")))
    return {"stage": str(stage), "files": [f"{stem}.ipynb", f"{stem}.html"], "last_ok": last}
