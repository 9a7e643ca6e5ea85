"""Batch rendering of the notebooks: parallel, incremental papermill runs per wave into HTML reports.

Public entry points: ``main(argv)`` (CLI, also behind ``cnfs render``), ``run(args)`` for parsed
arguments, and ``render(RenderOptions(...))`` for Python callers.
Submodules are imported lazily so ``cnfs render`` with nothing to do starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "main": "cnfs.render.cli",
    "run": "cnfs.render.cli",
    "configure": "cnfs.render.cli",
    "render": "cnfs.render.runner",
    "RenderOptions": "cnfs.render.runner",
    "RenderReport": "cnfs.render.runner",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cnfs.render' has no attribute {name!r}")
