"""Each segment against the customers outside it: the one-sided test behind segment_summary.is_above_bank_rate,
Holm over the segments of a scheme in an extract."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.steps import STEPS


def model(dbt, session):
    # materialized: a table on DuckDB; on Spark the Python step runs the same function (_models.yml)
    inputs = {
        "int_segment_counts": dbt.ref("int_segment_counts").df(),
        "int_extract_churn_rates": dbt.ref("int_extract_churn_rates").df(),
    }
    return STEPS["int_segment_counts_tested"].compute(inputs, {"alpha": dbt.config.get("alpha", 0.05)})
