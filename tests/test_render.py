"""Batch rendering (issue 4): layout, index, cache invalidation, failures, interrupts, options."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cnfs import paths
from cnfs.render import cli, fingerprint, manifest
from cnfs.render.runner import RenderOptions, render

FIXTURES = Path(__file__).parent / "fixtures" / "render" / "notebooks"


class Project:
    """A throw-away project: toy notebooks, a data file, shared inputs, an outputs folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.notebooks = root / "notebooks"
        shutil.copytree(FIXTURES, self.notebooks)
        self.data = root / "survey_synthetic.csv"
        self.data.write_text("wave,x\n1,2\n2,3\n")
        self.out = root / "outputs"
        self.waves = ["1", "2"]
        self.versions = {"pandas": "3.1.1", "numpy": "2.0"}
        lib = root / "lib" / "cnfs"
        lib.mkdir(parents=True)
        (lib / "scoring.py").write_text("def score(x):\n    return x\n")
        (root / "qualitative").mkdir()
        (root / "qualitative" / "entretien_01.txt").write_text("verbatim\n")
        for name in ("codebook.yaml", "published_figures.csv", "synthetic_assumptions.yaml"):
            (root / name).write_text(f"# {name}\n")
        self.inputs = {
            "lib": root / "lib",
            "codebook": root / "codebook.yaml",
            "published": root / "published_figures.csv",
            "assumptions": root / "synthetic_assumptions.yaml",
            "qualitative": root / "qualitative",
        }

    def options(self, **kw) -> RenderOptions:
        base = dict(
            output_dir=self.out,
            notebooks_dir=self.notebooks,
            jobs=2,
            progress=False,
            shared_inputs=self.inputs,
            package_versions=self.versions,
        )
        base.update(kw)
        return RenderOptions(**base)

    def render(self, **kw):
        stream = io.StringIO()
        report = render(
            self.options(**kw),
            available_waves=lambda p: list(self.waves),
            resolve_data_path=lambda p: p if p is not None else self.data,
            stream=stream,
        )
        report.text = stream.getvalue()
        return report

    def edit_cell(self, stem: str, index: int, source: str) -> None:
        path = self.notebooks / f"{stem}.ipynb"
        nb = json.loads(path.read_text())
        nb["cells"][index]["source"] = source
        path.write_text(json.dumps(nb))


def states(report) -> dict[tuple[str, str], str]:
    return {(o.job.notebook.stem, o.job.wave): o.state for o in report.outcomes}


