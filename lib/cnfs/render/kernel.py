"""Kernels for the renderer: processes forked from a warm process where possible, else ipykernel.

On Linux each execution's worker gets, forked before anything else, a child that is an exact copy of the
warm render process (pandas, seaborn, statsmodels, scipy, matplotlib, papermill and cnfs already imported, no
thread and no zmq context started). That child waits for its orders, then either executes the notebook itself
(``cnfs.render.inprocess``, the default) or becomes a fresh ipykernel the worker drives over zmq
(CNFS_RENDER_KERNEL=fork): every notebook still runs in its own process, sharing no state with any other,
without paying the imports again. Elsewhere (or with CNFS_RENDER_KERNEL=subprocess) kernels are started the
usual way, as ``python -m ipykernel_launcher``.
"""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import importlib
import json
import logging
import os
import pkgutil
import select
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

KERNEL_NAME = "cnfs-project"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
# Imported once in the warm process; cnfs submodules are added by warm_up().
WARM_MODULES = (
    "numpy",
    "pandas",
    "scipy.stats",
    "statsmodels.stats.multitest",  # what cnfs uses; statsmodels.api (tsa, graphics, formulas) is never needed
    "matplotlib.pyplot",
    "seaborn",
    "pyarrow.parquet",
    "pyarrow.dataset",  # what pandas' parquet reader imports on first use
    "matplotlib.backends.backend_agg",  # the inline backend draws with it (importing it selects nothing)
    "yaml",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    # What ipykernel and IPython import while a kernel starts, and IPython's matplotlib support.
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.core.pylabtools",
    "IPython.extensions.storemagic",
    "tornado.platform.asyncio",
)
# Not imported by any kernel. matplotlib_inline.backend_inline is not warmed either: importing it inside a
# kernel is what hooks it into IPython (figures shown after each cell), so each kernel imports it itself.
_NOT_WARMED = ("cnfs.render", "cnfs.cli")
#: jsonschema (imported by nbformat, hence papermill) builds this package's IRI grammar when imported, about
#: 1 s of CPU, only to check "iri" formats; nbformat never checks formats, so the render does without it.
IRI_GRAMMAR = "rfc3987_syntax"
#: How long the client waits, once the kernel has answered, for IOPub messages still on their way.
IOPUB_SETTLE = 0.01
#: How often the manager checks that a killed kernel has ended (jupyter_client checks every 0.1 s, so each
#: execution's worker waited about 0.1 s for a kernel that was already gone).
KILL_POLL = 0.005
#: How often, in milliseconds, a client retries connecting to a kernel that is not listening yet. The client
#: connects as soon as the kernel is launched, before the kernel has bound its sockets; zmq retries every 100 ms
#: by default, and each execution waited for that retry: about 0.1 s, measured, for a kernel ready in 0.05 s.
RECONNECT_MS = 5
_PR_SET_PDEATHSIG = 1

# Kernel managers alive in this process, so a terminated worker can kill its kernels.
_LIVE: set[Any] = set()
# What a forked kernel runs when asked to execute a notebook itself (``cnfs.render.inprocess.run``, set by
# ``inprocess.prepare`` in the process kernels are forked from).
_EXECUTOR: Any = None
# The kernel process forked in advance by this worker, waiting for its connection file.
_PREFORKED: ForkedKernel | None = None


def kernel_argv() -> list[str]:
    """Command line of the project kernel: ipykernel under the running interpreter, no command history
    (a batch run has no use for it, and parallel kernels would contend for its SQLite file)."""
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--HistoryManager.enabled=False"]


def ipc_prefix() -> str:
    """Unique name prefix of a kernel's five sockets (the default, 'kernel-ipc' in the cwd, is shared by every
    kernel started from the same notebooks folder). On Linux, in the abstract namespace ('@' for zmq): no
    file is created, so a render killed outright (kill -9) leaves no socket behind. Any local user can reach
    such a socket, as with the TCP ports Jupyter uses by default; every message is signed with the key of the
    connection file, which only its owner can read. Elsewhere, files in the temporary folder."""
    name = f"cnfs-kernel-{uuid.uuid4().hex[:16]}"
    if sys.platform.startswith("linux"):
        return f"@{name}"
    return os.path.join(tempfile.gettempdir(), name)


