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
        # a segment hypothesis compiles its members' SQL from these rules (registry.segment_membership): compiled
        # from the definitions alone, so this model need not wait for the segments' counts, tests and summary
        "int_segment_rules": dbt.ref("int_segment_rules"),
    }
    return STEPS["hypothesis_results"].compute(inputs, {"meta": meta})