def to_run(report) -> set[tuple[str, str]]:
    return {k for k, v in states(report).items() if v != "cached"}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def test_full_render_layout_index_html_and_noop(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    # A user kernelspec named like ours or python3 that would fail must not be used.
    bogus = project.root / "jupyter" / "kernels"
    for name in ("python3", "cnfs-project"):
        (bogus / name).mkdir(parents=True)
        (bogus / name / "kernel.json").write_text(
            json.dumps({"argv": ["/bin/false", "{connection_file}"], "display_name": "bogus", "language": "python"})
        )
    monkeypatch.setenv("JUPYTER_PATH", str(project.root / "jupyter"))

    report = project.render()
    assert report.exit_code == 0, report.text
    expected = {(s, w) for s in ("01_alpha", "02_beta", "09_repro") for w in ("1", "2", "all")} | {("08_qual", "all")}
    assert set(states(report)) == expected
    assert set(states(report).values()) == {"ok"}

    for folder in ("wave-1", "wave-2", "all"):
        d = project.out / folder
        for stem in ("01_alpha", "02_beta", "09_repro"):
            assert (d / f"{stem}.html").is_file() and (d / f"{stem}.ipynb").is_file()
        assert (d / "tables" / "alpha.csv").read_text().startswith("wave,n\n" + folder.replace("wave-", ""))
        assert (d / "figures" / "beta.png").is_file()
        assert (d / "tables" / "reproduction.csv").is_file()
    assert (project.out / "all" / "08_qual.html").is_file()
    assert not (project.out / "wave-1" / "08_qual.html").exists()
    assert not list(project.out.glob(".staging*"))

    # The kernel is the project's interpreter.
    executed = json.loads((project.out / "wave-1" / "01_alpha.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", []))
    # (shown relative to the project when inside it: outputs name no absolute path of the checkout)
    shown = (
        os.path.relpath(sys.executable, paths.ROOT)
        if sys.executable.startswith(str(paths.ROOT) + os.sep)
        else sys.executable
    )
    assert f"kernel: {shown}\n" in text
    # Parameters injected, with the wave folder (not the staging folder) shown.
    injected = next(c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    source = "".join(injected["source"])
    # relative to the notebooks folder (no absolute machine path), and it leads to the wave folder
    given = source.split('output_dir = "', 1)[1].split('"', 1)[0]
    assert not os.path.isabs(given)
    assert os.path.normpath(paths.NOTEBOOKS / given) == os.path.normpath(project.out / "wave-1")
    assert ".staging" not in source

    page = (project.out / "wave-1" / "01_alpha.html").read_text()
    assert "cnfs-banner" in page and "données synthétiques" in page.lower()
    assert 'id="cnfs-show-code"' in page and "#cnfs-show-code:not(:checked) ~ main .jp-CodeCell" in page
    assert "01_alpha.ipynb" in page and "wave-1" in page and fingerprint.FileHasher().file(project.data) in page
    assert "<script src=" not in page  # readable offline: no CDN script needed

    index = (project.out / "index.html").read_text()
    for folder in ("wave-1", "wave-2", "all"):
        assert f'href="{folder}/01_alpha.html"' in index
    assert 'href="all/08_qual.html"' in index
    assert index.count("2 chiffres publiés reproduits sur 3") == 3
    assert "réussi" in index and "\u00a0s</td>" in index

    # Nothing changed: nothing runs (timings belong to bench/, not to tests).
    again = project.render()
    assert again.exit_code == 0 and set(states(again).values()) == {"cached"}


def test_cache_invalidation_per_input(project: Project) -> None:
    opts = dict(notebooks=["01", "08"], waves=["1", "all"])
    assert project.render(**opts).exit_code == 0
    everything = {("01_alpha", "1"), ("01_alpha", "all"), ("08_qual", "all")}

    def dry() -> set[tuple[str, str]]:
        return to_run(project.render(dry_run=True, **opts))

    assert dry() == set()
    # Saving outputs into the source notebook or touching the data without changing it: still cached.
    nb_path = project.notebooks / "01_alpha.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x\n"}]
    nb["cells"][2]["execution_count"] = 7
    nb_path.write_text(json.dumps(nb))
    os.utime(project.data, None)
    assert dry() == set()

    original = {p: p.read_bytes() for p in [project.data, *[q for q in project.inputs.values() if q.is_file()]]}
    lib_file = project.root / "lib" / "cnfs" / "scoring.py"
    qual_file = project.root / "qualitative" / "entretien_01.txt"
    edits = {
        "data": lambda: project.data.write_text("wave,x\n1,2\n2,4\n"),
        "lib": lambda: lib_file.write_text("def score(x):\n    return 2 * x\n"),
        "lib-new-file": lambda: (project.root / "lib" / "cnfs" / "extra.py").write_text("X = 1\n"),
        "codebook": lambda: project.inputs["codebook"].write_text("q1: changed\n"),
        "published": lambda: project.inputs["published"].write_text("id,value\nF1,2\n"),
        "assumptions": lambda: project.inputs["assumptions"].write_text("n: 99\n"),
        "qualitative": lambda: qual_file.write_text("autre verbatim\n"),
        "packages": lambda: project.versions.update(pandas="3.2.0"),
    }
    for kind, edit in edits.items():
        snapshot = (lib_file.read_text(), qual_file.read_text(), dict(project.versions))
        edit()
        assert dry() == everything, kind
        # Undo: back to the cached state.
        for p, content in original.items():
            p.write_bytes(content)
        lib_file.write_text(snapshot[0])
        qual_file.write_text(snapshot[1])
        (project.root / "lib" / "cnfs" / "extra.py").unlink(missing_ok=True)
        project.versions.clear()
        project.versions.update(snapshot[2])
        assert dry() == set(), f"undo {kind}"

    # Another data file (same content) changes the injected parameters of the survey notebooks, which
    # re-run; the wave-independent notebook gets no survey file, so it stays up to date.
    other = project.root / "export_reel.csv"
    other.write_text(project.data.read_text())
    assert to_run(project.render(dry_run=True, data=other, **opts)) == everything - {("08_qual", "all")}

    # Editing one notebook re-runs that notebook for each wave, and nothing else (for real).
    project.edit_cell("01_alpha", 2, "import pathlib\nprint('edited', wave)\n")
    report = project.render(**opts)
    assert report.exit_code == 0, report.text
    assert {k for k, v in states(report).items() if v == "ok"} == {("01_alpha", "1"), ("01_alpha", "all")}
    assert states(report)[("08_qual", "all")] == "cached"
    # Files the notebook no longer writes are removed from its wave folder.
    assert not (project.out / "wave-1" / "tables" / "alpha.csv").exists()


