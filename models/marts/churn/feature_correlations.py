"""Pearson, Spearman and phik correlations of every pair of features, churn included, per extract."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.steps import STEPS


def model(dbt, session):
    # materialized: a table on DuckDB; on Spark the Python step runs the same function (_models.yml)
    inputs = {
        "int_customers_sampled": dbt.ref("int_customers_sampled").df(),
        "int_extract_churn_rates": dbt.ref("int_extract_churn_rates").df(),
    }
    return STEPS["feature_correlations"].compute(inputs, {})
