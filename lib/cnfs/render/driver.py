"""The driver: the process the notebooks' workers are forked from, warmed while the render process warms up.

A worker has its kernel execute one notebook (or drives it with papermill and nbclient, CNFS_RENDER_KERNEL=fork)
and exports its HTML (nbconvert); a kernel needs pandas, seaborn, statsmodels and cnfs. The render process forks the driver first, then imports what kernels need
(``kernel.warm_up``) while the driver, on the other core, imports papermill and nbconvert and builds the
HTML exporter. The render process then forks each kernel itself (a copy of the warm process, as before) and
asks the driver for a worker, handing it the kernel's control pipe and the pipe its result goes back on;
the driver forks the worker and reports its exit status. Kernels are never children of their worker, so the
worker follows its kernel through a pidfd (Linux 5.3 and later); without one, workers are forked from the
render process as before.
"""

from __future__ import annotations

import json
import os
import select
import selectors
import signal
import socket
import struct
from collections.abc import Callable
from typing import Any

_STATUS = struct.Struct("i")
_MAX_REQUEST = 1 << 20


def supported() -> bool:
    """Whether this system can follow a process that is not its child (pidfd), which driven workers need."""
    if not hasattr(os, "pidfd_open") or not hasattr(socket, "send_fds"):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return False
    return True


class DrivenWorker:
    """A worker forked by the driver, as the render sees it: what it uses of ``multiprocessing.Process``.

    Its pid comes with its first message (``_Worker.drain``); its exit status comes from the driver on a
    pipe, whose end is the sentinel; a driver that died first reads as SIGKILL (its workers die with it).
    """

    def __init__(self, status_fd: int) -> None:
        self.sentinel = status_fd
        self.pid: int | None = None
        self.exitcode: int | None = None

    def _poll(self, timeout: float | None) -> int | None:
        if self.exitcode is None:
            ready, _, _ = select.select([self.sentinel], [], [], timeout)
            if ready:
                data = os.read(self.sentinel, _STATUS.size)
                self.exitcode = _STATUS.unpack(data)[0] if len(data) == _STATUS.size else -signal.SIGKILL
                os.close(self.sentinel)
        return self.exitcode

    def is_alive(self) -> bool:
        return self._poll(0) is None

    def join(self, timeout: float | None = None) -> None:
        self._poll(timeout)

    def kill(self) -> None:
        if self.pid is not None and self.exitcode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Driver:
    """The driver process, seen from the render process: forked at once, asked for workers, closed at the end."""

    def __init__(self, warm: Callable[[], None], parent: int) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the driver, which never returns
            ours.close()
            _driver_main(theirs, warm, parent)
        theirs.close()
        self.pid = pid
        self._sock: socket.socket | None = ours
        self.broken = False  # a request could not be sent: no more workers from it (those running go on)

    def spawn(self, request: dict[str, Any], kernel_fd: int) -> tuple[DrivenWorker, Any]:
        """Ask for a worker running ``execute.driven_main(request)`` with this kernel control pipe (closed here);
        returns the worker and the connection its messages come on."""
        import multiprocessing

        if self._sock is None:
            raise RuntimeError("driver closed")
        receive, send = multiprocessing.Pipe(duplex=False)
        status_r, status_w = os.pipe()
        try:
            socket.send_fds(self._sock, [json.dumps(request).encode()], [send.fileno(), kernel_fd, status_w])
        except OSError:
            self.broken = True
            os.close(status_r)
            raise
        finally:
            send.close()
            os.close(status_w)
            os.close(kernel_fd)
        return DrivenWorker(status_r), receive

    def kill(self) -> None:
        """End the driver now (its workers die with it) and collect it."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.close()

    def close(self) -> None:
        """End the driver (it exits when its socket closes; workers still running die with it) and collect it."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass


def _driver_main(sock: socket.socket, warm: Callable[[], None], parent: int) -> None:  # pragma: no cover
    """Body of the driver: warm up, then fork a worker per request and report each one's exit status."""
    from cnfs.render import kernel

    code = 1
    children: dict[int, int] = {}  # worker pid -> the pipe its exit status goes on
    try:
        kernel.die_with_parent(parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the render's to handle

        def _stop(signum: int, frame: Any) -> None:
            for pid in children:
                try:
                    os.kill(pid, signal.SIGTERM)  # a worker kills its kernel, then exits
                except ProcessLookupError:
                    pass
            os._exit(128 + signum)

        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _stop)
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.set_wakeup_fd(wake_w)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        warm()
        # Without this, a worker's first full collection walks the driver's heap: 0.06 s and 5,000 pages copied each.
        kernel.freeze_heap()
        me = os.getpid()
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            selector.register(wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is sock:
                        message, fds, _, _ = socket.recv_fds(sock, _MAX_REQUEST, 3)
                        if not message:  # the render closed its end, or ended
                            code = 0
                            return
                        result_fd, kernel_fd, status_fd = fds
                        pid = os.fork()
                        if pid == 0:
                            sock.close()
                            signal.set_wakeup_fd(-1)
                            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                            for fd in (wake_r, wake_w, status_fd, *children.values()):
                                os.close(fd)
                            _worker(result_fd, kernel_fd, json.loads(message), me)
                        os.close(result_fd)
                        os.close(kernel_fd)
                        children[pid] = status_fd
                    else:
                        while True:
                            try:
                                os.read(wake_r, 4096)
                            except BlockingIOError:
                                break
                        _reap(children)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _reap(children: dict[int, int]) -> None:  # pragma: no cover - in the driver
    """Collect the workers that ended and send each one's exit status to the render."""
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = children.pop(pid, None)
        if fd is None:
            continue
        try:
            os.write(fd, _STATUS.pack(os.waitstatus_to_exitcode(status)))
        except OSError:  # the render is gone
            pass
        os.close(fd)


def _worker(result_fd: int, kernel_fd: int, request: dict[str, Any], driver: int) -> None:  # pragma: no cover
    """Body of a driven worker (never returns)."""
    code = 1
    try:
        from multiprocessing.connection import Connection

        from cnfs.render import execute

        execute.driven_main(Connection(result_fd, readable=False), kernel_fd, request, driver)
        code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)
