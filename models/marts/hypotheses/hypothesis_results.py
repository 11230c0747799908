"""Every hypothesis of the registry (this model's config.meta.registry) tested on every extract it applies to."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.steps import STEPS


def model(dbt, session):
    # materialized: a table on DuckDB; on Spark the Python step runs the same function (_models.yml)
    # plain call: dbt passes a Python model only the config keys it finds in `dbt.config.get(...)` statements
    meta = dbt.config.get("meta")
    inputs = {
        "customers": dbt.ref("customers"),
        # a segment hypothesis compiles its members' SQL from the rules held here (registry.segment_membership)
        "segment_summary": dbt.ref("segment_summary"),
    }
    return STEPS["hypothesis_results"].compute(inputs, {"meta": meta})
