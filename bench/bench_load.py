"""Benchmark (prints figures, asserts nothing): reading + normalising + validating an export, per format,
at the twin's size, ×10 and ×100 respondents; and the cached load a notebook sees.

Targets: the cost grows no worse than linearly with the number of respondents (the "µs/row" column
stays flat or falls as the size grows); a cached load well under a second.

    .venv/bin/python bench/bench_load.py [--sizes 1,10,100] [--formats csv,excel-csv,xlsx,sav,dta,parquet,limesurvey]

Files are written to a temporary folder and deleted afterwards; the cache is a temporary one too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

FORMATS = ["csv", "excel-csv", "xlsx", "sav", "dta", "parquet", "limesurvey"]


def scaled(raw: pd.DataFrame, factor: int) -> pd.DataFrame:
    """The twin repeated ``factor`` times with distinct ids (same answers, same waves and dates)."""
    copies = []
    for k in range(factor):
        c = raw.copy()
        c["respondent_id"] = c["respondent_id"].str.replace("SYN-", f"B{k:03d}-", regex=False)
        copies.append(c)
    return pd.concat(copies, ignore_index=True)


def write(fmt: str, raw: pd.DataFrame, cb, d: Path) -> tuple[list[Path], dict]:  # noqa: ANN001
    import twin_exports as tx

    if fmt == "csv":
        p = d / "export.csv"
        raw.to_csv(p, index=False)
        return [p], {}
    if fmt == "excel-csv":
        return [tx.csv_variants(raw, cb, d)["excel-cp1252"]], {}
    if fmt == "xlsx":
        return [tx.xlsx(raw, cb, d / "export.xlsx")], {"sheet": "Réponses"}
    if fmt == "sav":
        return [tx.spss(raw, cb, d / "export.sav")], {}
    if fmt == "dta":
        return [tx.stata(raw, cb, d / "export.dta")], {}
    if fmt == "parquet":
        return [tx.parquet_natural(raw, cb, d / "export.parquet")], {}
    return tx.limesurvey(raw, cb, d), {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,10,100", help="multiples of the twin's size")
    ap.add_argument("--formats", default=",".join(FORMATS))
    args = ap.parse_args()
    os.environ["CNFS_CACHE_DIR"] = tempfile.mkdtemp(prefix="cnfs-bench-cache-")

    t0 = time.perf_counter()
    from cnfs.codebook import load_codebook
    from cnfs.importing import import_exports
    from cnfs.loader import load_survey
    from cnfs.synth import ensure_synthetic

    print(f"import cnfs.loader/importing : {time.perf_counter() - t0:6.3f} s")
    cb = load_codebook()
    twin = pd.read_csv(ensure_synthetic(), dtype=str, keep_default_na=False)
    print(f"{'format':<12}{'×':>5}{'rows':>9}{'import+validate s':>19}{'µs/row':>9}")
    for fmt in args.formats.split(","):
        for factor in (int(x) for x in args.sizes.split(",")):
            raw = scaled(twin, factor)
            with tempfile.TemporaryDirectory(prefix="cnfs-bench-") as tmp:
                files, opts = write(fmt, raw, cb, Path(tmp))
                t0 = time.perf_counter()
                import_exports(files, Path(tmp) / "out.parquet", **opts)
                dt = time.perf_counter() - t0
            print(f"{fmt:<12}{factor:>5}{len(raw):>9}{dt:>19.2f}{1e6 * dt / len(raw):>9.0f}", flush=True)

    load_survey(use_cache=False)
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        load_survey()
        warm.append(time.perf_counter() - t0)
    print(f"load of the twin from the cache (median of 5) : {statistics.median(warm):6.3f} s  (target < 1 s)")


if __name__ == "__main__":
    main()
