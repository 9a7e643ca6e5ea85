"""Benchmark of `cnfs render` (issue 4): cold render vs the papermill + nbconvert CLI loop vs a no-op re-render.

Runs on whatever notebooks/NN_*.ipynb exist, in temporary output folders (never touches outputs/).
Prints the three timings and the ratios; targets on 2 cores: cold ≥ 3× faster than the loop,
re-render with nothing changed < 2 s.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cnfs.render.runner import RenderOptions, render


def timed(label: str, fn) -> float:
    """Run fn, print and return its wall time."""
    t = time.perf_counter()
    fn()
    dt = time.perf_counter() - t
    print(f"{label:<58} {dt:8.1f} s", flush=True)
    return dt


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
        subprocess.run([str(bindir / "papermill"), str(job.notebook.path), str(executed), *params,
                        "-k", "python3", "--cwd", str(job.notebook.path.parent), "--no-progress-bar"],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([str(bindir / "jupyter"), "nbconvert", "--to", "html", str(executed)],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    """Run the three measurements and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--notebooks", nargs="+", help="sous-ensemble de notebooks (défaut : tous)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="processus parallèles (défaut : nb de cœurs)")
    parser.add_argument("--data", type=Path, help="fichier de données (défaut : jumeau synthétique)")
    parser.add_argument("--skip-loop", action="store_true", help="ne pas mesurer la boucle papermill + nbconvert")
    parser.add_argument("--keep", action="store_true", help="garder les dossiers temporaires")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="cnfs-bench-"))
    opts = RenderOptions(notebooks=args.notebooks, data=args.data, jobs=args.jobs,
                         output_dir=tmp / "render", progress=False)
    quiet = open(os.devnull, "w")
    try:
        from cnfs.render.runner import plan

        jobs = plan(RenderOptions(notebooks=args.notebooks, data=args.data, output_dir=tmp / "plan"))
        print(f"{len(jobs)} exécutions ({len({j.notebook for j in jobs})} notebooks × vagues), "
              f"{args.jobs or os.cpu_count()} processus, {os.cpu_count()} cœurs")
        failed: list[str] = []

        def cold() -> None:
            report = render(opts, stream=quiet)
            failed.extend(o.job.label for o in report.outcomes if o.state == "failed")

        t_cold = timed("(1) rendu à froid (cnfs render)", cold)
        rerun: list[str] = []

        def noop() -> None:
            report = render(opts, stream=quiet)
            rerun.extend(f"{o.job.label} ({', '.join(o.reasons)})" for o in report.executed)

        t_noop = timed("(3) re-rendu, rien de changé", noop)
        if rerun:
            print(f"    attention : des entrées ont changé pendant la mesure, ré-exécuté : {'; '.join(rerun[:5])}")
        t_noop_cli = timed("(3b) re-rendu, rien de changé, en ligne de commande",
                           lambda: subprocess.run([sys.executable, "-m", "cnfs.render", "-o", str(tmp / "render"),
                                                   *(["-n", *args.notebooks] if args.notebooks else []),
                                                   *(["--data", str(args.data)] if args.data else [])],
                                                  check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        print()
        if not args.skip_loop:
            t_loop = timed("(2) boucle papermill + jupyter nbconvert (CLI, séquentielle)",
                           lambda: cli_loop(jobs, tmp / "loop"))
            print(f"\nrendu à froid : {t_loop / t_cold:.1f}× plus rapide que la boucle (objectif ≥ 3×)")
        print(f"re-rendu sans changement : {t_noop:.2f} s en processus, {t_noop_cli:.2f} s en ligne de commande "
              f"(objectif < 2 s)")
        if failed:
            print(f"attention : {len(failed)} exécution(s) en échec : {', '.join(failed)}")
    finally:
        quiet.close()
        if args.keep:
            print(f"dossiers gardés : {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
