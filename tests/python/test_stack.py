"""The statistics stack loads once, under a lock, and nothing heavy comes with the lock's module."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_lock_loads_no_scientific_library() -> None:
    heavy = "('scipy', 'sklearn', 'statsmodels', 'phik')"
    code = f"import sys, metanprom.stack; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_two_threads_load_the_statistics_together_without_error() -> None:
    code = (
        "import threading, sys\n"
        "from metanprom.stack import load_statistics\n"
        "errors = []\n"
        "def load():\n"
        "    try:\n"
        "        load_statistics()\n"
        "        from metanprom.statistics.two_groups import welch  # noqa: F401\n"
        "    except Exception as exc:\n"
        "        errors.append(repr(exc))\n"
        "threads = [threading.Thread(target=load) for _ in range(4)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(errors, 'scipy.stats' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] True"
