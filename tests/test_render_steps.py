"""The render's folder steps (tab book, spreadsheet) redone only when their inputs change; a no-op render
that imports nothing heavy; a render cache that names no absolute path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cnfs.render import fingerprint, tasks
from cnfs.render.runner import plan
from test_render import Project, states


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def _mtimes(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/cnfs_*.xlsx")}


def test_spreadsheet_rebuilt_only_when_its_tables_change(project: Project) -> None:
    assert project.render().exit_code == 0
    books = _mtimes(project.out)
    assert set(books) == {"wave-1", "wave-2", "all"}  # folders with tables (01_alpha writes one)

    # An edited notebook (its code) re-runs for each wave and rewrites identical tables: no spreadsheet is rebuilt.
    nb = json.loads((project.notebooks / "01_alpha.ipynb").read_text())
    project.edit_cell("01_alpha", 2, "".join(nb["cells"][2]["source"]) + "\n# commentaire")
    report = project.render()
    assert {k for k, v in states(report).items() if v == "ok"} == {("01_alpha", w) for w in ("1", "2", "all")}
    assert _mtimes(project.out) == books

    # A table whose content changes rebuilds its folder's spreadsheet, and only that one.
    nb = json.loads((project.notebooks / "01_alpha.ipynb").read_text())
    nb["cells"][2]["source"] = "".join(nb["cells"][2]["source"]).replace("{wave},1\\n", "{wave},2\\n")
    (project.notebooks / "01_alpha.ipynb").write_text(json.dumps(nb))
    assert project.render(waves=["1"]).exit_code == 0
    assert (project.out / "wave-1" / "tables" / "alpha.csv").read_text() == "wave,n\n1,2\n"
    after = _mtimes(project.out)
    assert after["wave-1"] != books["wave-1"] and after["wave-2"] == books["wave-2"] and after["all"] == books["all"]

    # A spreadsheet deleted by hand comes back on the next render, which runs no notebook.
    (project.out / "wave-1" / "cnfs_wave-1.xlsx").unlink()
    report = project.render(waves=["1"])
    assert set(states(report).values()) == {"cached"} and (project.out / "wave-1" / "cnfs_wave-1.xlsx").is_file()


def test_tab_book_steps_follow_their_inputs(project: Project) -> None:
    def jobs(**kw):
        return plan(
            project.options(**kw),
            available_waves=lambda p: list(project.waves),
            resolve_data_path=lambda p: p if p is not None else project.data,
        )

    first = tasks.tabbook_tasks(jobs(), project.out)
    assert sorted(t.folder for t in first) == ["all", "wave-1", "wave-2"]
    for t in first:  # as if each tab book had been written
        t.wave_dir.mkdir(parents=True, exist_ok=True)
        (t.wave_dir / "tableaux_croises.xlsx").write_bytes(b"x")
        tasks.record(project.out, t)
    assert tasks.tabbook_tasks(jobs(), project.out) == []
    assert len(tasks.tabbook_tasks(jobs(), project.out, force=True)) == 3

    # Editing a notebook does not concern the tab books.
    project.edit_cell("01_alpha", 0, "# autre titre")
    assert tasks.tabbook_tasks(jobs(), project.out) == []

    edits = {
        "data": lambda: project.data.write_text("wave,x\n1,2\n2,4\n"),
        "lib": lambda: (project.root / "lib" / "cnfs" / "scoring.py").write_text("X = 2\n"),
        "codebook": lambda: project.inputs["codebook"].write_text("q: autre\n"),
        "packages": lambda: project.versions.update(pandas="9"),
    }
    for kind, edit in edits.items():
        edit()
        assert len(tasks.tabbook_tasks(jobs(), project.out)) == 3, kind
        for t in tasks.tabbook_tasks(jobs(), project.out):
            tasks.record(project.out, t)
    assert len(tasks.tabbook_tasks(jobs(min_count=5), project.out)) == 3  # another disclosure threshold
    (project.out / "wave-1" / "tableaux_croises.xlsx").unlink()
    assert [t.folder for t in tasks.tabbook_tasks(jobs(), project.out)] == ["wave-1"]  # a missing file


def _strings(value, out: list[str]) -> list[str]:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            out.append(str(k))
            _strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)
    return out


def test_render_cache_holds_no_absolute_path(project: Project) -> None:
    assert project.render().exit_code == 0
    project.edit_cell("02_beta", 2, "raise ValueError('échec voulu')")  # a failure's manifest too
    assert project.render().exit_code == 1
    cache = project.out / ".cache"
    files = [p for p in cache.rglob("*.json")]
    assert len(files) > 10
    for path in files:
        for text in _strings(json.loads(path.read_text(encoding="utf-8")), []):
            assert not os.path.isabs(text), f"{path.relative_to(project.out)}: {text}"
    entry = json.loads((cache / "manifests" / "wave-1" / "01_alpha.json").read_text())
    assert fingerprint.absolute(entry["notebook"]) == (project.notebooks / "01_alpha.ipynb").resolve()
    assert fingerprint.absolute(entry["data_file"]) == project.data.resolve()
    assert "Alpha : section toy" in (project.out / "index.html").read_text()  # title read back from it


def test_a_render_with_nothing_to_do_imports_nothing_heavy(project: Project) -> None:
    from render_fixture import HERE

    assert project.render().exit_code == 0
    config = project.root / "noop.json"
    config.write_text(
        json.dumps(
            {
                "options": {
                    k: str(v) if isinstance(v, Path) else v
                    for k, v in {
                        "output_dir": project.out,
                        "notebooks_dir": project.notebooks,
                        "jobs": 2,
                        "progress": False,
                        "package_versions": project.versions,
                    }.items()
                }
                | {"shared_inputs": {k: str(v) for k, v in project.inputs.items()}},
                "waves": project.waves,
                "data": str(project.data),
            }
        )
    )
    code = (
        f"import sys; sys.path.insert(0, {str(HERE.parent)!r}); import json, render_fixture as rf; "
        f"r = rf._render(json.load(open({str(config)!r})), sys.stderr); "
        "print(sorted({o.state for o in r.outcomes}), sorted(m for m in ('pandas', 'numpy', 'matplotlib', "
        "'nbformat', 'papermill', 'jupyter_client', 'pyarrow', 'scipy') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "['cached'] []", res.stdout + res.stderr
