"""Orchestration of a render: plan, skip what is up to date, execute in parallel, publish atomically."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, TextIO

from cnfs.render import fingerprint, manifest, summary
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
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


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
    shared_inputs: Mapping[str, Path] | None = None
    package_versions: Mapping[str, str] | None = None
    min_count: int | None = None  # disclosure threshold injected into the notebooks (None: the codebook's)


def _default_waves(path: Path | None) -> list[str]:
    """Waves present in the data, from cnfs.loader (imported only when needed)."""
    from cnfs.loader import available_waves

    return list(available_waves(path))


def _default_resolve(path: Path | None) -> Path:
    """Data file to use, from cnfs.loader (generates the synthetic twin on first use)."""
    from cnfs.loader import resolve_data_path

    return Path(resolve_data_path(path))


@contextlib.contextmanager
def _lock(output_root: Path) -> Iterator[None]:
    """Refuse two concurrent renders into the same outputs folder."""
    path = manifest.cache_dir(output_root) / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"Un autre rendu est en cours dans {output_root}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _no_interrupt() -> Iterator[None]:
    """Defer Ctrl-C while files are being moved into outputs/, so a publish is never cut in half."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _remove_stale_staging(output_root: Path) -> None:
    """Delete staging folders left by a killed render."""
    for p in output_root.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(p, ignore_errors=True)


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
    data_file = Path((resolve_data_path or _default_resolve)(requested)).resolve()
    data_digest = hasher.file(data_file)
    shared = fingerprint.shared_components(hasher, options.shared_inputs, options.package_versions)
    waves = _waves_for(data_file, data_digest, shared.get("input:lib", ""), cache, available_waves or _default_waves)
    notebooks = select_notebooks(discover_notebooks(notebooks_dir), options.notebooks)
    chosen = select_waves(all_waves(waves), options.waves)
    jobs = build_jobs(notebooks, chosen, output_root, data_file, requested)
    if options.min_count is not None:
        for job in jobs:
            job.parameters["min_count"] = int(options.min_count)
    for job in jobs:
        job.components = fingerprint.execution_components(
            shared, fingerprint.notebook_hash(job.notebook.path), job.parameters, data_digest
        )
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
        "notebook": str(job.notebook.path),
        "wave": job.wave,
        "wave_folder": wave_folder(job.wave),
        "synthetic": job.synthetic,
        "data_file": str(job.data_file),
    }
    job.wave_dir.mkdir(parents=True, exist_ok=True)
    failed_nb = job.wave_dir / f"{stem}.failed.ipynb"
    with _no_interrupt():
        if result["status"] == "ok":
            files = [f for f in result["files"] if f not in (f"{stem}.ipynb", f"{stem}.html")]
            for rel in [*files, f"{stem}.ipynb", f"{stem}.html"]:
                dst = job.wave_dir / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(stage / rel, dst)
            for rel in set(old.get("files", [])) - set(files):
                if not _claimed_elsewhere(output_root, job, rel):
                    (job.wave_dir / rel).unlink(missing_ok=True)
            failed_nb.unlink(missing_ok=True)
            entry.update(status="ok", key=job.key, components=job.components, files=files,
                         last_attempt=attempt, last_ok=attempt)
            manifest.save(output_root, job.ident, entry)
            shutil.rmtree(stage, ignore_errors=True)
            return Outcome(job, "ok", result.get("duration", 0.0))
        produced = stage / f"{stem}.ipynb"
        if produced.exists():
            os.replace(produced, failed_nb)
        kept = {k: old[k] for k in ("key", "components", "files", "last_ok") if k in old}
        entry.update(kept)
        entry.update(status="failed", error=result.get("error"), last_attempt=attempt)
        manifest.save(output_root, job.ident, entry)
        shutil.rmtree(stage, ignore_errors=True)
    return Outcome(job, "failed", result.get("duration", 0.0), error=result.get("error"),
                   failed_notebook=failed_nb if failed_nb.exists() else None)


