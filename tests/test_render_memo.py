"""cnfs.memo: notebook 01's wave comparison computed once per render, identical to computing it directly,
and recomputed whenever the data, the codebook or the code change; kernels racing on one key compute it once."""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from cnfs import memo
from cnfs.contrasts import compare_waves


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.tests, b.tests)
    pd.testing.assert_frame_equal(a.secondary, b.secondary)
    assert a.tables.keys() == b.tables.keys()
    for qid in a.tables:
        pd.testing.assert_frame_equal(a.tables[qid], b.tables[qid])


def test_report_wave_comparison_is_identical_with_and_without_the_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cnfs import contrasts
    from cnfs.notebook import Report

    monkeypatch.delenv(memo.MEMO_ENV, raising=False)
    direct = {w: Report(w, output_dir=str(tmp_path / f"direct-{w}"))._wave_comparison() for w in ("1", "all")}

    monkeypatch.setenv(memo.MEMO_ENV, str(tmp_path / "memo"))
    first = Report("1", output_dir=str(tmp_path / "m1"))._wave_comparison()  # computes and stores
    assert len(list((tmp_path / "memo").glob("compare_waves-*.pickle"))) == 1

    def no_second_computation(*args, **kwargs):
        raise AssertionError("the wave comparison was computed again")

    monkeypatch.setattr(contrasts, "compare_waves", no_second_computation)
    second = Report("all", output_dir=str(tmp_path / "m2"))._wave_comparison()  # read from the memo
    _same(first, direct["1"])
    _same(second, direct["all"])


def _toy() -> tuple[pd.DataFrame, object, list[str]]:
    from cnfs.loader import load_survey

    df, codebook = load_survey(None, "all")
    qids = [q.id for q in codebook.questions.values() if q.type == "single"][:3]
    return df, codebook, qids


def test_memo_key_follows_data_codebook_questions_and_code(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    df, codebook, qids = _toy()
    base = memo.key("compare_waves", [df, codebook, qids])
    assert memo.key("compare_waves", [df.copy(), codebook, list(qids)]) == base  # content, not identity

    edited = df.copy()
    col = next(c for c in df.columns if str(df[c].dtype) == "Int64")
    edited.loc[edited.index[0], col] = (0 if pd.isna(df[col].iloc[0]) else df[col].iloc[0]) + 1
    assert memo.key("compare_waves", [edited, codebook, qids]) != base  # one answer changed
    assert memo.key("compare_waves", [df.iloc[:-1], codebook, qids]) != base  # one respondent fewer
    renamed = df.rename(columns={col: col + "_x"})
    assert memo.key("compare_waves", [renamed, codebook, qids]) != base
    cat = next(c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype))
    reordered = df.assign(**{cat: df[cat].cat.reorder_categories(list(df[cat].cat.categories)[::-1])})
    assert memo.key("compare_waves", [reordered, codebook, qids]) != base  # category order is data

    question = codebook.questions[qids[0]]
    other_book = replace(
        codebook, questions={**codebook.questions, qids[0]: replace(question, ordered=not question.ordered)}
    )
    assert memo.key("compare_waves", [df, other_book, qids]) != base
    assert memo.key("compare_waves", [df, codebook, qids[:2]]) != base
    assert memo.key("other_function", [df, codebook, qids]) != base

    monkeypatch.setattr(memo, "code_fingerprint", lambda: "another version of lib/")
    assert memo.key("compare_waves", [df, codebook, qids]) != base

    # The code fingerprint covers every source file of a package folder, added, edited or removed.
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("X = 1\n")
    tree = memo.tree_fingerprint(pkg)
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert memo.tree_fingerprint(pkg) == tree  # compiled caches do not count
    (pkg / "a.py").write_text("X = 2\n")
    assert memo.tree_fingerprint(pkg) != tree
    (pkg / "a.py").write_text("X = 1\n")
    (pkg / "sub" / "b.py").write_text("")
    assert memo.tree_fingerprint(pkg) != tree


