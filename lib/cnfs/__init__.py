"""cnfs: loaders, scoring and plotting helpers for the CnFS research notebooks.

Submodules are imported lazily so that ``import cnfs`` stays fast in notebooks.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load_survey": "cnfs.loader",
    "load_codebook": "cnfs.codebook",
    "load_published": "cnfs.reference",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cnfs' has no attribute {name!r}")
