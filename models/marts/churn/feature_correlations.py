"""Pearson, Spearman and phik correlations of every pair of features, churn included, per extract."""

import pandas as pd

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.sqltext import sql_string
from metanprom.statistics.correlations import CATEGORICAL, FLAGS, NUMERIC, SAMPLE_ROWS, feature_correlations
from metanprom.statistics.frames import columns_frame, extracts_of


def model(dbt, session):
    dbt.config(materialized="table")
    customers = dbt.ref("customers")
    frames = []
    for extract in extracts_of(customers):
        total = customers.filter(f"extract = {sql_string(extract)}").aggregate("count(*)").fetchall()[0][0]
        frame = columns_frame(customers, extract, [*NUMERIC, *FLAGS, *CATEGORICAL], sample=SAMPLE_ROWS)
        frames.append(feature_correlations(frame, extract, customers_total=total))
    result = pd.concat(frames, ignore_index=True)
    result["customers_used"] = result["customers_used"].astype("Int64")
    return result
