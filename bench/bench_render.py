"""Benchmark of `cnfs render` (issues 4 and 12), in one run, as ratios to the floor.

Measures wall time and CPU time (which the machine's load inflates much less), each in a fresh process
and in temporary folders (outputs/, notebooks/ and lib/ are never touched):

- the floor: the same work as the render, in ONE warm Python process: every notebook × wave (imports
  once, each code cell run, each result's ``_repr_html_`` called, notebook 01's wave comparison
  memoised as the render memoises it), then each wave folder's tab book and spreadsheet; no kernel,
  no papermill, no HTML export. Wall floor on N cores: imports + compute / N (perfectly balanced);
  CPU floor: imports + compute; the imports counted from the process's start (interpreter and this script
  included), as each render is timed from its spawn;
- the measured floor: the notebooks alone in children forked from that warm process, as many side by side
  as the render runs (its ``_room`` rule) and in its order (no kernel, no papermill, no export): what running in parallel
  costs on this machine, where two processes side by side each run slower than one alone;
- the floor, the measured floor, the cold render and the edited notebook's re-render are measured
  ``--repeat`` times (3), interleaved (the edited notebook's re-render, a few seconds long, ``--edits`` times
  (3) in each repeat, its median kept): each render is compared with the floor measured just before it,
  and the ratio printed is the median of those paired ratios (the machine's speed drifts over minutes,
  so a median render over a median floor taken from different repeats can be far off either way);
- a cold render, a no-op re-render (command line, median of three, with what it ran), a re-render after
  editing one notebook's code (its waves executed again), after editing its text only (its reports made again
  from their executions, no kernel) and after editing a ``lib/`` module (every execution and step);
- the papermill + nbconvert command-line loop (sequential, what a user would write);
- the twin as it is (×1) and replicated ×10 and ×100 respondents, each given with ``--data``: render time and
  peak memory of all its processes, sampled five times a second. Only these runs are sampled: sampling takes
  CPU on the cores the render uses, more the more processes it reads, so it would slow the renders compared
  with the floor (the floor, one process, much less);
- the size of each wave folder;
- the load average at the start and at the end (the machine is shared).

Targets on 2 cores: cold ≤ 1.3× the floor and ≥ 8× faster than the loop; one edited notebook ≤ 1.3× its
own floor; no-op < 1 s. A target against the floor is met when every repeat meets it, not met when none
does, and uncertain otherwise (one measure more or less would decide: measure again on a quiet machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


# ------------------------------------------------------------------ children (run in fresh processes)
def child_floor(config: dict[str, Any]) -> dict[str, Any]:
    """The render's work in this one warm process: every planned notebook × wave (each code cell run, each
    result's ``_repr_html_`` called, the wave comparison memoised as the render does), then each wave
    folder's tab book and spreadsheet; wall and CPU time of the imports and of each piece.

    With ``config["parallel"]`` set, the notebooks alone run in children forked from this warm process, as many
    at a time as the render would run (``config["jobs"]``: the render's ``--jobs``, None for its default), in
    the render's order: the notebooks' floor measured on the cores, where processes
    running side by side slow each other down."""
    # The imports are counted from this process's start, interpreter and harness included, as a render's time is
    # (``run_child`` measures it from the spawn); its CPU likewise, since the process started.
    t0 = time.perf_counter() - max(0.0, time.time() - config.get("spawned", time.time()))
    os.environ.setdefault("MPLBACKEND", "Agg")
    from cnfs.memo import MEMO_ENV
    from cnfs.render import kernel, manifest

    os.environ[MEMO_ENV] = str(manifest.memo_dir(Path(config["out"])))  # as `cnfs render` gives its kernels

    kernel.warm_up()  # the same imports a forked kernel starts with
    imports, imports_cpu = time.perf_counter() - t0, time.process_time()
    import datetime as dt

    import matplotlib.pyplot  # noqa: F401 - imported here, untimed (as the render's kernels have them)
    import nbformat  # the notebooks' reader, imported once (not inside a timed piece)

    nbformat.validate(nbformat.v4.new_notebook())  # the validator every read builds first, built once here
    from cnfs.render.plan import WEIGHTED_SUFFIX, wave_label
    from cnfs.render.runner import RenderOptions, plan
    from cnfs.spreadsheet import wave_workbook
    from cnfs.tabbook import write_wave_tabbook

    out = Path(config["out"])
    jobs = plan(
        RenderOptions(
            notebooks=config.get("notebooks"),
            data=_path(config.get("data")),
            notebooks_dir=_path(config.get("notebooks_dir")),
            output_dir=out / "plan",
        )
    )
    notebooks = [(job.ident, lambda job=job: _run_cells(job, out / job.wave_dir.name)) for job in jobs]
    folders: dict[str, Any] = {}
    for job in jobs:
        folders.setdefault(job.wave_dir.name, job)
    tabbooks = [
        (
            f"{name}/:tabbook",
            lambda job=job, name=name: write_wave_tabbook(
                out / name, job.wave, job.parameters.get("data_path"), job.parameters.get("min_count")
            ),
        )
        for name, job in folders.items()
        if config.get("tabbook", True)
    ]
    workbooks = [
        (
            f"{name}/:workbook",
            lambda job=job, name=name: wave_workbook(
                out / name,
                synthetic=job.synthetic,
                produced=dt.datetime.now(dt.UTC),
                label=wave_label(job.wave) + (", pondéré" if name.endswith(WEIGHTED_SUFFIX) else ""),
            ),
        )
        for name, job in folders.items()
    ]
    result: dict[str, Any] = {"imports": imports, "imports_cpu": imports_cpu}
    if config.get("parallel"):
        from cnfs.render.runner import _order

        rank = {job.ident: i for i, job in enumerate(_order(jobs))}
        return result | _forked(sorted(notebooks, key=lambda piece: rank[piece[0]]), config.get("jobs"))
    per_job, cpu_job, failed = _in_process(notebooks)
    per_step, cpu_step, failed_steps = _in_process([*tabbooks, *workbooks])
    return result | {
        "per_job": per_job,
        "cpu_job": cpu_job,
        "per_step": per_step,
        "cpu_step": cpu_step,
        "failed": failed + failed_steps,
    }


def _run_cells(job: Any, output_dir: Path) -> None:
    """A notebook's code cells in this process, as the kernel runs them (each result's ``_repr_html_`` called)."""
    import ast

    import matplotlib.pyplot as plt
    import nbformat

    nb = nbformat.read(str(job.notebook.path), as_version=4)
    params = dict(job.parameters, output_dir=str(output_dir))
    ns: dict[str, Any] = {"__name__": "__main__"}
    cwd = os.getcwd()
    os.chdir(job.notebook.path.parent)
    try:
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            tree = ast.parse(cell.source)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, "<cell>", "exec"), ns)
            if "parameters" in cell.metadata.get("tags", []):
                ns.update(params)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), ns)
                if hasattr(value, "_repr_html_"):
                    value._repr_html_()
            plt.close("all")
    finally:
        os.chdir(cwd)


def _in_process(pieces: list[tuple[str, Any]]) -> tuple[dict[str, float], dict[str, float], list[str]]:
    """Run each piece here, one after the other: wall and CPU time of each, and the failures (reported, so a
    broken floor is never mistaken for a fast one)."""
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    failed: list[str] = []
    for label, piece in pieces:
        t, c = time.perf_counter(), time.process_time()
        try:
            piece()
        except Exception as exc:
            failed.append(f"{label}: {type(exc).__name__}: {exc}")
        wall[label] = time.perf_counter() - t
        cpu[label] = time.process_time() - c
    return wall, cpu, failed


def _forked(pieces: list[tuple[str, Any]], jobs: int | None) -> dict[str, Any]:
    """Run each piece in a child forked from this warm process, as many at a time as the render's rule allows
    (``runner._room``, with its ``--jobs``): wall time of the whole, CPU time of the children, and the pieces
    that failed."""
    from cnfs.render.runner import _room

    t, c = time.perf_counter(), cpu_children()
    pending, running, failed = list(pieces), {}, []
    while pending or running:
        while pending and _room(len(pending), len(running), jobs):
            label, piece = pending.pop(0)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                code = 0
                try:
                    piece()
                except BaseException:
                    code = 1
                os._exit(code)
            running[pid] = label
        pid, status = os.wait()
        if os.waitstatus_to_exitcode(status):
            failed.append(running[pid])
        del running[pid]
    return {"wall": time.perf_counter() - t, "cpu": cpu_children() - c, "failed": failed}


def child_render(config: dict[str, Any]) -> dict[str, Any]:
    """One render with the given options (shared inputs may be overridden); states and elapsed time."""
    from cnfs import paths
    from cnfs.render.fingerprint import shared_inputs
    from cnfs.render.runner import RenderOptions, render

    opts = dict(config["options"])
    for key in ("data", "notebooks_dir", "output_dir"):
        opts[key] = _path(opts.get(key))
    if config.get("lib"):
        opts["shared_inputs"] = dict(shared_inputs(), lib=Path(config["lib"]))
    t = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        report = render(RenderOptions(**opts), stream=quiet)
    assert paths.ROOT  # the project is importable from here
    return {
        "elapsed": time.perf_counter() - t,
        "exit_code": report.exit_code,
        "states": {o.job.ident: o.state for o in report.outcomes},
        "failed": [o.job.label for o in report.outcomes if o.state == "failed"],
    }


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


# ------------------------------------------------------------------ measurement helpers
class PeakMemory:
    """Peak total memory of a process and its descendants, sampled every 0.2 s (psutil): proportional set
    size, so pages that forked processes share are counted once, not once per process."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            for p in procs:
                try:
                    info = p.memory_full_info()
                except psutil.Error:
                    continue
                total += getattr(info, "pss", info.rss)
            self.peak = max(self.peak, total)
            self._stop.wait(0.2)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def cpu_children() -> float:
    """CPU seconds (user + system) used so far by the finished descendants of this process."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU: dict[str, float] = {}  # CPU seconds of each measurement, by label


def run_child(kind: str, config: dict[str, Any], tmp: Path, memory: bool = False) -> tuple[dict[str, Any], float, int]:
    """Run a child measurement in a fresh interpreter: its result, wall time and, with ``memory``, the peak
    memory of its tree, else 0 (its CPU time goes to CPU[last]).

    Sampling memory reads every process's page tables five times a second: 0.35 s of CPU during a 4.3 s
    re-render, measured, on the cores the render runs on, and more with more processes. So the measures
    compared with the floor are taken without it, and memory in runs of their own (the scale runs)."""
    cfg = tmp / f"{kind}-{time.monotonic_ns()}.json"
    cfg.write_text(json.dumps(config | {"spawned": time.time()}))
    res_path = cfg.with_suffix(".out.json")
    t, cpu = time.perf_counter(), cpu_children()
    proc = subprocess.Popen(
        [sys.executable, str(HERE), f"--child-{kind}", str(cfg), str(res_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    mem = PeakMemory(proc.pid) if memory else None
    _, err = proc.communicate()
    wall = time.perf_counter() - t
    CPU["last"] = cpu_children() - cpu
    peak = mem.stop() if mem is not None else 0
    if proc.returncode != 0 or not res_path.exists():
        raise RuntimeError(f"mesure {kind} en échec :\n{err[-2000:]}")
    return json.loads(res_path.read_text()), wall, peak


def cli_loop(jobs: list, out_root: Path) -> None:
    """What a user would write: papermill then nbconvert on the command line, one after the other."""
    bindir = Path(sys.executable).parent
    for job in jobs:
        wave_dir = out_root / job.wave_dir.name
        wave_dir.mkdir(parents=True, exist_ok=True)
        executed = wave_dir / job.notebook.path.name
        params = ["-p", "output_dir", str(wave_dir)]
        for name, value in job.parameters.items():  # the renderer's parameters (none but output_dir for 08)
            if name != "output_dir" and value is not None:
                params += ["-p", name, str(value)]
        subprocess.run(
            [
                str(bindir / "papermill"),
                str(job.notebook.path),
                str(executed),
                *params,
                "-k",
                "python3",
                "--cwd",
                str(job.notebook.path.parent),
                "--no-progress-bar",
            ],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        subprocess.run(
            [str(bindir / "jupyter"), "nbconvert", "--to", "html", str(executed)],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def replicate(data: Path, factor: int, target: Path) -> Path:
    """The twin with every respondent repeated `factor` times under new ids (still flagged synthetic)."""
    import pandas as pd

    df = pd.read_csv(data, dtype=str, keep_default_na=False)
    copies = [df.assign(respondent_id=df["respondent_id"] + (f"-R{k}" if k else "")) for k in range(factor)]
    pd.concat(copies, ignore_index=True).to_csv(target, index=False)
    return target


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _edit(notebook: Path, text: bool = False) -> None:
    """Change a notebook's last code cell (a comment line at its end): its executions are out of date. With
    ``text``, its first markdown cell (a new line at its end): its reports are made again without executing."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    kind = "markdown" if text else "code"
    cell = [c for c in nb["cells"] if c["cell_type"] == kind][0 if text else -1]
    cell["source"] = "".join(cell["source"]) + ("\n" if text else "\n# bench : cellule modifiée")
    notebook.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")


