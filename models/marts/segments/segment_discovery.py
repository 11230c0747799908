"""Candidate churn-prone segments of one to three features, tested against the rest with Holm's correction."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.steps import STEPS


def model(dbt, session):
    # materialized: a table on DuckDB; on Spark the Python step runs the same function (_models.yml)
    inputs = {
        "int_segment_candidates": dbt.ref("int_segment_candidates").df(),
    }
    return STEPS["segment_discovery"].compute(inputs, {"alpha": dbt.config.get("alpha", 0.05)})
