"""Customer clusters with scikit-learn: KMeans chosen by silhouette, checked against Ward and by bootstrap.

KMeans is fitted on a fixed sample of at most FIT_SAMPLE customers (read by
DuckDB, not loaded whole), and every quadratic or repeated step (silhouette,
Ward, bootstrap refits) runs on subsamples of it, so the cost stays flat as the
extract grows. The centres (`centres`) go back to the engine, which assigns every
customer to the nearest one in SQL.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import cut_tree, ward
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from metanprom import project

log = logging.getLogger(__name__)

K_RANGE = range(project.clusters()["k_min"], project.clusters()["k_max"] + 1)
FIT_SAMPLE = 20_000
EVAL_SAMPLE = 2_000
BOOTSTRAPS = 5
BOOTSTRAP_ROWS = 5_000
SEED = project.random_seed()


#: The clustering features as SQL over `customers` (declared in dbt_project.yml, var `clusters`): numbers
#: only, so the fit sample is read as NumPy arrays (no strings).
FEATURE_SQL = project.clusters()["features"]
INPUT_COLUMNS = tuple(f"{sql} as {name}" for name, sql in FEATURE_SQL.items())


def features(customers: pd.DataFrame | dict[str, np.ndarray]) -> np.ndarray:
    """The clustering features (columns named as in FEATURE_SQL) as a matrix."""
    return np.column_stack([np.asarray(customers[name], dtype=float) for name in FEATURE_SQL])


def _prepared(sample: pd.DataFrame) -> tuple[StandardScaler, np.ndarray, np.ndarray]:
    """The scaler fitted on the sample, and the fit and evaluation samples scaled (the evaluation sample:
    the first EVAL_SAMPLE customers of the fit sample, which is in sample order)."""
    x = features(sample)
    scaler = StandardScaler().fit(x)
    scaled = scaler.transform(x)
    # the sample arrives in sample order (frames.SAMPLE_ORDER): its first rows are a sample of their own
    return scaler, scaled, scaled[:EVAL_SAMPLE]


def _kmeans(fit_x: np.ndarray, k: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=2, random_state=SEED).fit(fit_x)


def select_k(sample: pd.DataFrame, extract: str) -> pd.DataFrame:
    """One row per k in K_RANGE: silhouette, Ward agreement, bootstrap stability; the best silhouette chosen."""
    # dbt runs models in parallel threads: OpenMP threads on top of them only spin and wait.
    with threadpool_limits(1):
        return _select_k(sample, extract)


def _select_k(customers: pd.DataFrame, extract: str) -> pd.DataFrame:
    _, fit_x, eval_x = _prepared(customers)
    # Ward's tree does not depend on k: built once, cut at each k (the partition scikit-learn's
    # AgglomerativeClustering(linkage="ward") gives, which builds the same scipy tree for every k).
    ward_cuts = cut_tree(ward(eval_x), n_clusters=list(K_RANGE))
    rows = []
    for index, k in enumerate(K_RANGE):
        model = _kmeans(fit_x, k)
        eval_labels = model.predict(eval_x)
        silhouette = silhouette_score(eval_x, eval_labels)
        ward_labels = ward_cuts[:, index]
        boot = []
        for b in range(BOOTSTRAPS):
            size = min(BOOTSTRAP_ROWS, len(fit_x))
            sample = np.random.default_rng([SEED, k, b]).choice(len(fit_x), size=size, replace=True)
            refit = KMeans(n_clusters=k, n_init=1, random_state=b).fit(fit_x[sample])
            boot.append(adjusted_rand_score(eval_labels, refit.predict(eval_x)))
        rows.append(
            {
                "extract": extract,
                "k": k,
                "inertia_per_customer": float(model.inertia_ / len(fit_x)),
                "silhouette": float(silhouette),
                "ward_agreement_ari": float(adjusted_rand_score(eval_labels, ward_labels)),
                "bootstrap_stability_ari": float(np.mean(boot)),
                "bootstrap_stability_ari_min": float(np.min(boot)),
                "fit_sample_customers": len(fit_x),
                "evaluation_sample_customers": len(eval_x),
            }
        )
    selection = pd.DataFrame(rows)
    chosen_k = int(selection.sort_values(["silhouette", "k"], ascending=[False, True]).iloc[0]["k"])
    selection["is_chosen"] = selection["k"] == chosen_k
    chosen = selection.loc[selection["is_chosen"]].iloc[0]
    log.info(
        "clusters of %s: k=%d chosen (silhouette %.3f, Ward ARI %.2f, bootstrap ARI %.2f)",
        extract,
        chosen_k,
        chosen["silhouette"],
        chosen["ward_agreement_ari"],
        chosen["bootstrap_stability_ari"],
    )
    return selection


def centres(sample: pd.DataFrame, extract: str, k: int) -> pd.DataFrame:
    """KMeans with k clusters fitted on `sample` as in `select_k`: one row per centre and feature, with the
    scaler's mean and scale, so SQL can assign every customer to the nearest centre (`customer_clusters`)."""
    scaler, fit_x, _ = _prepared(sample)
    with threadpool_limits(1):
        model = _kmeans(fit_x, k)
    rows = [
        {
            "extract": extract,
            "k": k,
            "centre_index": index,
            "feature": feature,
            "feature_mean": float(scaler.mean_[j]),
            "feature_scale": float(scaler.scale_[j]),
            "centre_standardised": float(model.cluster_centers_[index, j]),
            "centre": float(model.cluster_centers_[index, j] * scaler.scale_[j] + scaler.mean_[j]),
        }
        for index in range(k)
        for j, feature in enumerate(FEATURE_SQL)
    ]
    return pd.DataFrame(rows)
