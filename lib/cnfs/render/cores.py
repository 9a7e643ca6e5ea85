"""How many cores a render may keep busy: those this process may run on, within its container's CPU quota.

``os.cpu_count()`` counts the machine's cores. In a container limited with ``docker run --cpus 2`` on a 64-core
host, or on a CI runner given 2 CPUs of a larger machine, it says 64, and a render would start 65 processes on 2
cores' worth of time (and their memory). The quota is read where a container sees it (the root of its cgroup
tree, v2 then v1), as joblib's loky does; the affinity (``taskset``, cpusets) from the scheduler.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

#: Where a process sees its CPU quota: cgroup v2's ``cpu.max`` ("max 100000" or "200000 100000"), then cgroup v1's
#: quota and period (a quota of -1 is no limit).
CGROUP_V2_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def cgroup_quota(
    v2_max: Path = CGROUP_V2_MAX, v1_quota: Path = CGROUP_V1_QUOTA, v1_period: Path = CGROUP_V1_PERIOD
) -> int | None:
    """The CPU quota in whole cores, rounded up (1.5 cores: 2), or None when there is none or it cannot be read."""
    quota = period = None
    try:
        parts = v2_max.read_text().split()
        if len(parts) == 2:
            quota, period = parts
    except OSError:
        pass
    if quota is None:
        try:
            quota, period = v1_quota.read_text().strip(), v1_period.read_text().strip()
        except OSError:
            return None
    try:
        q, p = int(quota), int(period or 0)
    except ValueError:  # "max": no limit
        return None
    return max(1, math.ceil(q / p)) if q > 0 and p > 0 else None


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
