"""KMeans under the k chosen in cluster_selection, fitted on the fixed sample: its centres, feature by feature."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.steps import STEPS


def model(dbt, session):
    # materialized: a table on DuckDB; on Spark the Python step runs the same function (_models.yml)
    inputs = {
        "cluster_selection": dbt.ref("cluster_selection").df(),
        "int_customers_sampled": dbt.ref("int_customers_sampled").df(),
    }
    return STEPS["cluster_centres"].compute(inputs, {})
