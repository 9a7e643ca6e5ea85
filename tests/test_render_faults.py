"""Fault injection (issue 14): every way a render can end leaves no process, no lock, no half-written output.

Each scenario runs on a two-notebook project in a temporary folder and checks the processes (none
left: every process of a render carries a tag in its environment, which /proc shows), the outputs
folder's lock, the bytes of the previous outputs, and that the next render completes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from cnfs.render import cli
from cnfs.render.runner import EXIT_BUSY, EXIT_IO
from render_fixture import MiniProject

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, fork and prctl are Linux's")

ALPHA = """
    import pathlib
    out = pathlib.Path(output_dir)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / "tables" / "alpha.csv").write_text("wave,version\\n" + wave + ",{version}\\n")
    print("alpha", wave)
    """
BETA = """
    import pathlib
    out = pathlib.Path(output_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "figures" / "beta.txt").write_text("beta {version} " + wave)
    """
SLOW = """
    import pathlib, time
    out = pathlib.Path(output_dir)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / "tables" / "alpha.csv").write_text("half")
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "figures" / "beta.txt").write_text("half")
    (out / "started-{name}").write_text("yes")
    time.sleep({seconds})
    """


def write(project: MiniProject, version: int) -> None:
    project.notebook("01_alpha", ALPHA.format(version=version))
    project.notebook("02_beta", BETA.format(version=version))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MiniProject:
    monkeypatch.setenv("CNFS_RENDER_WARM", "")  # the process model is the same; only the imports are skipped
    p = MiniProject(tmp_path)
    write(p, 1)
    report = p.render(waves=["1"])
    assert report.exit_code == 0, report.text
    return p


def snapshot(out: Path) -> dict[Path, bytes]:
    """Every output file's bytes, without the cache, hidden folders and the index (rewritten on every run)."""
    return {
        p: p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts) and p.name != "index.html"
    }


def tagged(tag: str) -> list[int]:
    """Live processes whose environment carries the tag (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"CNFS_FAULT_TAG={tag}".encode() not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def lock_is_free(out: Path) -> bool:
    with open(out / ".cache" / "lock", "a") as fh:
        try:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.lockf(fh, fcntl.LOCK_UN)
        return True


def start(project: MiniProject, tag: str, name: str = "render", **options) -> subprocess.Popen:
    env = dict(os.environ, CNFS_FAULT_TAG=tag)
    return subprocess.Popen(
        project.command(name, **options),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=ctrl_c_reaches_it,
    )


def ctrl_c_reaches_it() -> None:
    """In the render's process before it starts: SIGINT's default disposition. A render started where Ctrl-C is
    ignored (a background job of a non-interactive shell, ``(make test &)``) inherits that and rightly ignores it;
    these tests are about a render that Ctrl-C reaches."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_every_signal_leaves_nothing_behind(project: MiniProject) -> None:
    before = snapshot(project.out)
    sockets = set(Path(tempfile.gettempdir()).glob("cnfs-kernel-*"))  # kernels' socket files (none on Linux)
    project.notebook("01_alpha", SLOW.format(name="alpha", seconds=60))
    project.notebook("02_beta", SLOW.format(name="beta", seconds=60))
    expected = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129, signal.SIGKILL: -signal.SIGKILL}
    for signum, status in expected.items():
        tag = uuid.uuid4().hex
        proc = start(project, tag, waves=["1"])
        # Both executions running: the render, two workers and two kernels.
        wait_for(
            lambda tag=tag: len(list(project.out.glob(".staging-*/*/*/started-*"))) == 2 and len(tagged(tag)) >= 5,
            60,
            f"both executions to start ({signal.Signals(signum).name})",
        )
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)  # Ctrl-C: the terminal signals the whole foreground group
        else:
            os.kill(proc.pid, signum)  # timeout, a scheduler, CI, a closed terminal, kill -9: the render only
        out, _ = proc.communicate(timeout=30)
        name = signal.Signals(signum).name
        assert proc.returncode == status, f"{name}: {out}"
        wait_for(lambda tag=tag: not tagged(tag), 5, f"no process left after {name}")
        assert lock_is_free(project.out), name
        if signum != signal.SIGKILL:
            assert "Interrompu" in out and "aucun fichier partiel" in out, out
            assert not list(project.out.glob(".staging*")), name
        assert snapshot(project.out) == before, name
        assert not list(project.out.rglob("*.tmp")), name
        assert set(Path(tempfile.gettempdir()).glob("cnfs-kernel-*")) <= sockets, f"socket files left ({name})"
    # The next render starts, removes the killed one's staging folder and completes.
    write(project, 2)
    report = project.render(waves=["1"])
    assert report.exit_code == 0, report.text
    assert not list(project.out.glob(".staging*"))
    assert (project.out / "wave-1" / "tables" / "alpha.csv").read_text() == "wave,version\n1,2\n"