def test_a_text_edit_remakes_the_reports_without_executing(project: Project) -> None:
    """Markdown changed, code not: each wave's report is made again from its execution (outputs, tables, date
    kept), with the new text where it now stands; a code edit executes again."""
    opts = dict(notebooks=["01"], waves=["1", "all"])
    assert project.render(**opts).exit_code == 0
    table = project.out / "wave-1" / "tables" / "alpha.csv"
    written = table.stat().st_mtime_ns
    before = json.loads((project.out / "wave-1" / "01_alpha.ipynb").read_text())
    executed_at = manifest.load(project.out, "wave-1/01_alpha")["last_ok"]["executed_at"]

    path = project.notebooks / "01_alpha.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] = "# Alpha : titre modifié"
    nb["cells"].insert(2, {"cell_type": "markdown", "id": "nouveau-texte", "metadata": {}, "source": "Texte ajouté."})
    path.write_text(json.dumps(nb))
    assert set(states(project.render(dry_run=True, **opts)).values()) == {"retext"}
    report = project.render(**opts)
    assert report.exit_code == 0, report.text
    assert set(states(report).values()) == {"retext"}
    assert "2 au texte refait sans exécution" in report.text
    assert table.stat().st_mtime_ns == written  # the notebook's code did not run: its table was not rewritten
    html = (project.out / "wave-1" / "01_alpha.html").read_text()
    assert "titre modifié" in html and "Texte ajouté." in html
    after = json.loads((project.out / "wave-1" / "01_alpha.ipynb").read_text())
    kinds = [(c["cell_type"], "injected-parameters" in c["metadata"].get("tags", [])) for c in after["cells"]]
    assert kinds == [("markdown", False), ("code", False), ("code", True), ("markdown", False), ("code", False)]
    assert "".join(after["cells"][3]["source"]) == "Texte ajouté."
    ran = [c for c in before["cells"] if c["cell_type"] == "code"]
    assert [c for c in after["cells"] if c["cell_type"] == "code"] == ran  # outputs and counts as executed
    entry = manifest.load(project.out, "wave-1/01_alpha")
    assert entry["last_ok"]["executed_at"] == executed_at and entry["text_updated_at"]  # the execution's date
    assert set(states(project.render(**opts)).values()) == {"cached"}

    # An executed notebook edited by hand in the wave folder is not reused: that wave is executed again.
    executed = project.out / "wave-1" / "01_alpha.ipynb"
    executed.write_text(executed.read_text().replace("wave: 1", "wave: 99"))
    project.edit_cell("01_alpha", 0, "# Alpha : titre modifié deux fois")
    assert states(project.render(**opts)) == {("01_alpha", "1"): "ok", ("01_alpha", "all"): "retext"}
    assert "wave: 99" not in executed.read_text()

    project.edit_cell("01_alpha", 3, "".join(nb["cells"][3]["source"]) + "\n# commentaire")
    report = project.render(**opts)
    assert set(states(report).values()) == {"ok"}, report.text
    assert table.stat().st_mtime_ns != written


