"""Customer clusters with scikit-learn: KMeans chosen by silhouette, checked against Ward and by bootstrap.

Every quadratic or repeated step (silhouette, Ward, bootstrap refits) runs on
a fixed-size random sample, and KMeans is fitted on a sample too, so the cost
stays flat as the extract grows; every customer is then assigned to its
nearest centre.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)

NUMERIC = ("age", "credit_score", "property_score", "log_balance", "product_count", "log_salary")
FLAGS = ("has_credit_card", "is_active", "has_balance")
K_RANGE = range(2, 8)
FIT_SAMPLE = 20_000
EVAL_SAMPLE = 2_000
BOOTSTRAPS = 5
BOOTSTRAP_ROWS = 5_000
SEED = 20261123
#: The columns of `customers` the clustering reads.
INPUT_COLUMNS = (
    "age", "credit_score", "property_score", "balance", "product_count", "estimated_salary",
    "has_credit_card", "is_active", "has_balance", "gender", "city_code",
)  # fmt: skip


def features(customers: pd.DataFrame) -> pd.DataFrame:
    """The clustering features: scaled numbers (log balance and salary), flags, one-hot city and gender."""
    out = pd.DataFrame(index=customers.index)
    for name in ("age", "credit_score", "property_score", "product_count"):
        out[name] = customers[name].astype(float)
    out["log_balance"] = np.log1p(customers["balance"].fillna(0.0).clip(lower=0.0))
    out["log_salary"] = np.log1p(customers["estimated_salary"].clip(lower=0.0))
    for flag in FLAGS:
        out[flag] = customers[flag].astype(float)
    out["gender_female"] = (customers["gender"] == "F").astype(float)
    for code in ("YAR", "RYB", "ROS"):
        out[f"city_{code.lower()}"] = (customers["city_code"] == code).astype(float)
    return out


def _prepared(customers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scaled features of every customer, and the fixed fit and evaluation samples."""
    scaled = StandardScaler().fit_transform(features(customers))
    rng = np.random.default_rng(SEED)
    fit_rows = rng.choice(len(scaled), size=min(FIT_SAMPLE, len(scaled)), replace=False)
    eval_rows = rng.choice(len(scaled), size=min(EVAL_SAMPLE, len(scaled)), replace=False)
    return scaled, scaled[fit_rows], scaled[eval_rows]


def _kmeans(fit_x: np.ndarray, k: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=2, random_state=SEED).fit(fit_x)


def select_k(customers: pd.DataFrame, extract: str) -> pd.DataFrame:
    """One row per k in K_RANGE: silhouette, Ward agreement, bootstrap stability; the best silhouette chosen."""
    # dbt runs models in parallel threads: OpenMP threads on top of them only spin and wait.
    with threadpool_limits(1):
        return _select_k(customers, extract)


def _select_k(customers: pd.DataFrame, extract: str) -> pd.DataFrame:
    _, fit_x, eval_x = _prepared(customers)
    rows = []
    for k in K_RANGE:
        model = _kmeans(fit_x, k)
        eval_labels = model.predict(eval_x)
        silhouette = silhouette_score(eval_x, eval_labels)
        ward = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(eval_x)
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
                "ward_agreement_ari": float(adjusted_rand_score(eval_labels, ward)),
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


def assign(customers: pd.DataFrame, k: int) -> np.ndarray:
    """Each customer's cluster (1 = the largest) under KMeans with k clusters, fitted as in `select_k`."""
    scaled, fit_x, _ = _prepared(customers)
    with threadpool_limits(1):
        labels = _kmeans(fit_x, k).predict(scaled)
    order = np.argsort(-np.bincount(labels, minlength=k), kind="stable")
    relabel = np.empty(k, dtype=np.int64)
    relabel[order] = np.arange(1, k + 1)
    return relabel[labels]
