"""Orchestration of a render: plan, skip what is up to date, execute in parallel, publish atomically."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import importlib
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cnfs import atomic
from cnfs.provenance import sha256_file
from cnfs.render import cores, export, fingerprint, manifest, summary, tasks
from cnfs.render.plan import (
    Job,
    all_waves,
    build_jobs,
    discover_notebooks,
    select_notebooks,
    select_waves,
    wave_folder,
)
from cnfs.render.summary import Outcome, RenderReport

STAGING_PREFIX = ".staging-"
# Exit statuses: 74 and 75 are sysexits' EX_IOERR and EX_TEMPFAIL; a signal gives 128 + its number.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_IO, EXIT_BUSY = 74, 75
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class RenderBusy(RuntimeError):
    """Another render holds the outputs folder's lock."""


class Interrupted(KeyboardInterrupt):
    """A render stopped by SIGTERM or SIGHUP, handled like Ctrl-C; exit status 128 + signum."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def exit_status(exc: KeyboardInterrupt) -> int:
    """Exit status of a render stopped by a signal (Ctrl-C is SIGINT)."""
    return 128 + getattr(exc, "signum", signal.SIGINT)


@dataclass
class RenderOptions:
    """Everything a render needs; defaults are the project's folders and the synthetic twin."""

    notebooks: Sequence[str] | None = None
    waves: Sequence[str] | None = None
    data: Path | None = None
    jobs: int | None = None
    force: bool = False
    output_dir: Path | None = None
    notebooks_dir: Path | None = None
    timeout: float | None = None
    dry_run: bool = False
    progress: bool | None = None
    weighting: str = "none"  # "raking": weighted reports in outputs/<wave>-pondere/
    shared_inputs: Mapping[str, Path] | None = None
    package_versions: Mapping[str, str] | None = None
    min_count: int | None = None  # disclosure threshold injected into the notebooks (None: the codebook's)
    tabbook: bool = True  # tab book (cnfs.tabbook) per wave folder, on the project's data
    population: Path | None = None  # population file (None: data/population.yaml), checked before anything runs


def _default_waves(path: Path | None) -> list[str]:
    """Waves present in the data, from cnfs.loader (imported only when needed)."""
    from cnfs.loader import available_waves

    return list(available_waves(path))


def _default_resolve(path: Path | None) -> Path:
    """Data file to use, from cnfs.loader (generates the synthetic twin on first use)."""
    from cnfs.loader import resolve_data_path

    return Path(resolve_data_path(path))


_HELD: set[Path] = set()  # outputs folders locked by this process (POSIX locks do not see those)