def test_memo_is_off_without_its_folder_and_a_damaged_entry_is_recomputed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    monkeypatch.delenv(memo.MEMO_ENV, raising=False)
    assert memo.cached("f", [1], lambda: calls.append(1) or "v") == "v"
    assert memo.cached("f", [1], lambda: calls.append(1) or "v") == "v"
    assert len(calls) == 2 and memo.memo_dir() is None  # off: computed each time, nothing written

    monkeypatch.setenv(memo.MEMO_ENV, str(tmp_path))
    assert memo.cached("f", [1], lambda: calls.append(1) or "v") == "v"
    assert memo.cached("f", [1], lambda: calls.append(1) or "w") == "v"  # served
    assert len(calls) == 3
    (entry,) = tmp_path.glob("f-*.pickle")
    entry.write_bytes(b"cut sh")
    assert memo.cached("f", [1], lambda: calls.append(1) or "v2") == "v2"  # damaged: recomputed, replaced
    assert memo.cached("f", [1], lambda: "never") == "v2"
    assert memo.cached("f", [2], lambda: "other input") == "other input"


def _racer(folder: str, log: str, out: str) -> None:
    os.environ[memo.MEMO_ENV] = folder

    def slow() -> dict[str, int]:
        with open(log, "a") as fh:
            fh.write("computed\n")
        time.sleep(0.5)
        return {"answer": 42}

    Path(out).write_text(repr(memo.cached("race", ["same inputs"], slow)))


def test_two_kernels_racing_on_one_key_compute_it_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    log = tmp_path / "log.txt"
    procs = [
        ctx.Process(target=_racer, args=(str(tmp_path / "memo"), str(log), str(tmp_path / f"out{i}"))) for i in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert log.read_text() == "computed\n"
    assert {(tmp_path / f"out{i}").read_text() for i in range(3)} == {"{'answer': 42}"}


def test_compare_waves_through_the_memo_equals_the_direct_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    df, codebook, qids = _toy()
    monkeypatch.setenv(memo.MEMO_ENV, str(tmp_path))
    stored = memo.cached("compare_waves", [df, codebook, qids], lambda: compare_waves(df, codebook, qids))
    served = memo.cached("compare_waves", [df, codebook, qids], lambda: None)
    _same(served, compare_waves(df, codebook, qids))
    _same(stored, served)


def test_notebook_01_equivalence_and_effects_chart_are_identical_with_and_without_the_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The equivalence table and the effects chart do not depend on the wave: with the memo, a second wave's
    report computes neither, and gets the same table, the same PNG, and writes those very bytes under figures/."""
    from cnfs import equivalence, plots
    from cnfs.notebook import Report

    def results(report: Report) -> tuple[pd.DataFrame, pd.DataFrame, bytes, bytes]:
        homogeneity, equal = report.wave_homogeneity(), report.wave_equivalence()
        written = (report.out / "figures" / f"{report.prefix}homogeneite_vagues.png").read_bytes()
        return homogeneity.data, equal.data, homogeneity.png, written

    monkeypatch.delenv(memo.MEMO_ENV, raising=False)
    direct = {w: results(Report(w, output_dir=str(tmp_path / f"direct-{w}"), section=1)) for w in ("1", "all")}
    assert direct["1"][2] == direct["1"][3]  # the embedded image is the written file

    monkeypatch.setenv(memo.MEMO_ENV, str(tmp_path / "memo"))
    first = results(Report("1", output_dir=str(tmp_path / "m1"), section=1))  # computes and stores
    assert len(list((tmp_path / "memo").glob("figure_homogeneite_vagues-*.pickle"))) == 1
    assert len(list((tmp_path / "memo").glob("wave_equivalence-*.pickle"))) == 1

    def never(*args, **kwargs):
        raise AssertionError("computed again although memoised")

    monkeypatch.setattr(equivalence, "wave_equivalence", never)
    monkeypatch.setattr(plots, "plot_effects", never)
    second = results(Report("all", output_dir=str(tmp_path / "m2"), section=1))  # read from the memo
    for got, want in ((first, direct["1"]), (second, direct["all"])):
        pd.testing.assert_frame_equal(got[0], want[0])
        pd.testing.assert_frame_equal(got[1], want[1])
        assert got[2] == got[3] == want[2]


def test_the_chart_memo_key_follows_the_matplotlib_style(monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    base = memo.style_fingerprint()
    assert memo.style_fingerprint() == base
    monkeypatch.setitem(matplotlib.rcParams, "font.size", matplotlib.rcParams["font.size"] + 1)
    assert memo.style_fingerprint() != base
