"""Benchmark (prints figures, asserts nothing): how long loading the survey takes in a notebook.

Target: well under a second once the parsed form is cached.
"""
from __future__ import annotations

import statistics
import time


def main() -> None:
    t0 = time.perf_counter()
    from cnfs.loader import load_survey  # noqa: PLC0415

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    load_survey(use_cache=False)
    t_cold = time.perf_counter() - t0
    load_survey()
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        load_survey()
        warm.append(time.perf_counter() - t0)
    print(f"import cnfs.loader          : {t_import:6.3f} s")
    print(f"load (parse + validate)     : {t_cold:6.3f} s")
    print(f"load (cached, median of 5)  : {statistics.median(warm):6.3f} s  (target < 1 s)")


if __name__ == "__main__":
    main()
