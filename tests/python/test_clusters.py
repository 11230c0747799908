"""Clusters, without a build: on data whose true groups are known, the chosen k and the labels recover them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from metanprom.statistics.clusters import FEATURE_SQL, assign, select_k

SIZES = (600, 300, 150)


def _three_groups() -> tuple[pd.DataFrame, np.ndarray]:
    """Three well-separated groups of customers in the clustering features, of known sizes."""
    rng = np.random.default_rng(7)
    centres = rng.normal(0, 10, size=(len(SIZES), len(FEATURE_SQL)))
    truth = np.repeat(np.arange(len(SIZES)), SIZES)
    values = centres[truth] + rng.normal(0, 0.3, size=(len(truth), len(FEATURE_SQL)))
    return pd.DataFrame(values, columns=list(FEATURE_SQL)), truth


def test_the_chosen_k_is_the_number_of_true_groups_and_ward_agrees() -> None:
    frame, _ = _three_groups()
    selection = select_k(frame, "bank_scrooge")
    assert list(selection["k"]) == list(range(2, 8))
    chosen = selection.loc[selection["is_chosen"]].iloc[0]
    assert chosen["k"] == len(SIZES)
    assert chosen["ward_agreement_ari"] > 0.99
    assert chosen["bootstrap_stability_ari"] > 0.99


def test_labels_recover_the_groups_numbered_by_size_and_chunks_change_nothing() -> None:
    frame, truth = _three_groups()
    arrays = {name: frame[name].to_numpy() for name in FEATURE_SQL}
    labels = assign(frame, arrays, k=len(SIZES))
    assert adjusted_rand_score(truth, labels) > 0.99
    # 1 = the largest cluster, then by size
    assert [int((labels == label).sum()) for label in (1, 2, 3)] == list(SIZES)
    assert np.array_equal(assign(frame, arrays, k=len(SIZES), chunk=97), labels)