def test_dead_or_hung_kernel_fails_only_that_execution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNFS_RENDER_WARM", "")
    project = MiniProject(tmp_path, waves=("1", "2"))
    write(project, 1)
    assert project.render(waves=["1", "2"]).exit_code == 0
    before = snapshot(project.out)
    children = {p.pid for p in __import__("psutil").Process().children(recursive=True)}
    project.notebook(
        "01_alpha",
        "x = 1",
        """
        import ctypes, os
        if wave == "1":
            os._exit(3)
        ctypes.string_at(0)  # segmentation fault
        """,
    )
    project.notebook(
        "02_beta",
        "x = 1",
        BETA.format(version=2)
        + """
    if wave == "2":
        while True:
            pass
    """,
    )
    report = project.render(waves=["1", "2"], timeout=2)
    states = {(o.job.notebook.stem, o.job.wave): o.state for o in report.outcomes}
    assert states == {
        ("01_alpha", "1"): "failed",
        ("01_alpha", "2"): "failed",
        ("02_beta", "1"): "ok",
        ("02_beta", "2"): "failed",
    }, report.text
    assert report.exit_code == 1
    # Each failure names notebook, wave and cell, and says what happened.
    text = report.text
    assert "✗ 01_alpha — vague 1 — cellule 3" in text and "✗ 01_alpha — vague 2 — cellule 3" in text
    assert text.count("le noyau s'est arrêté") == 2 and "os._exit(3)" in text
    assert "✗ 02_beta — vague 2 — cellule 3" in text and "durée maximale (2 s)" in text
    # The failed executions' previous reports and files are untouched; the good one is updated.
    after = snapshot(project.out)
    changed = {p.relative_to(project.out).as_posix() for p in before if after.get(p) != before[p]}
    assert changed == {"wave-1/02_beta.ipynb", "wave-1/02_beta.html", "wave-1/figures/beta.txt"}
    assert (project.out / "wave-1" / "figures" / "beta.txt").read_text() == "beta 2 1"
    # No worker or kernel left.
    assert {p.pid for p in __import__("psutil").Process().children(recursive=True)} <= children


def test_two_renders_same_folder_refused_at_once_other_folder_completes(project: MiniProject) -> None:
    project.notebook("01_alpha", SLOW.format(name="alpha", seconds=3))
    tag = uuid.uuid4().hex
    first = start(project, tag, notebooks=["01"], waves=["1"])
    wait_for(lambda: list(project.out.glob(".staging-*/*/*/started-*")), 60, "the first render to run")
    t = time.monotonic()
    second = subprocess.run(project.command("second", waves=["1"]), capture_output=True, text=True, timeout=60)
    assert second.returncode == EXIT_BUSY, second.stderr
    assert "Un autre rendu est en cours" in second.stderr and time.monotonic() - t < 20
    other = project.render(output_dir=str(project.root / "other"), notebooks=["02"], waves=["1"])
    assert other.exit_code == 0, other.text
    out, _ = first.communicate(timeout=60)
    assert first.returncode == 0, out
    wait_for(lambda: not tagged(tag), 5, "no process left")


@contextlib.contextmanager
def small_disk(path: Path, size: str):
    path.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({res.stderr.strip() or res.returncode})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_full_disk_then_read_only_folder_keep_previous_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("CNFS_RENDER_WARM", "")
    with small_disk(tmp_path / "disk", "24m") as disk:
        project = MiniProject(tmp_path / "project")
        project.out = disk / "outputs"
        write(project, 1)
        assert project.render().exit_code == 0
        before = snapshot(project.out)
        index = (project.out / "index.html").read_bytes()

        # Full disk: whatever the render manages to write fails cleanly.
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as fh:  # unbuffered: nothing left to flush (and fail) at close
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * (1 << 16))
                    fh.flush()
        write(project, 2)
        status = cli.guarded(lambda: project.render().exit_code)
        said = capsys.readouterr().err
        assert status in (1, EXIT_IO)
        assert snapshot(project.out) == before and (project.out / "index.html").read_bytes() == index
        assert not list(project.out.rglob("*.tmp")) and not list(project.out.glob(".staging*"))
        if status == EXIT_IO:
            assert "écriture impossible" in said and "No space left on device" in said, said
        filler.unlink()
        assert project.render().exit_code == 0  # space freed: the next render completes
        assert (project.out / "wave-1" / "tables" / "alpha.csv").read_text() == "wave,version\n1,2\n"

        # Read-only outputs folder: a clear message, a distinct status, nothing changed.
        before = snapshot(project.out)
        res = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip(f"cannot remount read-only here ({res.stderr.strip()})")
        try:
            write(project, 3)
            status = cli.guarded(lambda: project.render().exit_code)
            said = capsys.readouterr().err
            assert status == EXIT_IO, said
            assert "écriture impossible" in said and "Les sorties précédentes sont intactes" in said
            assert snapshot(project.out) == before
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=False)
