"""Wall and CPU seconds of a step: work counts, waiting does not, and a child process's work counts once it
has been waited for."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from metanprom.clock import Stopwatch

#: A child that works (no sleeping) until its own CPU clock shows half a second, then prints that clock.
BUSY_CHILD = "import time\nwhile time.process_time() < 0.5:\n    sum(range(10_000))\nprint(time.process_time())"


def test_sleeping_takes_wall_time_and_almost_no_cpu_time() -> None:
    watch = Stopwatch()
    time.sleep(0.6)
    assert watch.wall() >= 0.6
    assert watch.cpu() < 0.2


def test_work_in_this_process_counts() -> None:
    watch = Stopwatch()
    # this thread works until the process's own clock (time.process_time, another source) has moved 0.4 s
    start = time.process_time()
    while time.process_time() - start < 0.4:
        sum(range(10_000))
    assert 0.4 <= watch.cpu() <= watch.wall() * (os.cpu_count() or 1) + 0.05


def test_a_waited_for_child_processs_work_counts() -> None:
    watch = Stopwatch()
    reported = float(subprocess.run([sys.executable, "-c", BUSY_CHILD], capture_output=True, text=True).stdout)
    # the child's own clock is the reference: all of it is in the parent's figure, with the parent's own bit
    assert reported >= 0.5
    assert reported - 0.02 <= watch.cpu() <= watch.wall() * (os.cpu_count() or 1) + 0.05
