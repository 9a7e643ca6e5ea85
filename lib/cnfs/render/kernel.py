"""A kernel bound to this project's interpreter, whatever kernelspecs the user has installed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from typing import Any

KERNEL_NAME = "cnfs-project"

# Kernel managers alive in this process, so a terminated worker can kill its kernels.
_LIVE: set[Any] = set()


def kernel_argv() -> list[str]:
    """Command line of the project kernel: ipykernel under the running interpreter."""
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def _make_manager_class() -> type:
    """Build the kernel manager class lazily (jupyter_client is slow to import)."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class ProjectKernelManager(AsyncKernelManager):
        """Kernel manager whose spec is always sys.executable, never a kernelspec looked up on disk."""

        # Unix sockets named after the (unique) connection file: no TCP port race between the
        # kernels that parallel workers start at the same moment.
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @property
        def kernel_spec(self) -> KernelSpec:  # type: ignore[override]
            if self._kernel_spec is None:
                self._kernel_spec = KernelSpec(
                    argv=kernel_argv(),
                    display_name="Python (cnfs, environnement du projet)",
                    language="python",
                    interrupt_mode="signal",
                    metadata={"debugger": False},
                )
            return self._kernel_spec

        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            _LIVE.add(self)
            if self.transport == "ipc":
                # Absolute, unique socket prefix: the default ('kernel-ipc' in the cwd) is shared by
                # every kernel started from the same notebooks folder.
                self.ip = os.path.join(tempfile.gettempdir(), f"cnfs-kernel-{uuid.uuid4().hex[:16]}")
            cmd, launch_kw = await super()._async_pre_start_kernel(**kw)
            # Kernel-level logs (not the notebook's output, which travels over iopub) would
            # interleave with the progress bar; errors still surface through nbclient.
            launch_kw.setdefault("stdout", subprocess.DEVNULL)
            launch_kw.setdefault("stderr", subprocess.DEVNULL)
            return cmd, launch_kw

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            _LIVE.discard(self)
            await super()._async_cleanup_resources(restart=restart)

    return ProjectKernelManager


_CLASS: type | None = None


def manager_class() -> type:
    """The (cached) project kernel manager class, for nbclient's kernel_manager_class."""
    global _CLASS
    if _CLASS is None:
        _CLASS = _make_manager_class()
    return _CLASS


def kill_live_kernels() -> None:
    """Kill the kernels started by this process and remove their socket files (used on termination)."""
    for km in list(_LIVE):
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        pid = getattr(proc, "pid", None)
        if not pid:
            continue
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for cleanup in ("cleanup_ipc_files", "cleanup_connection_file"):
            try:
                getattr(km, cleanup)()
            except OSError:  # already removed: the process is exiting anyway
                continue
    _LIVE.clear()
