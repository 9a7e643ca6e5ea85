"""Kernels that execute their notebook themselves (issue 12, cnfs.render.inprocess).

The reference is ipykernel: the same notebook rendered with forked ipykernels driven over zmq
(CNFS_RENDER_KERNEL=fork) must give the same outputs, cell by cell, for every kind of output a notebook
can produce. Then what only the in-process path does on its own: interrupt a cell at the timeout, and kill
a kernel stuck where the interruption cannot reach it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cnfs.render import execute, kernel
from render_fixture import MiniProject

pytestmark = pytest.mark.skipif(not kernel.fork_supported(), reason="kernels are forked on Linux only")


@pytest.fixture(autouse=True)
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Renders in this process use in-process kernels (the default, set here whatever the environment says)."""
    monkeypatch.setenv("CNFS_RENDER_KERNEL", "inprocess")


OUTPUTS = [
    """
    import sys, warnings
    print("une ligne")
    print("deux", "lignes", sep="\\n")
    sys.stderr.write("sur stderr\\n")
    warnings.warn("attention")
    print("après")
    """,
    """
    from IPython.display import HTML, Markdown, display, update_display, clear_output
    display(HTML("<b>gras</b>"))
    clear_output(wait=True)
    display(HTML("<i>après effacement</i>"))
    display(Markdown("*mis à jour*"), display_id="suivi")
    update_display(Markdown("**à jour**"), display_id="suivi")
    print("fin")
    """,
    """
    import pandas as pd
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    """,
    "1 + 1;",
    "",
    """
    import matplotlib.pyplot as plt
    plt.plot([1, 3, 2])
    """,
    """
    def f():
        return 1 / 0
    f()
    """,
    "print('jamais exécutée')",
]


def _outputs(nb_path: Path) -> list[Any]:
    """Each code cell's outputs and execution count, without what differs between two runs by nature (the PNG
    bytes of a figure, pandas' random table ids, the injected cell's parameters)."""
    nb = json.loads(nb_path.read_text())
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "injected-parameters" in cell["metadata"].get("tags", []):
            continue
        outs = []
        for out in cell.get("outputs", []):
            out = dict(out)
            if "image/png" in out.get("data", {}):
                out["data"] = dict(out["data"], **{"image/png": "PNG"})
            text = re.sub(r"T_[0-9a-f]{5}", "T_", json.dumps(out, sort_keys=True))
            outs.append(re.sub(r" at 0x[0-9a-f]+|ipykernel_\d+", "", text))
        cells.append((cell.get("execution_count"), outs))
    return cells


def _render(tmp_path: Path, mode: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    project = MiniProject(tmp_path / mode)
    project.notebook("01_sorties", *OUTPUTS)
    project.notebook("02_qui", "print(type(get_ipython()).__name__)")  # which shell ran the cells
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # kernels get ipykernel's inline backend
    env["CNFS_RENDER_KERNEL"] = mode
    done = subprocess.run(project.command(waves=["1"]), env=env, capture_output=True, text=True, timeout=120)
    return done, project.out / "wave-1"


def test_outputs_are_those_of_an_ipykernel(tmp_path: Path) -> None:
    results = {mode: _render(tmp_path, mode) for mode in ("inprocess", "fork")}
    for done, _ in results.values():
        assert done.returncode == 1, done.stderr  # the notebook fails at its division by zero
    shells = {
        m: json.loads((out / "02_qui.ipynb").read_text())["cells"][-1]["outputs"][0]["text"][0]
        for m, (_, out) in results.items()
    }
    assert shells == {"inprocess": "Shell\n", "fork": "ZMQInteractiveShell\n"}  # each path really taken
    mine = _outputs(results["inprocess"][1] / "01_sorties.failed.ipynb")
    reference = _outputs(results["fork"][1] / "01_sorties.failed.ipynb")
    assert mine == reference
    # What that comparison covers, read in the reference: it must not pass for want of outputs.
    kinds = [json.loads(o)["output_type"] for _, outs in reference for o in outs]
    assert kinds.count("stream") >= 3 and "display_data" in kinds and "execute_result" in kinds
    assert kinds[-1] == "error" and reference[-1] == (None, [])  # the cell after the error never ran
    text = " ".join(json.dumps(json.loads(o), ensure_ascii=False) for _, outs in reference for o in outs)
    assert "**à jour**" in text and "mis à jour" not in text and "gras" not in text  # updated, then cleared
    assert "après effacement" in text
    assert "UserWarning" in text and "ZeroDivisionError" in text and '"PNG"' in text
    # Same language metadata as a kernel's (the HTML highlights the code with it).
    meta = [json.loads((results[m][1] / "01_sorties.failed.ipynb").read_text())["metadata"] for m in results]
    assert meta[0]["language_info"] == meta[1]["language_info"]


def test_a_cell_past_the_timeout_is_interrupted_and_named(tmp_path: Path) -> None:
    project = MiniProject(tmp_path)
    project.notebook("01_long", "x = 1", "while True:\n    x += 1", "print('suite')")
    report = project.render(waves=["1"], timeout=1)
    assert report.exit_code == 1
    assert "✗ 01_long — vague 1 — cellule 3" in report.text and "durée maximale (1 s)" in report.text
    nb = json.loads((project.out / "wave-1" / "01_long.failed.ipynb").read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["CellTimeoutError"]


def test_a_kernel_stuck_out_of_reach_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell that blocks the timeout's signal cannot be interrupted: its kernel is killed once the grace period
    is over, the failure names the cell, and no process is left."""
    monkeypatch.setattr(execute, "TIMEOUT_GRACE", 0.5)
    psutil = pytest.importorskip("psutil")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    project = MiniProject(tmp_path)
    project.notebook(
        "01_bloque",
        "import signal",
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\nwhile True:\n    pass",
    )
    report = project.render(waves=["1"], timeout=1)
    assert report.exit_code == 1
    assert "✗ 01_bloque — vague 1 — cellule 3" in report.text and "durée maximale (1 s)" in report.text
    assert "SIG_BLOCK" in report.text
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before
