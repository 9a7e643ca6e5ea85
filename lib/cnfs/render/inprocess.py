"""Kernel side of an in-process execution: papermill runs the notebook in the forked kernel process itself.

A kernel forked from the warm render process already holds everything a notebook needs. Instead of becoming an
ipykernel that a worker drives over zmq (each cell a request, each output a signed JSON message, both sides
busy), it runs papermill with the ``cnfs-inprocess`` engine: each cell goes to an IPython shell in this process,
whose outputs are collected as the notebook's, exactly as ipykernel formats them (same display formatter, same
matplotlib-inline hook, same tracebacks). The worker that asked for it waits, then exports the HTML.
Still one fresh process per notebook × wave, sharing no state with any other.
"""

from __future__ import annotations

import copy
import datetime as _dt
import io
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ipykernel.jsonutil import encode_images, json_clean
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from nbformat.v4 import new_output
from papermill.engines import Engine, papermill_engines

ENGINE = "cnfs-inprocess"


class CellTimeoutError(KeyboardInterrupt):
    """Raised in a cell that ran longer than the render's ``--timeout`` (a KeyboardInterrupt, as the interrupt
    nbclient sends a kernel: a notebook's ``except Exception`` does not swallow it)."""


class _Outputs:
    """Where the running cell's outputs go (nbformat output dicts, in the order they were produced)."""

    def __init__(self) -> None:
        self.cell: list[Any] = []
        self.clear_pending = False
        self.displays: dict[str, list[Any]] = {}  # display_id -> the outputs showing it

    def start(self, outputs: list[Any]) -> None:
        self.cell = outputs
        self.clear_pending = False

    def add(self, output: Any) -> Any:
        if self.clear_pending:
            self.cell.clear()
            self.clear_pending = False
        self.cell.append(output)
        return output


OUTPUTS = _Outputs()


class Stream(io.TextIOBase):
    """The notebook's sys.stdout or sys.stderr. As ipykernel's, text is held until a flush: before each display,
    result or error, at the end of the cell, or when the notebook flushes; then stdout before stderr, each
    added to the cell's last output when that is the same stream (as nbclient merges them)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pending: list[str] = []

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._pending.append(text)
        return len(text)

    def flush(self) -> None:
        text = "".join(self._pending)
        self._pending.clear()
        if not text:
            return
        cell = OUTPUTS.cell
        last = cell[-1] if cell and not OUTPUTS.clear_pending else None
        if last is not None and last.get("output_type") == "stream" and last.get("name") == self.name:
            last["text"] += text
        else:
            OUTPUTS.add(new_output(output_type="stream", name=self.name, text=text))

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False


STREAMS = (Stream("stdout"), Stream("stderr"))


def flush_streams() -> None:
    """What the cell printed so far, stdout first, as ipykernel flushes its streams before any other output."""
    for stream in STREAMS:
        stream.flush()


class Publisher(DisplayPublisher):
    """display(): a display_data output; update_display() updates the outputs with that display_id."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):  # type: ignore[no-untyped-def,override]
        flush_streams()
        data = json_clean(encode_images(data))
        display_id = (transient or {}).get("display_id")
        if update:
            for shown in OUTPUTS.displays.get(display_id, []):
                shown["data"], shown["metadata"] = data, metadata or {}
            return
        shown = OUTPUTS.add(new_output(output_type="display_data", data=data, metadata=metadata or {}))
        if display_id:
            OUTPUTS.displays.setdefault(display_id, []).append(shown)

    def clear_output(self, wait: bool = False) -> None:
        flush_streams()
        if wait:
            OUTPUTS.clear_pending = True
        else:
            OUTPUTS.cell.clear()


class ResultHook(DisplayHook):
    """The value of a cell's last expression: an execute_result output with the cell's execution count."""

    def start_displayhook(self) -> None:
        flush_streams()
        self._result: tuple[dict[str, Any], dict[str, Any]] | None = None

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict, md_dict=None) -> None:  # type: ignore[no-untyped-def,override]
        self._result = (json_clean(encode_images(format_dict)), md_dict or {})

    def finish_displayhook(self) -> None:
        if self._result is not None:
            data, metadata = self._result
            OUTPUTS.add(
                new_output(
                    output_type="execute_result", data=data, metadata=metadata, execution_count=self.prompt_count
                )
            )
        self._result = None


