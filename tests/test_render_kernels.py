"""Kernels forked from the warm render process (issue 12): each notebook still gets a fresh process.

A notebook that sets a global, changes a matplotlib setting and monkeypatches a module must leave
the next notebook unaffected; the same checks run inside the polluting notebook itself fail (so they
can detect a leak). The forked kernel is recognisable: pandas is already imported when the first
cell runs, which a kernel started as `python -m ipykernel_launcher` never has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cnfs import paths
from cnfs.render import driver, kernel
from render_fixture import MiniProject

POLLUTE = """
    import builtins, json, os, sys
    import matplotlib, cnfs
    print("preloaded:", "pandas" in sys.modules, "pid:", os.getpid())
    cnfs.LEAKED = "global"
    builtins.LEAKED = "builtin"
    matplotlib.rcParams["lines.linewidth"] = 9.5
    import statistics, cnfs.formatting
    statistics.mean = lambda *a, **k: "patched"
    cnfs.formatting.fmt_pct = lambda *a, **k: "patched"
    """
CHECK = """
    import builtins, json, os, sys
    import matplotlib, cnfs
    print("preloaded:", "pandas" in sys.modules, "pid:", os.getpid())
    assert not hasattr(cnfs, "LEAKED"), "a module global leaked from another notebook"
    assert not hasattr(builtins, "LEAKED"), "a builtin leaked from another notebook"
    assert matplotlib.rcParams["lines.linewidth"] != 9.5, "a matplotlib setting leaked"
    import statistics, cnfs.formatting
    assert statistics.mean([1, 3]) == 2, "a monkeypatch leaked"
    assert cnfs.formatting.fmt_pct.__name__ == "fmt_pct", "a monkeypatch leaked"
    print("clean")
    """


def _stdout(report_dir: Path, stem: str) -> str:
    nb = json.loads((report_dir / f"{stem}.ipynb").read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))


@pytest.fixture
def project(tmp_path: Path) -> MiniProject:
    p = MiniProject(tmp_path)
    p.notebook("01_pollute", POLLUTE)
    p.notebook("02_check", CHECK)
    p.notebook("03_control", POLLUTE, CHECK)  # the checks must see a leak inside one process
    return p


@pytest.mark.skipif(not kernel.fork_supported(), reason="kernels are forked on Linux only")
def test_forked_kernels_share_no_state(project: MiniProject) -> None:
    # One slot: the polluting notebook's worker runs, then the checking one, from the same warm parent.
    report = project.render(jobs=1, waves=["1"])
    states = {o.job.notebook.stem: o.state for o in report.outcomes}
    assert states == {"01_pollute": "ok", "02_check": "ok", "03_control": "failed"}, report.text
    out = project.out / "wave-1"
    first, second = _stdout(out, "01_pollute"), _stdout(out, "02_check")
    assert "preloaded: True" in first and "preloaded: True" in second  # forked from the warm process
    assert "clean" in second
    assert first.split("pid:")[1].split()[0] != second.split("pid:")[1].split()[0]
    assert "global leaked" in report.text  # the control: same checks, same process, leak seen
    # The warm parent itself was not touched by any notebook.
    import statistics

    import cnfs

    assert not hasattr(cnfs, "LEAKED") and statistics.mean([1, 3]) == 2


@pytest.mark.skipif(not kernel.fork_supported(), reason="kernels are forked on Linux only")
def test_a_figure_left_open_is_shown_as_in_a_fresh_kernel(project: MiniProject) -> None:
    """The inline backend hooks itself into IPython when a kernel imports it: the warm process must not.
    Rendered in its own process, as `cnfs render` runs (the tests' process has chosen Agg)."""
    project.notebook(
        "04_figure",
        """
        import matplotlib.pyplot as plt
        plt.plot([1, 2, 3])
        """,
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # kernels get ipykernel's inline backend
    done = subprocess.run(
        project.command(notebooks=["04"], waves=["1"]), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    nb = json.loads((project.out / "wave-1" / "04_figure.ipynb").read_text())
    shown = [o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(shown) == 1  # flushed after the cell by matplotlib-inline, once


def test_subprocess_kernels_when_fork_is_off(project: MiniProject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNFS_RENDER_KERNEL", "subprocess")
    report = project.render(jobs=2, notebooks=["01", "02"], waves=["1"])
    assert report.exit_code == 0, report.text
    out = project.out / "wave-1"
    assert "preloaded: False" in _stdout(out, "01_pollute")  # a kernel started the usual way
    assert "clean" in _stdout(out, "02_check")


def test_forked_kernel_is_the_project_interpreter(project: MiniProject) -> None:
    project.notebook(
        "04_where",
        """
        import os, sys
        print("exe:", sys.executable)
        print("cwd:", os.getcwd())
        print("ppid-alive:", os.getppid() != 1)
        """,
    )
    report = project.render(notebooks=["04"], waves=["1"])
    assert report.exit_code == 0, report.text
    text = _stdout(project.out / "wave-1", "04_where")
    # outputs show paths inside the project relative to it (no absolute machine path)
    shown = (
        os.path.relpath(sys.executable, paths.ROOT)
        if sys.executable.startswith(str(paths.ROOT) + os.sep)
        else sys.executable
    )
    assert f"exe: {shown}\n" in text
    assert f"cwd: {os.path.realpath(project.notebooks)}\n" in text


def test_the_render_process_skips_the_iri_grammar_and_kernels_get_it_back() -> None:
    """jsonschema's optional IRI grammar (about 1 s of CPU) is not built in the render process; nbformat
    still rejects an invalid notebook there; a forked kernel that imports the package gets it."""
    import subprocess

    code = """
import sys, time
from cnfs.render import kernel
kernel.skip_iri_grammar()
import papermill, nbformat
assert sys.modules.get("rfc3987_syntax") is None, "the grammar was built"
nb = nbformat.v4.new_notebook()
nb.cells.append(nbformat.v4.new_code_cell("1"))
del nb.cells[0]["source"]
try:
    nbformat.validate(nb)
except nbformat.ValidationError:
    print("invalid notebook rejected")
kernel.restore_iri_grammar()
import rfc3987_syntax
print("kernel import:", rfc3987_syntax.is_valid_syntax_iri("https://example.org/é"))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "invalid notebook rejected" in done.stdout
    assert "kernel import: True" in done.stdout


def test_a_killed_kernel_is_checked_for_often(monkeypatch: pytest.MonkeyPatch) -> None:
    """jupyter_client checks every 0.1 s that a killed kernel has ended (each worker used to wait about
    0.1 s for a kernel already gone); the project's manager checks every KILL_POLL seconds."""
    import asyncio

    manager = kernel.manager_class()()
    alive = iter([True, True, False])
    delays: list[float] = []

    async def is_alive() -> bool:
        return next(alive)

    async def sleep(delay: float, *args: object) -> None:
        delays.append(delay)

    monkeypatch.setattr(manager, "_async_is_alive", is_alive)
    monkeypatch.setattr(asyncio, "sleep", sleep)
    asyncio.run(manager._async_wait())
    assert delays == [kernel.KILL_POLL, kernel.KILL_POLL]
    assert kernel.KILL_POLL < 0.1


def test_clients_retry_a_kernel_not_yet_listening_often(tmp_path: Path) -> None:
    """A client connects before its kernel listens; zmq retries every 100 ms by default (each execution waited
    about 0.1 s for it). The project's manager gives its clients' and its own sockets a RECONNECT_MS retry."""
    import zmq

    manager = kernel.manager_class()(transport="ipc", ip=str(tmp_path / "kernel"))
    client = manager.client()
    try:
        for channel in (client.shell_channel, client.iopub_channel):
            assert channel.socket.getsockopt(zmq.RECONNECT_IVL) == kernel.RECONNECT_MS
        with manager.context.socket(zmq.DEALER) as control:  # the manager's own sockets (control channel)
            assert control.getsockopt(zmq.RECONNECT_IVL) == kernel.RECONNECT_MS
        with zmq.Context() as plain, plain.socket(zmq.DEALER) as socket:
            assert kernel.RECONNECT_MS < socket.getsockopt(zmq.RECONNECT_IVL)  # zmq's own default
    finally:
        client.stop_channels()
        client.context.destroy(linger=0)
        manager.context.destroy(linger=0)


PARENTS = """
    import os
    print("kernel-parent:", os.getppid())
    """


@pytest.mark.skipif(not driver.supported(), reason="driven workers need a pidfd (Linux 5.3 and later)")
def test_kernels_come_from_the_render_process_workers_from_the_driver(
    project: MiniProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The render forks each kernel itself (still a copy of its warm process) and asks the driver for the
    worker that starts it; nothing is left running afterwards, the driver included."""
    import psutil

    spawned: list[int] = []
    spawn = driver.Driver.spawn

    def counting_spawn(self: driver.Driver, request: dict, kernel_fd: int) -> tuple:
        spawned.append(request["kernel_pid"])
        return spawn(self, request, kernel_fd)

    monkeypatch.setattr(driver.Driver, "spawn", counting_spawn)
    project.notebook("04_parents", PARENTS)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    report = project.render(notebooks=["01", "02", "04"], waves=["1"])
    assert report.exit_code == 0, report.text
    assert len(spawned) == 3  # every execution's worker came from the driver
    out = project.out / "wave-1"
    assert f"kernel-parent: {os.getpid()}\n" in _stdout(out, "04_parents")  # forked by the render process
    assert "preloaded: True" in _stdout(out, "01_pollute") and "clean" in _stdout(out, "02_check")
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before


@pytest.mark.skipif(not driver.supported(), reason="driven workers need a pidfd (Linux 5.3 and later)")
def test_workers_leave_the_drivers_warm_heap_to_the_garbage_collector(
    project: MiniProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The driver freezes what its warm-up built (papermill, the exporter) before forking workers, so that a
    worker's first full collection does not walk that heap and copy it page by page (0.06 s each, measured)."""
    import gc

    from cnfs.render import execute

    seen = tmp_path / "frozen.txt"
    run_job = execute.run_job

    def recording(*args: object, **kwargs: object) -> dict:
        with open(seen, "a") as fh:  # in the worker: how many objects it inherited frozen
            fh.write(f"{gc.get_freeze_count()}\n")
        return run_job(*args, **kwargs)

    monkeypatch.setattr(execute, "run_job", recording)
    before = gc.get_freeze_count()  # what this process had frozen when it forked the driver
    report = project.render(notebooks=["02"], waves=["1"])
    assert report.exit_code == 0, report.text
    counts = [int(x) for x in seen.read_text().split()]
    assert len(counts) == 1 and counts[0] > before


def test_workers_forked_here_when_the_driver_cannot_be_used(
    project: MiniProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a pidfd, or with a driver that died, workers are forked from the render process as before."""
    monkeypatch.setattr(driver, "supported", lambda: False)
    project.notebook("04_parents", PARENTS)
    report = project.render(notebooks=["02", "04"], waves=["1"])
    assert report.exit_code == 0, report.text

    # The first request reaches the driver, the second cannot be sent: that execution's worker is forked
    # here, and the one the driver already started is not cut short.
    spawn, calls = driver.Driver.spawn, []

    def broken_after_one(self: driver.Driver, request: dict, kernel_fd: int) -> tuple:
        calls.append(request["payload"]["stem"])
        if len(calls) == 1:
            return spawn(self, request, kernel_fd)
        os.close(kernel_fd)
        self.broken = True
        raise BrokenPipeError("driver gone")

    monkeypatch.setattr(driver, "supported", lambda: True)
    monkeypatch.setattr(driver.Driver, "spawn", broken_after_one)
    report = project.render(notebooks=["02", "04"], waves=["1"], force=True, jobs=2)
    assert report.exit_code == 0, report.text
    assert len(calls) == 2
    assert "clean" in _stdout(project.out / "wave-1", "02_check")
    assert "kernel-parent:" in _stdout(project.out / "wave-1", "04_parents")
