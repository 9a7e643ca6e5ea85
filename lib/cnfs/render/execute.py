"""Worker side: run one notebook with papermill into a staging folder and export its HTML there."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from cnfs.render import kernel


def worker_main(
    conn: Any, payload: dict[str, Any], staging_root: str, timeout: float | None, parent: int, fork_kernel: bool
) -> None:
    """Body of the process that renders one job: its kernel is forked first, the result goes back on conn.

    The worker dies with the render (PR_SET_PDEATHSIG), ignores Ctrl-C (the render handles it) and,
    on SIGTERM or SIGHUP, kills its kernel before exiting.
    """
    _become_worker(parent)
    if fork_kernel:
        kernel.prefork()
    _serve(conn, payload, staging_root, timeout)


def driven_main(conn: Any, kernel_fd: int, request: dict[str, Any], driver: int) -> None:
    """Body of a worker forked by the driver (cnfs.render.driver): its kernel, forked by the render process,
    is adopted through its pid and control pipe; otherwise as ``worker_main``."""
    _become_worker(driver)
    kernel.adopt(request["kernel_pid"], kernel_fd)
    _serve(conn, request["payload"], request["staging_root"], request["timeout"])


def _become_worker(parent: int) -> None:
    """Die with the parent, leave Ctrl-C to the render, kill the kernel on SIGTERM or SIGHUP."""
    kernel.die_with_parent(parent)
    logging.disable(logging.ERROR)  # nbclient logs what the summary says better (dead kernel, timeout)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def _terminate(signum: int, frame: Any) -> None:
        kernel.kill_live_kernels()
        os._exit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _serve(conn: Any, payload: dict[str, Any], staging_root: str, timeout: float | None) -> None:
    """Say who runs (this worker, its kernel), run the job, send its result."""
    conn.send({"kernel_pid": kernel.preforked_pid(), "worker_pid": os.getpid()})
    result = run_job(payload, staging_root, timeout)
    conn.send(result)
    conn.close()


def _excerpt(source: str, limit: int = 6) -> str:
    """First lines of a cell source, for error summaries."""
    lines = source.strip("\n").splitlines()
    text = "\n".join(lines[:limit])
    return text + ("\n…" if len(lines) > limit else "")


def _failing_cell(nb: Any) -> tuple[int | None, int | None, str]:
    """Index in the source notebook (papermill's added cells skipped), execution count and source of the failing cell."""
    offset = 0
    for i, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            offset += 1
            continue
        if cell.cell_type != "code":
            continue
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return i - offset, cell.get("execution_count"), cell.source
    return None, None, ""


class CellTracker:
    """nbclient's on_cell_start hook: remembers the cell being run, to name it if the kernel dies or hangs."""

    def __init__(self) -> None:
        self.added = 0  # cells papermill inserted before the current one
        self.current: tuple[int | None, int | None, str] = (None, None, "")

    def __call__(self, cell: Any, cell_index: int) -> None:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "papermill-error-cell-tag" in tags:
            self.added += 1
            return
        self.current = (cell_index - self.added, None, cell.source)


def _restore_output_dir(nb: Any, staged: str, final: str) -> None:
    """Show the wave folder, not the staging folder, in the injected-parameters cell and papermill's metadata."""
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = cell.source.replace(repr(staged), repr(final)).replace(staged, final)
    record = nb.metadata.get("papermill", {})
    for key in ("output_path",):
        if isinstance(record.get(key), str):
            record[key] = record[key].replace(staged, final)
    parameters = record.get("parameters", {})
    for key, value in parameters.items():
        if isinstance(value, str):
            parameters[key] = value.replace(staged, final)


def _list_files(root: Path) -> list[str]:
    """Files written under a staging folder, relative, sorted."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _known_failure(name: str, timeout: float | None) -> str | None:
    """The French line for the ways a kernel can fail a whole execution (it died, a cell ran too long), by name."""
    if name == "DeadKernelError":
        return "le noyau s'est arrêté pendant l'exécution de la cellule (os._exit, plantage ou mémoire épuisée)"
    if name == "CellTimeoutError":
        return f"la cellule a dépassé la durée maximale ({timeout:g} s) et a été interrompue"
    return None


def _explain(exc: Exception, timeout: float | None) -> str:
    """A French first line for the ways a kernel can fail a whole execution, else the original message."""
    return _known_failure(type(exc).__name__, timeout) or str(exc) or traceback.format_exc(limit=3)


def report_context(payload: dict[str, Any], executed_at: str | None, duration: float | None) -> dict[str, Any]:
    """What a report's HTML says about its execution: parameters, data, provenance, when, how long, cache key."""
    stem = payload["stem"]
    return {
        "parameters": payload["parameters"],
        "data_file": payload["data_file"],
        "data_sha256": payload["components"].get("data"),
        "synthetic": payload["synthetic"],
        "provenance": payload.get("provenance"),
        "notebook": Path(payload["notebook"]).name,
        "executed_at": executed_at,
        "duration": duration,
        "python": sys.executable,
        "cache_key": payload["key"][:16],
        "ipynb_name": f"{stem}.ipynb",
        "title": stem,
    }


def run_job(payload: dict[str, Any], staging_root: str, timeout: float | None = None) -> dict[str, Any]:
    """Execute one job into staging_root/<wave>/<stem>/ and report what happened (never raises).

    The notebook is executed by this worker's forked kernel in its own process (``cnfs.render.inprocess``) when it
    has one, else by papermill here, driving a kernel over zmq; the HTML is exported here."""
    started = time.perf_counter()
    nb = None
    result: dict[str, Any] | None = None
    try:
        if kernel.runs_in_process():
            result = _execute_in_kernel(payload, staging_root, timeout)
        else:
            result, nb = execute_notebook(payload, staging_root, timeout)
        result["duration"] = round(time.perf_counter() - started, 3)
        if result["status"] == "ok":
            from cnfs.render.export import export_html, read_executed

            stage = Path(result["stage"])
            nb = nb if nb is not None else read_executed(stage / f"{payload['stem']}.ipynb")
            export_html(
                nb,
                stage / f"{payload['stem']}.html",
                report_context(payload, result["executed_at"], result["duration"]),
            )
    except Exception as exc:  # export error, a kernel that could not be started…
        result = result or _staged(payload, staging_root)[0]
        result["status"] = "failed"
        result["error"] = _error(None, None, "", type(exc).__name__, _explain(exc, timeout))
    finally:
        kernel.release_prefork()
    result["duration"] = round(time.perf_counter() - started, 3)
    result["files"] = _list_files(Path(result["stage"]))
    return result


#: How long past the render's --timeout a cell may go on before its kernel is killed: the kernel interrupts the
#: cell itself at the timeout (SIGALRM), unless it is stuck in code that never returns to Python.
TIMEOUT_GRACE = 5.0


def _execute_in_kernel(payload: dict[str, Any], staging_root: str, timeout: float | None) -> dict[str, Any]:
    """Have this worker's forked kernel execute the notebook in its own process (``cnfs.render.inprocess``) and
    wait for it to end: its result, or what happened to it (died, or stuck in a cell past the timeout)."""
    child = kernel.preforked()
    report = Path(staging_root) / f".kernel-{child.pid}.json"
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", kernel.INLINE_BACKEND)  # what ipykernel gives a kernel
    child.start_execution(
        {"payload": payload, "staging_root": staging_root, "timeout": timeout, "report": str(report)},
        str(Path(payload["notebook"]).parent),
        env,
    )
    stuck = False
    while not child.ended_within(1.0 if timeout else None):
        try:
            running_for = time.time() - report.stat().st_mtime
        except OSError:
            continue
        if timeout and running_for > timeout + TIMEOUT_GRACE:
            child.kill()
            stuck = True
    try:
        state = json.loads(report.read_text(encoding="utf-8"))
        report.unlink()
    except (OSError, ValueError):
        state = {}
    if "result" in state and not stuck:
        result: dict[str, Any] = state["result"]
        return result
    running = state.get("running", {})
    result = _staged(payload, staging_root)[0]
    result["status"] = "failed"
    why = "CellTimeoutError" if stuck else "DeadKernelError"
    result["error"] = _error(
        running.get("cell"), None, running.get("source", ""), why, _known_failure(why, timeout) or ""
    )
    return result


def _staged(payload: dict[str, Any], staging_root: str) -> tuple[dict[str, Any], Path]:
    """A job's result record before execution, and its staging folder (created)."""
    wave_dir = Path(payload["wave_dir"])
    stage = Path(staging_root) / wave_dir.name / payload["stem"]
    stage.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "ident": f"{wave_dir.name}/{payload['stem']}",
        "stage": str(stage),
        "executed_at": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "status": "ok",
        "error": None,
    }
    return result, stage


