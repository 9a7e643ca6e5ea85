"""How many cores a render may keep busy: those this process may run on, within its container's CPU quota.

``os.cpu_count()`` counts the machine's cores. In a container limited with ``docker run --cpus 2`` on a 64-core
host, or on a CI runner given 2 CPUs of a larger machine, it says 64, and a render would start 65 processes on 2
cores' worth of time (and their memory). The quota is read from the process's cgroup and its parents (cgroup v2:
a container sees its own at the root, ``systemd-run -p CPUQuota=200%`` sets one below it), else from cgroup v1
as a container sees it; the affinity (``taskset``, cpusets, Slurm) from the scheduler.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

#: Where a process sees its CPU quota: cgroup v2's ``cpu.max`` ("max 100000" or "200000 100000") in its cgroup and
#: each parent up to the root (a container sees its own at the root), then cgroup v1's quota and period (-1: none).
CGROUP_ROOT = Path("/sys/fs/cgroup")
MEMBERSHIP = Path("/proc/self/cgroup")


def _cores(quota: str, period: str) -> int | None:
    """A quota over its period in whole cores, rounded up (1.5 cores: 2); None for "max" or a negative quota."""
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return max(1, math.ceil(q / p)) if q > 0 and p > 0 else None


def cgroup_quota(root: Path = CGROUP_ROOT, membership: Path = MEMBERSHIP) -> int | None:
    """The tightest CPU quota on this process's cgroups, in whole cores, or None when none is set or readable."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        lines = []
    own = next((line[3:] for line in lines if line.startswith("0::")), "/")  # cgroup v2: "0::/a/b"
    folder = root / own.strip("/")
    found = []
    for d in [folder, *folder.parents]:
        try:
            found.append(_cores(*d.joinpath("cpu.max").read_text().split()))
        except (OSError, TypeError):  # no such file here, or not "quota period"
            pass
        if d == root:
            break
    if any(q is not None for q in found):
        return min(q for q in found if q is not None)
    if found:  # cgroup v2 without a limit
        return None
    try:  # cgroup v1, as a container sees it
        quota = root.joinpath("cpu", "cpu.cfs_quota_us").read_text().strip()
        period = root.joinpath("cpu", "cpu.cfs_period_us").read_text().strip()
    except OSError:
        return None
    return _cores(quota, period)


@functools.cache
def usable_cores() -> int:
    """Cores this process may keep busy: the ones it may run on, no more than its cgroup's quota, at least 1
    (read once per process: a render asks at every turn of its loop)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    quota = cgroup_quota()
    return max(1, min(n, quota) if quota is not None else n)