def fork_supported() -> bool:
    """Whether kernels are forked from the warm process: Linux with fork, unless CNFS_RENDER_KERNEL=subprocess."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and os.environ.get("CNFS_RENDER_KERNEL", "inprocess") != "subprocess"
    )


def set_executor(run: Any) -> None:
    """What forked kernels run to execute a notebook themselves (see ``in_process``)."""
    global _EXECUTOR
    _EXECUTOR = run


def in_process() -> bool:
    """Whether a forked kernel executes its notebook itself (``cnfs.render.inprocess``, the default) rather than
    becoming an ipykernel its worker drives over zmq (CNFS_RENDER_KERNEL=fork)."""
    return fork_supported() and os.environ.get("CNFS_RENDER_KERNEL", "inprocess") == "inprocess"


def die_with_parent(expected_parent: int) -> None:
    """Linux: get SIGKILL when the parent dies (PR_SET_PDEATHSIG); exit now if it is already gone."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl in this libc: the parent's own cleanup remains
            return
    if os.getppid() != expected_parent:
        os._exit(1)


def skip_iri_grammar() -> None:
    """Make ``import rfc3987_syntax`` fail fast in this process (jsonschema treats it as optional), unless
    it is already imported; a forked kernel gets the real module back on first import (_kernel_child)."""
    sys.modules.setdefault(IRI_GRAMMAR, None)  # type: ignore[arg-type]


def restore_iri_grammar() -> None:
    """Undo ``skip_iri_grammar`` (in a forked kernel): a notebook that imports the package gets it."""
    if IRI_GRAMMAR in sys.modules and sys.modules[IRI_GRAMMAR] is None:
        del sys.modules[IRI_GRAMMAR]


def warm_up() -> None:
    """Import the libraries every notebook needs, once, in the process kernels are forked from.

    matplotlib is imported with the backend ipykernel gives every kernel (MPLBACKEND, unless the user
    set one), resolved lazily as in a fresh kernel; nothing here starts a thread or a zmq context.
    CNFS_RENDER_WARM (comma-separated modules) replaces the list, for quick tests; ipykernel stays.
    """
    chosen = os.environ.get("CNFS_RENDER_WARM")
    if chosen is not None:
        for name in [*filter(None, (n.strip() for n in chosen.split(","))), "ipykernel.kernelapp"]:
            importlib.import_module(name)
        return
    if "matplotlib" not in sys.modules:
        previous = os.environ.get("MPLBACKEND")
        os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
        try:
            importlib.import_module("matplotlib")
        finally:
            if previous is None:
                del os.environ["MPLBACKEND"]
    for name in WARM_MODULES:
        importlib.import_module(name)
    # What every kernel imports while starting (debugpy, 0.25 s); its frozen-modules notice goes nowhere.
    previous = os.environ.get("PYDEVD_DISABLE_FILE_VALIDATION")
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    try:
        importlib.import_module("ipykernel.debugger")
    finally:
        if previous is None:
            del os.environ["PYDEVD_DISABLE_FILE_VALIDATION"]
    import cnfs

    for info in pkgutil.walk_packages(cnfs.__path__, "cnfs."):
        if not info.name.startswith(_NOT_WARMED):
            importlib.import_module(info.name)
    _read_shared_inputs()
    from jupyter_client import localinterfaces

    # The machine's network addresses, which every kernel looks up while reading its connection file (psutil
    # imported, interfaces listed: 8 ms each); looked up once here, as each kernel would find them.
    localinterfaces.localhost()
    from PIL import Image

    Image.preinit()  # the image plugins PNG writing loads on first use
    freeze_heap()  # the warm process's modules, classes and inputs live as long as any kernel


#: What a folder step (tab book, spreadsheet) imports that kernels need too, about 0.7 s of CPU: imported by
#: the render process before it forks the first step, so that the step does not import it a second time.
STEP_MODULES = ("scipy.stats", "statsmodels.stats.multitest", "cnfs.tabbook", "cnfs.spreadsheet")
#: What the driver imports with papermill and nbconvert that kernels need too (numpy and pyarrow, which papermill
#: imports for its HDFS files, jinja2, yaml, dateutil), about 0.25 s of CPU: imported by the render process
#: before it forks the driver, so that the driver does not import it a second time.
DRIVER_MODULES = ("numpy", "pyarrow.fs", "jinja2", "yaml", "dateutil.parser")