def floor_of(floor: dict[str, Any], idents: list[str], cores: int, steps: bool = False) -> tuple[float, float]:
    """(wall, CPU) floor of these executions (and, with steps, of every folder step): imports once plus their
    compute spread evenly over the cores (wall), or imports plus compute in one process (CPU)."""
    pieces = [floor["per_job"][i] for i in idents] + (list(floor["per_step"].values()) if steps else [])
    cpu = [floor["cpu_job"][i] for i in idents] + (list(floor["cpu_step"].values()) if steps else [])
    wall = floor["imports"] + sum(pieces) / max(1, min(cores, len(pieces)))
    return wall, floor["imports_cpu"] + sum(cpu)


def verdict(ok: bool) -> str:
    return "ATTEINT" if ok else "NON ATTEINT"


#: A render against its floor (cold render, edited notebook): at most this many times the floor.
FLOOR_TARGET = 1.3


def paired_ratios(reps: list[dict[str, Any]], num: str, den: str) -> list[float]:
    """Each repeat's measure over the floor measured just before it, in the same repeat: the machine's drift
    between repeats cancels out, which it does not in a median measure over a median floor."""
    return [rep[num] / rep[den] for rep in reps]


def paired_verdict(ratios: list[float], target: float = FLOOR_TARGET) -> str:
    """Met when every repeat's ratio to its own floor is within the target, not met when none is, uncertain
    otherwise: one repeat met it and another did not, which one measure more or less would decide."""
    met = sum(r <= target for r in ratios)
    if met == len(ratios):
        return verdict(True)
    if met == 0:
        return verdict(False)
    return f"INCERTAIN ({met} répétition(s) sur {len(ratios)} dans l'objectif)"


