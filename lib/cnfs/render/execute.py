"""Worker side: run one notebook with papermill into a staging folder and export its HTML there."""

from __future__ import annotations

import datetime as _dt
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


def _explain(exc: Exception, timeout: float | None) -> str:
    """A French first line for the ways a kernel can fail a whole execution, then the original message."""
    name = type(exc).__name__
    if name == "DeadKernelError":
        return "le noyau s'est arrêté pendant l'exécution de la cellule (os._exit, plantage ou mémoire épuisée)"
    if name == "CellTimeoutError":
        return f"la cellule a dépassé la durée maximale ({timeout:g} s) et a été interrompue"
    return str(exc) or traceback.format_exc(limit=3)


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
    """Execute one job into staging_root/<wave>/<stem>/ and report what happened (never raises)."""
    started = time.perf_counter()
    executed_at = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    stem = payload["stem"]
    wave_dir = Path(payload["wave_dir"])
    stage = Path(staging_root) / wave_dir.name / stem
    stage.mkdir(parents=True, exist_ok=True)
    out_nb = stage / f"{stem}.ipynb"
    params = dict(payload["parameters"])
    final_output_dir = params["output_dir"]
    params["output_dir"] = str(stage)
    result: dict[str, Any] = {
        "ident": f"{wave_dir.name}/{stem}",
        "stage": str(stage),
        "executed_at": executed_at,
        "status": "ok",
        "error": None,
    }
    nb = None
    tracker = CellTracker()
    import nbformat

    try:
        import papermill as pm
        from papermill.exceptions import PapermillExecutionError

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
                kernel_manager_class=kernel.manager_class(),
                execution_timeout=timeout,
                shutdown_kernel="immediate",
                on_cell_start=tracker,  # outputs are all received; a graceful stop only costs time
            )
        except PapermillExecutionError as exc:
            nb = nbformat.read(str(out_nb), as_version=4) if out_nb.exists() else None
            index, count, source = _failing_cell(nb) if nb is not None else (None, None, "")
            result["status"] = "failed"
            result["error"] = {
                "cell_index": index,
                "execution_count": count if count is not None else exc.exec_count,
                "source": _excerpt(source or exc.source or ""),
                "ename": exc.ename,
                "evalue": str(exc.evalue)[:2000],
            }
        if nb is not None:
            _restore_output_dir(nb, str(stage), final_output_dir)
            from cnfs.render.export import scrub_paths

            scrub_paths(nb)  # no absolute machine path in the executed notebook or its HTML
            nbformat.write(nb, str(out_nb))
        result["duration"] = round(time.perf_counter() - started, 3)
        if result["status"] == "ok" and nb is not None:
            from cnfs.render.export import export_html

            export_html(nb, stage / f"{stem}.html", report_context(payload, executed_at, result["duration"]))
    except Exception as exc:  # kernel died, timeout, bad notebook, export error…
        result["status"] = "failed"
        index, count, source = tracker.current if nb is None else (None, None, "")
        result["error"] = result["error"] or {
            "cell_index": index,
            "execution_count": count,
            "source": _excerpt(source),
            "ename": type(exc).__name__,
            "evalue": _explain(exc, timeout)[:2000],
        }
    finally:
        kernel.release_prefork()
    result["duration"] = round(time.perf_counter() - started, 3)
    result["files"] = _list_files(stage)
    return result
