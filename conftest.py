"""Loaded for every test path (tests/ and the notebooks nbval runs): kernels started by the suite
(nbval, papermill, renders) inherit CNFS_OUTPUTS and write their tables and figures in a temporary
folder, never into the project's outputs/. The test process itself has already read cnfs.paths."""

from __future__ import annotations

import os
import shutil
import tempfile

from cnfs import paths  # noqa: F401  (read before CNFS_OUTPUTS is set: this process keeps outputs/)

_KERNEL_OUTPUTS = tempfile.mkdtemp(prefix="cnfs-test-outputs-")
os.environ["CNFS_OUTPUTS"] = _KERNEL_OUTPUTS


def pytest_unconfigure(config):
    shutil.rmtree(_KERNEL_OUTPUTS, ignore_errors=True)
