"""Churn either side of every candidate cut of each numeric threshold in the segment definitions."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.steps import STEPS


def model(dbt, session):
    # materialized: a table on DuckDB; on Spark the Python step runs the same function (_models.yml)
    inputs = {
        "int_segment_cut_histograms": dbt.ref("int_segment_cut_histograms").df(),
    }
    return STEPS["segment_cut_points"].compute(inputs, {"alpha": dbt.config.get("alpha", 0.05)})
