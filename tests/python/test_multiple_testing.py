"""Adjusted p-values against values worked by hand and scipy's own Benjamini-Hochberg; the garbage collector
is left whole (never replaced, every object collectable again after the call)."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from metanprom.statistics import multiple_testing
from metanprom.statistics.multiple_testing import adjusted_p_values


def test_holm_is_the_value_worked_by_hand() -> None:
    # sorted: 0.005, 0.01, 0.03, 0.04 with multipliers 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max
    # 0.02, 0.03, 0.06, 0.06; back in the input order:
    p = [0.01, 0.04, 0.03, 0.005]
    np.testing.assert_allclose(adjusted_p_values(p, "holm"), [0.03, 0.06, 0.06, 0.02], rtol=1e-12)
    np.testing.assert_allclose(adjusted_p_values([0.3, 0.6], "holm"), [0.6, 0.6], rtol=1e-12)
    assert adjusted_p_values([0.9, 0.8], "holm").tolist() == [1.0, 1.0], "capped at 1"


def test_benjamini_hochberg_is_scipys() -> None:
    p = np.random.default_rng(7).uniform(0, 0.2, size=40)
    np.testing.assert_allclose(adjusted_p_values(p, "fdr_bh"), false_discovery_control(p, method="bh"), rtol=1e-12)


def test_the_collector_is_never_replaced_and_frees_everything_afterwards(monkeypatch) -> None:
    seen = []

    def spy(values, method):
        seen.append((gc.collect is REAL_COLLECT, gc.get_freeze_count() > 0))
        return (None, np.asarray(values))

    monkeypatch.setattr(multiple_testing, "multipletests", spy)

    class Node:
        pass

    gc.disable()  # only the explicit collection below may free the cycle
    try:
        cycle = Node()
        cycle.self = cycle  # garbage only a collection frees
        alive = weakref.ref(cycle)
        del cycle
        threads = [threading.Thread(target=adjusted_p_values, args=([0.01, 0.2], "holm")) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.enable()
    assert seen == [(True, True)] * 8, "gc.collect is Python's own, and the call's collection skips frozen objects"
    assert gc.get_freeze_count() == 0, "nothing stays frozen"
    gc.collect()
    assert alive() is None, "an object made before the call is collected afterwards"


REAL_COLLECT = gc.collect


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_an_error_inside_statsmodels_unfreezes(method: str, monkeypatch) -> None:
    def broken(values, method):
        raise RuntimeError("boom")

    monkeypatch.setattr(multiple_testing, "multipletests", broken)
    with pytest.raises(RuntimeError):
        adjusted_p_values([0.1], method)
    assert gc.get_freeze_count() == 0