def test_splice_keeps_executed_code_cells_and_takes_the_new_text() -> None:
    """Worked by hand on two small notebooks: papermill's injected cell stays after the parameters cell (first when
    there is none); a changed code cell means executing."""
    import nbformat
    from cnfs.render.retext import splice

    v4 = nbformat.v4
    params = v4.new_code_cell("wave = 'all'", metadata={"tags": ["parameters"]})
    injected = v4.new_code_cell("wave = '1'", metadata={"tags": ["injected-parameters"]})
    code = v4.new_code_cell("print(wave)", execution_count=2)
    code.outputs = [v4.new_output("stream", name="stdout", text="1\n")]
    executed = v4.new_notebook(cells=[v4.new_markdown_cell("avant"), params, injected, code])
    source = v4.new_notebook(
        cells=[v4.new_code_cell("wave = 'all'", metadata={"tags": ["parameters"]}), v4.new_markdown_cell("après")]
        + [v4.new_code_cell("print(wave)")]
    )
    out = splice(executed, source)
    assert [c.source for c in out.cells] == ["wave = 'all'", "wave = '1'", "après", "print(wave)"]
    assert out.cells[3].outputs[0].text == "1\n" and out.cells[3].execution_count == 2
    assert executed.cells[0].source == "avant"  # the executed notebook itself is left as it was

    no_params = v4.new_notebook(cells=[v4.new_markdown_cell("titre"), v4.new_code_cell("print(wave)")])
    executed_np = v4.new_notebook(cells=[injected, v4.new_markdown_cell("ancien"), code])
    assert [c.source for c in splice(executed_np, no_params).cells] == ["wave = '1'", "titre", "print(wave)"]

    source.cells[2].source = "print(wave, 2)"
    assert splice(executed, source) is None


def test_failure_is_isolated_and_old_report_kept(project: Project) -> None:
    opts = dict(notebooks=["01", "02"], waves=["1"])
    assert project.render(**opts).exit_code == 0
    old_html = (project.out / "wave-1" / "02_beta.html").read_bytes()
    old_fig = (project.out / "wave-1" / "figures" / "beta.png").read_bytes()

    project.edit_cell("02_beta", 2, "import pathlib\nboom = {}\nprint(boom['manquant'])\n")
    project.edit_cell("01_alpha", 2, "import sys, pathlib\nprint('still fine', wave)\n")
    report = project.render(**opts)
    assert report.exit_code == 1
    assert states(report) == {("01_alpha", "1"): "ok", ("02_beta", "1"): "failed"}
    assert "still fine" in (project.out / "wave-1" / "01_alpha.ipynb").read_text()
    assert (project.out / "wave-1" / "02_beta.html").read_bytes() == old_html
    assert (project.out / "wave-1" / "figures" / "beta.png").read_bytes() == old_fig
    failed = project.out / "wave-1" / "02_beta.failed.ipynb"
    assert failed.is_file() and "KeyError" in failed.read_text()
    # The summary names notebook, wave, failing cell (index in the source notebook), error and executed notebook.
    assert "✗ 02_beta — vague 1 — cellule 2" in report.text
    assert "KeyError: 'manquant'" in report.text
    assert "print(boom['manquant'])" in report.text
    assert "02_beta.failed.ipynb" in report.text
    index = (project.out / "index.html").read_text()
    assert "échec" in index and "02_beta.failed.ipynb" in index and 'href="wave-1/02_beta.html"' in index
    assert not list(project.out.glob(".staging*"))

    # A failed execution is retried even if nothing changed; fixing it clears the failure.
    assert to_run(project.render(dry_run=True, **opts)) == {("02_beta", "1")}
    project.edit_cell("02_beta", 2, "print('fixed')\n")
    fixed = project.render(**opts)
    assert fixed.exit_code == 0 and states(fixed) == {("01_alpha", "1"): "cached", ("02_beta", "1"): "ok"}
    assert not failed.exists()


