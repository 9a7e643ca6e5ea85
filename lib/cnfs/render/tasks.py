"""A render's steps besides the notebooks: each wave folder's tab book and spreadsheet.

Each is keyed on its inputs and redone only when they changed: the tab book on the data, the shared
inputs (lib, codebook, banners, population…), the package versions and its parameters; the spreadsheet
on the content of the folder's tables (CSV and their meta JSON), so a notebook re-run that rewrites
identical tables does not rebuild it. They run in the render's worker pool, next to the notebooks
(a spreadsheet once every notebook of its folder has been published). Keys are stored under
``outputs/.cache/steps/`` once a step has succeeded.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnfs.render import fingerprint, manifest
from cnfs.render.plan import WEIGHTED_SUFFIX, Job, wave_label

TABBOOK, WORKBOOK = "tabbook", "workbook"
STEPS_DIRNAME = "steps"
_LABELS = {TABBOOK: "tableaux croisés", WORKBOOK: "classeur des tableaux"}
# Components of a notebook execution that do not concern a folder's tab book.
_NOT_TABBOOK = ("notebook", fingerprint.TEXT, "parameters")


@dataclass
class FolderTask:
    """One step for one wave folder: its kind, key and what the worker needs."""

    kind: str
    folder: str
    wave: str
    wave_dir: Path
    key: str
    params: dict[str, Any]

    @property
    def ident(self) -> str:
        return f"{self.folder}/:{self.kind}"

    @property
    def label(self) -> str:
        return f"{_LABELS[self.kind]} [{self.folder}]"

    def to_payload(self) -> dict[str, Any]:
        return {"kind": self.kind, "folder": self.folder, "wave": self.wave, "wave_dir": str(self.wave_dir)} | {
            "params": dict(self.params)
        }


def _state_path(output_root: Path, kind: str, folder: str) -> Path:
    return manifest.cache_dir(output_root) / STEPS_DIRNAME / kind / f"{folder}.json"


def stored_key(output_root: Path, kind: str, folder: str) -> str | None:
    """Key of the last successful run of a step, or None."""
    try:
        return str(json.loads(_state_path(output_root, kind, folder).read_text(encoding="utf-8"))["key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record(output_root: Path, task: FolderTask) -> None:
    """Remember that a step succeeded with its key."""
    manifest.atomic_write_text(_state_path(output_root, task.kind, task.folder), json.dumps({"key": task.key}))


def _folders(jobs: Sequence[Job]) -> dict[str, Job]:
    """First job of each wave folder, in plan order."""
    out: dict[str, Job] = {}
    for job in jobs:
        out.setdefault(job.wave_dir.name, job)
    return out


def tabbook_tasks(jobs: Sequence[Job], output_root: Path, force: bool = False) -> list[FolderTask]:
    """The tab books to (re)write: one per wave folder whose inputs changed, or whose files are missing."""
    from cnfs.tabbook_files import TABBOOK_STEM

    tasks = []
    for folder, job in _folders(jobs).items():
        comps = {k: v for k, v in job.components.items() if k not in _NOT_TABBOOK}
        params = {"data_path": job.parameters.get("data_path"), "min_count": job.parameters.get("min_count")}
        shown = {k: (fingerprint.relative(v) if k == "data_path" and v else v) for k, v in params.items()}
        key = fingerprint.text_hash({"components": comps, "wave": job.wave, "folder": folder, "params": shown})
        fresh = stored_key(output_root, TABBOOK, folder) == key and (job.wave_dir / f"{TABBOOK_STEM}.xlsx").is_file()
        if force or not fresh:
            tasks.append(FolderTask(TABBOOK, folder, job.wave, job.wave_dir, key, params))
    return tasks


def _table_sources(wave_dir: Path) -> list[Path]:
    """The files a folder's spreadsheet is built from: tables/*.csv and their meta JSON."""
    tables = wave_dir / "tables"
    if not tables.is_dir():
        return []
    return sorted(p for p in tables.rglob("*") if p.is_file() and p.suffix in (".csv", ".json"))


def workbook_task(output_root: Path, folder: str, salt: Mapping[str, str], force: bool = False) -> FolderTask | None:
    """The spreadsheet step of a wave folder if its tables (or the code) changed since it was built, else None."""
    from cnfs.spreadsheet import workbook_name

    wave_dir = output_root / folder
    entries = [e for e in manifest.iter_all(output_root) if str(e.get("wave_folder", e.get("wave"))) == folder]
    sources = _table_sources(wave_dir)
    if not entries or not sources:
        return None
    wave = str(entries[0].get("wave"))
    params = {
        "synthetic": any(bool(e.get("synthetic")) for e in entries),
        "label": wave_label(wave) + (", pondéré" if folder.endswith(WEIGHTED_SUFFIX) else ""),
    }
    digest = hashlib.sha256(fingerprint.text_hash([dict(salt), params]).encode())
    for p in sources:
        digest.update(p.relative_to(wave_dir).as_posix().encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    key = digest.hexdigest()
    if (
        not force
        and stored_key(output_root, WORKBOOK, folder) == key
        and (wave_dir / workbook_name(wave_dir)).is_file()
    ):
        return None
    return FolderTask(WORKBOOK, folder, wave, wave_dir, key, params)


def run_task(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Do one step (in a worker process); never raises. Files are written atomically by the steps themselves,
    so a failure leaves the previous ones in place."""
    started = time.perf_counter()
    kind, wave_dir, params = payload["kind"], Path(payload["wave_dir"]), payload["params"]
    try:
        if kind == TABBOOK:
            from cnfs.tabbook import write_wave_tabbook

            written = write_wave_tabbook(wave_dir, payload["wave"], params.get("data_path"), params.get("min_count"))
        else:
            import datetime as dt

            from cnfs.spreadsheet import wave_workbook

            book = wave_workbook(
                wave_dir, synthetic=params["synthetic"], produced=dt.datetime.now(dt.UTC), label=params["label"]
            )
            written = [book] if book is not None else []
        return {"status": "ok", "files": len(written), "duration": time.perf_counter() - started}
    except Exception as exc:  # reported by the render; the previous files stay
        return {
            "status": "failed",
            "error": f"{type(exc).__name__} : {exc}" if str(exc) else traceback.format_exc(limit=3),
            "duration": time.perf_counter() - started,
        }


def worker_main(conn: Any, payload: dict[str, Any], parent: int) -> None:
    """Body of the process that does one step: dies with the render, ignores Ctrl-C (the render handles it)."""
    from cnfs.render import kernel

    kernel.die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda s, f: os._exit(128 + s))
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    conn.send(run_task(payload))
    conn.close()
