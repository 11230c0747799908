"""Adjusted p-values equal statsmodels' own, and the garbage collector is left as it was."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from metanprom.multiple_testing import adjusted_p_values


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_adjusted_p_values_are_statsmodels(method: str) -> None:
    p = np.random.default_rng(7).uniform(0, 0.2, size=40)
    np.testing.assert_array_equal(adjusted_p_values(p, method), multipletests(p, method=method)[1])


def test_gc_collect_is_restored_even_from_parallel_threads() -> None:
    collect = gc.collect
    p = [0.01, 0.02, 0.5]
    threads = [threading.Thread(target=adjusted_p_values, args=(p, "holm")) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.collect is collect
    assert gc.collect() >= 0
