"""Each value of each churn feature against the rest of its extract: the one-sided test behind
churn_by_feature.is_above_bank_rate, Holm over every value of every feature of the extract."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.steps import STEPS


def model(dbt, session):
    # materialized: a table on DuckDB; on Spark the Python step runs the same function (_models.yml)
    inputs = {
        "int_churn_by_value": dbt.ref("int_churn_by_value").df(),
        "int_extract_churn_rates": dbt.ref("int_extract_churn_rates").df(),
    }
    return STEPS["int_churn_by_value_tested"].compute(inputs, {"alpha": dbt.config.get("alpha", 0.05)})
