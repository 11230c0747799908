"""Adjusted p-values (Holm, Benjamini-Hochberg) from statsmodels, without its forced garbage collection.

statsmodels' `multipletests` calls `gc.collect()` on every Holm adjustment. In a
small script that is free; inside dbt's process (about 300,000 live objects,
Python models running in parallel threads) each call takes about 0.2 s and holds
the GIL, so the other models wait too. The adjustment itself is statsmodels',
unchanged: only the collection is skipped, for the length of the call.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Sequence

import numpy as np
from statsmodels.stats.multitest import multipletests

_COLLECT = gc.collect
_LOCK = threading.Lock()


def _no_collection(generation: int = 2) -> int:
    return 0


def adjusted_p_values(p_values: Sequence[float] | np.ndarray, method: str) -> np.ndarray:
    """The p-values adjusted by `method` (`holm` or `fdr_bh`, statsmodels' names)."""
    with _LOCK:  # one patch at a time, and always restored to the real gc.collect
        gc.collect = _no_collection
        try:
            return np.asarray(multipletests(np.asarray(p_values, dtype=float), method=method)[1], dtype=float)
        finally:
            gc.collect = _COLLECT
