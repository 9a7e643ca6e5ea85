"""Benchmark (prints figures, asserts nothing): the whole tab book of one wave, every question × every banner
variable, unweighted and raked, with disclosure control; then the render's two steps of each wave folder
(``cnfs.render.tasks``): the tab book files (xlsx, html, csv, unweighted and raked) and the folder spreadsheet.

Target: computation (weighted and unweighted) under 15 s on a 2-core machine. The folder steps are timed as the
render runs them, one after the other with one memo (``cnfs.memo``) shared by the folders, so only the first
folder computes the linked books; the spreadsheet is built from the folder's ``tables/`` of a rendered outputs
folder (``--outputs DIR``, default ``outputs/``; rendered into a temporary folder first when it has none).

Usage: ``python bench/bench_tabbook.py [WAVE] [--outputs DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FOLDERS = {"all": "all", "wave-1": "1", "wave-2": "2"}


def _timed(step: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call in this process."""
    c, t = time.process_time(), time.perf_counter()
    step(*args, **kwargs)
    return time.process_time() - c, time.perf_counter() - t


def computation(wave: str) -> None:
    """The linked tab books of ``wave``, unweighted and raked, computed without the memo."""
    from cnfs import tabbook as tb
    from cnfs.loader import load_survey
    from cnfs.memo import MEMO_ENV

    os.environ.pop(MEMO_ENV, None)
    df, codebook = load_survey(wave="all")  # a wave folder's book is withheld jointly with all waves' and each wave's
    n = len(df) if wave == "all" else int((df[codebook.wave_column].astype(str) == wave).sum())
    banners = [b for b in tb.load_banners(codebook) if wave == "all" or b.derived != "wave"]  # as the wave folder's
    t0 = time.perf_counter()
    plain = tb.linked_tabbook(df, codebook, wave, "none")
    t_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    tb.linked_tabbook(df, codebook, wave, "raking")
    t_weighted = time.perf_counter() - t0
    print(
        f"tab book, wave {wave!r}: {n} respondents, {plain['question'].nunique()} questions × {len(banners)} banner "
        f"variables (+ total), {len(plain)} cells per version"
    )
    print("  (each version computes the books of all waves and of every wave, withheld together)")
    print(f"  unweighted (compute + disclosure)      : {t_plain:6.2f} s")
    print(f"  raked (weights + compute + disclosure) : {t_weighted:6.2f} s")
    print(f"  both                                   : {t_plain + t_weighted:6.2f} s  (target < 15 s)")


def rendered_outputs(given: str | None, keep: Path) -> Path:
    """A folder whose wave folders hold ``tables/``: ``given``, ``outputs/``, or a render into ``keep``."""
    from cnfs import paths

    for root in [Path(given)] if given else [paths.OUTPUTS]:
        if all((root / f / "tables").is_dir() for f in FOLDERS):
            return root
    if given:
        sys.exit(f"{given}: no tables/ in each of {sorted(FOLDERS)}")
    print(f"(no rendered tables in {paths.OUTPUTS}: rendering into a temporary folder first, not timed)")
    subprocess.run(
        [str(Path(sys.executable).with_name("cnfs")), "render", "-o", str(keep), "--no-progress"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return keep


def folder_steps(outputs: Path, work: Path) -> None:
    """CPU and wall seconds of each folder's two steps, in render order, sharing one memo as a render does."""
    import datetime as dt

    from cnfs.loader import load_survey
    from cnfs.memo import MEMO_ENV
    from cnfs.render.plan import wave_label
    from cnfs.spreadsheet import wave_workbook
    from cnfs.tabbook import write_wave_tabbook

    synthetic = load_survey(wave="all").is_synthetic
    os.environ[MEMO_ENV] = str(work / "memo")
    print("folder steps, as the render runs them (one memo for the folders; CPU s / wall s):")
    print(f"  {'folder':8s} {'tab book files':>18s} {'spreadsheet':>18s}")
    total = [0.0, 0.0]
    for folder, wave in FOLDERS.items():
        target = work / folder
        shutil.copytree(outputs / folder / "tables", target / "tables")
        book = _timed(write_wave_tabbook, target, wave)
        now = dt.datetime.now(dt.UTC)
        sheet = _timed(wave_workbook, target, synthetic=synthetic, produced=now, label=wave_label(wave))
        total = [total[0] + book[0], total[1] + sheet[0]]
        print(f"  {folder:8s} {book[0]:8.2f} / {book[1]:6.2f}  {sheet[0]:8.2f} / {sheet[1]:6.2f}")
    print(f"  {'total CPU':8s} {total[0]:8.2f}{'':9s}  {total[1]:8.2f}        (steps: {sum(total):.2f} s)")
    os.environ.pop(MEMO_ENV, None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wave", nargs="?", default="all")
    parser.add_argument("--outputs", help="rendered outputs folder (wave folders with tables/)")
    args = parser.parse_args(argv)
    computation(args.wave)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder_steps(rendered_outputs(args.outputs, work / "rendered"), work / "steps")


if __name__ == "__main__":
    main()
