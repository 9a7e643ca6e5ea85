"""Benchmark (prints figures, asserts nothing): the whole tab book of one wave, every question × every banner
variable, unweighted and raked, with disclosure control; then the files of a wave folder.

Target: computation (weighted and unweighted) under 15 s on a 2-core machine.
"""

from __future__ import annotations

import sys
import tempfile
import time


def main(wave: str = "all") -> None:
    from cnfs import tabbook as tb
    from cnfs.loader import load_survey

    df, codebook = load_survey(wave="all")  # a wave folder's book is withheld jointly with all waves' and each wave's
    n = len(df) if wave == "all" else int((df[codebook.wave_column].astype(str) == wave).sum())
    banners = [b for b in tb.load_banners(codebook) if wave == "all" or b.derived != "wave"]  # as the wave folder's
    t0 = time.perf_counter()
    plain = tb.linked_tabbook(df, codebook, wave, "none")
    t_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    weighted = tb.linked_tabbook(df, codebook, wave, "raking")
    t_weighted = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        files = tb.write_wave_tabbook(out, wave)
        t_files = time.perf_counter() - t0
    questions = plain["question"].nunique()
    print(
        f"tab book, wave {wave!r}: {n} respondents, {questions} questions × {len(banners)} banner variables "
        f"(+ total), {len(plain)} cells per version"
    )
    print("  (each version computes the books of all waves and of every wave, withheld together)")
    print(f"  unweighted (compute + disclosure)      : {t_plain:6.2f} s")
    print(f"  raked (weights + compute + disclosure) : {t_weighted:6.2f} s")
    print(f"  both                                   : {t_plain + t_weighted:6.2f} s  (target < 15 s)")
    print(f"  wave folder files ({len(files)}: xlsx, html, csv ×2) : {t_files:6.2f} s")
    del weighted


if __name__ == "__main__":
    main(*sys.argv[1:2])
