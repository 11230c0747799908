"""Pearson, Spearman and phik correlations of every pair of features, churn included, per extract."""

import pandas as pd

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.sqltext import sql_string
from metanprom.statistics.correlations import SAMPLE_ROWS, feature_correlations
from metanprom.statistics.frames import extracts_of, sample_of


def model(dbt, session):
    customers = dbt.ref("customers")
    frames = []
    for extract in extracts_of(customers):
        total = customers.filter(f"extract = {sql_string(extract)}").aggregate("count(*)").fetchall()[0][0]
        frames.append(feature_correlations(sample_of(customers, extract, SAMPLE_ROWS), extract, customers_total=total))
    result = pd.concat(frames, ignore_index=True)
    result["customers_used"] = result["customers_used"].astype("Int64")
    return result