def warm_up_part(names: tuple[str, ...]) -> None:
    """Import these modules of the warm-up now, before forking a process that needs them too (none when
    CNFS_RENDER_WARM chooses the warm-up's modules); matplotlib is never among them, so ``warm_up`` still
    imports it with the kernels' backend."""
    if os.environ.get("CNFS_RENDER_WARM") is not None:
        return
    for name in names:
        importlib.import_module(name)


def freeze_heap() -> None:
    """Leave this warm process's objects out of the garbage collector's walks, in every process forked from it
    from now on: their collections neither spend time on that heap nor copy it, page by page (gc.freeze)."""
    gc.collect()  # the garbage of the warm-up is freed, not frozen
    gc.freeze()


def _read_shared_inputs() -> None:
    """What every notebook reads or builds first, done once here (each cache is keyed on content or on path
    and date, as in a kernel): the codebook, the published figures, the population file, the memo's hash of
    the code (the code kernels run is this process's), pandas' table styler and its templates."""
    import pandas as pd

    from cnfs.codebook import load_codebook
    from cnfs.memo import code_fingerprint
    from cnfs.population import load_population
    from cnfs.reference import load_published

    load_codebook()
    load_published()
    code_fingerprint()
    try:
        load_population()
    except (OSError, ValueError):  # no population file, or a bad one: the notebooks say so
        pass
    pd.DataFrame({"a": [1]}).style.to_html()  # imports pandas.io.formats.style, compiles its templates


class ForkedKernel:
    """A child forked from the warm worker that becomes an ipykernel once given its connection file.

    Quacks like the ``subprocess.Popen`` jupyter_client's LocalProvisioner manages (poll, wait,
    send_signal, kill, terminate); it is our child, so its exit status is ours to collect.
    """

    stdin = stdout = stderr = None

    def __init__(self) -> None:
        parent = os.getpid()
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            os.close(write_fd)
            _kernel_child(read_fd, parent)
        os.close(read_fd)
        self.pid = pid
        self.returncode: int | None = None
        self._control: int | None = write_fd

    def start(self, argv: list[str], cwd: str | None, env: dict[str, str]) -> None:
        """Hand the child its kernel command line, folder and environment: it starts ipykernel."""
        self._send({"argv": argv, "cwd": cwd, "env": env})

    def start_execution(self, execution: dict[str, Any], cwd: str, env: dict[str, str]) -> None:
        """Hand the child a notebook to execute itself (``cnfs.render.inprocess.run``), its folder and environment."""
        self._send({"execute": execution, "cwd": cwd, "env": env})

    def ended_within(self, seconds: float | None) -> bool:
        """Wait at most ``seconds`` (None: as long as it takes) for the process to end; whether it has."""
        if seconds is None:
            self.wait()
            return True
        if self.poll() is not None:
            return True
        try:
            fd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):  # no pidfd: check again shortly
            time.sleep(min(seconds, 0.05))
        else:
            try:
                select.select([fd], [], [], seconds)
            finally:
                os.close(fd)
        return self.poll() is not None

    def _send(self, spec: dict[str, Any]) -> None:
        blob = json.dumps(spec).encode()
        fd = self.take_control()
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
        except BrokenPipeError:
            raise RuntimeError("le processus du noyau s'est arrêté avant de démarrer") from None

    def take_control(self) -> int:
        """Take the pipe the kernel's command goes on (to write it, or to hand it to the worker that will); no longer ours."""
        fd, self._control = self._control, None
        if fd is None:
            raise RuntimeError("noyau déjà démarré")
        return fd

    def release(self) -> None:
        """Tell an unused child to exit (closing its pipe without a command)."""
        if self._control is not None:
            os.close(self._control)
            self._control = None

    def _reap(self, flags: int) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, flags)
            except ChildProcessError:
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        """Exit code if the kernel process has ended, else None."""
        return self._reap(os.WNOHANG)

    def wait(self, timeout: float | None = None) -> int | None:
        """Block until the kernel process ends (the provisioner only calls this once poll() says so)."""
        return self._reap(0)

    def send_signal(self, signum: int) -> None:
        """Signal the kernel's process group (its own session), as jupyter_client does."""
        if self.poll() is not None:
            return
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            return
        except OSError:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class AdoptedKernel(ForkedKernel):
    """A kernel process forked by the render process and started by this worker (cnfs.render.driver).

    Not our child: its end is seen through a pidfd, and its exit status, collected by the render process,
    is not known here (an ended kernel reads as -1, which is all jupyter_client asks: alive or not).
    """

    def __init__(self, pid: int, control_fd: int) -> None:
        self.pid = pid
        self.returncode = None
        self._control = control_fd
        self._pidfd: int | None = os.pidfd_open(pid)

    def _reap(self, flags: int) -> int | None:
        if self.returncode is None and self._pidfd is not None:
            ready, _, _ = select.select([self._pidfd], [], [], 0 if flags & os.WNOHANG else None)
            if ready:
                self.returncode = -1
                os.close(self._pidfd)
                self._pidfd = None
        return self.returncode


