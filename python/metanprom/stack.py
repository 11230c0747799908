"""Load the statistics package (and with it scipy, statsmodels, scikit-learn, phik) one thread at a time.

dbt runs Python models in parallel threads; two threads importing scipy at
once can see a partially initialised submodule (seen: `scipy.stats._qmc`).
Every Python model calls `load_statistics()` before importing anything from
`metanprom.statistics`; this module imports nothing heavy itself, so
importing it from two threads is safe.
"""

from __future__ import annotations

import threading

_LOCK = threading.Lock()


def load_statistics() -> None:
    """Import `metanprom.statistics` (the scientific stack) under a process-wide lock; a no-op once done."""
    with _LOCK:
        import metanprom.statistics  # noqa: F401
