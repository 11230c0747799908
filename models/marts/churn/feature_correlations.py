"""Pearson, Spearman and phik correlations of every pair of features, churn included, per extract."""

import pandas as pd

from metanprom.correlations import CATEGORICAL, FLAGS, NUMERIC, feature_correlations


def model(dbt, session):
    dbt.config(materialized="table")
    customers = dbt.ref("customers")
    columns = ["extract", *NUMERIC, *FLAGS, *CATEGORICAL]
    frames = []
    for (extract,) in customers.project("extract").distinct().fetchall():
        frame = customers.filter(f"extract = '{extract}'").project(", ".join(columns)).df()
        frames.append(feature_correlations(frame, extract))
    result = pd.concat(frames, ignore_index=True)
    result["customers_used"] = result["customers_used"].astype("Int64")
    return result