def adopt(pid: int, control_fd: int) -> AdoptedKernel:
    """Make a kernel process forked elsewhere (by the render process) the one this worker starts."""
    global _PREFORKED
    _PREFORKED = AdoptedKernel(pid, control_fd)
    return _PREFORKED


def _kernel_child(control_fd: int, parent: int) -> None:  # pragma: no cover - forked child
    """Body of a forked kernel: wait for the command, then run ipykernel; never returns."""
    code = 1
    try:
        die_with_parent(parent)
        os.setsid()  # its own session, as jupyter_client gives kernels: interrupts reach its group only
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        faulthandler.disable()  # inherited from a parent that enabled it (pytest): a fresh kernel has none
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # kernel logs would interleave with the progress bar; outputs go over zmq
            os.dup2(null, fd)
        os.close(null)
        chunks = []
        while chunk := os.read(control_fd, 1 << 16):
            chunks.append(chunk)
        os.close(control_fd)
        if not chunks:  # released unused
            code = 0
            return
        spec = json.loads(b"".join(chunks))
        restore_iri_grammar()
        os.environ.clear()
        os.environ.update(spec["env"])
        if spec["cwd"]:
            os.chdir(spec["cwd"])
            sys.path.insert(0, spec["cwd"])  # as `python -m ipykernel_launcher` run from that folder
        if "numpy" in sys.modules:  # a fresh process draws its own seed; forked copies would share one
            sys.modules["numpy"].random.seed()
        if "execute" in spec:
            if _EXECUTOR is None:  # the render process forks kernels only after inprocess.prepare()
                raise RuntimeError("no in-process executor in this kernel")
            sys.argv = [""]
            logging.disable(logging.ERROR)  # papermill's notices: the result says what matters
            _EXECUTOR(spec["execute"])
            code = 0
            return
        argv = list(spec["argv"])
        args = argv[argv.index("ipykernel_launcher") + 1 :] if "ipykernel_launcher" in argv else argv[1:]
        sys.argv = ["ipykernel_launcher", *args]
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(args)
        align_matplotlib_backend(os.environ.get("MPLBACKEND"))
        app.start()
        code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def align_matplotlib_backend(wanted: str | None) -> None:
    """Make matplotlib use the backend a fresh kernel would, if the warm process had resolved another."""
    mpl = sys.modules.get("matplotlib")
    if mpl is None or not wanted:
        return
    current = dict.__getitem__(mpl.rcParams, "backend")
    plt = sys.modules.get("matplotlib.pyplot")
    resolved = plt is not None and getattr(plt, "_backend_mod", None) is not None
    if isinstance(current, str) and current.lower() == wanted.lower() and not resolved:
        return  # resolved at first use, exactly as in a fresh kernel
    mpl.use(wanted, force=True)


def prefork() -> ForkedKernel:
    """Fork this worker's kernel process now, while the worker is still an untouched copy of the warm process."""
    global _PREFORKED
    _PREFORKED = ForkedKernel()
    return _PREFORKED


def release_prefork() -> None:
    """Let an unused forked kernel exit and collect it (the job ended before its kernel was started)."""
    global _PREFORKED
    child, _PREFORKED = _PREFORKED, None
    if child is not None:
        child.release()
        child.wait()


def preforked() -> ForkedKernel:
    """This worker's forked kernel process, not started yet."""
    if _PREFORKED is None:
        raise RuntimeError("aucun noyau préparé pour ce processus")
    return _PREFORKED


