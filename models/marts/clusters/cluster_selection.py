"""KMeans for each k with silhouette, agreement with Ward and bootstrap stability; the chosen k flagged."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.steps import STEPS


def model(dbt, session):
    # materialized: a table on DuckDB; on Spark the Python step runs the same function (_models.yml)
    inputs = {
        "int_customers_sampled": dbt.ref("int_customers_sampled").df(),
    }
    return STEPS["cluster_selection"].compute(inputs, {})