def _terminate_pool(executor: Any) -> None:
    """Stop a process pool now: cancel queued jobs and terminate running workers (they kill their kernels)."""
    procs = list(getattr(executor, "_processes", {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()


def _execute(jobs: list[Job], options: RenderOptions, output_root: Path, stream: TextIO) -> list[Outcome]:
    """Run jobs in worker processes, publishing each as soon as it finishes."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from tqdm import tqdm

    from cnfs.render import execute

    staging = Path(output_root) / f"{STAGING_PREFIX}{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=True)
    workers = max(1, min(options.jobs or os.cpu_count() or 1, len(jobs)))
    outcomes: list[Outcome] = []
    bar = tqdm(total=len(jobs), desc="Rendu", unit="exéc.", file=stream,
               disable=(not options.progress) if options.progress is not None else None)
    # Import papermill/nbconvert and build the HTML exporter once, here, rather than once per worker.
    import papermill  # noqa: F401

    from cnfs.render import export
    export.prepare()
    # fork: workers start in milliseconds with cnfs already imported (Linux; elsewhere the platform default).
    context = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=execute.init_worker)
    provenance = {f: _provenance(f) for f in {job.data_file for job in jobs}}
    try:
        pending = {}
        for job in jobs:
            prov = provenance[job.data_file]
            payload = job.to_payload() | {"provenance": prov}
            payload["synthetic"] = job.synthetic or bool(prov and prov.get("synthetic"))
            pending[executor.submit(execute.run_job, payload, str(staging), options.timeout)] = job
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                job = pending.pop(fut)
                try:
                    result = fut.result()
                except Exception as exc:  # worker crashed
                    result = {"status": "failed", "stage": str(staging / job.wave_dir.name / job.notebook.stem),
                              "files": [], "duration": 0.0,
                              "error": {"cell_index": None, "execution_count": None, "source": "",
                                        "ename": type(exc).__name__, "evalue": str(exc)}}
                outcome = _publish(job, result, output_root)
                outcomes.append(outcome)
                bar.set_postfix_str(job.label, refresh=False)
                bar.update(1)
                if outcome.state == "failed":
                    bar.write(f"✗ {job.label} : échec", file=stream)
        executor.shutdown(wait=True)
    except BaseException:
        _terminate_pool(executor)
        raise
    finally:
        bar.close()
        shutil.rmtree(staging, ignore_errors=True)
    return outcomes


def render(
    options: RenderOptions,
    *,
    available_waves: Callable[[Path | None], list[str]] | None = None,
    resolve_data_path: Callable[[Path | None], Path] | None = None,
    stream: TextIO | None = None,
) -> RenderReport:
    """Render the selected notebooks × waves, re-executing only what changed; never raises on a failing notebook."""
    from cnfs import paths
    from cnfs.render import index

    started = time.perf_counter()
    stream = stream or sys.stderr
    output_root = Path(options.output_dir or paths.OUTPUTS).resolve()
    output_root.mkdir(parents=True, exist_ok=True)
    with _lock(output_root):
        _remove_stale_staging(output_root)
        hasher = fingerprint.FileHasher(manifest.cache_dir(output_root) / "file-hashes.json")
        jobs = plan(options, available_waves=available_waves, resolve_data_path=resolve_data_path, hasher=hasher)
        hasher.save()
        outcomes: dict[str, Outcome] = {}
        to_run: list[Job] = []
        for job in jobs:
            fresh, reasons = _up_to_date(job, output_root, options.force)
            if fresh:
                outcomes[job.ident] = Outcome(job, "cached")
            else:
                outcomes[job.ident] = Outcome(job, "cancelled", reasons=reasons)
                to_run.append(job)
        if options.dry_run:
            report = RenderReport(list(outcomes.values()), EXIT_OK, output_root, time.perf_counter() - started)
            summary.print_plan(report, stream)
            return report
        code = EXIT_OK
        try:
            if to_run:
                for o in _execute(to_run, options, output_root, stream):
                    o.reasons = outcomes[o.job.ident].reasons
                    outcomes[o.job.ident] = o
        except KeyboardInterrupt:
            code = EXIT_INTERRUPTED
        finally:
            index.write_index(output_root)
        if code == EXIT_OK and any(o.state == "failed" for o in outcomes.values()):
            code = EXIT_FAILED
        report = RenderReport(list(outcomes.values()), code, output_root, time.perf_counter() - started)
    summary.print_summary(report, stream)
    return report


__all__ = ["RenderOptions", "RenderReport", "Outcome", "plan", "render"]
