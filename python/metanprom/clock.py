"""Wall and CPU time of a step, so a figure says whether a step waited or worked.

On a machine of n cores a step that keeps them all busy spends n CPU seconds
per second of wall time: there, running steps side by side or in another order
cannot make it faster, only less work can. A step near one CPU second per
second runs on one core.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass, field


def cpu_seconds() -> float:
    """CPU seconds (user and system) used so far by this process, every thread of it (dbt's, DuckDB's), and
    by every child process it has waited for (Hyper's server, Spark's JVM)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Stopwatch:
    """Started when made: `wall()` and `cpu()` are the seconds since."""

    started_wall: float = field(default_factory=time.perf_counter)
    started_cpu: float = field(default_factory=cpu_seconds)

    def wall(self) -> float:
        return time.perf_counter() - self.started_wall

    def cpu(self) -> float:
        return cpu_seconds() - self.started_cpu