def test_interrupt_leaves_no_partial_file(project: Project) -> None:
    assert project.render(notebooks=["01"], waves=["1"]).exit_code == 0
    before = {p: p.read_bytes() for p in project.out.rglob("*") if p.is_file() and ".cache" not in p.parts}
    project.edit_cell(
        "01_alpha",
        2,
        textwrap.dedent("""\
        import pathlib, time
        out = pathlib.Path(output_dir)
        (out / "tables").mkdir(parents=True, exist_ok=True)
        (out / "tables" / "alpha.csv").write_text("half")
        (out / "started").write_text("yes")
        time.sleep(60)
        """),
    )
    script = project.root / "run.py"
    script.write_text(
        textwrap.dedent(f"""\
        import sys
        from pathlib import Path
        from cnfs.render.runner import RenderOptions, render
        opts = RenderOptions(output_dir=Path({str(project.out)!r}), notebooks_dir=Path({str(project.notebooks)!r}),
                             jobs=2, progress=False, notebooks=["01"], waves=["1", "2"],
                             shared_inputs={{k: Path(v) for k, v in {dict((k, str(v)) for k, v in project.inputs.items())!r}.items()}},
                             package_versions={project.versions!r})
        report = render(opts, available_waves=lambda p: ["1", "2"], resolve_data_path=lambda p: Path({str(project.data)!r}))
        sys.exit(report.exit_code)
        """)
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # see test_render_faults.ctrl_c_reaches_it
    )
    deadline = time.time() + 30
    while time.time() < deadline and not list(project.out.glob(".staging-*/*/*/started")):
        time.sleep(0.1)
    assert list(project.out.glob(".staging-*/*/*/started")), "execution never started"
    os.killpg(proc.pid, signal.SIGINT)  # like Ctrl-C in a terminal: the whole process group
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, out.decode()
    after = {p: p.read_bytes() for p in project.out.rglob("*") if p.is_file() and ".cache" not in p.parts}
    assert set(after) - set(before) <= {project.out / "index.html"}
    for p, content in before.items():
        if p.name != "index.html":
            assert after[p] == content, p
    assert not list(project.out.glob(".staging*"))
    assert not list(project.out.rglob("*.tmp"))


