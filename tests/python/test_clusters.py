"""Clusters, without a build: on data whose true groups are known, the chosen k and the labels recover them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metanprom.statistics.clusters import FEATURE_SQL, centres, select_k

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


def test_the_centres_are_the_true_groups_means_in_the_features_units() -> None:
    frame, truth = _three_groups()
    found = centres(frame, "bank_scrooge", k=len(SIZES))
    assert len(found) == len(SIZES) * len(FEATURE_SQL)
    assert list(found.loc[found["centre_index"] == 0, "feature"]) == list(FEATURE_SQL)
    # the standardisation is the fit sample's mean and (population) standard deviation
    first = found[found["centre_index"] == 0].set_index("feature")
    assert np.allclose(first["feature_mean"], frame.mean().to_numpy(), rtol=1e-12)
    assert np.allclose(first["feature_scale"], frame.std(ddof=0).to_numpy(), rtol=1e-12)
    # well separated groups: each centre is one group's mean, worked here from the true labels
    means = frame.groupby(truth).mean()
    for _, centre in found.groupby("centre_index"):
        coordinates = centre.set_index("feature")["centre"].reindex(list(FEATURE_SQL)).to_numpy()
        nearest = np.argmin(((means.to_numpy() - coordinates) ** 2).sum(axis=1))
        assert np.allclose(coordinates, means.iloc[nearest].to_numpy(), rtol=1e-9, atol=1e-9)
