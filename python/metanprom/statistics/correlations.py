"""Feature correlations: each feature against churn and pairwise (Pearson, Spearman, phik)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import phik  # noqa: F401  (registers the DataFrame.phik_matrix accessor)
from phik import phik_matrix, significance_matrix
from scipy import stats

from metanprom import project

NUMERIC = tuple(project.features()["numeric"])
FLAGS = tuple(project.features()["flags"])
CATEGORICAL = ("city_code", "gender")
#: Above this many customers per extract the statistics use a fixed sample of this size (frames.SAMPLE_ORDER).
SAMPLE_ROWS = 50_000
#: phik and its (asymptotic) significance use a smaller sample.
PHIK_SAMPLE_ROWS = 20_000
#: phik's interval columns, binned into this many equal-count bins (deciles).
PHIK_INTERVAL = ("age", "credit_score", "balance", "estimated_salary")
PHIK_BINS = 10
#: What a missing balance is filled with for phik: below every balance, in a bin of its own.
NO_BALANCE = -1.0


def phik_bins(frame: pd.DataFrame) -> dict[str, list[float]]:
    """Bin edges of phik's interval columns: the deciles of the customers who have a value.

    phik's default is 10 equal-width bins from the minimum to the maximum: with a
    heavy right tail (a few balances of tens of millions) nearly every customer
    falls in the first bin (99.8 % of balances on the real current extract, every
    missing-balance fill included; 61 % of salaries), and phik then measures
    almost nothing. Equal-count bins put about a tenth of the customers in each;
    the missing-balance fill gets a bin of its own below the first decile.
    """
    bins = {}
    for name in PHIK_INTERVAL:
        values = frame[name].to_numpy(dtype=float)
        present = values[~np.isnan(values) & (values != NO_BALANCE)] if name == "balance" else values
        present = present[~np.isnan(present)]
        inner = np.unique(np.quantile(present, np.linspace(0, 1, PHIK_BINS + 1))[1:-1])
        low, high = float(present.min()), float(present.max())
        edges = [low - 1.0, *inner.tolist(), high + 1.0]
        if name == "balance" and (values == NO_BALANCE).any():
            edges = [NO_BALANCE - 1.0, NO_BALANCE + 0.5, *edges[1:]] if low > NO_BALANCE + 0.5 else edges
        bins[name] = edges
    return bins


def _encoded(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[list(NUMERIC)].astype(float).copy()
    for flag in FLAGS:
        out[flag] = frame[flag].astype(float)
    out["gender_female"] = (frame["gender"] == "F").astype(float)
    for code in sorted(frame["city_code"].dropna().unique()):
        out[f"city_{code.lower()}"] = (frame["city_code"] == code).astype(float)
    return out


def feature_correlations(frame: pd.DataFrame, extract: str, customers_total: int | None = None) -> pd.DataFrame:
    """One row per pair of features of one extract (churn included as a feature).

    Pearson and Spearman on numeric, 0/1 and one-hot columns (pairs with a
    missing balance use the customers who have one); phik on the original
    columns (numeric ones as interval), with its significance as a z-score.
    `frame` is in sample order (`frames.columns_frame`): Pearson and Spearman use its first SAMPLE_ROWS rows,
    phik its first PHIK_SAMPLE_ROWS; `customers_total` is the extract's size where `frame` is a sample.
    """
    customers_total = customers_total or len(frame)
    frame = frame.head(SAMPLE_ROWS)  # in sample order (frames.SAMPLE_ORDER): the first rows are a sample
    encoded = _encoded(frame)
    rows = []
    for a, b in itertools.combinations(encoded.columns, 2):
        pair = encoded[[a, b]].dropna()
        if len(pair) < 3 or pair[a].nunique() < 2 or pair[b].nunique() < 2:
            continue
        pearson, pearson_p = stats.pearsonr(pair[a], pair[b])
        spearman, spearman_p = stats.spearmanr(pair[a], pair[b])
        rows.append(
            {
                "feature_a": a,
                "feature_b": b,
                "customers_used": len(pair),
                "pearson": float(pearson),
                "pearson_p_value": float(pearson_p),
                "spearman": float(spearman),
                "spearman_p_value": float(spearman_p),
            }
        )
    result = pd.DataFrame(rows)

    phik_frame = frame[[*NUMERIC, *FLAGS, *CATEGORICAL]].copy()
    for flag in FLAGS:
        phik_frame[flag] = phik_frame[flag].astype(int)
    phik_frame["balance"] = phik_frame["balance"].fillna(NO_BALANCE)  # "no balance": a bin of its own
    interval = list(PHIK_INTERVAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = phik_frame.head(PHIK_SAMPLE_ROWS)
        bins = phik_bins(small)
        matrix = phik_matrix(small, interval_cols=interval, bins=bins, verbose=False, njobs=1)
        significance = significance_matrix(
            small, interval_cols=interval, bins=bins, verbose=False, njobs=1, significance_method="asymptotic"
        )
    phik_rows = []
    for a, b in itertools.combinations(matrix.columns, 2):
        phik_rows.append(
            {
                "phik_feature_a": a,
                "phik_feature_b": b,
                "phik": float(matrix.loc[a, b]),
                "phik_significance_z": float(significance.loc[a, b]),
            }
        )
    phik_result = pd.DataFrame(phik_rows)
    mapping = {"gender": "gender_female"}
    phik_result["feature_a"] = phik_result["phik_feature_a"].replace(mapping)
    phik_result["feature_b"] = phik_result["phik_feature_b"].replace(mapping)
    merged = result.merge(
        phik_result.drop(columns=["phik_feature_a", "phik_feature_b"]), on=["feature_a", "feature_b"], how="outer"
    )
    merged.insert(0, "extract", extract)
    merged["customers_in_extract"] = customers_total
    merged["is_churn_pair"] = (merged["feature_a"] == "is_churned") | (merged["feature_b"] == "is_churned")
    return merged.sort_values(["is_churn_pair", "feature_a", "feature_b"], ascending=[False, True, True])