def runs_in_process() -> bool:
    """Whether this worker's forked kernel is to execute the notebook itself (see ``in_process``)."""
    return _PREFORKED is not None and _PREFORKED._control is not None and in_process()


def preforked_pid() -> int | None:
    """Pid of this worker's forked kernel, if any."""
    return _PREFORKED.pid if _PREFORKED is not None else None


def _quick_reconnect_context(owner: Any) -> Any:
    """The zmq context of a project client or manager (its ``context`` default): its sockets retry a kernel that
    is not listening yet every RECONNECT_MS. Like jupyter_client's own default, ``owner`` closes it."""
    import zmq.asyncio

    owner._created_context = True
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)  # a default for every socket made from it afterwards
    return context


def _make_manager_class() -> type:
    """Build the kernel manager class lazily (jupyter_client is slow to import)."""
    from queue import Empty

    from jupyter_client.asynchronous.client import AsyncKernelClient
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner
    from traitlets import CaselessStrEnum, default

    class ProjectKernelClient(AsyncKernelClient):  # type: ignore[misc]
        """Waits for the kernel as jupyter_client does (kernel_info reply, IOPub connected), but not 0.2 s more
        for IOPub to fall silent: nbclient files every output under the request it answers, so a late status
        message of the kernel_info request is ignored anyway. Its sockets retry a kernel not yet listening
        every RECONNECT_MS."""

        _project_context = default("context")(_quick_reconnect_context)

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    pass
                else:
                    if msg["msg_type"] == "kernel_info_reply":
                        try:  # IOPub connected: the status messages of that request arrive
                            await self.iopub_channel.get_msg(timeout=0.2)
                        except Empty:
                            pass
                        else:
                            self._handle_kernel_info_reply(msg)
                            break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
            while True:  # what IOPub already holds, without waiting long for more
                try:
                    await self.iopub_channel.get_msg(timeout=IOPUB_SETTLE)
                except Empty:
                    break

    class ForkedProvisioner(LocalProvisioner):  # type: ignore[misc]
        """Starts the kernel in the process this worker forked in advance instead of spawning one."""

        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            global _PREFORKED
            child, _PREFORKED = _PREFORKED, None
            if child is None:  # a restart: no warm copy left, start it the usual way
                return await super().launch_kernel(cmd, **kwargs)
            env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
            cwd = kwargs.get("cwd") or os.getcwd()  # papermill chdirs into the notebook folder
            child.start(cmd, str(cwd) if cwd else None, env)
            self.process = child
            self.pid = self.pgid = child.pid
            self.cwd = cwd
            return self.connection_info

    class ProjectKernelManager(AsyncKernelManager):
        """Kernel manager whose spec is always sys.executable, never a kernelspec looked up on disk."""

        # Unix sockets named after the (unique) connection file: no TCP port race between the
        # kernels that parallel workers start at the same moment.
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("client_factory")
        def _project_client(self) -> type:
            return ProjectKernelClient

        _project_context = default("context")(_quick_reconnect_context)

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
                self.ip = ipc_prefix()
            if self.provisioner is None and _PREFORKED is not None:
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
                self.provisioner = ForkedProvisioner(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                )
            cmd, launch_kw = await super()._async_pre_start_kernel(**kw)
            # Kernel-level logs (not the notebook's output, which travels over iopub) would
            # interleave with the progress bar; errors still surface through nbclient.
            launch_kw.setdefault("stdout", subprocess.DEVNULL)
            launch_kw.setdefault("stderr", subprocess.DEVNULL)
            return cmd, launch_kw

        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            """Wait for the kernel process to end, checking every KILL_POLL seconds rather than every 0.1 s."""
            await super()._async_wait(pollinterval=min(pollinterval, KILL_POLL))

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
    pids = [getattr(getattr(km, "provisioner", None), "pid", None) for km in _LIVE]
    if _PREFORKED is not None:
        pids.append(_PREFORKED.pid)
    for pid in filter(None, pids):
        try:
            os.killpg(pid, signal.SIGKILL)  # kernels lead their own process group
        except OSError:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
    for km in list(_LIVE):
        for cleanup in ("cleanup_ipc_files", "cleanup_connection_file"):
            try:
                getattr(km, cleanup)()
            except OSError:  # already removed: the process is exiting anyway
                continue
    _LIVE.clear()