def noop(out: Path, notebooks_dir: Path, notebooks: list[str] | None) -> tuple[float, float, str]:
    """One no-op render on the command line: wall time, CPU time and its summary line (what it ran)."""
    t, cpu = time.perf_counter(), cpu_children()
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnfs.render",
            "-o",
            str(out),
            "--notebooks-dir",
            str(notebooks_dir),
            "--no-progress",
            *(["-n", *notebooks] if notebooks else []),
        ],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - t
    line = next((x for x in res.stderr.splitlines() if "exécuté(s)" in x), res.stderr.strip()[-200:])
    return wall, cpu_children() - cpu, line


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the figures, the ratios and each target met or not."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("--child-"):
        from cnfs.cli import exit_now

        fn = {"--child-floor": child_floor, "--child-render": child_render}[argv[0]]
        Path(argv[2]).write_text(json.dumps(fn(json.loads(Path(argv[1]).read_text()))))
        exit_now(0)  # as the `cnfs` command ends (no interpreter teardown), so the wall time is the user's
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--notebooks", nargs="+", help="sous-ensemble de notebooks (défaut : tous)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="processus parallèles (défaut : celui du rendu)")
    parser.add_argument(
        "--edit", help="notebook modifié pour la mesure « un notebook » (défaut : 02, ou le premier de -n)"
    )
    parser.add_argument(
        "--scales", nargs="*", type=int, default=[10, 100], help="facteurs de réplication (défaut : 10 100)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="mesures du plancher, du rendu à froid et du notebook modifié, comparées en médiane (défaut : 3)",
    )
    parser.add_argument(
        "--edits",
        type=int,
        default=3,
        help="re-rendus du notebook modifié par répétition, médiane gardée (défaut : 3 ; chacun dure quelques s)",
    )
    parser.add_argument("--skip-loop", action="store_true", help="ne pas mesurer la boucle papermill + nbconvert")
    parser.add_argument("--keep", action="store_true", help="garder les dossiers temporaires")
    args = parser.parse_args(argv)

    from cnfs import paths
    from cnfs.loader import resolve_data_path
    from cnfs.render.cores import usable_cores
    from cnfs.render.runner import RenderOptions, plan

    n_cores = usable_cores()  # as the render counts them (affinity, container quota)
    cores = min(args.jobs, n_cores) if args.jobs else n_cores
    procs = f"{args.jobs} processus" if args.jobs else f"{n_cores} processus ({n_cores + 1} pour les derniers)"
    load_start = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="cnfs-bench-"))
    notebooks_dir = tmp / "notebooks"
    shutil.copytree(paths.NOTEBOOKS, notebooks_dir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    base = {"notebooks": args.notebooks, "jobs": args.jobs, "progress": False, "notebooks_dir": str(notebooks_dir)}
    rows: list[tuple[str, float, float | None, float | None, float | None, str]] = []
    try:
        jobs = plan(RenderOptions(notebooks=args.notebooks, notebooks_dir=notebooks_dir, output_dir=tmp / "plan"))
        print(
            f"{len(jobs)} exécutions ({len({j.notebook for j in jobs})} notebooks × vagues), {procs}, "
            f"{n_cores} cœurs ; charge moyenne au départ (1, 5, 15 min) : "
            + " ; ".join(f"{x:.2f}" for x in load_start)
            + " — machine partagée : les durées réelles en dépendent, les temps CPU beaucoup moins",
            flush=True,
        )

        def measured_floor(out: Path, notebooks: list[str] | None) -> dict[str, Any]:
            """The notebooks' floor measured as the render runs them: wall, CPU (imports included), failures."""
            par, _, _ = run_child(
                "floor",
                {
                    "out": str(out),
                    "notebooks": notebooks,
                    "notebooks_dir": str(notebooks_dir),
                    "parallel": True,
                    "jobs": args.jobs,
                },
                tmp,
            )
            return {
                "wall": par["imports"] + par["wall"],
                "cpu": par["imports_cpu"] + par["cpu"],
                "failed": par["failed"],
            }

        # The floor, the measured parallel floor, the cold render and the edited notebook's re-render, each
        # measured --repeat times, interleaved (the machine's speed drifts), and compared median to median.
        edit = args.edit or (args.notebooks[0] if args.notebooks else "02")
        edited = next(p for p in sorted(notebooks_dir.glob("*.ipynb")) if p.name.startswith(edit.zfill(2)))
        reps: list[dict[str, Any]] = []
        for r in range(args.repeat):
            floor, floor_wall, _ = run_child(
                "floor",
                {"out": str(tmp / f"floor-{r}"), "notebooks": args.notebooks, "notebooks_dir": str(notebooks_dir)},
                tmp,
            )
            if floor["failed"]:
                print(f"  attention : {len(floor['failed'])} échec(s) dans le plancher : {floor['failed'][:3]}")
            par = measured_floor(tmp / f"floor-par-{r}", args.notebooks)
            out = tmp / f"render-{r}"
            cold, t_cold, _ = run_child("render", {"options": base | {"output_dir": str(out)}}, tmp)
            cpu_cold = CPU["last"]
            edits = []  # the edited notebook's re-render is short: measured --edits times, its median kept
            for _ in range(args.edits):
                _edit(edited)
                run, seconds, _ = run_child("render", {"options": base | {"output_dir": str(out)}}, tmp)
                edits.append((seconds, CPU["last"], run))
            t_one, cpu_one = statistics.median(e[0] for e in edits), statistics.median(e[1] for e in edits)
            one = edits[-1][2]
            rerun = [i for i, s in one["states"].items() if s in ("ok", "failed")]
            own_par = measured_floor(tmp / f"floor-par-one-{r}", [edit])
            t_floor, cpu_floor = floor_of(floor, list(floor["per_job"]), cores, steps=True)
            own_floor, own_cpu = floor_of(floor, rerun, cores)
            nb_floor, nb_cpu_floor = floor_of(floor, list(floor["per_job"]), cores)
            failed_par = par["failed"] + own_par["failed"]
            if failed_par:
                print(f"  attention : échec(s) dans le plancher parallèle : {failed_par[:3]}")
            reps.append(
                {
                    "floor": t_floor,
                    "floor_cpu": cpu_floor,
                    "par": par["wall"],
                    "par_cpu": par["cpu"],
                    "cold": t_cold,
                    "cold_cpu": cpu_cold,
                    "one": t_one,
                    "one_cpu": cpu_one,
                    "own_floor": own_floor,
                    "own_cpu": own_cpu,
                    "own_par": own_par["wall"],
                    "own_par_cpu": own_par["cpu"],
                    "nb_floor": nb_floor,
                    "nb_cpu_floor": nb_cpu_floor,
                    "n_one": len(rerun),
                    "failed": cold["failed"] + [f for e in edits for f in e[2]["failed"]],
                    "exit": {
                        k: v["exit_code"]
                        for k, v in (("froid", cold), *(("modifié", e[2]) for e in edits))
                        if v["exit_code"]
                    },
                }
            )
            compute = sum(floor["per_job"].values())
            steps = sum(floor["per_step"].values())
            print(
                f"[{r + 1}/{args.repeat}] plancher : imports {floor['imports']:.1f} s + notebooks {compute:.1f} s + "
                f"tableaux croisés et classeurs {steps:.1f} s (un processus chaud, {floor_wall:.1f} s mesurés) → "
                f"{t_floor:.1f} s sur {cores} cœurs, {cpu_floor:.1f} s CPU ; notebooks mesurés sur {procs} : "
                f"{reps[-1]['par']:.1f} s, {reps[-1]['par_cpu']:.1f} s CPU ; rendu à froid {t_cold:.1f} s, "
                f"{cpu_cold:.1f} s CPU ; {edited.stem} modifié {' / '.join(f'{e[0]:.1f}' for e in edits)} s",
                flush=True,
            )

        def med(key: str) -> float:
            return statistics.median(rep[key] for rep in reps)

        def listed(values: list[float]) -> str:
            return " / ".join(f"{v:.2f}" for v in values)

        of_n = f"médiane de {len(reps)}" if len(reps) > 1 else "une mesure"

        def spread(key: str) -> str:
            """How many measures and, for several, their range."""
            values = [rep[key] for rep in reps]
            return f"{of_n} ({min(values):.1f}–{max(values):.1f} s)" if len(values) > 1 else of_n

        t_floor, cpu_floor, t_par, cpu_par = med("floor"), med("floor_cpu"), med("par"), med("par_cpu")
        r_cold, r_cold_cpu = paired_ratios(reps, "cold", "floor"), paired_ratios(reps, "cold_cpu", "floor_cpu")
        r_one, r_one_cpu = paired_ratios(reps, "one", "own_floor"), paired_ratios(reps, "one_cpu", "own_cpu")
        t_cold, cpu_cold = med("cold"), med("cold_cpu")
        t_one, cpu_one, own_floor, own_cpu = med("one"), med("one_cpu"), med("own_floor"), med("own_cpu")
        own_par, own_par_cpu = med("own_par"), med("own_par_cpu")
        rows.append(("plancher (même travail, un processus chaud)", t_floor, 1.0, cpu_floor, 1.0, spread("floor")))
        rows.append(
            (
                "rendu à froid (cnfs render)",
                t_cold,
                statistics.median(r_cold),
                cpu_cold,
                statistics.median(r_cold_cpu),
                f"{spread('cold')} ; ratios par répétition {listed(r_cold)} (CPU {listed(r_cold_cpu)}) ; "
                "mémoire : voir l'échelle (mesurée à part)",
            )
        )
        print(f"rendu à froid : {t_cold:.1f} s ({of_n})", flush=True)

        noops = [noop(out, notebooks_dir, args.notebooks) for _ in range(3)]
        t_noop, cpu_noop, noop_line = sorted(noops)[1]  # the median of three
        rows.append(
            (
                "re-rendu sans changement (ligne de commande, médiane de 3)",
                t_noop,
                None,
                cpu_noop,
                None,
                f"{' / '.join(f'{w:.2f}' for w, _, _ in noops)} s ; « {noop_line} »",
            )
        )

        # The same cold render of the notebooks alone, as the loop does them: the executions' records and the
        # memo are removed, the folder steps' keys kept (their inputs are unchanged, so they are not redone).
        from cnfs.render import manifest

        out_nb = tmp / "render-notebooks"
        shutil.copytree(out, out_nb)
        shutil.rmtree(manifest.cache_dir(out_nb) / manifest.MANIFEST_DIRNAME)
        shutil.rmtree(manifest.memo_dir(out_nb), ignore_errors=True)
        nb_only, t_nb, _ = run_child("render", {"options": base | {"output_dir": str(out_nb)}}, tmp)
        cpu_nb = CPU["last"]
        nb_floor, nb_cpu_floor = med("nb_floor"), med("nb_cpu_floor")
        n_nb = sum(s in ("ok", "failed") for s in nb_only["states"].values())
        rows.append(
            (
                f"rendu à froid des notebooks seuls ({n_nb} exéc., étapes de dossier à jour)",
                t_nb,
                t_nb / nb_floor,
                cpu_nb,
                cpu_nb / nb_cpu_floor,
                f"ratios à son plancher : {nb_floor:.1f} s, {nb_cpu_floor:.1f} s CPU ; {t_nb / t_par:.2f}× son "
                f"plancher mesuré",
            )
        )
        rows.append(
            (
                f"  plancher mesuré des notebooks seuls : {procs} forkés du processus chaud",
                t_par,
                t_par / nb_floor,
                cpu_par,
                cpu_par / nb_cpu_floor,
                f"{spread('par')} ; rapporté au plancher des notebooks seuls : ce que le parallèle coûte ici",
            )
        )
        print(f"rendu à froid des notebooks seuls : {t_nb:.1f} s", flush=True)

        rows.append(
            (
                f"re-rendu après modification du code de {edited.stem} ({reps[-1]['n_one']} exéc.)",
                t_one,
                statistics.median(r_one),
                cpu_one,
                statistics.median(r_one_cpu),
                f"{spread('one')} ; ratios par répétition {listed(r_one)} (CPU {listed(r_one_cpu)}) ; "
                f"son plancher : {own_floor:.1f} s, {own_cpu:.1f} s CPU ; "
                f"{t_one / own_par:.2f}× son plancher mesuré ({own_par:.1f} s)",
            )
        )

        texts = []  # the edited notebook's text alone: its reports made again from its executions, no kernel
        for _ in range(3):
            _edit(edited, text=True)
            text_run, seconds, _ = run_child("render", {"options": base | {"output_dir": str(out)}}, tmp)
            texts.append((seconds, CPU["last"]))
        n_text = sum(s == "retext" for s in text_run["states"].values())
        rows.append(
            (
                f"re-rendu après modification du texte de {edited.stem} ({n_text} rapports refaits sans exécution)",
                statistics.median(t for t, _ in texts),
                None,
                statistics.median(c for _, c in texts),
                None,
                "médiane de 3 ; " + " / ".join(f"{t:.2f}" for t, _ in texts) + " s",
            )
        )

        lib_copy = tmp / "lib"
        shutil.copytree(paths.LIB, lib_copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        with open(lib_copy / "cnfs" / "formatting.py", "a", encoding="utf-8") as fh:
            fh.write("\n# bench: module modifié\n")
        # The kernels import the project's own lib/, whose hash keys the memo: an edited module would void every
        # memoised result, so the memo goes too (kept, it would make this re-render look faster than it is).
        shutil.rmtree(manifest.memo_dir(out), ignore_errors=True)
        lib_run, t_lib, _ = run_child("render", {"options": base | {"output_dir": str(out)}, "lib": str(lib_copy)}, tmp)
        n_lib = sum(s in ("ok", "failed") for s in lib_run["states"].values())
        rows.append(
            (
                f"re-rendu après modification de lib/ ({n_lib} exéc. + étapes)",
                t_lib,
                t_lib / t_floor,
                CPU["last"],
                CPU["last"] / cpu_floor,
                "",
            )
        )

        t_loop = None
        if not args.skip_loop:
            print("boucle papermill + nbconvert (séquentielle)…", flush=True)
            t, cpu = time.perf_counter(), cpu_children()
            cli_loop(jobs, tmp / "loop")
            t_loop = time.perf_counter() - t
            cpu_loop = cpu_children() - cpu
            rows.append(
                (
                    "boucle papermill + jupyter nbconvert (séquentielle, sans tableaux croisés)",
                    t_loop,
                    t_loop / t_floor,
                    cpu_loop,
                    cpu_loop / cpu_floor,
                    "",
                )
            )

        # Time and peak memory at each scale, ×1 included, all measured the same way (memory sampled, the data
        # given with --data), so that their growth compares like with like.
        scale_rows = []
        data = Path(resolve_data_path(None))
        for factor in [1, *args.scales] if args.scales else []:
            big = replicate(data, factor, tmp / f"survey_synthetic_x{factor}.csv")
            print(f"échelle ×{factor} ({big.stat().st_size / 2**20:.1f} Mo de CSV)…", flush=True)
            res, t_scale, mem = run_child(
                "render",
                {"options": base | {"output_dir": str(tmp / f"x{factor}"), "data": str(big)}},
                tmp,
                memory=True,
            )
            scale_rows.append((factor, t_scale, mem, len(res["failed"]), CPU["last"]))

        print("\n" + "=" * 110)
        print(f"{'mesure':<74} {'durée':>8} {'×plancher':>9} {'CPU':>8} {'×CPU':>6}  remarque")
        for label, seconds, ratio, cpu_s, cpu_ratio, note in rows:
            r = f"{ratio:8.2f}×" if ratio is not None else ""
            c = f"{cpu_s:7.1f}s" if cpu_s is not None else ""
            cr = f"{cpu_ratio:5.2f}×" if cpu_ratio is not None else ""
            print(f"{label:<74} {seconds:7.1f}s {r:>9} {c:>8} {cr:>6}  {note}")
        print(
            "\nplancher : le travail du rendu (chaque notebook × vague, le tableau croisé et le classeur de chaque "
            "dossier de vague, la comparaison des vagues mémorisée une fois) dans un seul processus chaud ; "
            f"en temps réel, imports + calcul réparti sans perte sur {cores} cœurs ; en CPU, imports + calcul. "
            f"Plancher mesuré : les mêmes notebooks dans {procs} forkés du processus chaud, côte à côte, "
            "dans l'ordre du rendu et avec autant de processus que lui (ni noyau, ni papermill, ni export) ; son surcoût sur le plancher est ce que le "
            "parallèle coûte sur cette machine (des processus côte à côte se ralentissent l'un l'autre)."
        )
        print(
            "Rapports au plancher : chaque rendu rapporté au plancher mesuré juste avant lui (même répétition), "
            "médiane de ces rapports ; un objectif n'est atteint que si chaque répétition l'atteint."
        )
        floors = [rep["floor_cpu"] for rep in reps]
        if len(floors) > 1:
            print(
                f"Stabilité de la machine : le plancher a varié de {max(floors) / min(floors) - 1:.0%} en CPU d'une "
                "répétition à l'autre (même travail)."
            )
        print("\nobjectifs :")
        print(
            f"  rendu à froid ≤ 1,3× le plancher : {statistics.median(r_cold):.2f}× en temps réel "
            f"({listed(r_cold)}), {statistics.median(r_cold_cpu):.2f}× en CPU ({listed(r_cold_cpu)}) → "
            f"{paired_verdict(r_cold)} (temps réel), {paired_verdict(r_cold_cpu)} (CPU)"
        )
        if t_loop:
            print(
                f"  rendu à froid ≥ 8× plus rapide que la boucle : {t_loop / t_cold:.1f}× → {verdict(t_loop / t_cold >= 8)}"
                " (le rendu fait aussi les tableaux croisés et les classeurs, que la boucle ne fait pas)"
            )
            print(
                f"  à travail égal (notebooks seuls) ≥ 8× plus rapide que la boucle : {t_loop / t_nb:.1f}× → "
                f"{verdict(t_loop / t_nb >= 8)}"
            )
        if reps[-1]["n_one"]:
            print(
                f"  un notebook modifié ≤ 1,3× son plancher : {statistics.median(r_one):.2f}× en temps réel "
                f"({listed(r_one)}), {statistics.median(r_one_cpu):.2f}× en CPU ({listed(r_one_cpu)}) → "
                f"{paired_verdict(r_one)} (temps réel), {paired_verdict(r_one_cpu)} (CPU)"
            )
        else:
            print(
                f"  un notebook modifié ≤ 1,3× son plancher : NON MESURÉ ({edited.stem} n'a relancé aucune exécution)"
            )
        print(f"  re-rendu sans changement < 1 s : {t_noop:.2f} s → {verdict(t_noop < 1)}")
        print(
            f"  (rapportés au plancher mesuré sur {procs} : notebooks seuls {t_nb / t_par:.2f}× en temps "
            f"réel, {cpu_nb / cpu_par:.2f}× en CPU ; notebook modifié {t_one / own_par:.2f}× en temps réel, "
            f"{cpu_one / own_par_cpu:.2f}× en CPU)"
        )
        if scale_rows:
            print("\néchelle (jumeau répliqué) :")
            _, t_x1, mem_x1, _, cpu_x1 = scale_rows[0]  # the twin as it is
            linear = True
            for factor, seconds, mem, n_failed, cpu_s in scale_rows:
                linear &= seconds <= factor * t_x1 and mem <= factor * mem_x1
                growth = (
                    f"   temps ×{seconds / t_x1:.1f} (CPU ×{cpu_s / max(cpu_x1, 1e-9):.1f}), "
                    f"mémoire ×{mem / max(mem_x1, 1):.1f}"
                    if factor != 1
                    else ""
                )
                print(
                    f"  ×{factor:<4} {seconds:8.1f} s   mémoire max (tous processus) {mem / 2**20:7.0f} Mo"
                    + growth
                    + (f"   {n_failed} échec(s)" if n_failed else "")
                )
            print(f"  croissance au plus linéaire (temps et mémoire) : {verdict(linear)}")
        print("\ntaille des dossiers de vague (rendu à froid) :")
        for folder in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
            print(f"  {folder.name:<10} {folder_size(folder) / 2**20:6.1f} Mo")
        failed = [f for rep in reps for f in rep["failed"]] + nb_only["failed"] + lib_run["failed"]
        if failed:
            print(f"attention : exécution(s) en échec : {', '.join(sorted(set(failed)))}")
        runs = (("notebooks seuls", nb_only), ("lib", lib_run))
        bad = {k: r["exit_code"] for k, r in runs if r["exit_code"]} | {
            k: v for rep in reps for k, v in rep["exit"].items()
        }
        if bad:
            print(f"attention : code de sortie non nul : {bad}")
        load_end = os.getloadavg()
        print(
            "charge moyenne (1, 5, 15 min) au départ : "
            + " ; ".join(f"{x:.2f}" for x in load_start)
            + " ; à la fin : "
            + " ; ".join(f"{x:.2f}" for x in load_end)
            + f" ({n_cores} cœurs, machine partagée : durées réelles bruitées)"
        )
    finally:
        if args.keep:
            print(f"dossiers gardés : {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