def _error(index: int | None, count: int | None, source: str, ename: str, evalue: str) -> dict[str, Any]:
    return {
        "cell_index": index,
        "execution_count": count,
        "source": _excerpt(source),
        "ename": ename,
        "evalue": evalue[:2000],
    }


def execute_notebook(
    payload: dict[str, Any],
    staging_root: str,
    timeout: float | None = None,
    engine: str | None = None,
    on_cell_start: Any = None,
) -> tuple[dict[str, Any], Any]:
    """Execute one job's notebook with papermill (with ``engine``, else driving a kernel over zmq) into its staging
    folder, paths restored, without the HTML: the result record and the executed notebook (never raises)."""
    result, stage = _staged(payload, staging_root)
    stem = payload["stem"]
    out_nb = stage / f"{stem}.ipynb"
    params = dict(payload["parameters"])
    final_output_dir = params["output_dir"]
    params["output_dir"] = str(stage)
    nb = None
    tracker = CellTracker()

    def cell_started(cell: Any, cell_index: int) -> None:  # nbclient passes both by keyword
        tracker(cell, cell_index)
        if on_cell_start is not None:
            on_cell_start(cell, tracker.current[0])

    import nbformat

    try:
        import papermill as pm
        from papermill.exceptions import PapermillExecutionError

        options: dict[str, Any] = (
            {"engine_name": engine}
            if engine
            else {"kernel_manager_class": kernel.manager_class(), "shutdown_kernel": "immediate"}
        )
        try:
            nb = pm.execute_notebook(
                payload["notebook"],
                str(out_nb),
                parameters=params,
                kernel_name=kernel.KERNEL_NAME,
                language="python",
                progress_bar=False,
                request_save_on_cell_execute=False,
                cwd=str(Path(payload["notebook"]).parent),
                execution_timeout=timeout,
                on_cell_start=cell_started,  # outputs are all received; a graceful stop only costs time
                **options,
            )
        except PapermillExecutionError as exc:
            nb = nbformat.read(str(out_nb), as_version=4) if out_nb.exists() else None
            index, count, source = _failing_cell(nb) if nb is not None else (None, None, "")
            result["status"] = "failed"
            evalue = (_known_failure(exc.ename, timeout) if exc.ename == "CellTimeoutError" else None) or str(
                exc.evalue
            )
            result["error"] = _error(
                index, count if count is not None else exc.exec_count, source or exc.source or "", exc.ename, evalue
            )
        if nb is not None:
            _restore_output_dir(nb, str(stage), final_output_dir)
            from cnfs.render.export import scrub_paths

            scrub_paths(nb)  # no absolute machine path in the executed notebook or its HTML
            nbformat.write(nb, str(out_nb))
    except Exception as exc:  # kernel died, timeout, bad notebook…
        result["status"] = "failed"
        index, count, source = tracker.current if nb is None else (None, None, "")
        result["error"] = result["error"] or _error(index, count, source, type(exc).__name__, _explain(exc, timeout))
    return result, nb