def test_options_subsets_force_jobs_and_new_wave(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = project.render(dry_run=True, notebooks=["1", "09_repro"], waves=["2", "all"])
    assert set(states(plan)) == {("01_alpha", "2"), ("01_alpha", "all"), ("09_repro", "2"), ("09_repro", "all")}
    assert not (project.out / "wave-2").exists()  # a dry run executes nothing

    with pytest.raises(ValueError, match="3"):
        project.render(dry_run=True, waves=["3"])
    with pytest.raises(ValueError, match="42"):
        project.render(dry_run=True, notebooks=["42"])

    # A third wave in the data appears without any code change.
    project.data.write_text("wave,x\n1,2\n2,3\n3,4\n")
    project.waves = ["1", "2", "3"]
    plan = project.render(dry_run=True, notebooks=["01"])
    assert {w for (_, w) in states(plan)} == {"1", "2", "3", "all"}

    first = project.render(notebooks=["08"], jobs=1)
    assert states(first) == {("08_qual", "all"): "ok"}
    assert states(project.render(notebooks=["08"], jobs=1)) == {("08_qual", "all"): "cached"}
    assert states(project.render(notebooks=["08"], jobs=1, force=True)) == {("08_qual", "all"): "ok"}

    # The command line maps onto the same options (loader functions patched in).
    monkeypatch.setattr("cnfs.render.runner._default_waves", lambda p: ["1", "2"])
    monkeypatch.setattr("cnfs.render.runner._default_resolve", lambda p: p if p is not None else project.data)
    captured = {}

    def fake_render(options):
        captured["options"] = options

        class R:
            exit_code = 0

        return R()

    monkeypatch.setattr("cnfs.render.runner.render", fake_render)
    argv = [
        "-n",
        "01",
        "02",
        "-w",
        "1",
        "--data",
        str(project.data),
        "-j",
        "3",
        "--force",
        "-o",
        str(project.out),
        "--notebooks-dir",
        str(project.notebooks),
        "--no-progress",
    ]
    assert cli.main(argv) == 0
    o = captured["options"]
    assert (o.notebooks, o.waves, o.data, o.jobs, o.force, o.progress) == (
        ["01", "02"],
        ["1"],
        project.data,
        3,
        True,
        False,
    )
    assert cli.main(["-j", "0"]) == 2


def test_cli_module_entry_point_help() -> None:
    res = subprocess.run([sys.executable, "-m", "cnfs.render", "--help"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0
    for flag in ("--notebooks", "--waves", "--data", "--jobs", "--force", "--dry-run"):
        assert flag in res.stdout


def test_command_exit_keeps_status_output_and_exit_handlers() -> None:
    """The command ends without the interpreter's teardown, but with its status, all its output (even
    unflushed) and the exit handlers a normal exit runs."""
    code = """
import atexit, sys
from cnfs.cli import run_as_command
atexit.register(lambda: print("exit handler ran"))
def entry():
    sys.stdout.write("no newline, not flushed")
    return 3
run_as_command(entry)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 3
    assert res.stdout == "no newline, not flushedexit handler ran\n"
    usage = subprocess.run([sys.executable, "-m", "cnfs.render", "-j", "0"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "--jobs" in usage.stderr
    message = "import sys; from cnfs.cli import run_as_command; run_as_command(lambda: sys.exit('arrêt'))"
    res = subprocess.run([sys.executable, "-c", message], capture_output=True, text=True, timeout=60)
    assert (res.returncode, res.stderr.strip()) == (1, "arrêt")


def test_notebook_hash_ignores_outputs_and_file_hasher_memo(tmp_path: Path) -> None:
    src = FIXTURES / "01_alpha.ipynb"
    nb = json.loads(src.read_text())
    base = fingerprint.notebook_hash(src)
    nb["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    copy = tmp_path / "nb.ipynb"
    copy.write_text(json.dumps(nb))
    assert fingerprint.notebook_hash(copy) == base
    nb["cells"][1]["metadata"]["tags"] = []  # losing the parameters tag changes the execution
    copy.write_text(json.dumps(nb))
    assert fingerprint.notebook_hash(copy) != base

    f = tmp_path / "data.bin"
    f.write_bytes(b"a" * 100)
    memo = tmp_path / "memo.json"
    h = fingerprint.FileHasher(memo)
    first = h.file(f)
    h.save()
    assert json.loads(memo.read_text())[fingerprint.relative(f.resolve())][3] == first
    h2 = fingerprint.FileHasher(memo)
    assert h2.file(f) == first and not h2._dirty  # served from the stat memo
    f.write_bytes(b"b" * 100)
    assert h2.file(f) != first
    assert fingerprint.FileHasher().file(tmp_path / "absent") == "missing"


def test_a_wave_independent_notebook_never_gets_the_survey_file(project: Project) -> None:
    other = project.root / "export_reel.csv"
    other.write_text(project.data.read_text())
    report = project.render(notebooks=["08"], jobs=1, data=other)
    assert report.exit_code == 0, report.text
    executed = json.loads((project.out / "all" / "08_qual.ipynb").read_text())
    injected = "".join(
        next(c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", []))["source"]
    )
    names = {line.split("=")[0].strip() for line in injected.splitlines() if "=" in line}
    assert names == {"output_dir"}
    printed = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", []))
    assert "qual None False" in printed  # its own qualitative_dir default; no data_path variable at all


def _render_imports() -> dict[str, set[str]]:
    """Modules of cnfs.render each render module imports (anywhere in the file, TYPE_CHECKING included)."""
    import ast

    pkg = Path(fingerprint.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in pkg.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "cnfs.render":
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnfs.render."):
                deps.add(node.module.split(".")[2])
        graph[path.stem] = deps - {path.stem}
    return graph


def test_render_modules_have_no_import_cycle_nor_silenced_errors() -> None:
    import ast

    graph = _render_imports()

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for dep in graph.get(start, ()):
            if dep == target or (dep not in seen and reaches(dep, target, seen | {dep})):
                return True
        return False

    assert [m for m in graph if reaches(m, m, {m})] == []
    pkg = Path(fingerprint.__file__).parent
    for path in pkg.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ExceptHandler)
                and isinstance(node.type, ast.Name)
                and node.type.id in ("Exception", "BaseException")
                and all(isinstance(s, ast.Pass) for s in node.body)
            ):
                raise AssertionError(f"{path.name}:{node.lineno}: except {node.type.id}: pass")


def test_index_counts_publications_and_transcriptions_apart(tmp_path: Path) -> None:
    from cnfs.render.index import reproduction_summary

    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "reproduction.csv").write_text(
        "id,publication,status\nA,interim,reproduit\nB,interim,non reproduit\nC,full_study,reproduit\n"
        "D,interim,transcrit\nE,interim,contexte\nF,interim,non calculable\n",
        encoding="utf-8",
    )
    r = reproduction_summary(tmp_path)
    assert (r.reproduced, r.total, r.full_study, r.transcribed, r.transcription_checks) == (1, 2, (1, 1), 1, 1)
    assert r.sentence() == (
        "1 chiffre publié reproduit sur 2 (article intermédiaire) ; étude complète : 1 sur 1 ; "
        "transcriptions vérifiées : 1 sur 1"
    )


def test_package_versions_match_importlib_metadata() -> None:
    from importlib import metadata

    expected: dict[str, str] = {}
    for dist in metadata.distributions():  # first on sys.path wins, as for imports
        name = dist.metadata.get("Name")
        if name:
            expected.setdefault(name.lower().replace("_", "-"), dist.version)
    found = fingerprint.package_versions()
    assert found.pop("python") == sys.version
    assert found == expected


def test_a_render_stopped_by_bad_input_leaves_no_new_folder(project: Project, tmp_path: Path) -> None:
    """Unreadable data (here, the waves cannot be read) stops the render before it writes anything: an outputs
    folder it created is removed again; a folder that was already there is left with all it held."""

    def unreadable(path: Path | None) -> list[str]:
        raise ValueError("données illisibles")

    def attempt(out: Path) -> None:
        with pytest.raises(ValueError, match="illisibles"):
            render(
                project.options(output_dir=out), available_waves=unreadable, resolve_data_path=lambda p: project.data
            )

    new = tmp_path / "nouveau" / "sorties"
    attempt(new)
    assert not new.exists() and new.parent.is_dir()  # only the folder this render created goes
    kept = tmp_path / "sorties"
    (kept / "wave-1").mkdir(parents=True)
    (kept / "wave-1" / "rapport.html").write_text("rapport précédent")
    attempt(kept)
    assert (kept / "wave-1" / "rapport.html").read_text() == "rapport précédent"


def test_worker_room_one_per_core_and_one_more_for_the_last_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default, as many busy workers as cores, and one more once everything left fits (worked by hand, 2 cores);
    with --jobs N, N at most, whatever is left."""
    from cnfs.render import cores
    from cnfs.render.runner import _room

    monkeypatch.setattr(cores, "usable_cores", lambda: 2)
    assert _room(queued=10, running=1, jobs=None)
    assert not _room(queued=10, running=2, jobs=None)  # 12 items left: a third would slow the two others down
    assert not _room(queued=2, running=2, jobs=None)  # 4 left: more than 2 + 1
    assert _room(queued=1, running=2, jobs=None)  # the last 3 share the 2 cores
    assert not _room(queued=1, running=3, jobs=None)
    assert _room(queued=10, running=2, jobs=3)
    assert not _room(queued=1, running=3, jobs=3)
    assert not _room(queued=1, running=1, jobs=1)


def test_cgroup_quota_in_whole_cores_rounded_up(tmp_path: Path) -> None:
    """The CPU quota as the kernel writes it, worked by hand: 200000/100000 is 2 cores, 150000/100000 is 1.5, so 2;
    "max" or a quota of -1 is no limit. Cgroup v2: the tightest of the process's cgroup and its parents; else v1."""
    from cnfs.render.cores import cgroup_quota

    root, membership = tmp_path / "cgroup", tmp_path / "membership"
    root.mkdir()

    def read(own: str = "/") -> int | None:
        membership.write_text(f"0::{own}\n")
        return cgroup_quota(root, membership)

    assert read() is None  # no cgroup files (not Linux, or no cpu controller): no limit known
    (root / "cpu.max").write_text("200000 100000\n")  # a container's own limit, at its root
    assert read() == 2
    (root / "cpu.max").write_text("150000 100000\n")
    assert read() == 2
    (root / "cpu.max").write_text("50000 100000\n")
    assert read() == 1  # half a core still runs one process
    (root / "cpu.max").write_text("max 100000\n")
    assert read() is None
    unit = root / "user.slice" / "run-r1.scope"  # systemd-run -p CPUQuota=300% below an unlimited root
    unit.mkdir(parents=True)
    (unit / "cpu.max").write_text("300000 100000\n")
    assert read("/user.slice/run-r1.scope") == 3
    (root / "user.slice" / "cpu.max").write_text("100000 100000\n")  # a tighter parent wins
    assert read("/user.slice/run-r1.scope") == 1
    for f in root.rglob("cpu.max"):
        f.unlink()
    (root / "cpu").mkdir()
    (root / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")  # cgroup v1, no limit (this machine's case)
    (root / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert read() is None
    (root / "cpu" / "cpu.cfs_quota_us").write_text("300000\n")
    assert read() == 3
    (root / "cpu" / "cpu.cfs_period_us").unlink()  # a quota without its period: unreadable, no limit
    assert read() is None


def test_usable_cores_are_the_affinity_within_the_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    """A render counts the cores it may run on (taskset, cpusets), no more than its container's quota: on a 64-core
    host, a container given 2 CPUs runs 2 busy workers, not 64."""
    from cnfs.render import cores

    def usable(affinity: set[int], quota: int | None) -> int:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: affinity, raising=False)
        monkeypatch.setattr(cores, "cgroup_quota", lambda: quota)
        cores.usable_cores.cache_clear()
        try:
            return cores.usable_cores()
        finally:
            cores.usable_cores.cache_clear()

    assert usable(set(range(64)), 2) == 2
    assert usable(set(range(64)), None) == 64
    assert usable({0, 1}, 8) == 2
    assert usable({3}, None) == 1


def test_tab_books_start_one_at_a_time() -> None:
    """A tab book waits while another runs (they share the books of every wave): the queue's next item that can
    start is taken instead, and the tab book starts first once none runs."""
    from collections import deque
    from types import SimpleNamespace

    from cnfs.render import tasks
    from cnfs.render.runner import _next_item

    def book(folder: str, kind: str = tasks.TABBOOK) -> tasks.FolderTask:
        return tasks.FolderTask(kind, folder, folder, Path(folder), "key", {})

    notebook = SimpleNamespace(label="02 vague 1")
    queue = deque([book("wave-2"), notebook, book("all", tasks.WORKBOOK)])
    assert _next_item(queue, [SimpleNamespace(job=book("wave-1"))]) is notebook
    assert _next_item(queue, [SimpleNamespace(job=book("wave-1"))]).kind == tasks.WORKBOOK
    assert _next_item(queue, [SimpleNamespace(job=book("wave-1"))]) is None
    assert list(queue) == [book("wave-2")]
    assert _next_item(queue, [SimpleNamespace(job=notebook)]) == book("wave-2")
    assert not queue