class Shell(InteractiveShell):
    """IPython's shell, its outputs collected as a notebook's instead of printed."""

    display_pub_class = Publisher  # type: ignore[assignment]
    displayhook_class = ResultHook  # type: ignore[assignment]

    def enable_gui(self, gui: str | None = None) -> None:  # no event loop to integrate: figures are inline
        pass

    def _showtraceback(self, etype, evalue, stb):  # type: ignore[no-untyped-def,override]
        flush_streams()
        OUTPUTS.add(new_output(output_type="error", ename=etype.__name__, evalue=str(evalue), traceback=list(stb)))

    def init_io(self) -> None:  # sys.stdout and sys.stderr are the engine's streams
        pass


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _on_alarm(signum: int, frame: Any) -> None:
    raise CellTimeoutError("cellule interrompue : durée maximale dépassée")


class InProcessEngine(Engine):
    """papermill engine: each code cell run by this process's IPython shell, in order, stopping at the first error
    (as papermill's nbclient engine does). Empty cells are skipped, as nbclient skips them.

    ``on_cell_start(cell=, cell_index=)`` is called before each cell, as nbclient calls it (the worker learns
    which cell a dead process was running); ``execution_timeout`` interrupts a cell that runs longer (SIGALRM)."""

    @classmethod
    def execute_managed_notebook(  # type: ignore[override]
        cls,
        nb_man: Any,
        kernel_name: str,
        execution_timeout: float | None = None,
        on_cell_start: Callable[[Any, int], None] | None = None,
        **kwargs: Any,
    ) -> Any:
        from ipykernel.ipkernel import IPythonKernel

        shell = make_shell()
        # What nbclient records from a kernel's kernel_info reply (the HTML export highlights the code with it).
        nb_man.nb.metadata["language_info"] = copy.deepcopy(IPythonKernel.language_info)
        streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = STREAMS
        previous = signal.signal(signal.SIGALRM, _on_alarm) if execution_timeout else None
        try:
            for index, cell in enumerate(nb_man.nb.cells):
                try:
                    nb_man.cell_start(cell, index)
                    if cell.cell_type != "code" or not cell.source.strip():
                        continue
                    if on_cell_start is not None:
                        on_cell_start(cell=cell, cell_index=index)
                    cell.outputs = []
                    OUTPUTS.start(cell.outputs)
                    cell.execution_count = shell.execution_count
                    timing = {"iopub.status.busy": _now(), "iopub.execute_input": _now()}
                    if execution_timeout:
                        signal.setitimer(signal.ITIMER_REAL, execution_timeout)
                    try:
                        result = shell.run_cell(cell.source, store_history=True)
                    finally:
                        if execution_timeout:
                            signal.setitimer(signal.ITIMER_REAL, 0)
                        flush_streams()
                    timing["shell.execute_reply"] = timing["iopub.status.idle"] = _now()
                    cell.metadata["execution"] = timing
                    if not result.success:
                        nb_man.cell_exception(cell, cell_index=index, exception=result.error_in_exec)
                        break
                finally:
                    nb_man.cell_complete(cell, cell_index=index)
        finally:
            sys.stdout, sys.stderr = streams
            if previous is not None:
                signal.signal(signal.SIGALRM, previous)
        return nb_man.nb


def make_shell() -> Shell:
    """This process's IPython shell (made once): no history file, as the render's ipykernels are started."""
    from traitlets.config import Config

    if Shell.initialized():
        return Shell.instance()
    from ipykernel.compiler import XCachingCompiler

    config = Config()
    config.HistoryManager.enabled = False
    return Shell.instance(config=config, compiler_class=XCachingCompiler)  # ipykernel's: cells named as there


def prepare() -> None:
    """Import papermill and register the engine in the warm process, before kernels are forked from it."""
    import nbformat

    from cnfs.render import kernel

    papermill_engines.register(ENGINE, InProcessEngine)
    kernel.set_executor(run)
    nbformat.validate(nbformat.v4.new_notebook())  # builds the validator papermill uses on every read and write


def run(spec: dict[str, Any]) -> None:
    """Body of a forked kernel given a notebook to execute: execute it here, write the executed notebook in the
    staging folder, and the outcome (or, before each cell, the cell being run) in ``spec["report"]``."""
    from cnfs import atomic
    from cnfs.render import execute, kernel

    make_shell()  # before matplotlib's backend is chosen: matplotlib-inline hooks into the shell it finds
    kernel.align_matplotlib_backend(os.environ.get("MPLBACKEND"))
    report = Path(spec["report"])

    def started(cell: Any, index: int) -> None:
        report.write_text(json.dumps({"running": {"cell": index, "source": cell.source}}), encoding="utf-8")

    result, _ = execute.execute_notebook(
        spec["payload"], spec["staging_root"], spec["timeout"], engine=ENGINE, on_cell_start=started
    )
    atomic.write_text(report, json.dumps({"result": result}, ensure_ascii=False))