@contextlib.contextmanager
def _lock(output_root: Path) -> Iterator[None]:
    """Refuse two concurrent renders into the same outputs folder, creating the folder if needed.

    A POSIX record lock (lockf) belongs to this process alone: the operating system releases it when
    the process ends, however it ends, and the worker processes forked from it never hold it.
    If this render created the folder and stops with an error before writing anything there but its lock
    (unreadable data, a bad option), the folder is removed again, while still locked: a mistyped input leaves
    no empty folder, and a render refused because another one holds the lock removes nothing.
    """
    created = not output_root.exists()
    path = manifest.cache_dir(output_root) / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    key = path.resolve()
    with open(path, "a") as fh:
        try:
            if key in _HELD:
                raise BlockingIOError
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            raise RenderBusy(f"Un autre rendu est en cours dans {output_root}") from None
        _HELD.add(key)
        try:
            yield
        except BaseException:
            if created and set(output_root.rglob("*")) <= {path, path.parent}:
                with contextlib.suppress(OSError):
                    path.unlink()
                    path.parent.rmdir()
                    output_root.rmdir()
            raise
        finally:
            _HELD.discard(key)
            fcntl.lockf(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _no_interrupt() -> Iterator[None]:
    """Defer stop signals while files are moved into outputs/ or a worker is started, so neither is cut in half."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM (timeout, schedulers, CI) and SIGHUP (terminal closed) stop a render the way Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise Interrupted(signum)

    old = {signum: signal.signal(signum, _raise) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)


def _remove_stale_staging(output_root: Path) -> None:
    """Delete staging folders left by a killed render."""
    for p in output_root.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(p, ignore_errors=True)


def _twin(hasher: fingerprint.FileHasher, cache: Path) -> Path:
    """The synthetic twin, regenerated by cnfs.synth when its inputs changed; when nothing it depends on
    changed since the last check (its file, its provenance, the codebook, the published figures, the
    assumptions, lib/), the check itself (which imports pandas) is skipped."""
    from cnfs import paths

    def state() -> str:
        twin = paths.SYNTHETIC_SURVEY
        files = [
            twin,
            twin.with_name(twin.stem + ".provenance.json"),
            paths.CODEBOOK,
            paths.PUBLISHED,
            paths.ASSUMPTIONS,
        ]
        return fingerprint.text_hash([hasher.tree(paths.LIB), *(hasher.file(f) for f in files)])

    memo_path = cache / "twin.json"
    try:
        if json.loads(memo_path.read_text()) == state():
            return paths.SYNTHETIC_SURVEY
    except (OSError, ValueError):
        pass  # no memo yet: check
    twin = _default_resolve(None)
    if twin == paths.SYNTHETIC_SURVEY:
        atomic.write_text(memo_path, json.dumps(state()))
    return twin


def _waves_for(data_file: Path, data_digest: str, lib_digest: str, cache: Path, waves_fn: Callable) -> list[str]:
    """Waves of a data file, memoised on its content and the library source (no pandas on a no-op run)."""
    memo_path = cache / "waves.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    key = f"{data_digest}:{lib_digest}"
    if key not in memo:
        memo = {key: [str(w) for w in waves_fn(data_file)]}
        manifest.atomic_write_text(memo_path, json.dumps(memo))
    return list(memo[key])


def _provenance(data_file: Path) -> dict[str, Any] | None:
    """Provenance recorded with the data file (sidecar or Parquet metadata), scalar fields only."""
    from cnfs.provenance import read_provenance

    try:
        data = read_provenance(data_file)
    except (OSError, ValueError):  # unreadable provenance must not stop a render (pyarrow errors are ValueErrors)
        return None
    if not isinstance(data, dict) or not data:
        return None
    return {str(k): v for k, v in data.items() if not isinstance(v, (dict, list))}


def plan(
    options: RenderOptions,
    *,
    available_waves: Callable[[Path | None], list[str]] | None = None,
    resolve_data_path: Callable[[Path | None], Path] | None = None,
    hasher: fingerprint.FileHasher | None = None,
) -> list[Job]:
    """Jobs for the selected notebooks and waves, each with its cache key and key components."""
    from cnfs import paths

    output_root = Path(options.output_dir or paths.OUTPUTS).resolve()
    notebooks_dir = Path(options.notebooks_dir or paths.NOTEBOOKS).resolve()
    cache = manifest.cache_dir(output_root)
    hasher = hasher or fingerprint.FileHasher(cache / "file-hashes.json")
    requested = Path(options.data).resolve() if options.data else None
    if requested is not None and not requested.is_file():
        raise FileNotFoundError(f"Fichier de données introuvable : {requested}")
    if resolve_data_path is None and requested is None:
        data_file = _twin(hasher, cache).resolve()
    else:
        data_file = Path((resolve_data_path or _default_resolve)(requested)).resolve()
    data_digest = hasher.file(data_file)
    shared = fingerprint.shared_components(hasher, options.shared_inputs, options.package_versions)
    waves = _waves_for(data_file, data_digest, shared.get("input:lib", ""), cache, available_waves or _default_waves)
    notebooks = select_notebooks(discover_notebooks(notebooks_dir), options.notebooks)
    chosen = select_waves(all_waves(waves), options.waves)
    jobs = build_jobs(notebooks, chosen, output_root, data_file, requested, options.weighting)
    if options.min_count is not None:
        for job in jobs:
            job.parameters["min_count"] = int(options.min_count)
    digests = {path: fingerprint.notebook_digests(path) for path in {job.notebook.path for job in jobs}}
    for job in jobs:
        code, text = digests[job.notebook.path]
        job.components = fingerprint.execution_components(shared, code, job.parameters, data_digest, text)
        job.key = fingerprint.combine(job.components)
    return jobs


def _up_to_date(job: Job, output_root: Path, force: bool) -> tuple[bool, list[str]]:
    """Whether a job's last good render has the same key (and its files are still there)."""
    old = manifest.load(output_root, job.ident)
    if force:
        return False, ["--force"]
    if old is None:
        return False, ["nouveau"]
    if old.get("status") != "ok":
        return False, ["échec précédent"]
    stem = job.notebook.stem
    if not (job.wave_dir / f"{stem}.html").is_file() or not (job.wave_dir / f"{stem}.ipynb").is_file():
        return False, ["rapport absent"]
    if old.get("key") == job.key:
        return True, []
    return False, fingerprint.changed(old.get("components"), job.components)


def _claimed_elsewhere(output_root: Path, job: Job, rel: str) -> bool:
    """Whether another notebook of the same wave also produced this file."""
    for entry in manifest.iter_all(output_root):
        if entry.get("wave") == job.wave and entry.get("stem") != job.notebook.stem and rel in entry.get("files", []):
            return True
    return False


def _publish(job: Job, result: dict[str, Any], output_root: Path) -> Outcome:
    """Move a finished job's files from staging into its wave folder and record its manifest."""
    stage = Path(result["stage"])
    stem = job.notebook.stem
    old = manifest.load(output_root, job.ident) or {}
    attempt = {
        "status": result["status"],
        "executed_at": result.get("executed_at"),
        "duration": result.get("duration"),
        "error": result.get("error"),
    }
    entry = {
        "stem": stem,
        "notebook": fingerprint.relative(job.notebook.path),  # no absolute machine path under outputs/
        "wave": job.wave,
        "wave_folder": job.folder or wave_folder(job.wave),
        "synthetic": job.synthetic,
        "data_file": fingerprint.relative(job.data_file),
    }
    failed_nb = job.wave_dir / f"{stem}.failed.ipynb"
    if result["status"] == "ok":
        files = [f for f in result["files"] if f not in (f"{stem}.ipynb", f"{stem}.html")]
        entry.update(
            status="ok", key=job.key, components=job.components, files=files, last_attempt=attempt, last_ok=attempt
        )
        with contextlib.suppress(OSError):  # what the text-only path checks before reusing this notebook
            entry["ipynb_sha256"] = sha256_file(stage / f"{stem}.ipynb")
        try:
            # Everything that needs disk space comes before the first move (the manifest's bytes are
            # flushed, its folders made): if the disk is full or the folder read-only, the previous
            # report stays whole. The manifest replaces the old one last, once the files are in place.
            with atomic.replacing(manifest.manifest_path(output_root, job.ident)) as fh:
                fh.write(manifest.dump(entry).encode("utf-8"))
                fh.flush()
                for rel in {str(Path(f).parent) for f in files} | {"."}:
                    (job.wave_dir / rel).mkdir(parents=True, exist_ok=True)
                with _no_interrupt():
                    for rel in [*files, f"{stem}.ipynb", f"{stem}.html"]:
                        os.replace(stage / rel, job.wave_dir / rel)
        except OSError as exc:
            result = _io_failure(result, exc)
        else:
            with _no_interrupt():
                for rel in set(old.get("files", [])) - set(files):
                    if not _claimed_elsewhere(output_root, job, rel):
                        (job.wave_dir / rel).unlink(missing_ok=True)
                failed_nb.unlink(missing_ok=True)
            shutil.rmtree(stage, ignore_errors=True)
            return Outcome(job, "ok", result.get("duration", 0.0))
    entry = {
        k: v for k, v in entry.items() if k in ("stem", "notebook", "wave", "wave_folder", "synthetic", "data_file")
    }
    entry.update({k: old[k] for k in ("key", "components", "files", "last_ok") if k in old})
    entry.update(status="failed", error=result.get("error"), last_attempt=attempt | {"status": "failed"})
    produced = stage / f"{stem}.ipynb"
    with _no_interrupt():
        try:
            job.wave_dir.mkdir(parents=True, exist_ok=True)
            if _whole_notebook(produced):  # a notebook cut short by a full disk is not worth keeping
                os.replace(produced, failed_nb)
            manifest.save(output_root, job.ident, entry)
        except OSError:  # full disk or read-only folder: the previous manifest and report stay as they were
            pass
    shutil.rmtree(stage, ignore_errors=True)
    return Outcome(
        job,
        "failed",
        result.get("duration", 0.0),
        error=result.get("error"),
        failed_notebook=failed_nb if failed_nb.exists() else None,
    )


def _whole_notebook(path: Path) -> bool:
    """Whether a file is a complete notebook (JSON with cells), not one cut short."""
    try:
        return "cells" in json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False


def _job_payload(job: Job, prov: dict[str, Any] | None) -> dict[str, Any]:
    """What a notebook's worker needs: the job, the data's provenance, whether the data is synthetic."""
    payload = job.to_payload() | {"provenance": prov}
    payload["synthetic"] = job.synthetic or bool(prov and prov.get("synthetic"))
    return payload


def _retext(jobs: list[Job], output_root: Path, outcomes: dict[str, Outcome]) -> list[Job]:
    """Make again, without executing, the reports whose notebook changed in its text only (``cnfs.render.retext``);
    returns the jobs whose code changed after all, to execute."""
    from cnfs.render import kernel, retext

    kernel.skip_iri_grammar()  # nbformat's validator, without the IRI grammar it never uses
    staging = output_root / f"{STAGING_PREFIX}{os.getpid()}-texte"
    provenance = {f: _provenance(f) for f in {job.data_file for job in jobs}}
    redo: list[Job] = []
    try:
        for job in jobs:
            old = manifest.load(output_root, job.ident) or {}
            try:
                result = retext.retext_job(_job_payload(job, provenance[job.data_file]), old, str(staging))
            except Exception:  # an unreadable or unexpected notebook: executing it says what is wrong
                result = None
            if result is None:
                redo.append(job)
                continue
            outcome = _publish_text(job, result, old, output_root)
            outcome.reasons = outcomes[job.ident].reasons
            outcomes[job.ident] = outcome
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return redo


def _publish_text(job: Job, result: dict[str, Any], old: dict[str, Any], output_root: Path) -> Outcome:
    """Move a re-made report (notebook and HTML) into its wave folder; the execution's files and record stay, the
    key becomes this one. On a failure (full disk) the manifest keeps the old key: the next render makes it again."""
    import datetime as dt

    stage = Path(result["stage"])
    try:
        entry = old | {
            "key": job.key,
            "components": job.components,
            "text_updated_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "ipynb_sha256": sha256_file(stage / f"{job.notebook.stem}.ipynb"),
        }
        with atomic.replacing(manifest.manifest_path(output_root, job.ident)) as fh:
            fh.write(manifest.dump(entry).encode("utf-8"))
            fh.flush()
            with _no_interrupt():
                for rel in result["files"]:
                    os.replace(stage / rel, job.wave_dir / rel)
    except OSError as exc:
        error = _io_failure({}, exc)["error"]
        return Outcome(job, "failed", error=error)
    return Outcome(job, "retext")


def _io_failure(result: dict[str, Any], exc: OSError) -> dict[str, Any]:
    """A finished job that could not be published (full disk, read-only folder), as a failure."""
    return result | {
        "status": "failed",
        "error": {
            "cell_index": None,
            "execution_count": None,
            "source": "",
            "ename": type(exc).__name__,
            "evalue": f"publication impossible : {exc}",
        },
    }


def _crash_result(job: Job, staging: Path, exitcode: int | None) -> dict[str, Any]:
    """Result of a worker that ended without reporting (killed, or crashed outside any cell)."""
    if exitcode is not None and exitcode < 0:
        try:
            why = f"arrêté par le signal {signal.Signals(-exitcode).name}"
        except ValueError:
            why = f"arrêté par le signal {-exitcode}"
    else:
        why = f"terminé avec le code {exitcode}"
    return {
        "status": "failed",
        "stage": str(staging / job.wave_dir.name / job.notebook.stem),
        "files": [],
        "duration": 0.0,
        "error": {
            "cell_index": None,
            "execution_count": None,
            "source": "",
            "ename": "WorkerDied",
            "evalue": f"processus de rendu {why}",
        },
    }


@dataclass
class _Worker:
    """One running execution: its process, the pipe its results come on, its kernel's pid."""

    job: Job
    process: Any
    conn: Any
    started: float
    kernel_pid: int | None = None
    kernel: Any = None  # the kernel process this render forked for the worker (cnfs.render.driver), if any
    result: dict[str, Any] | None = None
    eof: bool = False

    def drain(self) -> None:
        """Read whatever the worker has sent (its own and its kernel's pids, then its result)."""
        while not self.eof and self.conn.poll():
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                self.eof = True
                break
            if "kernel_pid" in msg:
                self.kernel_pid = msg["kernel_pid"] or self.kernel_pid
                if getattr(self.process, "pid", None) is None:  # a driven worker says its pid
                    self.process.pid = msg.get("worker_pid")
            else:
                self.result = msg

    def collect_kernel(self) -> None:
        """Make sure the kernel this render forked for the worker has ended, and collect it."""
        if self.kernel is not None:
            self.kernel.kill()
            self.kernel.wait()
            self.kernel = None


def _gone(pid: int) -> bool:
    """Whether a process has ended (absent, or a zombie waiting for init)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def _stop_workers(workers: list[_Worker], grace: float = 3.0, driver: Any = None) -> None:
    """Stop running workers and their kernels now, and wait until none of them is left."""
    for w in workers:
        w.drain()  # a driven worker's pid comes with its first message
        if w.process.pid is not None and w.process.is_alive():
            with contextlib.suppress(OSError):
                os.kill(w.process.pid, signal.SIGTERM)  # the worker kills its kernel, then exits
    deadline = time.monotonic() + grace
    for w in workers:
        if w.process.pid is not None:
            w.process.join(max(0.0, deadline - time.monotonic()))
    if driver is not None:  # the workers it has not reported yet die with it (PR_SET_PDEATHSIG)
        driver.kill()
    for w in workers:
        if w.process.is_alive():
            w.process.kill()
            w.process.join(1.0)
        w.conn.close()
    kernels = [w.kernel_pid for w in workers if w.kernel_pid]
    for pid in kernels:  # they die with their worker or this process (PR_SET_PDEATHSIG); make sure, then wait
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    for w in workers:
        w.collect_kernel()
    deadline = time.monotonic() + grace
    while any(not _gone(pid) for pid in kernels) and time.monotonic() < deadline:
        time.sleep(0.02)


def default_jobs() -> int:
    """Most worker processes at once by default: one per core, plus one for the last items (see ``_room``)."""
    return cores.usable_cores() + 1


def _order(jobs: list[Job]) -> list[Job]:
    """Executions wave folder by wave folder (a folder's spreadsheet can start as soon as its reports are in,
    and the waves of one notebook, which may share a memoised result, do not start side by side)."""
    folders: dict[str, int] = {}
    for job in jobs:
        folders.setdefault(job.wave_dir.name, len(folders))
    return sorted(jobs, key=lambda j: folders[j.wave_dir.name])


def _execute(
    jobs: list[Job],
    steps: list[tasks.FolderTask],
    options: RenderOptions,
    output_root: Path,
    stream: TextIO,
    salt: Mapping[str, str],
    folders: list[str],
) -> tuple[list[Outcome], bool]:
    """Run each job in its own worker process (its kernel forked from this warm one), publishing as they finish,
    and each folder step (tab book, then spreadsheet once the folder's reports are in) in the same pool.

    Returns the jobs' outcomes and whether every tab book succeeded.
    """
    import multiprocessing
    from collections import deque
    from multiprocessing.connection import wait

    import tqdm as tqdm_module

    from cnfs.memo import MEMO_ENV
    from cnfs.render import driver as driver_module
    from cnfs.render import execute, kernel

    kernel.skip_iri_grammar()
    fork_kernels = kernel.fork_supported()
    # fork: workers start in milliseconds with everything imported (Linux; elsewhere the platform default).
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    tqdm_module.tqdm.monitor_interval = 0  # no monitor thread in a process that forks
    staging = Path(output_root) / f"{STAGING_PREFIX}{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=True)
    slots = max(1, min(options.jobs or default_jobs(), len(jobs) + len(steps) + len(folders)))
    outcomes: list[Outcome] = []
    bar = tqdm_module.tqdm(
        total=len(jobs),
        desc="Rendu",
        unit="exéc.",
        file=stream,
        disable=(not options.progress) if options.progress is not None else None,
    )
    provenance = {f: _provenance(f) for f in {job.data_file for job in jobs}}
    # Long independent steps (tab books) first, then the executions folder by folder, the last folder's tab
    # book last, so that it runs beside that folder's spreadsheet (which jumps the queue as soon as its
    # folder's last report is published) instead of leaving a core idle at the end.
    ordered = _order(jobs)
    last = ordered[-1].wave_dir.name if ordered else None
    queue: deque[Any] = deque(
        [*(t for t in steps if t.folder != last), *ordered, *(t for t in steps if t.folder == last)]
    )
    pending = {folder: sum(j.wave_dir.name == folder for j in jobs) for folder in folders}
    for folder in folders:
        if not pending[folder] and (book := tasks.workbook_task(output_root, folder, salt, options.force)):
            queue.appendleft(book)
    running: list[_Worker] = []
    tabbooks_ok = True
    # Kernels of one render share a memo of results that do not depend on the wave (cnfs.memo).
    memo_before = os.environ.get(MEMO_ENV)
    if memo_before is None:
        os.environ[MEMO_ENV] = str(manifest.memo_dir(output_root))

    driver: Any = None
    warm_workers = functools.partial(export.warm, manifest.cache_dir(output_root))
    prepared = False

    def prepare_workers_here() -> None:
        """Warm up papermill and the HTML exporter once, here, rather than once per worker."""
        nonlocal prepared
        if not prepared and jobs:
            warm_workers()
            kernel.freeze_heap()  # as the driver does: workers forked from here leave that heap alone
            prepared = True

    def job_payload(job: Job) -> dict[str, Any]:
        return _job_payload(job, provenance[job.data_file])

    def launch(item: Any) -> None:
        """Start the worker process of one job or folder step."""
        if driver is not None and not driver.broken and not isinstance(item, tasks.FolderTask):
            payload = job_payload(item)
            with _no_interrupt():
                child = kernel.ForkedKernel()  # a copy of this warm process, started by the worker
                request = {
                    "payload": payload,
                    "staging_root": str(staging),
                    "timeout": options.timeout,
                    "kernel_pid": child.pid,
                }
                try:
                    proc, receive = driver.spawn(request, child.take_control())
                except OSError:  # the driver is gone or refused: next workers are forked from here
                    child.kill()  # its control pipe is closed: it exits on its own; make sure, and collect it
                    child.wait()
                else:
                    running.append(
                        _Worker(item, proc, receive, time.perf_counter(), kernel_pid=child.pid, kernel=child)
                    )
                    return
            prepare_workers_here()
        receive, send = context.Pipe(duplex=False)
        if isinstance(item, tasks.FolderTask):
            proc = context.Process(
                target=tasks.worker_main,
                name=f"cnfs-render {item.label}",
                args=(send, item.to_payload(), os.getpid()),
            )
        else:
            proc = context.Process(
                target=execute.worker_main,
                name=f"cnfs-render {item.label}",
                args=(send, job_payload(item), str(staging), options.timeout, os.getpid(), fork_kernels),
            )
        with _no_interrupt():  # a stop signal must not fall between the fork and the bookkeeping
            proc.start()
            running.append(_Worker(item, proc, receive, time.perf_counter()))
        send.close()

    try:
        if fork_kernels and jobs and driver_module.supported():
            # jupyter_client, zmq and tornado: kernels need them and so does the workers' papermill; imported
            # once, here, before the driver is forked.
            importlib.import_module("ipykernel.kernelapp")
            kernel.warm_up_part(kernel.DRIVER_MODULES)
            # The notebooks' workers come from the driver, which imports papermill and nbconvert meanwhile.
            driver = driver_module.Driver(warm_workers, os.getpid())
        # A folder step needs no kernel: the first one starts before the rest of the warm-up, on a core the
        # warm-up would leave idle, once what it shares with the kernels is imported (the driver works meanwhile).
        if slots > 1 and queue and isinstance(queue[0], tasks.FolderTask):
            if fork_kernels:
                kernel.warm_up_part(kernel.STEP_MODULES)
            launch(queue.popleft())
        if fork_kernels:
            kernel.warm_up()
            if kernel.in_process() and jobs:
                from cnfs.render import inprocess

                inprocess.prepare()  # papermill and its engine, which each kernel now runs itself
        if driver is None:
            prepare_workers_here()
        while queue or running:
            while (
                queue
                and _room(len(queue), len(running), options.jobs)
                and (item := _next_item(queue, running)) is not None
            ):
                launch(item)
            wait([w.conn for w in running if not w.eof] + [w.process.sentinel for w in running])
            for w in list(running):
                w.drain()
                if w.process.is_alive():
                    continue
                w.process.join()
                w.drain()
                w.conn.close()
                w.collect_kernel()
                running.remove(w)
                if isinstance(w.job, tasks.FolderTask):
                    tabbooks_ok = _step_done(w, output_root, bar, stream) and tabbooks_ok
                    continue
                result = w.result or _crash_result(w.job, staging, w.process.exitcode)
                outcome = _publish(w.job, result, output_root)
                outcomes.append(outcome)
                bar.set_postfix_str(w.job.label, refresh=False)
                bar.update(1)
                if outcome.state == "failed":
                    bar.write(f"✗ {w.job.label} : échec", file=stream)
                folder = w.job.wave_dir.name
                pending[folder] -= 1
                if not pending[folder] and (book := tasks.workbook_task(output_root, folder, salt, options.force)):
                    queue.appendleft(book)
    except BaseException:
        with _no_interrupt():  # a second Ctrl-C or SIGTERM must not cut the clean-up short
            _stop_workers(running, driver=driver)
        raise
    finally:
        if driver is not None:
            with _no_interrupt():
                driver.close()
        if memo_before is None:
            os.environ.pop(MEMO_ENV, None)
        with _no_interrupt():
            bar.close()
            shutil.rmtree(staging, ignore_errors=True)
    return outcomes, tabbooks_ok


def _room(queued: int, running: int, jobs: int | None) -> bool:
    """Whether one more worker may start. With ``--jobs N``, while fewer than N run. By default, one per core, and
    one more once everything left fits: the last items then share the cores out evenly instead of leaving a core
    idle at the end. Not more before: a third busy process on two cores slows the other two down (about 10 % more
    CPU time in all, measured by ``bench/bench_render.py``), for no earlier finish."""
    if jobs:
        return running < jobs
    n = cores.usable_cores()
    return running < n or running + queued <= n + 1


def _is_tabbook(item: Any) -> bool:
    return isinstance(item, tasks.FolderTask) and item.kind == tasks.TABBOOK


def _next_item(queue: Any, running: list[_Worker]) -> Any:
    """Take the next item of the queue that can start now, or None. Tab books start one at a time: they share
    the books of every wave (``tabbook.linked_books``), which the first computes and the others read from the
    memo; started beside it, the others would wait for its lock, holding a worker slot and a core's share."""
    tabbook_running = any(_is_tabbook(w.job) for w in running)
    for index, item in enumerate(queue):
        if not (tabbook_running and _is_tabbook(item)):
            del queue[index]
            return item
    return None


def _step_done(w: _Worker, output_root: Path, bar: Any, stream: TextIO) -> bool:
    """Record a finished folder step and say how it went; False when a tab book failed."""
    step: tasks.FolderTask = w.job
    result = w.result or {"status": "failed", "error": f"processus arrêté (code {w.process.exitcode})"}
    if result.get("status") == "ok":
        tasks.record(output_root, step)
        if step.kind == tasks.TABBOOK:
            bar.write(f"Tableaux croisés : {result.get('files')} fichiers dans {step.folder}/", file=stream)
        return True
    if step.kind == tasks.TABBOOK:
        bar.write(
            f"Tableaux croisés de {step.folder}/ : échec ({result.get('error')}) ; les fichiers précédents sont conservés.",
            file=stream,
        )
        return False
    bar.write(f"cnfs render : classeur de {step.folder}/ non écrit ({result.get('error')})", file=stream)
    return True


@contextlib.contextmanager
def _population(path: Path | None) -> Iterator[None]:
    """Point every kernel and step of this render at ``path`` (CNFS_POPULATION), after checking it loads."""
    if path is None:
        yield
        return
    from cnfs.population import PopulationError, load_population

    resolved = Path(path).resolve()
    try:
        load_population(resolved)
    except PopulationError as exc:
        raise ValueError(f"fichier de population refusé : {exc}") from None
    before = os.environ.get("CNFS_POPULATION")
    os.environ["CNFS_POPULATION"] = str(resolved)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("CNFS_POPULATION", None)
        else:
            os.environ["CNFS_POPULATION"] = before


def render(
    options: RenderOptions,
    *,
    available_waves: Callable[[Path | None], list[str]] | None = None,
    resolve_data_path: Callable[[Path | None], Path] | None = None,
    stream: TextIO | None = None,
) -> RenderReport:
    """Render the selected notebooks × waves, re-executing only what changed; never raises on a failing notebook."""
    from cnfs import paths

    started = time.perf_counter()
    stream = stream or sys.stderr
    output_root = Path(options.output_dir or paths.OUTPUTS).resolve()
    with _stop_on_signals(), _population(options.population):
        with _lock(output_root):
            _remove_stale_staging(output_root)
            hasher = fingerprint.FileHasher(manifest.cache_dir(output_root) / "file-hashes.json")
            jobs = plan(options, available_waves=available_waves, resolve_data_path=resolve_data_path, hasher=hasher)
            hasher.save()
            outcomes: dict[str, Outcome] = {}
            to_run: list[Job] = []
            to_retext: list[Job] = []
            for job in jobs:
                fresh, reasons = _up_to_date(job, output_root, options.force)
                if fresh:
                    outcomes[job.ident] = Outcome(job, "cached")
                elif reasons == [fingerprint.TEXT]:  # the text alone changed: the report, not the execution
                    outcomes[job.ident] = Outcome(job, "retext" if options.dry_run else "cancelled", reasons=reasons)
                    to_retext.append(job)
                else:
                    outcomes[job.ident] = Outcome(job, "cancelled", reasons=reasons)
                    to_run.append(job)
            if options.dry_run:
                report = RenderReport(list(outcomes.values()), EXIT_OK, output_root, time.perf_counter() - started)
                summary.print_plan(report, stream)
                return report
            code = EXIT_OK
            io_error: OSError | None = None
            steps: list[tasks.FolderTask] = []
            if options.tabbook and resolve_data_path is None:  # tab books: on the project's data only
                steps = tasks.tabbook_tasks(jobs, output_root, options.force)
            folders = list(dict.fromkeys(j.wave_dir.name for j in jobs))
            salt = {k: v for k, v in (jobs[0].components if jobs else {}).items() if k in ("input:lib", "packages")}
            books_due = not to_run and any(tasks.workbook_task(output_root, f, salt, options.force) for f in folders)
            try:
                if to_retext:
                    to_run += _retext(to_retext, output_root, outcomes)
                if to_run or steps or books_due:
                    done, tabbooks_ok = _execute(to_run, steps, options, output_root, stream, salt, folders)
                    for o in done:
                        o.reasons = outcomes[o.job.ident].reasons
                        outcomes[o.job.ident] = o
                    code = code if tabbooks_ok else EXIT_FAILED
            except KeyboardInterrupt as exc:
                code = exit_status(exc)
            finally:
                with _no_interrupt():
                    try:
                        if to_run or to_retext or steps or not (output_root / "index.html").is_file():  # no-op: stands
                            from cnfs.render import index

                            index.write_index(output_root)  # spreadsheets: steps above
                    except OSError as exc:  # full disk, read-only folder: the previous index stays
                        io_error = exc
            if code == EXIT_OK and any(o.state == "failed" for o in outcomes.values()):
                code = EXIT_FAILED
            if code == EXIT_OK and io_error is not None:
                code = EXIT_IO
            report = RenderReport(
                list(outcomes.values()),
                code,
                output_root,
                time.perf_counter() - started,
                io_error=str(io_error) if io_error else None,
            )
    with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
        summary.print_summary(report, stream)
    return report


__all__ = ["Interrupted", "Outcome", "RenderBusy", "RenderOptions", "RenderReport", "plan", "render"]
