"""The render benchmark's verdicts (bench/bench_render.py): a target is judged on each repeat against the floor
measured beside it, so the machine's drift between repeats can neither meet nor miss a target on its own."""

from __future__ import annotations

import importlib.util
import statistics
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_render.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_render", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Three repeats of a real run on a drifting machine (wall seconds): the floor slowed down in repeats 2 and 3,
# the second cold render slowed down with it, the third did not.
DRIFTING = [{"floor": 21.4, "cold": 29.4}, {"floor": 29.1, "cold": 44.0}, {"floor": 29.9, "cold": 29.8}]


def test_each_render_is_compared_with_its_own_floor(bench):
    ratios = bench.paired_ratios(DRIFTING, "cold", "floor")
    assert ratios == pytest.approx([29.4 / 21.4, 44.0 / 29.1, 29.8 / 29.9])  # by hand
    assert statistics.median(ratios) == pytest.approx(1.3738, abs=1e-4)
    # A median render over a median floor mixes repeats: 29.8 / 29.1, which would read as met.
    assert statistics.median(r["cold"] for r in DRIFTING) / statistics.median(r["floor"] for r in DRIFTING) < 1.03


def test_a_target_is_met_only_when_every_repeat_meets_it(bench):
    assert bench.paired_verdict([1.21, 1.29, 1.30]) == "ATTEINT"
    assert bench.paired_verdict([1.33, 1.44, 1.35]) == "NON ATTEINT"
    uncertain = bench.paired_verdict(bench.paired_ratios(DRIFTING, "cold", "floor"))
    assert uncertain.startswith("INCERTAIN (1 répétition(s) sur 3")


def test_only_the_runs_that_report_memory_sample_it(bench, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Sampling memory takes CPU on the cores the render uses: the renders compared with the floor run without it."""
    sampled: list[int] = []

    class Sampler:
        def __init__(self, pid: int) -> None:
            sampled.append(pid)

        def stop(self) -> int:
            return 123

    class Child:
        returncode = 0

        def __init__(self, argv: list[str], **kwargs: object) -> None:
            self.pid = 4242
            Path(argv[-1]).write_text('{"elapsed": 1.0}')

        def communicate(self) -> tuple[str, str]:
            return "", ""

    monkeypatch.setattr(bench.subprocess, "Popen", Child)
    monkeypatch.setattr(bench, "PeakMemory", Sampler)
    result, _, peak = bench.run_child("render", {}, tmp_path)
    assert (result, peak, sampled) == ({"elapsed": 1.0}, 0, [])
    assert bench.run_child("render", {}, tmp_path, memory=True)[2] == 123
    assert sampled == [4242]
