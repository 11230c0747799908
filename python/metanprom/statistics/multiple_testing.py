"""Adjusted p-values (Holm, Benjamini-Hochberg) from statsmodels, with its forced garbage collection made cheap.

statsmodels' `multipletests` calls `gc.collect()` on every Holm adjustment. In a
small script that is free; inside dbt's process (about 300,000 live objects,
Python models running in parallel threads) each call takes about 0.2 s and holds
the GIL, so the other models wait too. The adjustment itself is statsmodels',
unchanged. Nothing is replaced: `gc.collect` stays Python's own for every
thread. For the length of the call the objects alive at its start are frozen
(`gc.freeze`, the collector's documented way to exclude long-lived objects), so
the collection statsmodels forces scans only what the call itself made; they
are unfrozen afterwards and collected as usual from then on.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Sequence

import numpy as np
from statsmodels.stats.multitest import multipletests

_LOCK = threading.Lock()


def adjusted_p_values(p_values: Sequence[float] | np.ndarray, method: str) -> np.ndarray:
    """The p-values adjusted by `method` (`holm` or `fdr_bh`, statsmodels' names)."""
    values = np.asarray(p_values, dtype=float)
    with _LOCK:  # one freeze at a time: an unfreeze never ends another call's freeze early
        gc.freeze()
        try:
            return np.asarray(multipletests(values, method=method)[1], dtype=float)
        finally:
            gc.unfreeze()
